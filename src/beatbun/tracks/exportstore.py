"""Track exports in D1 (`track_exports`, migration 0036): one row per export bought."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from beatbun.billing.pricing import ExportKind
from beatbun.runtime.base import MAX_BOUND_PARAMETERS, Database, Row, Statement

ExportStatus = Literal["pending", "ready", "failed"]
# SQLite's names for what refuses a row in `insert_export_statement`.
ONE_PER_KIND = "track_exports.track_id, track_exports.kind"
NO_SUCH_TRACK = "track_exports.track_id"
_COLUMNS = (
    "id, account_id, track_id, kind, status, cost, size_bytes, error_code, created_at, finished_at"
)


@dataclass(frozen=True)
class TrackExport:
    id: str
    account_id: str
    track_id: str
    kind: ExportKind
    status: ExportStatus
    cost: int
    # The file's bytes, or the five stems' together; 0 until ready.
    size_bytes: int
    error_code: str | None
    created_at: int
    finished_at: int | None


def insert_export_statement(db: Database, export: TrackExport) -> Statement:
    """Insert the export `pending`, for the batch that debits it (`billing.credits.charge`).

    It is inserted only after its debit in the same batch, so there is no row without a
    charge. Its track id is read from the buyer's live tracks: for someone else's track, or one
    deleted meanwhile, it is NULL, which NOT NULL refuses, aborting the batch and its debit. A
    live export of the same kind refuses it too (`ONE_PER_KIND`).
    """
    return db.prepare(
        f"INSERT INTO track_exports ({_COLUMNS})"
        " SELECT ?, ?, (SELECT id FROM tracks WHERE id = ? AND account_id = ?"
        " AND deleted_at IS NULL), ?, 'pending', ?, 0, NULL, ?, NULL"
        " WHERE EXISTS (SELECT 1 FROM credit_ledger WHERE job_id = ? AND kind = 'debit')"
    ).bind(
        export.id,
        export.account_id,
        export.track_id,
        export.account_id,
        export.kind,
        export.cost,
        export.created_at,
        export.id,
    )


def mark_ready_statement(db: Database, *, export_id: str, size_bytes: int, now: float) -> Statement:
    return db.prepare(
        "UPDATE track_exports SET status = 'ready', size_bytes = ?, finished_at = ?"
        " WHERE id = ? AND status = 'pending'"
    ).bind(size_bytes, int(now), export_id)


def mark_failed_statement(db: Database, *, export_id: str, code: str, now: float) -> Statement:
    """Fail a pending export; place before its refund in the same batch."""
    return db.prepare(
        "UPDATE track_exports SET status = 'failed', error_code = ?, finished_at = ?"
        " WHERE id = ? AND status = 'pending'"
    ).bind(code, int(now), export_id)


async def find_export(
    db: Database, *, account_id: str, track_id: str, kind: ExportKind
) -> TrackExport | None:
    """The track's pending or ready export of `kind`, if it was bought."""
    row = await (
        db.prepare(
            f"SELECT {_COLUMNS} FROM track_exports WHERE account_id = ? AND track_id = ?"
            " AND kind = ? AND status != 'failed'"
        )
        .bind(account_id, track_id, kind)
        .first()
    )
    return None if row is None else _export_of(row)


async def exports_of_tracks(
    db: Database, *, account_id: str, track_ids: list[str]
) -> dict[str, list[TrackExport]]:
    """The pending and ready exports of each of the tracks, by track id."""
    found: dict[str, list[TrackExport]] = {track_id: [] for track_id in track_ids}
    # One parameter of each query is the account id.
    step = MAX_BOUND_PARAMETERS - 1
    for start in range(0, len(track_ids), step):
        chunk = track_ids[start : start + step]
        result = await (
            db.prepare(
                f"SELECT {_COLUMNS} FROM track_exports WHERE account_id = ? AND status != 'failed'"
                f" AND track_id IN ({', '.join('?' * len(chunk))}) ORDER BY created_at, id"
            )
            .bind(account_id, *chunk)
            .all()
        )
        for row in result.results:
            export = _export_of(row)
            found[export.track_id].append(export)
    return found


async def list_stale_exports(db: Database, *, before: float, limit: int) -> list[TrackExport]:
    result = await (
        db.prepare(
            f"SELECT {_COLUMNS} FROM track_exports WHERE status = 'pending' AND created_at < ?"
            " ORDER BY created_at LIMIT ?"
        )
        .bind(int(before), limit)
        .all()
    )
    return [_export_of(row) for row in result.results]


def _export_of(row: Row) -> TrackExport:
    finished_at = row.get("finished_at")
    error_code = row.get("error_code")
    return TrackExport(
        id=str(row["id"]),
        account_id=str(row["account_id"]),
        track_id=str(row["track_id"]),
        kind=row["kind"],  # type: ignore[arg-type]
        status=row["status"],  # type: ignore[arg-type]
        cost=int(row["cost"]),  # type: ignore[arg-type]
        size_bytes=int(row["size_bytes"]),  # type: ignore[arg-type]
        error_code=None if error_code is None else str(error_code),
        created_at=int(row["created_at"]),  # type: ignore[arg-type]
        finished_at=None if finished_at is None else int(finished_at),
    )
