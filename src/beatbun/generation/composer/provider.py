"""The built-in composer as a `MusicProvider`: no network, no model, no API key."""

from __future__ import annotations

import asyncio
import sys

from beatbun.generation.composer.arrangement import arrange
from beatbun.generation.composer.prompt import resolve_plan
from beatbun.generation.composer.render import render
from beatbun.generation.composer.wav import compute_peaks
from beatbun.generation.provider import MusicRequest, ProviderResult

SAMPLE_RATE = 44100
# Pyodide (Workers) has no threads; under CPython the render goes to a worker thread, so the
# event loop (other requests, other queues' calls) keeps going while a track renders.
CAN_START_THREADS = sys.platform != "emscripten"


class Composer:
    """Writes and synthesizes a track from the prompt: 44.1 kHz 16-bit stereo WAV at -14 LUFS.

    The same request and seed always give the same bytes. Rendering is CPU-bound: on Workers
    it runs on the caller's thread (Pyodide cannot start threads), locally on a worker thread.
    """

    name = "composer"

    async def generate(self, request: MusicRequest, *, correlation_id: str) -> ProviderResult:
        if CAN_START_THREADS:
            return await asyncio.to_thread(self.compose, request, correlation_id=correlation_id)
        return self.compose(request, correlation_id=correlation_id)

    def compose(self, request: MusicRequest, *, correlation_id: str = "") -> ProviderResult:
        """The synchronous render behind `generate`, for the command line and benchmarks."""
        plan = resolve_plan(request, sample_rate=SAMPLE_RATE)
        track = render(plan, arrange(plan))
        described = plan.to_dict()
        described["loudness_lufs"] = round(track.loudness.integrated_lufs, 2)
        described["true_peak_dbtp"] = round(track.loudness.true_peak_dbtp, 2)
        return ProviderResult(
            audio=track.wav,
            media_type="audio/wav",
            sample_rate=SAMPLE_RATE,
            channels=2,
            frames=plan.frames,
            provider=self.name,
            peaks=compute_peaks(track.samples),
            plan=described,
            correlation_id=correlation_id,
        )
