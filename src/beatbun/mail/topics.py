"""What became of a bulk send's emails (`mail_topics`): queued, sent, failed, bounced, ...

A topic names one bulk send (`campaign:<id>`, `policy:<document>:<version>`). Its counts are kept
after the queue rows are gone; each count moves in the same batch as the change it counts.
"""

from __future__ import annotations

from dataclasses import dataclass

from beatbun.runtime.base import Database, SqlValue, Statement

CAMPAIGN_TOPIC_PREFIX = "campaign:"


@dataclass(frozen=True)
class TopicCounts:
    """What became of a bulk send's emails (`mail_topics`)."""

    queued: int = 0
    sent: int = 0
    failed: int = 0
    bounced: int = 0
    withheld: int = 0
    unsubscribed: int = 0
    complained: int = 0  # reported as spam


def recount_queued_statement(db: Database, topic: str) -> Statement:
    """Set the topic's `queued` to the number of its queue rows, for the batch that queued them.

    Run it while the rows are there: sent rows are deleted after `KEEP_SENT_SECONDS`.
    """
    return db.prepare(
        "INSERT INTO mail_topics (topic, queued)"
        " VALUES (?, (SELECT COUNT(*) FROM mail_queue WHERE topic = ?))"
        " ON CONFLICT (topic) DO UPDATE SET queued = excluded.queued"
    ).bind(topic, topic)


async def topic_counts(db: Database, topic: str) -> TopicCounts:
    """The topic's counts; all zero for a topic nothing was queued under."""
    row = await (
        db.prepare(
            "SELECT queued, sent, failed, bounced, withheld, unsubscribed, complained"
            " FROM mail_topics WHERE topic = ?"
        )
        .bind(topic)
        .first()
    )
    if row is None:
        return TopicCounts()
    return TopicCounts(**{name: int(value) for name, value in row.items()})


def _checked(column: str) -> str:
    if column not in TopicCounts.__dataclass_fields__:
        raise ValueError(f"{column!r} is not a topic counter; use a TopicCounts field name.")
    return column


def count_statement(db: Database, topic: str, column: str, by: int = 1) -> Statement:
    """Add `by` to one of the topic's counters (a `TopicCounts` field name), for a batch."""
    column = _checked(column)
    return db.prepare(
        f"INSERT INTO mail_topics (topic, {column}) VALUES (?, ?)"  # noqa: S608 (a field name checked above)
        f" ON CONFLICT (topic) DO UPDATE SET {column} = {column} + excluded.{column}"
    ).bind(topic, by)


def count_rows_statement(
    db: Database, column: str, *, where: str, params: tuple[SqlValue, ...]
) -> Statement:
    """Add to a counter of every topic the queue rows matching `where` (the caller's constant
    SQL on `mail_queue`) have, one per row: the count moves only if the rows are there, so a
    batch places it before the change it counts, under the same condition."""
    column = _checked(column)
    return db.prepare(
        f"INSERT INTO mail_topics (topic, {column})"  # noqa: S608 (a checked field name; constant SQL)
        f" SELECT topic, COUNT(*) FROM mail_queue WHERE topic IS NOT NULL AND {where}"
        " GROUP BY topic"
        f" ON CONFLICT (topic) DO UPDATE SET {column} = {column} + excluded.{column}"
    ).bind(*params)


def campaign_of(topic: SqlValue) -> str | None:
    """The campaign a queue row's topic names (`campaign:<id>`), if it names one."""
    if isinstance(topic, str) and topic.startswith(CAMPAIGN_TOPIC_PREFIX):
        return topic[len(CAMPAIGN_TOPIC_PREFIX) :]
    return None
