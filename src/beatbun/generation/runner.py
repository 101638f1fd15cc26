"""Run one paid-for job: ask the provider, check what came back, keep the audio, record the track.

Any failure raises `AppError`; the queue turns it into a failed job with its refund. Audio that
was stored for a job that then could not be recorded is deleted again, so R2 holds no orphans.
"""

from __future__ import annotations

import asyncio
import logging
import uuid

from beatbun.billing.plans import plan_of
from beatbun.generation.lifecycle import complete_job
from beatbun.generation.models import GenerationRequest, Job
from beatbun.generation.provider import MusicProvider, ProviderError, ProviderResult
from beatbun.runtime.base import HttpMetadata, Runtime
from beatbun.tracks.models import Track, blob_key_for

logger = logging.getLogger(__name__)
TITLE_CHARS = 60


async def run_job(
    runtime: Runtime, job: Job, *, provider: MusicProvider, plan: str
) -> Track | None:
    """Produce the job's track; None if the job ended meanwhile (its audio is then discarded).

    The track is kept and licensed by the rules of `plan`, the plan the job runs under.

    Raises ProviderError (provider failure, timeout, malformed audio, wrong correlation id) or
    StorageError (R2 or D1 failed).
    """
    request = GenerationRequest.parse(job.request)
    rules = plan_of(plan)
    result = await _generate(runtime, job, provider=provider, request=request)
    now = runtime.clock.now()
    track_id = uuid.uuid4().hex
    keep_for = rules.retention_seconds
    track = Track(
        id=track_id,
        account_id=job.account_id,
        job_id=job.id,
        title=_title_of(request.prompt),
        prompt=request.prompt,
        plan={**dict(result.plan), "provider": result.provider},
        media_type=result.media_type,
        duration_seconds=round(result.duration_seconds, 3),
        size_bytes=len(result.audio),
        blob_key=blob_key_for(
            retention=rules.retention, account_id=job.account_id, track_id=track_id
        ),
        peaks=[list(pair) for pair in result.peaks],
        retention=rules.retention,
        created_at=int(now),
        expires_at=None if keep_for is None else int(now) + keep_for,
        licence=rules.licence,
        licence_plan=rules.id,
        licensed_at=int(now),
    )
    await runtime.blobs.put(
        track.blob_key,
        bytes(result.audio),
        http_metadata=HttpMetadata(
            content_type=track.media_type,
            content_disposition=f'attachment; filename="{track.file_name}"',
        ),
        custom_metadata={
            "owner": job.account_id,
            "job": job.id,
            "correlation_id": job.correlation_id,
            "expires_at": str(track.expires_at or ""),
        },
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


async def _generate(
    runtime: Runtime, job: Job, *, provider: MusicProvider, request: GenerationRequest
) -> ProviderResult:
    remaining = job.deadline_at - runtime.clock.now()
    try:
        result = await asyncio.wait_for(
            provider.generate(request.to_music_request(), correlation_id=job.correlation_id),
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
    _check_audio(result, provider=provider.name)
    return result


def _check_audio(result: ProviderResult, *, provider: str) -> None:
    header = bytes(result.audio[:12])
    is_wav = header[:4] == b"RIFF" and header[8:12] == b"WAVE"
    # 16-bit PCM: a file shorter than its frames promise was cut off on the way.
    complete = len(result.audio) >= result.frames * result.channels * 2
    if result.media_type != "audio/wav" or not is_wav or result.frames <= 0 or not complete:
        raise ProviderError(
            "The provider returned audio we cannot play.",
            provider=provider,
            retryable=False,
            code="malformed_audio",
        )


def _title_of(prompt: str) -> str:
    title = " ".join(prompt.split())
    return title if len(title) <= TITLE_CHARS else title[: TITLE_CHARS - 1].rstrip() + "…"
