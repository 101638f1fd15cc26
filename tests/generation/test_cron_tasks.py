"""The cron tasks: nothing paid for is left hanging, and free-tier tracks go after 14 days."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from beatbun.billing.credits import charge, get_wallet, open_wallet
from beatbun.billing.plans import FREE_PLAN
from beatbun.generation.models import GenerationRequest, Job
from beatbun.generation.service import get_generation, submit_generation
from beatbun.generation.store import insert_job_statement
from beatbun.scheduled import run_scheduled
from beatbun.tracks.store import list_tracks
from tests.factories import create_verified_account
from tests.fakes import ManualClock
from tests.generation.conftest import drain

REQUEST = GenerationRequest.parse({"prompt": "ambient drone", "duration_seconds": 5, "seed": 1})


async def test_cron_refunds_a_paid_job_its_queue_never_received(
    open_runtime: Callable[..., Any], clock: ManualClock
) -> None:
    async with open_runtime() as runtime:
        account = await create_verified_account(runtime)
        await open_wallet(runtime.db, account.id, now=clock.now())
        now = int(clock.now())
        job = Job(
            id="orphan",
            account_id=account.id,
            status="queued",
            request=REQUEST.model_dump(),
            cost=1,
            provider="composer",
            correlation_id="c-orphan",
            created_at=now,
            deadline_at=now + 900,
        )
        # Charged and recorded, then the process died before the queue was told.
        db = runtime.db
        await charge(
            db,
            account_id=account.id,
            amount=1,
            job_id=job.id,
            idempotency_key="k",
            along_with=insert_job_statement(db, job, request_hash="h", idempotency_key="k"),
            now=now,
        )
        await run_scheduled(runtime, cron="0 * * * *", scheduled_time=clock.now())
        assert (
            await get_generation(runtime, account_id=account.id, job_id="orphan")
        ).status == "queued"
        clock.advance(900 + 120)
        await run_scheduled(runtime, cron="0 * * * *", scheduled_time=clock.now())
        ended = await get_generation(runtime, account_id=account.id, job_id="orphan")
        assert (ended.status, ended.error_code) == ("failed", "deadline_exceeded")
        assert (await get_wallet(runtime.db, account.id)).balance == FREE_PLAN.monthly_credits


async def test_cron_deletes_free_tracks_after_14_days_with_their_audio(
    open_runtime: Callable[..., Any], clock: ManualClock
) -> None:
    async with open_runtime() as runtime:
        account = await create_verified_account(runtime)
        await submit_generation(
            runtime, account_id=account.id, request=REQUEST, idempotency_key=None
        )
        await drain(runtime)
        [track] = await list_tracks(runtime.db, account_id=account.id)
        clock.advance(14 * 86400 - 60)
        await run_scheduled(runtime, cron="0 * * * *", scheduled_time=clock.now())
        assert len(await list_tracks(runtime.db, account_id=account.id)) == 1  # not yet
        clock.advance(120)
        await run_scheduled(runtime, cron="0 * * * *", scheduled_time=clock.now())
        assert await list_tracks(runtime.db, account_id=account.id) == []
        assert await runtime.blobs.head(track.blob_key) is None
