"""A job's audio goes to storage in parts within R2's rules, and a failed job leaves nothing."""

from __future__ import annotations

import asyncio
import dataclasses
import struct
from collections.abc import Callable
from pathlib import Path
from typing import Any

from beatbun.generation.composer.provider import Composer
from beatbun.generation.models import GenerationRequest
from beatbun.generation.provider import AudioSink, MusicRequest, ProviderError, ProviderResult
from beatbun.generation.service import get_generation, submit_generation
from beatbun.runtime.base import MIN_PART_BYTES, ByteRange
from beatbun.runtime.blobwriter import DEFAULT_PART_BYTES
from beatbun.settings import Settings
from beatbun.tracks.store import list_tracks
from beatbun_local.runtime import LocalRuntime
from tests.factories import create_verified_account
from tests.generation.conftest import drain, queue_with
from tests.runtime.blob_recorder import RecordingBlobStore


class BreaksMidUpload:
    """Writes more than two parts of a WAV, then loses its connection (or stalls, if `stall`)."""

    name = "breaking"
    stall = False

    async def generate(
        self, request: MusicRequest, *, correlation_id: str, sink: AudioSink
    ) -> ProviderResult:
        await sink.write(b"RIFF" + bytes(2 * DEFAULT_PART_BYTES + 10))
        if self.stall:
            await asyncio.sleep(5)
        raise ProviderError(
            "The model dropped the connection.",
            provider=self.name,
            retryable=True,
            code="provider_unavailable",
        )


class StallsMidUpload(BreaksMidUpload):
    stall = True


async def _run_one_job(
    runtime: LocalRuntime, request: dict[str, Any]
) -> tuple[RecordingBlobStore, str, str]:
    """Run a job with every blob write recorded; (recording, account id, job status or error)."""
    recording = RecordingBlobStore(runtime.blobs)
    runtime.blobs = recording  # type: ignore[assignment]
    account = await create_verified_account(runtime)
    submission = await submit_generation(
        runtime,
        account_id=account.id,
        request=GenerationRequest.parse(request),
        idempotency_key=None,
    )
    await drain(runtime)
    job = await get_generation(runtime, account_id=account.id, job_id=submission.job.id)
    return recording, account.id, job.error_code or job.status


def _parts_left(tmp_path: Path) -> list[Path]:
    return list((tmp_path / "state" / "r2" / "AUDIO" / "parts").iterdir())


async def test_composer_job_of_300_s_stores_its_audio_in_r2_sized_parts(
    open_runtime: Callable[..., Any], tmp_path: Path
) -> None:
    async with open_runtime(user_queue=queue_with(Composer)) as runtime:
        recording, account_id, outcome = await _run_one_job(
            runtime, {"prompt": "pop", "duration_seconds": 300, "seed": 1}
        )
        assert outcome == "succeeded"
        (track,) = await list_tracks(runtime.db, account_id=account_id)
        sizes = [size for _, size in recording.writes]
        assert {kind for kind, _ in recording.writes} == {"part"}
        # R2: every part but the last the same size, at least 5 MiB; the last no larger.
        assert sizes[:-1] == [DEFAULT_PART_BYTES] * (len(sizes) - 1)
        assert DEFAULT_PART_BYTES >= MIN_PART_BYTES
        assert 0 < sizes[-1] <= DEFAULT_PART_BYTES
        assert sum(sizes) == track.size_bytes == 44 + 300 * 44100 * 4
        stored = await recording.inner.get(track.blob_key, range=ByteRange(offset=0, length=44))
        assert stored is not None and stored.size == track.size_bytes and stored.body is not None
        riff, riff_size, wave, data, data_size = struct.unpack("<4sI4s24x4sI", stored.body)
        assert (riff, wave, data) == (b"RIFF", b"WAVE", b"data")
        assert (riff_size, data_size) == (track.size_bytes - 8, track.size_bytes - 44)
        assert _parts_left(tmp_path) == []


async def test_provider_failing_mid_upload_leaves_nothing_stored(
    open_runtime: Callable[..., Any], tmp_path: Path
) -> None:
    async with open_runtime(user_queue=queue_with(BreaksMidUpload)) as runtime:
        recording, _, outcome = await _run_one_job(runtime, {"prompt": "pop", "seed": 1})
        assert outcome == "provider_unavailable"
        assert recording.writes == [("part", DEFAULT_PART_BYTES)]  # part 1 is held back to the end
        assert recording.aborted == 1
        assert (await runtime.blobs.list()).objects == []
        assert _parts_left(tmp_path) == []


async def test_provider_past_its_deadline_mid_upload_leaves_nothing_stored(
    open_runtime: Callable[..., Any], tmp_path: Path, settings: Settings
) -> None:
    quick = dataclasses.replace(settings, job_deadline_seconds=1)
    async with open_runtime(user_queue=queue_with(StallsMidUpload), settings=quick) as runtime:
        recording, _, outcome = await _run_one_job(runtime, {"prompt": "pop", "seed": 1})
        assert outcome == "provider_timeout"
        assert recording.aborted == 1
        assert (await runtime.blobs.list()).objects == []
        assert _parts_left(tmp_path) == []
