"""The built-in composer as a `MusicProvider`: no network, no model, no API key."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from typing import TypeVar

import numpy as np
from numpy.typing import NDArray

from beatbun.generation.composer.arrangement import arrange
from beatbun.generation.composer.prompt import resolve_plan
from beatbun.generation.composer.render import TrackRender
from beatbun.generation.composer.wav import wav_header
from beatbun.generation.provider import (
    MAX_DURATION_SECONDS,
    AudioSink,
    Capabilities,
    MusicRequest,
    ProviderResult,
)

SAMPLE_RATE = 44100
CHANNELS = 2
# Pyodide (Workers) has no threads; under CPython each step of the render goes to a worker
# thread, so the event loop (other requests, other queues' calls) keeps going while a track
# renders. On Workers the render yields to the event loop between steps instead.
CAN_START_THREADS = sys.platform != "emscripten"
T = TypeVar("T")


class Composer:
    """Writes and synthesizes a track from the prompt: 44.1 kHz 16-bit stereo WAV at -14 LUFS.

    The same request and seed always give the same bytes. The WAV is written a chunk (2 s) at
    a time, after the header; its size is known from the plan before any audio exists.
    """

    name = "composer"
    capabilities = Capabilities(
        supports_lyrics=False,
        media_types=("audio/wav",),
        max_duration_seconds=MAX_DURATION_SECONDS,
        supports_extend=True,
        supports_variations=True,
        supports_exports=True,
    )

    async def generate(
        self, request: MusicRequest, *, correlation_id: str, sink: AudioSink
    ) -> ProviderResult:
        # The plan and the score are CPU work too.
        render = (
            await asyncio.to_thread(_Render, request) if CAN_START_THREADS else _Render(request)
        )
        await sink.write(render.header)
        async for samples in run_in_turns(render.track.steps()):
            await sink.write(_bytes_of(samples))
        return render.result(correlation_id)

    def compose(
        self,
        request: MusicRequest,
        *,
        write: Callable[[memoryview], object],
        correlation_id: str = "",
    ) -> ProviderResult:
        """The synchronous render behind `generate`, for the command line and benchmarks."""
        render = _Render(request)
        write(memoryview(render.header))
        for step in render.track.steps():
            if step is not None:
                write(_bytes_of(step))
        return render.result(correlation_id)


class _Render:
    """A track being rendered, with what its result reports."""

    def __init__(self, request: MusicRequest) -> None:
        self.plan = resolve_plan(request, sample_rate=SAMPLE_RATE)
        self.track = TrackRender(self.plan, arrange(self.plan))
        self.header = wav_header(
            frames=self.plan.frames, sample_rate=SAMPLE_RATE, channels=CHANNELS
        )

    def result(self, correlation_id: str) -> ProviderResult:
        described = self.plan.to_dict()
        described["loudness_lufs"] = round(self.track.loudness.integrated_lufs, 2)
        described["true_peak_dbtp"] = round(self.track.loudness.true_peak_dbtp, 2)
        return ProviderResult(
            media_type="audio/wav",
            sample_rate=SAMPLE_RATE,
            channels=CHANNELS,
            frames=self.plan.frames,
            provider=Composer.name,
            peaks=self.track.peaks,
            plan=described,
            correlation_id=correlation_id,
        )


async def run_in_turns(steps: Iterator[T | None]) -> AsyncIterator[T]:
    """What `steps` yields (None marks a pause), each step run off the event loop or between
    its turns: the mastered chunks of a render, or an export's pieces."""
    while True:
        if CAN_START_THREADS:
            # A worker thread needs no pauses: one hop per chunk of output.
            advanced: tuple[bool, T | None] = await asyncio.to_thread(
                _advance, steps, through_pauses=True
            )
            finished, samples = advanced
        else:
            finished, samples = _advance(steps, through_pauses=False)
            # Let other requests to this isolate run between chunks of CPU work.
            await asyncio.sleep(0)
        if finished:
            return
        if samples is not None:
            yield samples


def _advance(steps: Iterator[T | None], *, through_pauses: bool) -> tuple[bool, T | None]:
    """(finished, samples) after the next step, or after the next samples `through_pauses`."""
    for step in steps:
        if step is not None or not through_pauses:
            return False, step
    return True, None


def _bytes_of(samples: NDArray[np.int16]) -> memoryview:
    # int16 little-endian, interleaved: byte for byte the data of a 16-bit PCM WAV.
    return samples.data.cast("B")
