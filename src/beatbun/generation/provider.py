"""The music provider interface: one request in, audio plus what was understood out.

Every provider (the built-in composer, HTTP adapters for hosted models) takes a validated
`MusicRequest`, writes the encoded file to an `AudioSink` as it is made, and returns a
`ProviderResult` describing it, or raises `InvalidInput` for a request it cannot honour and
`ProviderError` (with `retryable`) when the provider itself fails.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, Protocol

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator
from pydantic_core import ErrorDetails, PydanticCustomError

from beatbun.errors import InvalidInput, RuntimeFailure
from beatbun.i18n import N_

MIN_DURATION_SECONDS = 5.0
MAX_DURATION_SECONDS = 300.0
DEFAULT_DURATION_SECONDS = 30.0
MIN_BPM = 40.0
MAX_BPM = 240.0
MAX_PROMPT_CHARS = 2000
MAX_GENRE_TAGS = 8
MAX_SEED = 2**32 - 1

# Canonical tonic spellings; anything else (E#, Cb, H) is refused rather than guessed.
TONICS = (
    "C",
    "C#",
    "Db",
    "D",
    "D#",
    "Eb",
    "E",
    "F",
    "F#",
    "Gb",
    "G",
    "G#",
    "Ab",
    "A",
    "A#",
    "Bb",
    "B",
)
_KEY_PATTERN = re.compile(
    r"^(?P<letter>[a-g])\s*(?P<accidental>#|♯|b|♭|sharp|flat)?\s*"
    r"(?P<mode>m|min|minor|maj|major)?$",
    re.IGNORECASE,
)
_MODE_WORDS = {"m": "minor", "min": "minor", "minor": "minor", "maj": "major", "major": "major"}

Mode = Literal["major", "minor"]

# What each refusal says, by its code. Validators raise the code with its values and
# `invalid_input` takes the text from here, so each text has one source. The field travels
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


class MusicRequest(BaseModel):
    """What the user asked for; explicit fields win over what the prompt text says.

    Construct it with keywords. Raises `InvalidInput` (never pydantic's `ValidationError`) with a
    stable `code`: `empty_prompt`, `prompt_too_long`, `duration_out_of_range`, `bpm_out_of_range`,
    `unknown_key`, `unknown_mode`, `conflicting_mode`, `seed_out_of_range`, `invalid_genre`,
    `unknown_field`, or `invalid_<field>` for a value of the wrong type.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    prompt: str
    duration_seconds: float = DEFAULT_DURATION_SECONDS
    genres: tuple[str, ...] = ()
    mood: str | None = None
    bpm: float | None = None
    key: str | None = None
    mode: Mode | None = None
    instrumental: bool = True
    seed: int | None = None

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise _to_invalid_input(exc) from None

    @model_validator(mode="before")
    @classmethod
    def _split_mode_from_key(cls, data: Any) -> Any:
        if not isinstance(data, Mapping) or not isinstance(data.get("key"), str):
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
    def _check_genres(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        tags = tuple(tag.strip().lower() for tag in value)
        if len(tags) > MAX_GENRE_TAGS or any(not tag or len(tag) > 40 for tag in tags):
            raise _refusal("invalid_genre", n=MAX_GENRE_TAGS)
        return tags


class AudioSink(Protocol):
    """Where a provider writes the encoded file, in order, a piece at a time.

    Pieces are read before `write` returns, so a provider may reuse its buffers. Storage hands
    a `BlobWriter`, so the file goes to R2 in parts and never sits whole in memory.
    """

    async def write(self, data: bytes | bytearray | memoryview) -> None: ...

    def rewrite_start(self, data: bytes) -> None:
        """Replace the first `len(data)` bytes written: a header whose sizes come at the end."""
        ...


@dataclass(frozen=True, slots=True)
class ProviderResult:
    """A finished track, whose file the provider wrote to the `AudioSink` it was given.

    The file is in `media_type`. `peaks` holds (min, max) pairs in -1..1 rounded to 4 places
    (`PeakMeter` gives them) for the player, empty when the provider cannot decode its own
    output. `plan` is JSON-able and says what the provider understood (genre, tempo, key,
    sections, instruments). `correlation_id` is the pipeline's id for the call, echoed so logs
    and retries can be tied back to the job.
    """

    media_type: str
    sample_rate: int
    channels: int
    frames: int
    provider: str
    peaks: tuple[tuple[float, float], ...] = ()
    plan: Mapping[str, object] = field(default_factory=dict)
    correlation_id: str = ""

    @property
    def duration_seconds(self) -> float:
        return self.frames / self.sample_rate


class ProviderError(RuntimeFailure):
    """A music provider failed or refused; `retryable` says whether trying again can help."""

    default_code: ClassVar[str] = "provider_error"

    def __init__(
        self,
        message: str,
        *,
        provider: str,
        retryable: bool,
        code: str | None = None,
    ) -> None:
        super().__init__(message, code=code)
        self.provider = provider
        self.retryable = retryable


class MusicProvider(Protocol):
    """Anything that turns a `MusicRequest` into a track."""

    @property
    def name(self) -> str: ...

    async def generate(
        self, request: MusicRequest, *, correlation_id: str, sink: AudioSink
    ) -> ProviderResult:
        """Make the track into `sink`, echoing `correlation_id`.

        Raises `InvalidInput` or `ProviderError`; what was written by then is discarded.
        """
        ...


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


def invalid_input(error: ErrorDetails, *, code: str, field: str | None) -> InvalidInput:
    """`InvalidInput` for one pydantic error, worded by `REFUSALS` or `CHECKS` (never its `msg`)."""
    if field is None:
        return InvalidInput(NOT_AN_OBJECT, code=code)
    kind = error["type"]
    template = REFUSALS.get(kind) or CHECKS.get(kind, INVALID_VALUE)
    params = dict(error.get("ctx", {}))
    return InvalidInput(template, code=code, field=field, params=params)


def _refusal(code: str, **params: object) -> PydanticCustomError:
    """A validator's refusal; pydantic's copy of the text is never shown."""
    return PydanticCustomError(code, REFUSALS[code], params)


def _to_invalid_input(exc: ValidationError) -> InvalidInput:
    error = exc.errors(include_url=False)[0]
    location = error.get("loc", ())
    kind = error["type"]
    field_name = str(location[0]) if location else _FIELD_OF_MODEL_ERRORS.get(kind)
    if kind == "extra_forbidden":
        code = "unknown_field"
    elif kind == "missing":
        code = "missing_field"
    elif kind in REFUSALS:
        code = kind
    else:
        code = f"invalid_{field_name or 'request'}"
    return invalid_input(error, code=code, field=field_name)


_FIELD_OF_MODEL_ERRORS = {"conflicting_mode": "mode"}
