"""SQL for the analytics tables and the operator flag that guards their page."""

from __future__ import annotations

import secrets

from beatbun.analytics.models import KINDS, Count, DailyVisitors, Event
from beatbun.runtime.base import Database, Statement


def visitor_count_statement(db: Database, *, day: str, pseudonym: str) -> Statement:
    return db.prepare(
        "INSERT OR IGNORE INTO analytics_visitors (day, pseudonym) VALUES (?, ?)"
    ).bind(day, pseudonym)


def count_statement(db: Database, *, day: str, event: Event) -> Statement:
    return db.prepare(
        "INSERT INTO analytics_counts (day, kind, label, events, total) VALUES (?, ?, ?, 1, ?)"
        " ON CONFLICT (day, kind, label) DO UPDATE SET events = events + 1,"
        " total = total + excluded.total"
    ).bind(day, event.kind, event.label, event.value)


async def salt_for(db: Database, day: str) -> str:
    """Today's salt, created on first use; earlier days' salts are deleted as it is."""
    candidate = secrets.token_hex(32)
    results = await db.batch(
        [
            db.prepare("INSERT OR IGNORE INTO analytics_salts (day, salt) VALUES (?, ?)").bind(
                day, candidate
            ),
            db.prepare("DELETE FROM analytics_salts WHERE day < ?").bind(day),
            # Read back in the same batch: a concurrent first event may have won the insert.
            db.prepare("SELECT salt FROM analytics_salts WHERE day = ?").bind(day),
        ]
    )
    return str(results[-1].results[0]["salt"])


async def list_counts(db: Database, *, since: str) -> list[Count]:
    rows = (
        await db.prepare(
            "SELECT day, kind, label, events, total FROM analytics_counts WHERE day >= ?"
            " ORDER BY day, kind, label"
        )
        .bind(since)
        .all()
    ).results
    return [
        Count(
            day=str(row["day"]),
            kind=KINDS[KINDS.index(row["kind"])],
            label=str(row["label"]),
            events=int(row["events"] or 0),
            total=float(row["total"] or 0),
        )
        for row in rows
        if row["kind"] in KINDS
    ]


async def list_daily_visitors(db: Database, *, since: str) -> list[DailyVisitors]:
    rows = (
        await db.prepare(
            "SELECT day, COUNT(*) AS visitors FROM analytics_visitors WHERE day >= ?"
            " GROUP BY day ORDER BY day"
        )
        .bind(since)
        .all()
    ).results
    return [DailyVisitors(day=str(row["day"]), visitors=int(row["visitors"] or 0)) for row in rows]


async def is_operator(db: Database, account_id: str) -> bool:
    flag = (
        await db.prepare("SELECT is_admin FROM accounts WHERE id = ?")
        .bind(account_id)
        .first("is_admin")
    )
    return bool(flag == 1)
