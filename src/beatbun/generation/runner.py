"""Run one paid-for job: the provider writes the audio to R2 in parts, then the track is recorded.

Any failure raises `AppError`; the queue turns it into a failed job with its refund. A provider
that fails, times out or returns audio we cannot play leaves nothing in R2 (its multipart
upload is aborted), and audio stored for a job that then could not be recorded is deleted
again, so R2 holds no orphans.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import uuid

from beatbun.billing.plans import plan_of
from beatbun.generation.lifecycle import complete_job
from beatbun.generation.models import GenerationRequest, Job
from beatbun.generation.provider import AudioSink, MusicProvider, ProviderError, ProviderResult
from beatbun.runtime.base import HttpMetadata, Runtime
from beatbun.runtime.blobwriter import BlobWriter
from beatbun.tracks.models import Track, blob_key_for
from beatbun.tracks.titles import short_title

logger = logging.getLogger(__name__)
MEDIA_TYPE = "audio/wav"
# RIFF size, "WAVE": the first bytes of any WAV file.
_WAV_MAGIC_BYTES = 12


async def run_job(
    runtime: Runtime, job: Job, *, provider: MusicProvider, plan: str
) -> Track | None:
    """Produce the job's track; None if the job ended meanwhile (its audio is then discarded).

    The track is kept and licensed by the rules of `plan`, the plan the job runs under.

    Raises ProviderError (provider failure, timeout, malformed audio, wrong correlation id) or
    StorageError (R2 or D1 failed).
    """
    request = GenerationRequest.from_stored(job.request)
    rules = plan_of(plan)
    track_id = uuid.uuid4().hex
    keep_for = rules.retention_seconds
    started = int(runtime.clock.now())
    # What the provider adds (plan, duration, size, peaks) and the finishing time come later.
    track = Track(
        id=track_id,
        account_id=job.account_id,
        job_id=job.id,
        title=short_title(request.prompt),
        prompt=request.prompt,
        plan={},
        media_type=MEDIA_TYPE,
        duration_seconds=0.0,
        size_bytes=0,
        blob_key=blob_key_for(
            retention=rules.retention, account_id=job.account_id, track_id=track_id
        ),
        peaks=[],
        retention=rules.retention,
        created_at=started,
        expires_at=None if keep_for is None else started + keep_for,
        licence=rules.licence,
        licence_plan=rules.id,
        licensed_at=started,
    )
    writer = BlobWriter(
        runtime.blobs,
        track.blob_key,
        http_metadata=HttpMetadata(
            content_type=MEDIA_TYPE,
            content_disposition=f'attachment; filename="{track.file_name}"',
        ),
        custom_metadata={
            "owner": job.account_id,
            "job": job.id,
            "correlation_id": job.correlation_id,
            # Counted from the start of the job: R2's own lifecycle rule counts from the upload.
            "expires_at": str(track.expires_at or ""),
        },
    )
    # Leaving this block by any exception aborts the upload: nothing is stored.
    async with writer:
        audio = _CheckedAudio(writer)
        result = await _generate(runtime, job, provider=provider, request=request, sink=audio)
        _check_audio(result, audio, provider=provider.name)
    now = runtime.clock.now()
    track = dataclasses.replace(
        track,
        plan={**dict(result.plan), "provider": result.provider, **_source_of(request)},
        duration_seconds=round(result.duration_seconds, 3),
        size_bytes=writer.written,
        peaks=[list(pair) for pair in result.peaks],
        created_at=int(now),
        expires_at=None if keep_for is None else int(now) + keep_for,
        licensed_at=int(now),
    )
    try:
        recorded = await complete_job(runtime.db, job, track=track, now=now)
    except BaseException:
        await runtime.blobs.delete(track.blob_key)
        raise
    if not recorded:
        await runtime.blobs.delete(track.blob_key)
        return None
    return track


class _CheckedAudio:
    """The sink a provider writes to: passes everything on, keeping the file's first bytes."""

    def __init__(self, inner: AudioSink) -> None:
        self._inner = inner
        self.start = b""
        self.size = 0

    async def write(self, data: bytes | bytearray | memoryview) -> None:
        view = memoryview(data).cast("B")
        if len(self.start) < _WAV_MAGIC_BYTES:
            self.start += bytes(view[: _WAV_MAGIC_BYTES - len(self.start)])
        self.size += view.nbytes
        await self._inner.write(view)

    def rewrite_start(self, data: bytes) -> None:
        self._inner.rewrite_start(data)
        self.start = data[:_WAV_MAGIC_BYTES] + self.start[len(data) :]


async def _generate(
    runtime: Runtime,
    job: Job,
    *,
    provider: MusicProvider,
    request: GenerationRequest,
    sink: AudioSink,
) -> ProviderResult:
    remaining = job.deadline_at - runtime.clock.now()
    try:
        result = await asyncio.wait_for(
            provider.generate(
                request.to_music_request(), correlation_id=job.correlation_id, sink=sink
            ),
            timeout=max(remaining, 1.0),
        )
    except TimeoutError:
        raise ProviderError(
            "The music provider did not finish before the job's deadline.",
            provider=provider.name,
            retryable=False,
            code="provider_timeout",
        ) from None
    if result.correlation_id != job.correlation_id:
        # A result for another job must never become this user's track.
        logger.warning(
            "Rejected a result for job %s: correlation id %r does not match",
            job.id,
            result.correlation_id,
        )
        raise ProviderError(
            "The provider returned a result for a different request.",
            provider=provider.name,
            retryable=False,
            code="correlation_mismatch",
        )
    return result


def _source_of(request: GenerationRequest) -> dict[str, object]:
    """The track an extension or variation was made from, for its page; else nothing."""
    if request.source_track_id is None:
        return {}
    kind = "extension" if request.extends_seconds is not None else "variation"
    return {"source": {"track_id": request.source_track_id, "kind": kind}}


def _check_audio(result: ProviderResult, audio: _CheckedAudio, *, provider: str) -> None:
    is_wav = audio.start[:4] == b"RIFF" and audio.start[8:12] == b"WAVE"
    # 16-bit PCM: a file shorter than its frames promise was cut off on the way.
    complete = audio.size >= result.frames * result.channels * 2
    if result.media_type != MEDIA_TYPE or not is_wav or result.frames <= 0 or not complete:
        raise ProviderError(
            "The provider returned audio we cannot play.",
            provider=provider,
            retryable=False,
            code="malformed_audio",
        )
