"""Exports of a finished track: stems and MIDI made again from its plan, FLAC from its WAV.

Stems and MIDI need the score, so they re-resolve the plan from the job's stored request
with the track's seed, and the genre, tempo, key and mode the plan chose pinned (each plan
decision draws from its own random stream, so pinning what was chosen changes nothing).
The result must equal the stored plan, or the export would not match the audio: a track
from another provider, another composer version or a plan that no longer comes out the
same raises `ExportUnavailable`. FLAC needs only the stored audio, so any 16-bit WAV works.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

from beatbun.errors import ExportUnavailable
from beatbun.generation.composer.arrangement import arrange
from beatbun.generation.composer.flac import FlacEncoder
from beatbun.generation.composer.midi import midi_file
from beatbun.generation.composer.plan import COMPOSER_VERSION, CompositionPlan
from beatbun.generation.composer.prompt import resolve_plan
from beatbun.generation.composer.provider import (
    CAN_START_THREADS,
    SAMPLE_RATE,
    Composer,
    run_in_turns,
)
from beatbun.generation.composer.stems import render_stems, stem_header
from beatbun.generation.composer.wav import WavFormat, read_wav_header
from beatbun.generation.models import GenerationRequest
from beatbun.i18n import N_

# The plan fields that decide every note; the rest (loudness, sources) describe the render.
_MUSICAL_FIELDS = (
    "genre", "form", "bpm", "key", "duration_seconds", "seed", "progression", "sections",
    "instruments", "drums",
)  # fmt: skip
# A WAV header longer than this (with its extra chunks) is not one we wrote or accept.
_MAX_HEADER_BYTES = 64 * 1024


def plan_for_export(request: Mapping[str, Any], plan: Mapping[str, Any]) -> CompositionPlan:
    """The plan a composer track was rendered from, made again; raises `ExportUnavailable`."""
    if plan.get("provider") != Composer.name:
        raise ExportUnavailable(N_("Stems and MIDI exist only for tracks of the built-in composer"))
    if plan.get("composer_version") != COMPOSER_VERSION:
        raise ExportUnavailable(
            N_("This track was made by an earlier version of the composer; stems and MIDI need the current one")
        )  # fmt: skip
    tonic, _, mode = str(plan.get("key", "")).partition(" ")
    pinned = dataclasses.replace(
        GenerationRequest.from_stored(request).to_music_request(),
        seed=plan.get("seed"),
        genres=(str(plan.get("genre")),),
        bpm=plan.get("bpm"),
        key=tonic or None,
        mode="minor" if mode == "minor" else "major" if mode == "major" else None,
    )
    resolved = resolve_plan(pinned, sample_rate=SAMPLE_RATE)
    again = resolved.to_dict()
    if any(again.get(name) != plan.get(name) for name in _MUSICAL_FIELDS):
        raise ExportUnavailable(N_("This track's plan can no longer be made again exactly"))
    return resolved


def stems(
    request: Mapping[str, Any], plan: Mapping[str, Any]
) -> tuple[bytes, AsyncIterator[dict[str, NDArray[np.int16]]]]:
    """The WAV header every stem starts with, and the stems' chunks (see `stems.render_stems`).

    Raises `ExportUnavailable` before any audio is made.
    """
    resolved = plan_for_export(request, plan)
    return stem_header(resolved), run_in_turns(_stem_steps(resolved))


def _stem_steps(plan: CompositionPlan) -> Iterator[dict[str, NDArray[np.int16]] | None]:
    yield None  # arranging is CPU work too: off the event loop, or after a turn
    yield from render_stems(plan, arrange(plan))


async def midi(request: Mapping[str, Any], plan: Mapping[str, Any]) -> bytes:
    """The track's score as a MIDI file (see `midi.midi_file`); raises `ExportUnavailable`."""
    resolved = plan_for_export(request, plan)
    async for data in run_in_turns(_midi_steps(resolved)):
        return data
    raise RuntimeError("The MIDI step yielded nothing")


def _midi_steps(plan: CompositionPlan) -> Iterator[bytes | None]:
    yield None
    yield midi_file(plan, arrange(plan))


async def flac_of_wav(open_wav: Callable[[], AsyncIterator[bytes]]) -> AsyncIterator[bytes]:
    """The FLAC of a 16-bit PCM WAV, streamed; decodes to exactly the WAV's samples.

    `open_wav()` must return the WAV's bytes from the start, in pieces of any size; it is
    called twice, since STREAMINFO, ahead of the audio, carries the samples' MD5. Raises
    `ExportUnavailable` when the bytes are not a 16-bit PCM WAV of 1 or 2 channels, or
    hold fewer samples than their header says.
    """
    layout, digest = await _read_md5(open_wav())
    encoder = FlacEncoder(
        sample_rate=layout.sample_rate,
        channels=layout.channels,
        frames=layout.frames,
        md5=digest,
    )
    yield encoder.header()
    async for samples in _samples(open_wav(), layout):
        if CAN_START_THREADS:
            yield await asyncio.to_thread(encoder.encode, samples)
        else:
            yield encoder.encode(samples)
            await asyncio.sleep(0)
    try:
        yield encoder.finish()
    except ValueError as exc:
        raise ExportUnavailable(N_("The audio ends before its last sample")) from exc


async def _read_md5(pieces: AsyncIterator[bytes]) -> tuple[WavFormat, bytes]:
    """The WAV's format and the MD5 of its sample data, checked against its header."""
    md5 = hashlib.md5(usedforsecurity=False)
    layout: WavFormat | None = None
    head = b""
    left = 0
    async for piece in pieces:
        if layout is None:
            head += piece
            layout = _layout(head)
            if layout is None:
                continue
            piece = head[layout.data_offset :]
            left = layout.data_bytes
        md5.update(memoryview(piece)[:left])
        left -= min(left, len(piece))
    if layout is None or left:
        raise ExportUnavailable(N_("The audio ends before its last sample"))
    return layout, md5.digest()


async def _samples(
    pieces: AsyncIterator[bytes], layout: WavFormat
) -> AsyncIterator[NDArray[np.int16]]:
    """The sample data as (n, channels) int16 arrays, whole frames only, after the header."""
    frame_bytes = 2 * layout.channels
    skip = layout.data_offset
    left = layout.frames * frame_bytes
    carry = b""
    async for piece in pieces:
        view = memoryview(piece)
        if skip:
            dropped = min(skip, len(view))
            view, skip = view[dropped:], skip - dropped
        # Only the few bytes of a frame split between pieces are copied.
        data = bytes(carry) + view[:left] if carry else view[:left]
        left -= min(left, len(view))
        whole = len(data) // frame_bytes * frame_bytes
        carry = bytes(data[whole:])
        if whole:
            yield np.frombuffer(data[:whole], dtype="<i2").reshape(-1, layout.channels)


def _layout(head: bytes) -> WavFormat | None:
    try:
        layout = read_wav_header(head)
    except ValueError as exc:
        raise ExportUnavailable(N_("Only WAV audio can be exported as FLAC")) from exc
    if layout is None:
        if len(head) > _MAX_HEADER_BYTES:
            raise ExportUnavailable(N_("Only WAV audio can be exported as FLAC"))
        return None
    if layout.bits != 16 or layout.channels > 2:
        raise ExportUnavailable(N_("Only 16-bit mono or stereo WAV can be exported as FLAC"))
    return layout
