"""The settings of "Make another like this" and "Use these settings"."""

from __future__ import annotations

from beatbun.generation.models import GenerationRequest
from beatbun.tracks.remix import settings_of
from tests.tracks.conftest import sample_track

PLAN = {"genre": "lofi", "bpm": 82.4, "key": "A minor", "seed": 7, "mood": "chill"}


def test_settings_pin_what_the_plan_resolved() -> None:
    track = sample_track(plan=PLAN, duration_seconds=29.98)
    settings = settings_of(track, requested={"prompt": "rainy day lo-fi", "seed": 7})
    assert settings == {
        "prompt": "rainy day lo-fi",
        "genres": ["lofi"],
        "bpm": 82,
        "key": "A",
        "mode": "minor",
        "duration_seconds": 30,
    }
    GenerationRequest.parse(settings)  # what the studio and the generation service accept


def test_settings_keep_what_was_asked_for() -> None:
    track = sample_track(plan=PLAN)
    requested = {
        "prompt": "rainy day lo-fi",
        "genres": ["jazz"],
        "mood": "sad",
        "instruments": ["piano"],
        "bpm": 90.0,
        "key": None,
        "lyrics": None,
    }
    settings = settings_of(track, requested=requested)
    assert settings["genres"] == ["jazz"] and settings["bpm"] == 90.0
    assert settings["mood"] == "sad" and settings["instruments"] == ["piano"]
    assert settings["key"] == "A" and "lyrics" not in settings and "seed" not in settings


def test_settings_without_a_job_come_from_the_track() -> None:
    track = sample_track(plan={"provider": "elevenlabs"})
    assert settings_of(track, requested=None) == {
        "prompt": "rainy day lo-fi",
        "duration_seconds": 30,
    }
