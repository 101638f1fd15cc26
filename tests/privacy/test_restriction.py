"""Restriction at the service level: recorded with its reason, logged, mailed, and in force at
once: waiting jobs are cancelled and refunded, nothing new is made, lifting restores it all."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Awaitable, Callable

import pytest

from beatbun.accounts.security_log import list_events
from beatbun.accounts.store import get_account
from beatbun.billing.credits import charge, get_wallet, open_wallet
from beatbun.errors import Conflict, InvalidInput, ProcessingRestricted, TooManyRequests
from beatbun.generation.derived import extend_track, vary_track
from beatbun.generation.models import GenerationRequest, Job
from beatbun.generation.registry import provider_name
from beatbun.generation.service import submit_as, submit_generation
from beatbun.generation.store import get_job, insert_job_statement
from beatbun.mail.drain import send_queued_mail
from beatbun.privacy.requests import list_requests
from beatbun.privacy.restriction import (
    MAX_REASON_CHARS,
    MAX_RESTRICTIONS,
    lift_restriction,
    restrict,
)
from beatbun.tracks.exports import buy_export
from beatbun_local.runtime import LocalRuntime
from tests.factories import CLIENT, create_verified_account
from tests.fakes import ManualClock
from tests.generation.conftest import drain
from tests.privacy.members import count
from tests.tracks.conftest import make_tracks

REASON = "I dispute that my data is accurate."
SHORT = {"prompt": "sunny pop", "duration_seconds": 5, "seed": 1}


async def test_restricting_records_the_request_with_its_reason_and_sets_restricted_at(
    runtime: LocalRuntime, clock: ManualClock
) -> None:
    account = await create_verified_account(runtime)
    request = await restrict(runtime, account, reason=f"  {REASON}  ", client=CLIENT, language="en")
    assert (request.kind, request.status, request.reason) == ("restriction", "active", REASON)
    assert await list_requests(runtime.db, account.id) == [request]
    restricted = await get_account(runtime.db, account.id)
    assert restricted.is_restricted and restricted.restricted_at == int(clock.now())


async def test_restricting_logs_the_change_and_mails_a_confirmation(
    runtime: LocalRuntime,
) -> None:
    account = await create_verified_account(runtime)
    await restrict(runtime, account, reason=REASON, client=CLIENT, language="fr")
    assert "restriction_on" in [e.kind for e in await list_events(runtime.db, account.id)]
    await send_queued_mail(runtime)
    (mail,) = [m for m in runtime.mailer.messages() if "limité" in m.subject]
    assert mail.to == account.email and "/account/privacy" in mail.text


@pytest.mark.parametrize(
    ("reason", "code"),
    [
        ("", "reason_required"),
        (" \n\t ", "reason_required"),  # only blanks is no reason
        ("x" * (MAX_REASON_CHARS + 1), "reason_too_long"),
    ],
)
async def test_restricting_without_a_fitting_reason_is_refused(
    runtime: LocalRuntime, reason: str, code: str
) -> None:
    account = await create_verified_account(runtime)
    with pytest.raises(InvalidInput) as refused:
        await restrict(runtime, account, reason=reason, client=CLIENT, language="en")
    assert (refused.value.code, refused.value.field) == (code, "reason")
    assert await list_requests(runtime.db, account.id) == []
    assert not (await get_account(runtime.db, account.id)).is_restricted


async def test_a_reason_of_the_longest_length_is_kept_whole(runtime: LocalRuntime) -> None:
    account = await create_verified_account(runtime)
    reason = "y" * MAX_REASON_CHARS
    request = await restrict(runtime, account, reason=reason, client=CLIENT, language="en")
    assert (await list_requests(runtime.db, account.id))[0].reason == reason == request.reason


async def test_restricting_twice_is_a_conflict_and_writes_nothing(runtime: LocalRuntime) -> None:
    account = await create_verified_account(runtime)
    await restrict(runtime, account, reason=REASON, client=CLIENT, language="en")
    events = len(await list_events(runtime.db, account.id))
    with pytest.raises(Conflict) as refused:
        await restrict(runtime, account, reason=REASON, client=CLIENT, language="en")
    assert refused.value.code == "already_restricted"
    assert len(await list_requests(runtime.db, account.id)) == 1
    assert len(await list_events(runtime.db, account.id)) == events


async def test_too_many_restrictions_a_day_are_refused(
    runtime: LocalRuntime, clock: ManualClock
) -> None:
    account = await create_verified_account(runtime)
    for _ in range(MAX_RESTRICTIONS):
        await restrict(runtime, account, reason=REASON, client=CLIENT, language="en")
        await lift_restriction(runtime, account, client=CLIENT, language="en")
        clock.advance(1)
    with pytest.raises(TooManyRequests) as refused:
        await restrict(runtime, account, reason=REASON, client=CLIENT, language="en")
    assert (refused.value.status, refused.value.code) == (429, "too_many_restrictions")
    assert not (await get_account(runtime.db, account.id)).is_restricted
    clock.advance(86400)
    await restrict(runtime, account, reason=REASON, client=CLIENT, language="en")


async def test_lifting_marks_the_request_lifted_logs_mails_and_allows_generating(
    runtime: LocalRuntime, clock: ManualClock
) -> None:
    account = await create_verified_account(runtime)
    await restrict(runtime, account, reason=REASON, client=CLIENT, language="en")
    clock.advance(60)
    await lift_restriction(runtime, account, client=CLIENT, language="en")
    (request,) = await list_requests(runtime.db, account.id)
    assert (request.status, request.finished_at) == ("lifted", int(clock.now()))
    lifted = await get_account(runtime.db, account.id)
    assert not lifted.is_restricted
    kinds = [e.kind for e in await list_events(runtime.db, account.id)]
    assert kinds.count("restriction_on") == kinds.count("restriction_off") == 1
    await send_queued_mail(runtime)
    assert [m for m in runtime.mailer.messages() if "was lifted" in m.subject]
    submission = await submit_as(
        runtime, account=lifted, request=GenerationRequest.parse(SHORT), idempotency_key=None
    )
    assert submission.created


async def test_lifting_without_a_restriction_is_a_conflict(runtime: LocalRuntime) -> None:
    account = await create_verified_account(runtime)
    events = await list_events(runtime.db, account.id)
    with pytest.raises(Conflict) as refused:
        await lift_restriction(runtime, account, client=CLIENT, language="en")
    assert refused.value.code == "not_restricted"
    assert await list_events(runtime.db, account.id) == events


async def test_restricting_cancels_waiting_jobs_with_a_refund(runtime: LocalRuntime) -> None:
    account = await create_verified_account(runtime)
    start = (await open_wallet(runtime.db, account.id, now=runtime.clock.now())).balance
    waiting = [
        await submit_generation(
            runtime,
            account_id=account.id,
            request=GenerationRequest.parse({**SHORT, "seed": seed}),
            idempotency_key=None,
        )
        for seed in (1, 2)
    ]
    assert (await get_wallet(runtime.db, account.id)).balance < start
    await restrict(runtime, account, reason=REASON, client=CLIENT, language="en")
    for submission in waiting:
        job = await get_job(runtime.db, account_id=account.id, job_id=submission.job.id)
        assert job.status == "canceled"
    assert (await get_wallet(runtime.db, account.id)).balance == start
    refunds = (
        "SELECT COUNT(*) AS n FROM credit_ledger WHERE account_id = ? AND amount > 0 AND job_id = ?"
    )
    for submission in waiting:
        assert await count(runtime, refunds, account.id, submission.job.id) == 1
    await drain(runtime)
    assert (
        await count(runtime, "SELECT COUNT(*) AS n FROM tracks WHERE account_id = ?", account.id)
        == 0
    )


async def test_a_job_charged_but_not_yet_queued_is_cancelled_and_the_queue_skips_it(
    runtime: LocalRuntime,
) -> None:
    account = await create_verified_account(runtime)
    wallet = await open_wallet(runtime.db, account.id, now=runtime.clock.now())
    job = await _charged_job(runtime, account.id)
    await restrict(runtime, account, reason=REASON, client=CLIENT, language="en")
    assert (await get_job(runtime.db, account_id=account.id, job_id=job.id)).status == "canceled"
    assert (await get_wallet(runtime.db, account.id)).balance == wallet.balance
    # The submission under way hands the job to the queue after all: it is not made.
    queue = runtime.user_queues.get(runtime.user_queues.id_from_name(account.id))
    await queue.call("enqueue", dataclasses.asdict(job), wallet.plan)
    await drain(runtime)
    assert (await get_job(runtime.db, account_id=account.id, job_id=job.id)).status == "canceled"
    assert (await get_wallet(runtime.db, account.id)).balance == wallet.balance


async def test_a_restricted_account_makes_nothing_new_and_pays_nothing(
    runtime: LocalRuntime,
) -> None:
    account = await create_verified_account(runtime)
    (track,) = await make_tracks(runtime, account_id=account.id, count=1)
    await restrict(runtime, account, reason=REASON, client=CLIENT, language="en")
    restricted = await get_account(runtime.db, account.id)
    balance = (await get_wallet(runtime.db, account.id)).balance
    attempts: list[Callable[[], Awaitable[object]]] = [
        lambda: submit_as(
            runtime,
            account=restricted,
            request=GenerationRequest.parse(SHORT),
            idempotency_key=None,
        ),
        lambda: extend_track(
            runtime, account=restricted, track_id=track.id, seconds=15, idempotency_key=None
        ),
        lambda: vary_track(runtime, account=restricted, track_id=track.id, idempotency_key=None),
        lambda: buy_export(runtime, account=restricted, track_id=track.id, kind="midi"),
    ]
    for attempt in attempts:
        with pytest.raises(ProcessingRestricted) as refused:
            await attempt()
        assert refused.value.code == "account_restricted"
        assert "Privacy & data page" in refused.value.message
    assert (await get_wallet(runtime.db, account.id)).balance == balance
    jobs = await count(runtime, "SELECT COUNT(*) AS n FROM jobs WHERE account_id = ?", account.id)
    assert jobs == 1  # the track's own


async def _charged_job(runtime: LocalRuntime, account_id: str) -> Job:
    """A job paid for and recorded, as a submission leaves it just before queueing it."""
    request = GenerationRequest.parse(SHORT)
    now = runtime.clock.now()
    job = Job(
        id=uuid.uuid4().hex,
        account_id=account_id,
        status="queued",
        request=request.model_dump(),
        cost=1,
        provider=provider_name(runtime.settings),
        correlation_id=uuid.uuid4().hex,
        created_at=int(now),
        deadline_at=int(now) + 600,
    )
    key = uuid.uuid4().hex
    assert await charge(
        runtime.db,
        account_id=account_id,
        amount=job.cost,
        job_id=job.id,
        idempotency_key=key,
        along_with=insert_job_statement(
            runtime.db, job, request_hash=request.fingerprint(), idempotency_key=key
        ),
        now=now,
    )
    return job
