"""Recording analytics events under a daily pseudonym, and reading the aggregates back."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

from beatbun.accounts.models import Account
from beatbun.analytics.models import KINDS, Count, DailyVisitors, Event
from beatbun.analytics.store import (
    count_statement,
    list_counts,
    list_daily_visitors,
    salt_for,
    visitor_count_statement,
)
from beatbun.errors import InvalidInput
from beatbun.i18n import N_
from beatbun.privacy.purposes import may_measure
from beatbun.runtime.base import Database, Statement

MAX_LABEL_LENGTH = 64
# Pages whose path carries a secret (the parent's permanent link, a track's share link) are
# counted under the prefix alone, so no token is ever stored.
SECRET_PATH_PREFIXES = ("/parent/", "/s/")
REPORT_DAYS = 14


@dataclass(frozen=True)
class Report:
    days: list[str]
    counts: list[Count]
    visitors: list[DailyVisitors]


def parse_event(*, kind: str, label: str) -> Event:
    """Validate what the page sent; raises InvalidInput for a kind we do not count."""
    known = next((k for k in KINDS if k == kind), None)
    if known is None:
        raise InvalidInput(
            N_("Analytics event kind %(kind)s is not one we count."),
            field="kind",
            params={"kind": repr(kind)},
        )
    return Event(kind=known, label=_stored_label(label), value=1.0)


def _stored_label(label: str) -> str:
    cleaned = label.strip()
    secret = next((p for p in SECRET_PATH_PREFIXES if cleaned.startswith(p)), None)
    return secret or cleaned[:MAX_LABEL_LENGTH]


async def record_event(
    db: Database, *, visitor_id: str, account: Account | None, event: Event, now: float
) -> None:
    """Count `event` for today under a pseudonym no one can link to another day's.

    Nothing is recorded for a logged-in `account` that objects to analytics or restricted
    processing, whatever the browser's consent.
    """
    if not may_measure(account):
        return
    day = day_of(now)
    await db.batch(
        [
            await visitor_statement(db, day=day, visitor_id=visitor_id),
            count_statement(db, day=day, event=event),
        ]
    )


async def visitor_statement(db: Database, *, day: str, visitor_id: str) -> Statement:
    """The write that counts the visitor on `day` under that day's salted pseudonym."""
    salt = await salt_for(db, day)
    pseudonym = hashlib.sha256(f"{salt}:{visitor_id}".encode()).hexdigest()
    return visitor_count_statement(db, day=day, pseudonym=pseudonym)


async def build_report(db: Database, *, now: float) -> Report:
    days = [day_of(now - offset * 86400) for offset in reversed(range(REPORT_DAYS))]
    counts = await list_counts(db, since=days[0])
    visitors = await list_daily_visitors(db, since=days[0])
    return Report(days=days, counts=counts, visitors=visitors)


def day_of(timestamp: float) -> str:
    """The UTC day of `timestamp`, as the tables key it."""
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
