"""SQL for `consent_records` (append-only: the table's triggers refuse UPDATE and DELETE)."""

from __future__ import annotations

from collections.abc import Sequence

from beatbun.consent.models import SOURCES, Choice, ConsentRecord
from beatbun.runtime.base import Database, Row

HISTORY_LIMIT = 50


async def insert_record(db: Database, record: ConsentRecord) -> None:
    await (
        db.prepare(
            "INSERT INTO consent_records (id, subject, policy_version, performance, functionality,"
            " marketing, source, gpc_override, recorded_at, given_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        )
        .bind(
            record.id,
            record.subject,
            record.policy_version,
            record.choice.performance,
            record.choice.functionality,
            record.choice.marketing,
            record.source,
            record.gpc_override,
            record.recorded_at,
            record.given_at,
        )
        .run()
    )


async def find_latest_records(db: Database, subjects: Sequence[str]) -> dict[str, ConsentRecord]:
    """Each subject's latest record, in one query (a logged-in request has two subjects)."""
    marks = ", ".join("?" for _ in subjects)
    sql = (
        f"SELECT * FROM consent_records AS c WHERE c.subject IN ({marks}) AND c.rowid = ("
        " SELECT rowid FROM consent_records WHERE subject = c.subject"
        " ORDER BY recorded_at DESC LIMIT 1)"
    )
    rows = (await db.prepare(sql).bind(*subjects).all()).results
    return {record.subject: record for record in map(_row_to_record, rows)}


async def list_records(db: Database, subjects: Sequence[str]) -> list[ConsentRecord]:
    """Newest first, across every subject a visitor answers to (device and account)."""
    marks = ", ".join("?" for _ in subjects)
    sql = (
        f"SELECT * FROM consent_records WHERE subject IN ({marks})"
        " ORDER BY recorded_at DESC LIMIT ?"
    )
    rows = (await db.prepare(sql).bind(*subjects, HISTORY_LIMIT).all()).results
    return [_row_to_record(row) for row in rows]


def _row_to_record(row: Row) -> ConsentRecord:
    source = next(s for s in SOURCES if s == row["source"])
    return ConsentRecord(
        id=str(row["id"]),
        subject=str(row["subject"]),
        policy_version=str(row["policy_version"]),
        choice=Choice(
            performance=bool(row["performance"]),
            functionality=bool(row["functionality"]),
            marketing=bool(row["marketing"]),
        ),
        source=source,
        gpc_override=bool(row["gpc_override"]),
        recorded_at=float(row["recorded_at"] or 0),
        given_at=float(row.get("given_at") or row["recorded_at"] or 0),
    )
