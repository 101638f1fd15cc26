"""The core loop at service level: pay, queue, render, store, refund on every failure."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from typing import Any

import pytest

from beatbun.accounts.models import Account
from beatbun.billing.credits import get_wallet, open_wallet
from beatbun.billing.plans import FREE_PLAN
from beatbun.errors import Conflict, InvalidInput, PaymentRequired, StorageError
from beatbun.generation.composer.provider import Composer
from beatbun.generation.models import GenerationRequest, Job
from beatbun.generation.provider import AudioSink, MusicRequest, ProviderError, ProviderResult
from beatbun.generation.service import (
    cancel_generation,
    get_generation,
    queue_events,
    submit_generation,
)
from beatbun.settings import Settings
from beatbun_local.runtime import LocalRuntime
from tests.factories import create_verified_account
from tests.fakes import ManualClock
from tests.generation.conftest import drain, queue_with
from tests.generation.sinks import MemorySink

SHORT = {"prompt": "chill lo-fi piano", "duration_seconds": 5, "seed": 7}


def _request(**overrides: Any) -> GenerationRequest:
    return GenerationRequest.parse({**SHORT, **overrides})


async def _submitted(runtime: LocalRuntime) -> tuple[Account, Job]:
    """A new verified account, and the job of its first (short) request."""
    account = await create_verified_account(runtime)
    submission = await submit_generation(
        runtime, account_id=account.id, request=_request(), idempotency_key=None
    )
    return account, submission.job


async def _ledger(runtime: LocalRuntime, account_id: str) -> list[dict[str, Any]]:
    result = (
        await runtime.db.prepare(
            "SELECT kind, amount, job_id FROM credit_ledger WHERE account_id = ? ORDER BY id"
        )
        .bind(account_id)
        .all()
    )
    return result.results


async def _account_with_balance(runtime: LocalRuntime, clock: ManualClock, balance: int) -> Account:
    """A verified account whose wallet holds `balance` credits after an operator's adjustment."""
    account = await create_verified_account(runtime)
    await open_wallet(runtime.db, account.id, now=clock.now())
    db = runtime.db
    await db.batch(
        [
            db.prepare("UPDATE wallets SET balance = ? WHERE account_id = ?").bind(
                balance, account.id
            ),
            db.prepare(
                "INSERT INTO credit_ledger (account_id, kind, amount, balance_after, note, created_at)"
                " VALUES (?, 'adjustment', ?, ?, 'test', ?)"
            ).bind(account.id, balance - FREE_PLAN.monthly_credits, balance, int(clock.now())),
        ]
    )
    return account


async def _balance_matches_ledger(runtime: LocalRuntime, account_id: str) -> bool:
    ledger_sum = (
        await runtime.db.prepare(
            "SELECT coalesce(sum(amount), 0) AS total FROM credit_ledger WHERE account_id = ?"
        )
        .bind(account_id)
        .first("total")
    )
    return ledger_sum == (await get_wallet(runtime.db, account_id)).balance


async def test_submit_charges_queues_renders_and_stores_the_track(
    open_runtime: Callable[..., Any],
) -> None:
    async with open_runtime() as runtime:
        account = await create_verified_account(runtime)
        submission = await submit_generation(
            runtime, account_id=account.id, request=_request(), idempotency_key="k1"
        )
        assert submission.created and submission.job.status == "queued" and submission.job.cost == 1
        await drain(runtime)
        job = await get_generation(runtime, account_id=account.id, job_id=submission.job.id)
        assert job.status == "succeeded" and job.track_id
        track = (
            await runtime.db.prepare(
                "SELECT blob_key, retention, expires_at, created_at FROM tracks WHERE id = ?"
            )
            .bind(job.track_id)
            .first()
        )
        assert track is not None and track["retention"] == "free"
        assert track["expires_at"] == track["created_at"] + 14 * 86400
        stored = await runtime.blobs.head(str(track["blob_key"]))
        assert stored is not None and stored.custom_metadata["owner"] == account.id
        assert str(track["blob_key"]).startswith(f"tracks/free/{account.id}/")
        assert (await get_wallet(runtime.db, account.id)).balance == FREE_PLAN.monthly_credits - 1
        assert await _balance_matches_ledger(runtime, account.id)


async def test_events_tell_the_whole_story_in_order(open_runtime: Callable[..., Any]) -> None:
    async with open_runtime() as runtime:
        account, queued = await _submitted(runtime)
        await drain(runtime)
        events = await queue_events(runtime, account_id=account.id, after=0)
        assert [event["type"] for event in events] == ["queued", "running", "succeeded"]
        assert all(event["job_id"] == queued.id for event in events)
        assert (
            await queue_events(runtime, account_id=account.id, after=events[1]["seq"]) == events[2:]
        )


async def test_same_idempotency_key_returns_the_same_job_and_charges_once(
    open_runtime: Callable[..., Any],
) -> None:
    async with open_runtime() as runtime:
        account = await create_verified_account(runtime)
        first = await submit_generation(
            runtime, account_id=account.id, request=_request(), idempotency_key="same"
        )
        second = await submit_generation(
            runtime, account_id=account.id, request=_request(), idempotency_key="same"
        )
        assert second.job.id == first.job.id and not second.created
        debits = [row for row in await _ledger(runtime, account.id) if row["kind"] == "debit"]
        assert len(debits) == 1


async def test_idempotency_key_reused_for_another_request_is_a_conflict(
    open_runtime: Callable[..., Any],
) -> None:
    async with open_runtime() as runtime:
        account = await create_verified_account(runtime)
        await submit_generation(
            runtime, account_id=account.id, request=_request(), idempotency_key="same"
        )
        with pytest.raises(Conflict) as raised:
            await submit_generation(
                runtime, account_id=account.id, request=_request(seed=8), idempotency_key="same"
            )
        assert raised.value.code == "idempotency_key_reused"


async def test_insufficient_balance_charges_nothing_and_creates_no_job(
    open_runtime: Callable[..., Any], clock: ManualClock
) -> None:
    async with open_runtime() as runtime:
        account = await _account_with_balance(runtime, clock, 2)
        with pytest.raises(PaymentRequired) as raised:
            await submit_generation(
                runtime,
                account_id=account.id,
                request=_request(duration_seconds=30),
                idempotency_key=None,
            )
        assert raised.value.message == "This track costs 3 credits and your balance is 2."
        assert await runtime.db.prepare("SELECT count(*) AS n FROM jobs").first("n") == 0
        assert (await get_wallet(runtime.db, account.id)).balance == 2


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"prompt": "a ballad in the voice of Taylor Swift"}, "artist_imitation"),
        ({"prompt": "a song about how to build a bomb"}, "harmful_content"),
        ({"duration_seconds": 301}, "duration_out_of_range"),
        ({"key": "H"}, "unknown_key"),
        ({"prompt": ""}, "empty_prompt"),
        ({"lyrics": "la la la"}, "lyrics_unsupported"),  # the composer makes instrumentals only
        ({"volume": 11}, "unknown_field"),
    ],
)
async def test_refused_request_charges_nothing(
    open_runtime: Callable[..., Any], overrides: dict[str, Any], code: str
) -> None:
    async with open_runtime() as runtime:
        account = await create_verified_account(runtime)
        with pytest.raises(InvalidInput) as raised:
            await submit_generation(
                runtime, account_id=account.id, request=_request(**overrides), idempotency_key=None
            )
        assert raised.value.code == code
        assert (
            await runtime.db.prepare(
                "SELECT count(*) AS n FROM credit_ledger WHERE kind = 'debit'"
            ).first("n")
            == 0
        )


async def test_fifty_simultaneous_submissions_against_ten_credits_accept_exactly_ten(
    open_runtime: Callable[..., Any], clock: ManualClock
) -> None:
    async with open_runtime() as runtime:
        account = await _account_with_balance(runtime, clock, 10)
        outcomes = await asyncio.gather(
            *(
                submit_generation(
                    runtime,
                    account_id=account.id,
                    request=_request(seed=n),
                    idempotency_key=f"k{n}",
                )
                for n in range(50)
            ),
            return_exceptions=True,
        )
        accepted = [o for o in outcomes if not isinstance(o, BaseException)]
        refused = [o for o in outcomes if isinstance(o, PaymentRequired)]
        assert (len(accepted), len(refused)) == (10, 40)
        assert (await get_wallet(runtime.db, account.id)).balance == 0
        assert await _balance_matches_ledger(runtime, account.id)
        orphans = await runtime.db.prepare(
            "SELECT (SELECT count(*) FROM jobs WHERE id NOT IN (SELECT job_id FROM credit_ledger WHERE kind = 'debit'))"
            " + (SELECT count(*) FROM credit_ledger WHERE kind = 'debit' AND job_id NOT IN (SELECT id FROM jobs)) AS n"
        ).first("n")
        assert orphans == 0


class FailingProvider:
    name = "failing"

    def __init__(self, error: Exception) -> None:
        self.error = error

    async def generate(
        self, request: MusicRequest, *, correlation_id: str, sink: AudioSink
    ) -> ProviderResult:
        raise self.error


class SlowProvider:
    name = "slow"

    async def generate(
        self, request: MusicRequest, *, correlation_id: str, sink: AudioSink
    ) -> ProviderResult:
        await asyncio.sleep(5)
        raise AssertionError("the deadline should have stopped this")


class TamperingProvider:
    """Wraps the composer and spoils one thing about its result, or its file for `junk`."""

    name = "tampering"

    def __init__(
        self,
        spoil: Callable[[ProviderResult], ProviderResult] = lambda result: result,
        *,
        junk: bytes | None = None,
    ) -> None:
        self.spoil = spoil
        self.junk = junk

    async def generate(
        self, request: MusicRequest, *, correlation_id: str, sink: AudioSink
    ) -> ProviderResult:
        target = sink if self.junk is None else MemorySink()
        result = await Composer().generate(request, correlation_id=correlation_id, sink=target)
        if self.junk is not None:
            await sink.write(self.junk)
        return self.spoil(result)


FAULTS: dict[str, Callable[[], Any]] = {
    "provider_unavailable": lambda: FailingProvider(
        ProviderError(
            "503 from the model", provider="x", retryable=True, code="provider_unavailable"
        )
    ),
    "provider_timeout": SlowProvider,
    "malformed_audio": lambda: TamperingProvider(junk=b"not a wav file at all"),
    "correlation_mismatch": lambda: TamperingProvider(
        lambda r: dataclasses.replace(r, correlation_id="someone-elses-job")
    ),
}


@pytest.mark.parametrize("fault", sorted(FAULTS))
async def test_fault_ends_the_job_failed_with_exactly_one_refund(
    open_runtime: Callable[..., Any], settings: Settings, fault: str
) -> None:
    quick = dataclasses.replace(settings, job_deadline_seconds=1)
    async with open_runtime(user_queue=queue_with(FAULTS[fault]), settings=quick) as runtime:
        account, queued = await _submitted(runtime)
        await drain(runtime)
        await drain(runtime)  # a second pass must not refund again
        job = await get_generation(runtime, account_id=account.id, job_id=queued.id)
        assert (job.status, job.error_code) == ("failed", fault)
        refunds = [row for row in await _ledger(runtime, account.id) if row["kind"] == "refund"]
        assert refunds == [{"kind": "refund", "amount": 1, "job_id": job.id}]
        assert (await get_wallet(runtime.db, account.id)).balance == FREE_PLAN.monthly_credits
        assert await runtime.db.prepare("SELECT count(*) AS n FROM tracks").first("n") == 0
        assert (await runtime.blobs.list()).objects == []


async def test_blob_store_write_failure_fails_the_job_with_one_refund(
    open_runtime: Callable[..., Any],
) -> None:
    async with open_runtime() as runtime:

        async def refuse_put(*args: Any, **kwargs: Any) -> Any:
            raise StorageError("R2 put failed: InternalError", code="blob_store_error")

        runtime.blobs.put = refuse_put  # type: ignore[method-assign]
        account, queued = await _submitted(runtime)
        await drain(runtime)
        job = await get_generation(runtime, account_id=account.id, job_id=queued.id)
        assert (job.status, job.error_code) == ("failed", "blob_store_error")
        assert len([r for r in await _ledger(runtime, account.id) if r["kind"] == "refund"]) == 1


async def test_cancel_before_start_refunds_in_full(open_runtime: Callable[..., Any]) -> None:
    async with open_runtime() as runtime:
        account, queued = await _submitted(runtime)
        job = await cancel_generation(runtime, account_id=account.id, job_id=queued.id)
        await drain(runtime)
        assert job.status == "canceled"
        assert (await get_wallet(runtime.db, account.id)).balance == FREE_PLAN.monthly_credits
        events = await queue_events(runtime, account_id=account.id, after=0)
        assert events[-1]["type"] == "canceled" and events[-1]["refunded"] == 1


async def test_cancel_after_start_is_refused(open_runtime: Callable[..., Any]) -> None:
    async with open_runtime() as runtime:
        account, queued = await _submitted(runtime)
        await runtime.user_queues.run_due_alarms()  # the first alarm starts the job
        with pytest.raises(Conflict) as raised:
            await cancel_generation(runtime, account_id=account.id, job_id=queued.id)
        assert raised.value.code == "already_started"


async def test_free_plan_runs_one_job_at_a_time_in_order(open_runtime: Callable[..., Any]) -> None:
    async with open_runtime() as runtime:
        account = await create_verified_account(runtime)
        first = await submit_generation(
            runtime, account_id=account.id, request=_request(seed=1), idempotency_key=None
        )
        second = await submit_generation(
            runtime, account_id=account.id, request=_request(seed=2), idempotency_key=None
        )
        await runtime.user_queues.run_due_alarms()
        statuses = [
            (await get_generation(runtime, account_id=account.id, job_id=j.job.id)).status
            for j in (first, second)
        ]
        assert statuses == ["running", "queued"]
        await drain(runtime)
        events = await queue_events(runtime, account_id=account.id, after=0)
        second_position = [
            e["position"] for e in events if e["job_id"] == second.job.id and e["type"] == "queued"
        ]
        assert second_position[:1] == [2] and second_position[-1] == 1


async def test_restart_mid_job_resumes_it(open_runtime: Callable[..., Any]) -> None:
    async with open_runtime() as runtime:
        account, queued = await _submitted(runtime)
        await runtime.user_queues.run_due_alarms()  # started, then the server stops before it runs
    async with open_runtime() as restarted:
        await drain(restarted)
        job = await get_generation(restarted, account_id=account.id, job_id=queued.id)
        assert job.status == "succeeded"


async def test_restart_during_a_render_resumes_it_on_the_next_alarm(
    open_runtime: Callable[..., Any], clock: ManualClock
) -> None:
    async with open_runtime(user_queue=CrashingQueue) as runtime:
        account, queued = await _submitted(runtime)
        with pytest.raises(ProcessKilled):
            await drain(runtime)
    async with open_runtime() as restarted:
        await drain(restarted, clock=clock, step=10)
        job = await get_generation(restarted, account_id=account.id, job_id=queued.id)
        assert job.status == "succeeded"


class ProcessKilled(BaseException):
    """Stands for the process dying: nothing in the application may catch it."""


class CrashingQueue(queue_with(Composer)):  # type: ignore[misc]
    """Dies during every render."""

    async def _run(self, row: Any) -> None:
        raise ProcessKilled


async def test_job_interrupted_too_often_is_failed_and_refunded(
    open_runtime: Callable[..., Any], clock: ManualClock
) -> None:
    async with open_runtime(user_queue=CrashingQueue) as runtime:
        account, queued = await _submitted(runtime)
    for _ in range(3):
        async with open_runtime(user_queue=CrashingQueue) as restarted:
            with pytest.raises(ProcessKilled):
                await drain(restarted, clock=clock, step=10)
    async with open_runtime() as final:
        await drain(final, clock=clock, step=10)
        job = await get_generation(final, account_id=account.id, job_id=queued.id)
        assert (job.status, job.error_code) == ("failed", "interrupted")
        assert (await get_wallet(final.db, account.id)).balance == FREE_PLAN.monthly_credits


async def test_job_waiting_past_its_deadline_is_refunded(
    open_runtime: Callable[..., Any], settings: Settings, clock: ManualClock
) -> None:
    full = dataclasses.replace(settings, render_capacity=1, job_deadline_seconds=60)
    async with open_runtime(settings=full) as runtime:
        holder = await create_verified_account(runtime, email="holder@example.com")
        waiter = await create_verified_account(runtime, email="waiter@example.com")
        await (
            runtime.db.prepare("INSERT INTO render_slots VALUES ('other-job', ?, ?)")
            .bind(holder.id, int(clock.now()) + 3600)
            .run()
        )
        submission = await submit_generation(
            runtime, account_id=waiter.id, request=_request(), idempotency_key=None
        )
        await drain(runtime, clock=clock, step=10)
        job = await get_generation(runtime, account_id=waiter.id, job_id=submission.job.id)
        assert (job.status, job.error_code) == ("failed", "deadline_exceeded")
        types = [e["type"] for e in await queue_events(runtime, account_id=waiter.id, after=0)]
        assert types[:2] == ["queued", "waiting"] and types[-1] == "failed"
