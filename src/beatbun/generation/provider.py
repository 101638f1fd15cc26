"""The music provider interface: one request in, audio plus what was understood out.

Every provider (the built-in composer, HTTP adapters for hosted models) declares its
`Capabilities`, takes a `MusicRequest` built from a valid `GenerationRequest`, writes the
encoded file to an `AudioSink` as it is made, and returns a `ProviderResult` describing it, or
raises `InvalidInput` for a request it cannot honour and `ProviderError` (with `retryable`)
when the provider itself fails. `beatbun.generation.registry` says which provider runs.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar, Literal, Protocol

from beatbun.errors import RuntimeFailure

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
Mode = Literal["major", "minor"]


@dataclass(frozen=True, slots=True, kw_only=True)
class MusicRequest:
    """What the user asked for, already valid; explicit fields win over what the prompt says.

    Providers receive it and never check it: `GenerationRequest.to_music_request()` builds it
    from a request that passed every rule (limits above, tonic in `TONICS`, tags lower-cased).
    `extends_seconds`, when set, is the length of the track this one continues: the music up to
    it is that track's (same plan, same notes) and only what follows is new.
    """

    prompt: str
    duration_seconds: float = DEFAULT_DURATION_SECONDS
    genres: tuple[str, ...] = ()
    mood: str | None = None
    bpm: float | None = None
    key: str | None = None
    mode: Mode | None = None
    instrumental: bool = True
    seed: int | None = None
    extends_seconds: float | None = None

    def to_json(self) -> str:
        """Every field as compact JSON, in declaration order: a stable text to hash."""
        return json.dumps(dataclasses.asdict(self), separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a provider can make, so callers ask rather than compare provider names.

    Each provider class declares its own as `capabilities`; `registry.provider_capabilities`
    answers for the provider the settings choose.
    """

    supports_lyrics: bool
    media_types: tuple[str, ...]
    max_duration_seconds: float
    # Continue a finished track of this provider's with the same plan (`extends_seconds`).
    supports_extend: bool
    # The same request and seed give the same track, so a new seed gives a variation of it.
    supports_variations: bool
    # Stems and MIDI re-rendered from the track's plan.
    supports_exports: bool


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
