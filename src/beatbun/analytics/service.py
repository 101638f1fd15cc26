"""Recording analytics events under a daily pseudonym, and reading the aggregates back."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

from beatbun.analytics.models import KINDS, Count, DailyVisitors, Event
from beatbun.analytics.store import count_statements, list_counts, list_daily_visitors, salt_for
from beatbun.errors import InvalidInput
from beatbun.i18n import N_
from beatbun.runtime.base import Database

MAX_LABEL_LENGTH = 64
# A prompt box left open over lunch says nothing about writing time.
MAX_PROMPT_SECONDS = 1800.0
REPORT_DAYS = 14


@dataclass(frozen=True)
class Report:
    days: list[str]
    counts: list[Count]
    visitors: list[DailyVisitors]


def parse_event(*, kind: str, label: str, value: float) -> Event:
    """Validate what the page sent; raises InvalidInput for an unknown kind or a wild value."""
    known = next((k for k in KINDS if k == kind), None)
    if known is None:
        raise InvalidInput(
            N_("Analytics event kind %(kind)s is not one we count."),
            field="kind",
            params={"kind": repr(kind)},
        )
    if known == "prompt_time":
        if not 0 < value <= MAX_PROMPT_SECONDS:
            raise InvalidInput(
                N_("Prompt time %(value)s is out of range."),
                field="value",
                params={"value": repr(value)},
            )
    else:
        value = 1.0
    return Event(kind=known, label=label.strip()[:MAX_LABEL_LENGTH], value=value)


async def record_event(db: Database, *, visitor_id: str, event: Event, now: float) -> None:
    """Count `event` for today under a pseudonym no one can link to another day's."""
    day = _day(now)
    salt = await salt_for(db, day)
    pseudonym = hashlib.sha256(f"{salt}:{visitor_id}".encode()).hexdigest()
    await db.batch(count_statements(db, day=day, pseudonym=pseudonym, event=event))


async def build_report(db: Database, *, now: float) -> Report:
    days = [_day(now - offset * 86400) for offset in reversed(range(REPORT_DAYS))]
    counts = await list_counts(db, since=days[0])
    visitors = await list_daily_visitors(db, since=days[0])
    return Report(days=days, counts=counts, visitors=visitors)


def _day(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
