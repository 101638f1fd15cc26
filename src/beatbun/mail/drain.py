"""Sending the mail queue: claim due messages, send them at the shared rate, record the round.

A request never waits for the mail provider. The queue is flushed after the response by a
Starlette `BackgroundTask` (under uvicorn it runs once the response is sent; the Workers ASGI
bridge also answers first and keeps the app task alive with `waitUntil` until background tasks
finish, see shared/cloudflare-python-workers.md, "Responses and background tasks") and by the
user's Durable Object after its alarm's work: both send the service lane only
(`send_queued_mail`). The cron drains both lanes (`drain_mail`), within a budget of seconds and
of D1 calls (D1 allows 1,000 queries per Worker invocation).

A round costs three D1 calls however many emails it sends (plus one per link email, whose token
is stored right before sending): the claim (a guarded UPDATE … RETURNING of up to several
seconds' worth of messages), the reservation of as many sends from the shared rate
(`mail.ratelimit`), and the batch that records the round, written even when a send raised.
Each message is sent with its queue row's id as the provider's idempotency key; a crash between
sending and recording leaves the claim to expire after `mail_claim_seconds`, and the next sender
sends again with the same key, which the provider (Resend keeps keys 24 hours; the local outbox
for good) delivers once. Results are guarded by the sender's own claim, so a sender whose claim
expired records nothing, and topic counts move only with the change they count.

Bulk rows of an account go to the account's current address, read in the claim; marketing is
withheld there when its account no longer allows it.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from beatbun.mail.mailqueue import BULK, KEEP_SENT_SECONDS, MAX_ATTEMPTS, SERVICE
from beatbun.mail.ratelimit import Reservation, after_refusal, clear_strikes_statement, reserve
from beatbun.mail.sending import Round, claim_due, release_statement, send_one, withhold
from beatbun.mail.topics import count_rows_statement
from beatbun.runtime.base import Row, Runtime

BATCH_SIZE = 20
# Messages one round claims at most (its release binds one parameter each, under D1's 100).
CLAIM_BATCH = 50
# A round claims what the rate sends in this long (and in half the claim time, at most).
ROUND_SECONDS = 20.0
# The longest a flush after a response waits for the shared rate; the cron's drain budgets.
FLUSH_SECONDS = 5.0
CRON_DRAIN_SECONDS = 240.0
CRON_DRAIN_CALLS = 400
# D1 calls of a round besides its link tokens: claim, reservation, record.
ROUND_CALLS = 3


async def send_queued_mail(
    runtime: Runtime, *, account_id: str | None = None, limit: int = BATCH_SIZE
) -> int:
    """Send the service mail due now and return how many went out (at most `limit`).

    For the moments after a response and a Durable Object's alarm: it waits for the shared
    rate at most `FLUSH_SECONDS` and leaves the rest, and all bulk mail, to the cron. With
    `account_id`, only that account's service mail is sent.
    """
    budget = _Budget(seconds=FLUSH_SECONDS, calls=ROUND_CALLS + limit)
    return await _drain(runtime, account_id=account_id, lane=SERVICE, limit=limit, budget=budget)


async def drain_mail(
    runtime: Runtime,
    *,
    budget_seconds: float = CRON_DRAIN_SECONDS,
    budget_calls: int = CRON_DRAIN_CALLS,
) -> int:
    """Send everything due, both lanes, paced by the shared rate, within `budget_seconds` and
    `budget_calls` D1 calls (tidying included).

    Stops early when the queue is empty or the provider refuses for its rate or quota (429);
    then forgets what the queue no longer needs. Returns how many emails went out.
    """
    budget = _Budget(seconds=budget_seconds, calls=budget_calls - 1)
    sent = await _drain(runtime, account_id=None, lane=BULK, limit=None, budget=budget)
    await _tidy(runtime)
    return sent


@dataclass
class _Budget:
    seconds: float
    calls: int
    used: int = 0

    @property
    def calls_left(self) -> int:
        return self.calls - self.used


async def _drain(
    runtime: Runtime, *, account_id: str | None, lane: int, limit: int | None, budget: _Budget
) -> int:
    clock, settings = runtime.clock, runtime.settings
    deadline = clock.now() + budget.seconds
    window = min(ROUND_SECONDS, settings.mail_claim_seconds / 2)
    # Sends a second this sender reserves: the rate, or fewer when its sends take longer than
    # the rate's interval (slots it would be late for are not used).
    pace = settings.mail_rate_per_second
    sent = 0
    while limit is None or sent < limit:
        per_round = max(1, int(pace * window))
        # Every claimed message may cost one call more (its link token).
        wanted = min(per_round, CLAIM_BATCH, budget.calls_left - ROUND_CALLS)
        if limit is not None:
            wanted = min(wanted, limit - sent)
        now = clock.now()
        if wanted <= 0 or now >= deadline:
            break
        rows = await claim_due(runtime, wanted=wanted, account_id=account_id, lane=lane, now=now)
        budget.used += 1
        if not rows:
            break
        round_ = Round(claimed_at=now)
        reservation = await _send_round(
            runtime, rows, round_, budget, pace=pace, until=min(deadline, now + window)
        )
        sent += round_.sent
        if round_.sent and round_.sending_seconds > round_.sent / pace:
            pace = max(round_.sent / round_.sending_seconds, 1 / window)
        if round_.refused is not None:
            await after_refusal(runtime.db, round_.refused, now=clock.now())
            budget.used += 1
            break
        if len(rows) < wanted and not round_.unsent:
            break  # that was all that is due
        if reservation is not None and reservation.count == 0:
            # Other senders hold the rate past this round's window: wait, within the budget.
            if reservation.next_free_at > deadline:
                break
            await asyncio.sleep(max(reservation.next_free_at - clock.now(), 0))
    return sent


async def _send_round(
    runtime: Runtime,
    rows: list[Row],
    round_: Round,
    budget: _Budget,
    *,
    pace: float,
    until: float,
) -> Reservation | None:
    """Send the claimed rows at the reserved times; the round's batch is written in any case."""
    db, clock = runtime.db, runtime.clock
    allowed = [row for row in rows if row["allowed"]]
    reservation: Reservation | None = None
    try:
        for row in rows:
            if not row["allowed"]:
                withhold(runtime, row, round_)
        if allowed:
            reservation = await reserve(
                db,
                per_second=pace,
                wanted=len(allowed),
                now=clock.now(),
                until=until,
            )
            budget.used += 1
            slot, last = 0, float("-inf")
            for row in allowed:
                slot, at = await _next_slot(runtime, reservation, slot, last)
                if at is None or round_.refused is not None:
                    round_.unsent.append(str(row["id"]))
                    continue
                budget.used += await send_one(runtime, row, round_)
                round_.sending_seconds += clock.now() - at
                slot, last = slot + 1, at
    finally:
        if round_.unsent:
            round_.statements.append(release_statement(db, round_.unsent, round_.claimed_at))
        if round_.sent:
            round_.statements.append(clear_strikes_statement(db))
        if round_.statements:
            await db.batch(round_.statements)
            budget.used += 1
    return reservation


async def _next_slot(
    runtime: Runtime, reservation: Reservation, slot: int, last: float
) -> tuple[int, float | None]:
    """The next slot a send may use, at least an interval after the last send, and when; slots
    that went by (a slow send) are skipped. None when the reservation is spent."""
    clock = runtime.clock
    while slot < reservation.count:
        due = reservation.send_at(slot)
        earliest = max(due, last + reservation.interval)
        if earliest <= due + reservation.lateness:
            wait = earliest - clock.now()
            if wait > 0:
                await asyncio.sleep(wait)
            # The sleep is trusted on a clock that does not move while waiting (tests).
            at = max(clock.now(), earliest)
            if at <= due + reservation.lateness:
                return slot, at
        slot += 1
    return slot, None


async def _tidy(runtime: Runtime) -> None:
    """Fail what crashed senders left past its attempts; forget what the queue no longer needs.

    One batch: the abandoned rows are counted per topic, then failed. Sent rows, the rows of
    requests that mailed nothing, and messages given up on all go after `KEEP_SENT_SECONDS`: the
    queue keeps no address or text longer than it needs them.
    """
    db, now = runtime.db, runtime.clock.now()
    abandoned = (
        "sent_at IS NULL AND failed_at IS NULL AND attempts >= ?"
        " AND (claimed_at IS NULL OR claimed_at <= ?)"
    )
    params = (MAX_ATTEMPTS, now - runtime.settings.mail_claim_seconds)
    await db.batch(
        [
            count_rows_statement(db, "failed", where=abandoned, params=params),
            db.prepare(
                "UPDATE mail_queue SET failed_at = ?,"  # noqa: S608 (constant SQL)
                f" last_error = COALESCE(last_error, 'interrupted') WHERE {abandoned}"
            ).bind(now, *params),
            db.prepare(
                "DELETE FROM mail_queue WHERE created_at < ?"
                " AND (sent_at IS NOT NULL OR failed_at IS NOT NULL OR attempts >= ?)"
            ).bind(now - KEEP_SENT_SECONDS, MAX_ATTEMPTS),
        ]
    )
