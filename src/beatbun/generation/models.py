"""What a generation request is, and what a job is once paid for."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from beatbun.generation.provider import (
    DEFAULT_DURATION_SECONDS,
    MAX_GENRE_TAGS,
    MAX_PROMPT_CHARS,
    MusicRequest,
    invalid_input,
)

JobStatus = Literal["queued", "running", "succeeded", "failed", "canceled"]
MAX_LYRICS_CHARS = 3000
MAX_INSTRUMENTS = 8


class GenerationRequest(BaseModel):
    """The studio form and `POST /api/v1/generations` body.

    Ranges (duration 5..300 s, tempo, key, seed) are checked by `MusicRequest`, which every
    provider takes, so the rules live in one place.
    """

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    prompt: str = Field(max_length=MAX_PROMPT_CHARS)
    genres: list[str] = Field(default_factory=list, max_length=MAX_GENRE_TAGS)
    mood: str | None = Field(default=None, max_length=40)
    instruments: list[str] = Field(default_factory=list, max_length=MAX_INSTRUMENTS)
    bpm: float | None = None
    key: str | None = Field(default=None, max_length=12)
    mode: str | None = Field(default=None, max_length=8)
    duration_seconds: float = DEFAULT_DURATION_SECONDS
    instrumental: bool = True
    lyrics: str | None = Field(default=None, max_length=MAX_LYRICS_CHARS)
    seed: int | None = None

    @classmethod
    def parse(cls, data: Any) -> GenerationRequest:
        """Validate untrusted input; raises InvalidInput naming the first bad field."""
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            error = exc.errors(include_url=False)[0]
            field = ".".join(str(part) for part in error.get("loc", ())) or None
            code = (
                "unknown_field"
                if error["type"] == "extra_forbidden"
                else f"invalid_{field or 'request'}"
            )
            raise invalid_input(error, code=code, field=field) from None

    @property
    def has_lyrics(self) -> bool:
        return bool(self.lyrics and self.lyrics.strip())

    def to_music_request(self) -> MusicRequest:
        """The provider-neutral request; instruments travel in the prompt text."""
        prompt = self.prompt
        if self.instruments:
            prompt = f"{prompt}, with {', '.join(self.instruments)}"
        return MusicRequest(
            prompt=prompt,
            duration_seconds=self.duration_seconds,
            genres=tuple(self.genres),
            mood=self.mood or None,
            bpm=self.bpm,
            key=self.key or None,
            mode=self.mode or None,
            instrumental=not self.has_lyrics and self.instrumental,
            seed=self.seed,
        )

    def fingerprint(self) -> str:
        """Stable hash of the request, to tell a retry from a different request."""
        canonical = json.dumps(self.model_dump(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class Job:
    id: str
    account_id: str
    status: JobStatus
    request: dict[str, Any]
    cost: int
    provider: str
    correlation_id: str
    created_at: int
    deadline_at: int
    started_at: int | None = None
    finished_at: int | None = None
    plan: dict[str, Any] | None = None
    track_id: str | None = None
    error_code: str | None = None
    error_message: str | None = None

    def to_public(self) -> dict[str, Any]:
        """The job as API callers and the studio see it (no correlation id: that is ours)."""
        return {
            "id": self.id,
            "status": self.status,
            "cost": self.cost,
            "provider": self.provider,
            "request": self.request,
            "plan": self.plan,
            "track_id": self.track_id,
            "error": {"code": self.error_code, "message": self.error_message}
            if self.error_code
            else None,
            "created_at": self.created_at,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
        }
