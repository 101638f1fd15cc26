"""The mail provider's send rate, shared by every sender through one D1 row (`mail_rate`).

Requests flushing after their answer, the user's Durable Object and the cron all send through
the same provider account, whose limit counts them together (`MAIL_RATE_PER_SECOND`, 2 by
default: safely under Resend's documented 5 requests per second per team). The row holds
`next_free_at`, the earliest time the next send may go (virtual scheduling, as in GCRA). A
sender reserves `n` sends in one round trip: a batch (a transaction in D1) that reads the row and
moves it to `max(next_free_at, now) + n / rate` plus a small gap; its i-th send then goes no
earlier than `start + i / rate`, and not at all when it is more than the gap late (that slot is
skipped). Reservations never overlap and the gap covers a late last send, so consecutive sends
of all senders together are at least `1 / rate` apart; a sender that dies mid-reservation only
leaves its slots unused.

After the provider answers 429 every sender is held off (`hold_off`): until its Retry-After, for
longer after each 429 in a row (`strikes`), and until the next UTC day or for 6 hours when a
daily or monthly quota is used up.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

from beatbun.runtime.base import Database, MailRateLimited, Statement

logger = logging.getLogger(__name__)

DAY = 86400.0
# A used-up monthly quota: tried again after this long (an operator raises the plan meanwhile).
MONTHLY_QUOTA_HOLD_SECONDS = 6 * 3600.0
# Plain 429s in a row wait 1 s, 2 s, 4 s, ... (or the Retry-After, if longer), at most 5 min.
STRIKE_BASE_SECONDS = 1.0
STRIKE_MAX_SECONDS = 300.0
# A send may be this part of the interval (at least `LATE_MIN_SECONDS`) late for its slot; each
# reservation ends with a gap as long, so a late last send still comes a whole interval before
# the next reservation's first. A sender also keeps its own sends an interval apart.
LATE_FRACTION = 0.25
LATE_MIN_SECONDS = 0.01


@dataclass(frozen=True)
class Reservation:
    """`count` sends, the i-th no earlier than `start + i * interval`; when none were granted,
    the shared rate is taken until `next_free_at`."""

    start: float
    interval: float
    count: int
    next_free_at: float

    @property
    def lateness(self) -> float:
        """How late a send may be for its slot: the gap left after each reservation."""
        return lateness_of(self.interval)

    def send_at(self, index: int) -> float:
        return self.start + index * self.interval


def lateness_of(interval: float) -> float:
    return max(interval * LATE_FRACTION, LATE_MIN_SECONDS)


def interval_of(per_second: float) -> float:
    if per_second <= 0:
        raise ValueError(f"A send rate must be above 0, not {per_second!r}.")
    return 1.0 / per_second


async def reserve(
    db: Database, *, per_second: float, wanted: int, now: float, until: float
) -> Reservation:
    """Reserve up to `wanted` sends, all starting before `until`; fewer (or none) when other
    senders hold the rate that long."""
    interval = interval_of(per_second)
    # Sends whose time is before `until`: floor((until - start) / interval) + 1, at most wanted.
    start_sql = "MAX(next_free_at, ?1)"
    granted_sql = f"MIN(?2, CAST((?3 - {start_sql}) / ?4 AS INTEGER) + 1)"
    before, _ = await db.batch(
        [
            db.prepare("SELECT next_free_at FROM mail_rate WHERE id = 1"),
            db.prepare(
                f"UPDATE mail_rate SET next_free_at = {start_sql} + {granted_sql} * ?4 + ?5"  # noqa: S608 (constant SQL)
                f" WHERE id = 1 AND {start_sql} <= ?3 AND ?2 > 0"
            ).bind(now, wanted, until, interval, lateness_of(interval)),
        ]
    )
    held_until = float(before.results[0]["next_free_at"] or 0)
    start = max(held_until, now)
    if start > until or wanted <= 0:
        return Reservation(start=start, interval=interval, count=0, next_free_at=held_until)
    count = min(wanted, math.floor((until - start) / interval) + 1)
    return Reservation(
        start=start,
        interval=interval,
        count=count,
        next_free_at=start + count * interval + lateness_of(interval),
    )


async def hold_off(db: Database, *, until: float) -> None:
    """Let no sender send before `until` (a used-up quota)."""
    await (
        db.prepare("UPDATE mail_rate SET next_free_at = MAX(next_free_at, ?) WHERE id = 1")
        .bind(until)
        .run()
    )


async def strike(db: Database, *, now: float, retry_after: float) -> None:
    """A plain 429: hold every sender off for its Retry-After, or 1 s, 2 s, 4 s, ... after each
    429 in a row if longer."""
    await (
        db.prepare(
            "UPDATE mail_rate SET strikes = strikes + 1, next_free_at = MAX(next_free_at,"
            " ?1 + MAX(?2, MIN(?3, ?4 * (1 << MIN(strikes, 20))))) WHERE id = 1"
        )
        .bind(now, retry_after, STRIKE_MAX_SECONDS, STRIKE_BASE_SECONDS)
        .run()
    )


def clear_strikes_statement(db: Database) -> Statement:
    """For the batch of a round that sent: the provider took a message, the 429s are over."""
    return db.prepare("UPDATE mail_rate SET strikes = 0 WHERE id = 1 AND strikes > 0")


def next_utc_day(now: float) -> float:
    return (math.floor(now / DAY) + 1) * DAY


async def after_refusal(db: Database, refused: MailRateLimited, *, now: float) -> None:
    """Hold every sender off after a 429: to the next UTC day or for hours for a used-up quota."""
    if refused.quota:
        until = next_utc_day(now) if refused.quota == "daily" else now + MONTHLY_QUOTA_HOLD_SECONDS
        logger.error(
            "The mail provider's %s sending quota is used up; no mail goes out for %.0f s: %s",
            refused.quota,
            until - now,
            refused,
        )
        await hold_off(db, until=until)
    else:
        await strike(db, now=now, retry_after=refused.retry_after)
