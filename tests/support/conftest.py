"""Accounts with something to ask about: their tracks and a job the music service failed."""

from __future__ import annotations

from beatbun.generation.models import GenerationRequest
from beatbun.generation.service import submit_generation
from beatbun.generation.store import mark_ended_statement
from beatbun.runtime.base import Runtime


async def failed_job(runtime: Runtime, account_id: str) -> str:
    """A job the account paid for and the music service then failed; its id."""
    request = GenerationRequest.parse({"prompt": "stormy synthwave", "duration_seconds": 5})
    submitted = await submit_generation(
        runtime, account_id=account_id, request=request, idempotency_key=None
    )
    job_id = submitted.job.id
    await runtime.db.batch(
        [
            mark_ended_statement(
                runtime.db,
                job_id=job_id,
                status="failed",
                code="provider_unavailable",
                message="The provider is down.",
                now=runtime.clock.now(),
            )
        ]
    )
    return job_id
