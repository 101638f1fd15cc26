"""What a generation request is, and what a job is once paid for.

`GenerationRequest` holds every rule a request must pass; each refusal has one stable code
(`REFUSALS`), whichever way the request arrived (studio, API, command line, a stored job).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import ErrorDetails, PydanticCustomError

from beatbun.errors import InvalidInput
from beatbun.generation.catalogue import genre_id, mood_id
from beatbun.generation.provider import (
    DEFAULT_DURATION_SECONDS,
    MAX_BPM,
    MAX_DURATION_SECONDS,
    MAX_GENRE_TAGS,
    MAX_PROMPT_CHARS,
    MAX_SEED,
    MIN_BPM,
    MIN_DURATION_SECONDS,
    TONICS,
    Mode,
    MusicRequest,
)
from beatbun.i18n import N_

JobStatus = Literal["queued", "running", "succeeded", "failed", "canceled"]
MAX_LYRICS_CHARS = 3000
MAX_INSTRUMENTS = 8
MAX_GENRE_CHARS = 40
# Set by the extend and variation actions, never by a caller: they change what is charged.
DERIVED_FIELDS = ("extends_seconds", "source_track_id")

_KEY_PATTERN = re.compile(
    r"^(?P<letter>[a-g])\s*(?P<accidental>#|♯|b|♭|sharp|flat)?\s*"
    r"(?P<mode>m|min|minor|maj|major)?$",
    re.IGNORECASE,
)
_MODE_WORDS = {"m": "minor", "min": "minor", "minor": "minor", "maj": "major", "major": "major"}

# What each refusal says, by its code. Validators raise the code with its values and
# `_invalid_input` takes the text from here, so each text has one source. The field travels
# beside the text (`InvalidInput.field`), so pages can put the text next to it.
REFUSALS: dict[str, str] = {
    "empty_prompt": N_("Prompt is empty"),
    "prompt_too_long": N_("Prompt has %(n)s characters; the limit is %(limit)s"),
    "duration_out_of_range": N_("Duration %(value)s s is outside %(low)s..%(high)s s"),
    "bpm_out_of_range": N_("Tempo %(value)s BPM is outside %(low)s..%(high)s"),
    "unknown_key": N_("Key %(key)s is not a known key"),
    "unknown_mode": N_("Mode %(mode)s is neither major nor minor"),
    "conflicting_mode": N_("Key %(key)s conflicts with mode %(mode)s"),
    "seed_out_of_range": N_("Seed %(seed)s is outside 0..%(high)s"),
    "invalid_genre": N_("Genre tags must be 1..40 characters, at most %(n)s of them"),
    "unknown_genre": N_("Genre %(genre)s is not one we know"),
    "unknown_mood": N_("Mood %(mood)s is not one we know"),
}
# pydantic's own checks, by its error type, in our words: its `msg` has no translations.
NUMBER_EXPECTED = N_("Input should be a valid number")
WHOLE_NUMBER_EXPECTED = N_("Input should be a whole number")
TRUE_OR_FALSE_EXPECTED = N_("Input should be true or false")
CHECKS: dict[str, str] = {
    "missing": N_("Field required"),
    "extra_forbidden": N_("Extra inputs are not permitted"),
    "string_too_long": N_("String should have at most %(max_length)s characters"),
    "too_long": N_("List should have at most %(max_length)s items"),
    "string_type": N_("Input should be a valid string"),
    "list_type": N_("Input should be a valid list"),
    "float_parsing": NUMBER_EXPECTED,
    "float_type": NUMBER_EXPECTED,
    "int_parsing": WHOLE_NUMBER_EXPECTED,
    "int_type": WHOLE_NUMBER_EXPECTED,
    "int_from_float": WHOLE_NUMBER_EXPECTED,
    "bool_parsing": TRUE_OR_FALSE_EXPECTED,
    "bool_type": TRUE_OR_FALSE_EXPECTED,
}
INVALID_VALUE = N_("Input is not valid")
NOT_AN_OBJECT = N_("The request must be a JSON object")


class GenerationRequest(BaseModel):
    """The studio form, `POST /api/v1/generations` body and command line: the only validator.

    Build it with `parse` (untrusted input) or `from_stored` (a job's own request). Refusals
    are `InvalidInput` with a stable `code`: one of `REFUSALS`, `unknown_field`,
    `missing_field`, `invalid_request` (not an object) or `invalid_<field>` for a value of the
    wrong type or size. Values come out normalized: a key is a tonic of `TONICS` with its mode
    moved to `mode`, genre tags and the mood are the catalogue's ids (`generation.catalogue`).
    """

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    prompt: str
    genres: list[str] = Field(default_factory=list)
    mood: str | None = Field(default=None, max_length=40)
    instruments: list[str] = Field(default_factory=list, max_length=MAX_INSTRUMENTS)
    bpm: float | None = None
    key: str | None = None
    mode: Mode | None = None
    duration_seconds: float = DEFAULT_DURATION_SECONDS
    instrumental: bool = True
    lyrics: str | None = Field(default=None, max_length=MAX_LYRICS_CHARS)
    seed: int | None = None
    # The length of the track an extension continues, and the track an extension or a
    # variation was made from (`DERIVED_FIELDS`).
    extends_seconds: float | None = None
    source_track_id: str | None = None

    @classmethod
    def parse(cls, data: Any) -> GenerationRequest:
        """Validate untrusted input; raises InvalidInput naming the first bad field.

        The derived fields are refused as unknown: only the extend and variation actions set
        them, through `model_copy`.
        """
        if isinstance(data, Mapping):
            given = [name for name in DERIVED_FIELDS if name in data]
            if given:
                raise InvalidInput(CHECKS["extra_forbidden"], code="unknown_field", field=given[0])
        return cls.from_stored(data)

    @classmethod
    def from_stored(cls, data: Any) -> GenerationRequest:
        """Validate a request this product recorded itself (a job's), derived fields included."""
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise _to_invalid_input(exc) from None

    @model_validator(mode="before")
    @classmethod
    def _split_mode_from_key(cls, data: Any) -> Any:
        if not isinstance(data, Mapping):
            return data
        if "prompt" not in data:
            # An absent prompt and a blank one are the same refusal.
            data = {**data, "prompt": ""}
        if not isinstance(data.get("key"), str):
            return data
        match = _KEY_PATTERN.match(data["key"].strip())
        if match is None or match["mode"] is None:
            return data
        key_mode = _MODE_WORDS[match["mode"].lower()]
        given = data.get("mode")
        if isinstance(given, str) and _normalize_mode(given) not in (None, key_mode):
            raise _refusal("conflicting_mode", key=repr(data["key"]), mode=repr(given))
        return {**data, "key": data["key"].strip()[: match.start("mode")].strip(), "mode": key_mode}

    @field_validator("prompt")
    @classmethod
    def _check_prompt(cls, value: str) -> str:
        if not value:
            raise _refusal("empty_prompt")
        if len(value) > MAX_PROMPT_CHARS:
            raise _refusal("prompt_too_long", n=len(value), limit=MAX_PROMPT_CHARS)
        return value

    @field_validator("duration_seconds")
    @classmethod
    def _check_duration(cls, value: float) -> float:
        if not MIN_DURATION_SECONDS <= value <= MAX_DURATION_SECONDS:
            raise _refusal(
                "duration_out_of_range",
                value=f"{value:g}",
                low=f"{MIN_DURATION_SECONDS:g}",
                high=f"{MAX_DURATION_SECONDS:g}",
            )
        return value

    @field_validator("bpm")
    @classmethod
    def _check_bpm(cls, value: float | None) -> float | None:
        if value is not None and not MIN_BPM <= value <= MAX_BPM:
            raise _refusal(
                "bpm_out_of_range", value=f"{value:g}", low=f"{MIN_BPM:g}", high=f"{MAX_BPM:g}"
            )
        return value

    @field_validator("key")
    @classmethod
    def _check_key(cls, value: str | None) -> str | None:
        if value is None:
            return None
        tonic = _normalize_tonic(value)
        if tonic is None:
            raise _refusal("unknown_key", key=repr(value))
        return tonic

    @field_validator("mode", mode="before")
    @classmethod
    def _check_mode(cls, value: Any) -> Any:
        if value is None:
            return None
        mode = _normalize_mode(value) if isinstance(value, str) else None
        if mode is None:
            raise _refusal("unknown_mode", mode=repr(value))
        return mode

    @field_validator("seed")
    @classmethod
    def _check_seed(cls, value: int | None) -> int | None:
        if value is not None and not 0 <= value <= MAX_SEED:
            raise _refusal("seed_out_of_range", seed=value, high=MAX_SEED)
        return value

    @field_validator("genres")
    @classmethod
    def _check_genres(cls, value: list[str]) -> list[str]:
        if len(value) > MAX_GENRE_TAGS or any(not 0 < len(tag) <= MAX_GENRE_CHARS for tag in value):
            raise _refusal("invalid_genre", n=MAX_GENRE_TAGS)
        genres: list[str] = []
        for tag in value:
            genre = genre_id(tag)
            if genre is None:
                raise _refusal("unknown_genre", genre=repr(tag))
            if genre not in genres:
                genres.append(genre)
        return genres

    @field_validator("mood")
    @classmethod
    def _check_mood(cls, value: str | None) -> str | None:
        if not value:
            return None
        mood = mood_id(value)
        if mood is None:
            raise _refusal("unknown_mood", mood=repr(value))
        return mood

    @property
    def has_lyrics(self) -> bool:
        return bool(self.lyrics and self.lyrics.strip())

    @property
    def billed_seconds(self) -> float:
        """The seconds this request makes anew: an extension's added length, else all of it.

        Rounded to the microsecond: 45.67 s extended by 90 s bills 90 s, not 90.00000000000001.
        """
        return round(self.duration_seconds - (self.extends_seconds or 0.0), 6)

    def to_music_request(self) -> MusicRequest:
        """The provider-neutral request; instruments travel in the prompt text."""
        prompt = self.prompt
        if self.instruments:
            prompt = f"{prompt}, with {', '.join(self.instruments)}"
        return MusicRequest(
            prompt=prompt,
            duration_seconds=self.duration_seconds,
            genres=tuple(self.genres),
            mood=self.mood,
            bpm=self.bpm,
            key=self.key,
            mode=self.mode,
            instrumental=not self.has_lyrics and self.instrumental,
            seed=self.seed,
            extends_seconds=self.extends_seconds,
        )

    def fingerprint(self) -> str:
        """Stable hash of the request, to tell a retry from a different request."""
        fields = self.model_dump()
        for name in DERIVED_FIELDS:
            # Unset, they leave the hash as it was before they existed.
            if fields[name] is None:
                del fields[name]
        canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"))
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


def _normalize_tonic(text: str) -> str | None:
    match = _KEY_PATTERN.match(text.strip())
    if match is None or match["mode"] is not None:
        return None
    letter = match["letter"].upper()
    accidental = (match["accidental"] or "").lower()
    suffix = (
        "#"
        if accidental in ("#", "♯", "sharp")
        else "b"
        if accidental in ("b", "♭", "flat")
        else ""
    )
    tonic = letter + suffix
    return tonic if tonic in TONICS else None


def _normalize_mode(text: str) -> str | None:
    return _MODE_WORDS.get(text.strip().lower())


def _refusal(code: str, **params: object) -> PydanticCustomError:
    """A validator's refusal; pydantic's copy of the text is never shown."""
    return PydanticCustomError(code, REFUSALS[code], params)


def _to_invalid_input(exc: ValidationError) -> InvalidInput:
    """`InvalidInput` for the first error, worded by `REFUSALS` or `CHECKS` (never its `msg`)."""
    error = exc.errors(include_url=False)[0]
    location = error.get("loc", ())
    kind = error["type"]
    field = ".".join(str(part) for part in location) or _FIELD_OF_MODEL_ERRORS.get(kind)
    if kind == "extra_forbidden":
        code = "unknown_field"
    elif kind == "missing":
        code = "missing_field"
    elif kind in REFUSALS:
        code = kind
    else:
        code = f"invalid_{field or 'request'}"
    return _invalid_input(error, code=code, field=field)


def _invalid_input(error: ErrorDetails, *, code: str, field: str | None) -> InvalidInput:
    if field is None:
        return InvalidInput(NOT_AN_OBJECT, code=code)
    kind = error["type"]
    template = REFUSALS.get(kind) or CHECKS.get(kind, INVALID_VALUE)
    params = dict(error.get("ctx", {}))
    return InvalidInput(template, code=code, field=field, params=params)


_FIELD_OF_MODEL_ERRORS = {"conflicting_mode": "mode"}
