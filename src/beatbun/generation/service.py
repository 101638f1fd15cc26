"""Submitting, following, cancelling and listing generations: what the studio and the API call."""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass
from typing import Any

from beatbun.accounts.models import Account
from beatbun.accounts.service import WAITING_FOR_PARENT, require_spending_allowed
from beatbun.accounts.store import get_account
from beatbun.billing.credits import charge, open_wallet
from beatbun.billing.notify import credits_low_statements
from beatbun.billing.pricing import price_in_credits
from beatbun.errors import (
    AccountInactive,
    AccountLocked,
    AppError,
    Conflict,
    ConstraintViolation,
    InvalidInput,
    NotFound,
    ProcessingRestricted,
    RuntimeFailure,
)
from beatbun.generation.lifecycle import end_job
from beatbun.generation.models import GenerationRequest, Job
from beatbun.generation.moderation import moderate
from beatbun.generation.registry import provider_capabilities, provider_name
from beatbun.generation.store import (
    ACCOUNT_REFUSED,
    find_job_by_key,
    get_job,
    insert_job_statement,
    list_jobs,
)
from beatbun.generation.understanding import understand
from beatbun.i18n import N_
from beatbun.privacy.purposes import RESTRICTED, require_may_generate
from beatbun.runtime.base import ActorStub, Runtime

MAX_IDEMPOTENCY_KEY_CHARS = 200
LOCKED = N_(
    "This account is scheduled for deletion, so nothing new can be made from it. Cancel the"
    " deletion on your Privacy & data page to make tracks again."
)


@dataclass(frozen=True)
class Submission:
    job: Job
    # False when the idempotency key matched an earlier submission: nothing was charged again.
    created: bool


def quote(runtime: Runtime, request: GenerationRequest) -> int:
    """The price in credits, after every check that could refuse the request.

    An extension is charged for the seconds it adds (`billed_seconds`), by the same rule.
    """
    moderate(prompt=request.prompt, lyrics=request.lyrics)
    capabilities = provider_capabilities(runtime.settings)
    if request.has_lyrics and not capabilities.supports_lyrics:
        raise InvalidInput(
            N_(
                "The built-in composer makes instrumentals only. Remove the lyrics, or ask the "
                "operator to connect a vocal model."
            ),
            code="lyrics_unsupported",
            field="lyrics",
        )
    if request.duration_seconds > capabilities.max_duration_seconds:
        raise InvalidInput(
            N_("This music model makes tracks of at most %(limit)s s."),
            code="duration_unsupported",
            field="duration_seconds",
            params={"limit": f"{capabilities.max_duration_seconds:g}"},
        )
    return price_in_credits(duration_seconds=request.billed_seconds, has_lyrics=request.has_lyrics)


async def submit_as(
    runtime: Runtime, *, account: Account, request: GenerationRequest, idempotency_key: str | None
) -> Submission:
    """The account's rules, then `submit_generation`: what the studio, the library and the API call.

    Raises ProcessingRestricted (`account_restricted`) while the account restricted processing,
    then PermissionDenied (`email_unverified`) when it may not spend credits, before anything
    is charged; then whatever `submit_generation` raises.
    """
    require_may_generate(account)
    require_spending_allowed(account)
    return await submit_generation(
        runtime, account_id=account.id, request=request, idempotency_key=idempotency_key
    )


async def submit_generation(
    runtime: Runtime, *, account_id: str, request: GenerationRequest, idempotency_key: str | None
) -> Submission:
    """Charge for the request and queue it; the same idempotency key returns the same job.

    Raises InvalidInput (bad or refused request: nothing charged), InsufficientCredits (balance
    too low), Conflict (key reused for a different request) or RuntimeFailure (the queue was
    unreachable: the job is failed and refunded at once). An account restricted, locked for its
    erasure or not active by the time the charge runs is refused in the same batch, nothing
    charged: ProcessingRestricted, AccountLocked or AccountInactive, as `submit_as` would say.
    """
    cost = quote(runtime, request)
    key = _check_key(idempotency_key) if idempotency_key else uuid.uuid4().hex
    fingerprint = request.fingerprint()
    replay = await _replay(runtime, account_id=account_id, key=key, fingerprint=fingerprint)
    if replay is not None:
        return replay
    # Where Workers AI is bound, it fills the fields the prompt implies; the job keeps them,
    # so the render, a retry and the track's settings all read the same request. An extension
    # or a variation keeps its source's settings as they are: a new reading could change the
    # plan it continues or varies.
    if request.source_track_id is None:
        request = await understand(runtime, request)
    now = runtime.clock.now()
    wallet = await open_wallet(runtime.db, account_id, now=now)
    job = Job(
        id=uuid.uuid4().hex,
        account_id=account_id,
        status="queued",
        request=request.model_dump(),
        cost=cost,
        provider=provider_name(runtime.settings),
        correlation_id=uuid.uuid4().hex,
        created_at=int(now),
        deadline_at=int(now) + runtime.settings.job_deadline_seconds,
    )
    db = runtime.db
    try:
        charged = await charge(
            db,
            account_id=account_id,
            amount=cost,
            job_id=job.id,
            idempotency_key=key,
            along_with=insert_job_statement(db, job, request_hash=fingerprint, idempotency_key=key),
            now=now,
            then=await credits_low_statements(
                runtime, account_id=account_id, balance=wallet.balance, cost=cost, event=job.id
            ),
        )
    except ConstraintViolation as exc:
        if exc.kind == "NOT NULL" and exc.target == ACCOUNT_REFUSED:
            raise await _refusal(runtime, account_id) from None
        raise
    if not charged:  # a concurrent request with the same key won
        replay = await _replay(runtime, account_id=account_id, key=key, fingerprint=fingerprint)
        if replay is None:
            raise RuntimeError(f"Idempotency key {key!r} was charged but its job is missing.")
        return replay
    try:
        await _queue_of(runtime, account_id).call("enqueue", dataclasses.asdict(job), wallet.plan)
    except AppError as exc:
        await end_job(
            db, job, status="failed", code="queue_unavailable", message=exc.message, now=now
        )
        raise RuntimeFailure(
            "We could not queue your track and refunded its credits. Please try again.",
            code="queue_unavailable",
        ) from exc
    return Submission(job=job, created=True)


async def get_generation(runtime: Runtime, *, account_id: str, job_id: str) -> Job:
    return await get_job(runtime.db, account_id=account_id, job_id=job_id)


async def list_generations(
    runtime: Runtime, *, account_id: str, limit: int = 20, before: int | None = None
) -> list[Job]:
    return await list_jobs(runtime.db, account_id=account_id, limit=limit, before=before)


async def cancel_generation(runtime: Runtime, *, account_id: str, job_id: str) -> Job:
    """Cancel a job that has not started (refunded in full); raises Conflict once it has.

    Ownership needs no check of its own: the account's queue holds only its jobs, and answers
    NotFound for any other, as `get_job` would.
    """
    await _queue_of(runtime, account_id).call("cancel", job_id)
    return await get_job(runtime.db, account_id=account_id, job_id=job_id)


async def cancel_waiting_generations(runtime: Runtime, *, account_id: str) -> None:
    """Cancel, with a full refund, every job of the account that has not started.

    A job that starts meanwhile runs to its end. A job charged but not yet handed to the queue
    (its submission is under way) is ended here; the queue then finds it ended and skips it.
    """
    waiting = (
        await runtime.db.prepare("SELECT id FROM jobs WHERE account_id = ? AND status = 'queued'")
        .bind(account_id)
        .all()
    ).results
    for row in waiting:
        job_id = str(row["id"])
        try:
            await _queue_of(runtime, account_id).call("cancel", job_id)
        except Conflict:
            continue
        except NotFound:
            job = await get_job(runtime.db, account_id=account_id, job_id=job_id)
            await end_job(
                runtime.db,
                job,
                status="canceled",
                code="canceled",
                message="Canceled before it started.",
                now=runtime.clock.now(),
            )


async def queue_events(runtime: Runtime, *, account_id: str, after: int) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = await _queue_of(runtime, account_id).call("events_since", after)
    return events


async def queue_snapshot(runtime: Runtime, *, account_id: str) -> dict[str, Any]:
    snapshot: dict[str, Any] = await _queue_of(runtime, account_id).call("snapshot")
    return snapshot


async def _refusal(runtime: Runtime, account_id: str) -> AppError:
    """Why the account may not make anything now, as the checks before the charge say it."""
    account = await get_account(runtime.db, account_id)
    if account.is_restricted:
        return ProcessingRestricted(RESTRICTED)
    if account.is_erasure_scheduled:
        return AccountLocked(LOCKED)
    return AccountInactive(WAITING_FOR_PARENT)


def _queue_of(runtime: Runtime, account_id: str) -> ActorStub:
    return runtime.user_queues.get(runtime.user_queues.id_from_name(account_id))


async def _replay(
    runtime: Runtime, *, account_id: str, key: str, fingerprint: str
) -> Submission | None:
    found = await find_job_by_key(runtime.db, account_id=account_id, idempotency_key=key)
    if found is None:
        return None
    job, earlier_fingerprint = found
    if earlier_fingerprint != fingerprint:
        raise Conflict(
            N_("This Idempotency-Key was already used for a different request."),
            code="idempotency_key_reused",
        )
    return Submission(job=job, created=False)


def _check_key(key: str) -> str:
    key = key.strip()
    if not key or len(key) > MAX_IDEMPOTENCY_KEY_CHARS or not key.isprintable():
        raise InvalidInput(
            N_("Idempotency-Key must be 1 to %(limit)s printable characters."),
            code="invalid_idempotency_key",
            params={"limit": MAX_IDEMPOTENCY_KEY_CHARS},
        )
    return key
