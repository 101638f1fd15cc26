"""Another track like this one: the settings a track was made with, minus its seed."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from beatbun.tracks.models import Track

# The studio form's fields (and the generation request's) that make a track what it is.
SETTINGS = (
    "prompt",
    "genres",
    "mood",
    "instruments",
    "bpm",
    "key",
    "mode",
    "duration_seconds",
    "lyrics",
    "instrumental",
)


def settings_of(track: Track, *, requested: Mapping[str, Any] | None) -> dict[str, Any]:
    """What the track was asked for (`requested`: its job's request, if there is one), with
    what its plan resolved filling the gaps: the same genre, tempo, key and mode, and length.

    The seed is left out: the same settings with the same seed make the same track again.
    """
    settings = {
        name: value
        for name, value in (requested or {}).items()
        if name in SETTINGS and value not in (None, "", [])
    }
    resolved = {
        "prompt": track.prompt,
        "genres": [track.genre] if track.genre else None,
        "bpm": track.bpm,
        "key": track.tonic,
        "mode": track.mode,
        "duration_seconds": round(track.duration_seconds),
    }
    for name, value in resolved.items():
        if value is not None:
            settings.setdefault(name, value)
    return settings
