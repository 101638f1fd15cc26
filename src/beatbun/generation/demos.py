"""The landing page's demo tracks: fixed prompts and seeds, rendered once by our own composer.

No audio file is shipped: each demo is rendered on first use into the blob store under
`DEMO_PREFIX`, and its waveform peaks are stored beside it. The same request and seed always
give the same bytes, and the key carries a digest of the request and the release, so a key
never names different audio and the file can be cached for good. Two first requests at the
same moment may both render; they write the same bytes, so either result stands.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from beatbun.errors import NotFound
from beatbun.generation.composer.provider import Composer
from beatbun.generation.provider import Mode, MusicRequest
from beatbun.i18n import N_
from beatbun.runtime.base import BlobObject, BlobStore, BlobStream, ByteRange, HttpMetadata
from beatbun.runtime.blobwriter import BlobWriter
from beatbun.version import VERSION

# Outside `tracks/`, so no lifecycle rule of a plan ever deletes them.
DEMO_PREFIX = "demos/"
DEMO_SECONDS = 24.0
MEDIA_TYPE = "audio/wav"
# Pairs kept for the landing page's small waveform: plenty for a few dozen bars.
PEAK_PAIRS = 200


@dataclass(frozen=True)
class Demo:
    """One demo: `title` is an `N_` source string; `prompt` is shown as the composer read it."""

    slug: str
    title: str
    prompt: str
    genre: str
    bpm: int
    key: str
    mode: Mode
    seed: int

    def request(self) -> MusicRequest:
        return MusicRequest(
            prompt=self.prompt,
            duration_seconds=DEMO_SECONDS,
            genres=(self.genre,),
            bpm=float(self.bpm),
            key=self.key,
            mode=self.mode,
            seed=self.seed,
        )

    @property
    def file_name(self) -> str:
        """`<slug>-<digest>.wav`: the digest changes whenever the audio could."""
        recipe = json.dumps([VERSION, self.request().to_json()])
        return f"{self.slug}-{hashlib.sha256(recipe.encode()).hexdigest()[:12]}.wav"

    @property
    def audio_key(self) -> str:
        return DEMO_PREFIX + self.file_name

    @property
    def peaks_key(self) -> str:
        return DEMO_PREFIX + self.file_name.removesuffix(".wav") + ".peaks.json"


@dataclass(frozen=True)
class RenderedDemo:
    demo: Demo
    peaks: list[list[float]]


DEMOS: tuple[Demo, ...] = (
    Demo(
        slug="rainy-window",
        title=N_("Rainy window"),
        prompt="warm lo-fi piano with soft vinyl crackle on a rainy evening",
        genre="lofi",
        bpm=82,
        key="A",
        mode="minor",
        seed=11,
    ),
    Demo(
        slug="night-drive",
        title=N_("Night drive"),
        prompt="driving synthwave for a night drive, neon lights and analog bass",
        genre="synthwave",
        bpm=108,
        key="F#",
        mode="minor",
        seed=23,
    ),
    Demo(
        slug="warehouse-sunrise",
        title=N_("Warehouse sunrise"),
        prompt="uplifting house groove at sunrise with bright chords",
        genre="house",
        bpm=124,
        key="G",
        mode="minor",
        seed=5,
    ),
)


def find_demo(file_name: str) -> Demo:
    """The demo whose audio is `file_name`; NotFound for any other name, old ones included."""
    for demo in DEMOS:
        if demo.file_name == file_name:
            return demo
    raise _not_found(file_name)


async def rendered_demos(blobs: BlobStore) -> list[RenderedDemo]:
    """Every demo with its peaks, rendering those not stored yet."""
    return [await ensure_demo(blobs, demo) for demo in DEMOS]


async def ensure_demo(blobs: BlobStore, demo: Demo) -> RenderedDemo:
    """The demo's peaks; renders the audio and stores both first if the peaks are missing.

    The peaks are written after the audio, so stored peaks mean the audio is complete.
    """
    stored = await blobs.get(demo.peaks_key)
    if stored is not None and stored.body is not None:
        return RenderedDemo(demo=demo, peaks=json.loads(stored.body))
    async with BlobWriter(
        blobs, demo.audio_key, http_metadata=HttpMetadata(content_type=MEDIA_TYPE)
    ) as writer:
        result = await Composer().generate(
            demo.request(), correlation_id=f"demo-{demo.slug}", sink=writer
        )
    peaks = _thinned([list(pair) for pair in result.peaks])
    await blobs.put(
        demo.peaks_key,
        json.dumps(peaks),
        http_metadata=HttpMetadata(content_type="application/json"),
    )
    return RenderedDemo(demo=demo, peaks=peaks)


async def demo_audio_info(blobs: BlobStore, demo: Demo) -> BlobObject:
    """The stored audio's size and etag, rendering it first when it is not there yet."""
    found = await blobs.head(demo.audio_key)
    if found is None:
        await ensure_demo(blobs, demo)
        found = await blobs.head(demo.audio_key)
    if found is None:
        raise _not_found(demo.slug)
    return found


async def open_demo_audio(blobs: BlobStore, demo: Demo, *, range_: ByteRange | None) -> BlobStream:
    """The demo's audio, or `range_` of it, opened for reading; NotFound if it is not stored."""
    opened = await blobs.stream(demo.audio_key, range=range_)
    if opened is None:
        raise _not_found(demo.slug)
    return opened


def _thinned(peaks: list[list[float]]) -> list[list[float]]:
    """At most `PEAK_PAIRS` (min, max) pairs, each the extremes of the pairs it stands for."""
    if len(peaks) <= PEAK_PAIRS:
        return peaks
    count = len(peaks)
    thinned = []
    for index in range(PEAK_PAIRS):
        chunk = peaks[index * count // PEAK_PAIRS : (index + 1) * count // PEAK_PAIRS]
        thinned.append([min(pair[0] for pair in chunk), max(pair[1] for pair in chunk)])
    return thinned


def _not_found(name: str) -> NotFound:
    return NotFound(N_("Demo '%(name)s' not found."), code="demo_not_found", params={"name": name})
