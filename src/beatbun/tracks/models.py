"""A finished track: its audio lives in R2, everything else in D1."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from beatbun.billing.plans import LICENCES, LicenceId, PlanId, Retention
from beatbun.billing.pricing import ExportKind


@dataclass(frozen=True)
class Track:
    id: str
    account_id: str
    job_id: str
    title: str
    prompt: str
    plan: dict[str, Any]
    media_type: str
    duration_seconds: float
    size_bytes: int
    blob_key: str
    # The waveform, (min, max) pairs; None when read without it (`get_track(with_peaks=True)`).
    peaks: list[list[float]] | None
    retention: Retention
    created_at: int
    expires_at: int | None
    # The licence the track was made under, with the plan that gave it and when: fixed at
    # creation, whatever the account's plan becomes later.
    licence: LicenceId
    licence_plan: PlanId
    licensed_at: int
    favourite: bool = False
    # The public link's token while the track is shared (`tracks.sharing`).
    share_token: str | None = None

    @property
    def genre(self) -> str:
        """The genre the plan resolved to; empty for a provider that names none."""
        return str(self.plan.get("genre") or "")

    @property
    def bpm(self) -> int | None:
        """The tempo as a whole number of beats per minute, as people say it."""
        bpm = self.plan.get("bpm")
        return round(bpm) if isinstance(bpm, int | float) else None

    @property
    def tonic(self) -> str | None:
        """The key's tonic ("A" of the plan's "A minor"), if the plan names a key."""
        key = str(self.plan.get("key") or "").split()
        return key[0] if key else None

    @property
    def mode(self) -> str | None:
        """The key's mode ("minor" of "A minor"), if the plan names one."""
        key = str(self.plan.get("key") or "").split()
        return key[1] if len(key) > 1 else None

    @property
    def seed(self) -> int | None:
        seed = self.plan.get("seed")
        return seed if isinstance(seed, int) else None

    @property
    def slug(self) -> str:
        """The title as a file name: ASCII letters and digits, dashes, at most 60 characters."""
        # ASCII only: a header value must be Latin-1, and the title may be in any script.
        stem = "".join(c if c.isascii() and c.isalnum() else "-" for c in self.title.lower())
        stem = stem.strip("-")
        return "-".join(filter(None, stem.split("-")))[:60] or "track"

    @property
    def file_stem(self) -> str:
        """The slug plus the id's start."""
        return f"{self.slug}-{self.id[:8]}"

    @property
    def extension(self) -> str:
        return {"audio/wav": "wav", "audio/mpeg": "mp3"}.get(self.media_type, "bin")

    @property
    def file_name(self) -> str:
        return f"{self.file_stem}.{self.extension}"

    @property
    def licence_name(self) -> str:
        """The licence's English name, an `N_` string that pages translate."""
        return LICENCES[self.licence].name

    def seconds_left(self, now: float) -> int | None:
        """Time until deletion, for the gallery's countdown; None when the track is kept."""
        return None if self.expires_at is None else max(0, int(self.expires_at - now))

    def to_public(self, now: float) -> dict[str, Any]:
        return {
            "id": self.id,
            "job_id": self.job_id,
            "title": self.title,
            "prompt": self.prompt,
            "plan": self.plan,
            "media_type": self.media_type,
            "duration_seconds": self.duration_seconds,
            "size_bytes": self.size_bytes,
            "retention": self.retention,
            "created_at": self.created_at,
            "expires_at": self.expires_at,
            "seconds_left": self.seconds_left(now),
            "favourite": self.favourite,
            "shared": self.share_token is not None,
            "licence": {
                "id": self.licence,
                "name": self.licence_name,
                "plan": self.licence_plan,
                "granted_at": self.licensed_at,
            },
            "audio_url": f"/api/v1/tracks/{self.id}/audio",
        }


def blob_key_for(*, retention: Retention, account_id: str, track_id: str) -> str:
    """`tracks/<retention>/<owner>/<track>.wav`: the prefix is what R2's lifecycle rule expires."""
    return f"{blob_prefix_for(retention=retention, account_id=account_id)}{track_id}.wav"


def blob_prefix_for(*, retention: Retention, account_id: str) -> str:
    """Where all of one account's audio of one retention class lives: `tracks/<retention>/<owner>/`."""
    return f"tracks/{retention}/{account_id}/"


# The five stems of a composer track, in the order the pages list them (`composer/stems.py`).
STEMS = ("drums", "bass", "harmony", "lead", "pads")


def export_key_for(blob_key: str, *, kind: ExportKind, stem: str | None = None) -> str:
    """Where an export is stored: next to the audio, under the same retention prefix.

    `<track>.flac`, `<track>.mid` and `<track>.stems/<stem>.wav` beside `<track>.wav`, so
    the lifecycle rule that expires the audio expires its exports too.
    """
    base = blob_key.removesuffix(".wav")
    if kind == "flac":
        return f"{base}.flac"
    if kind == "midi":
        return f"{base}.mid"
    if stem not in STEMS:
        raise ValueError(f"Stem {stem!r} is not one of {', '.join(STEMS)}.")
    return f"{base}.stems/{stem}.wav"


def export_keys_for(blob_key: str) -> list[str]:
    """Every key an export of the track stored at `blob_key` may have."""
    return [
        export_key_for(blob_key, kind="flac"),
        export_key_for(blob_key, kind="midi"),
        *(export_key_for(blob_key, kind="stems", stem=stem) for stem in STEMS),
    ]
