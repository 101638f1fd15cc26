"""Tracks in D1; every read is scoped to the owner."""

from __future__ import annotations

import json

from beatbun.errors import NotFound
from beatbun.i18n import N_
from beatbun.runtime.base import Database, Row, Statement
from beatbun.tracks.models import Track

# Every column but `peaks` (some 16 KB of JSON a row), which only the player reads.
_COLUMNS = (
    "id, account_id, job_id, title, prompt, plan, media_type, duration_seconds, size_bytes,"
    " blob_key, retention, created_at, expires_at"
)


def insert_track_statement(db: Database, track: Track) -> Statement:
    """Insert the track only if its job was just marked succeeded with it, in the same batch."""
    return db.prepare(
        f"INSERT INTO tracks ({_COLUMNS}, peaks) SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?"
        " WHERE EXISTS (SELECT 1 FROM jobs WHERE id = ? AND track_id = ? AND status = 'succeeded')"
    ).bind(
        track.id,
        track.account_id,
        track.job_id,
        track.title,
        track.prompt,
        json.dumps(track.plan, separators=(",", ":")),
        track.media_type,
        track.duration_seconds,
        track.size_bytes,
        track.blob_key,
        track.retention,
        track.created_at,
        track.expires_at,
        json.dumps(track.peaks, separators=(",", ":")),
        track.job_id,
        track.id,
    )


async def get_track(
    db: Database, *, account_id: str, track_id: str, with_peaks: bool = False
) -> Track:
    """The track if the account owns it; someone else's is NotFound, never Forbidden."""
    columns = f"{_COLUMNS}, peaks" if with_peaks else _COLUMNS
    row = (
        await db.prepare(f"SELECT {columns} FROM tracks WHERE id = ? AND account_id = ?")
        .bind(track_id, account_id)
        .first()
    )
    if row is None:
        raise NotFound(
            N_("Track '%(id)s' not found."), code="track_not_found", params={"id": track_id}
        )
    return track_from_row(row)


async def list_tracks(db: Database, *, account_id: str, limit: int = 100) -> list[Track]:
    result = (
        await db.prepare(
            f"SELECT {_COLUMNS} FROM tracks WHERE account_id = ? ORDER BY created_at DESC, id DESC LIMIT ?"
        )
        .bind(account_id, limit)
        .all()
    )
    return [track_from_row(row) for row in result.results]


async def expired_blob_keys(db: Database, *, now: float, limit: int) -> list[str]:
    """Where the audio of the first `limit` expired tracks is, soonest expired first."""
    result = await (
        db.prepare(
            "SELECT blob_key FROM tracks WHERE expires_at IS NOT NULL AND expires_at <= ?"
            " ORDER BY expires_at LIMIT ?"
        )
        .bind(int(now), limit)
        .all()
    )
    return [str(row["blob_key"]) for row in result.results]


async def delete_expired_track_rows(db: Database, *, now: float, limit: int) -> None:
    """The rows of the audio `expired_blob_keys` found, in one statement."""
    await (
        db.prepare(
            "DELETE FROM tracks WHERE id IN (SELECT id FROM tracks WHERE expires_at IS NOT NULL"
            " AND expires_at <= ? ORDER BY expires_at LIMIT ?)"
        )
        .bind(int(now), limit)
        .run()
    )


async def delete_track_row(db: Database, *, account_id: str, track_id: str) -> None:
    await (
        db.prepare("DELETE FROM tracks WHERE id = ? AND account_id = ?")
        .bind(track_id, account_id)
        .run()
    )


def track_from_row(row: Row) -> Track:
    expires_at = row.get("expires_at")
    peaks = row.get("peaks")
    return Track(
        id=str(row["id"]),
        account_id=str(row["account_id"]),
        job_id=str(row["job_id"]),
        title=str(row["title"]),
        prompt=str(row["prompt"]),
        plan=json.loads(str(row["plan"])),
        media_type=str(row["media_type"]),
        duration_seconds=float(row["duration_seconds"]),  # type: ignore[arg-type]
        size_bytes=int(row["size_bytes"]),  # type: ignore[arg-type]
        blob_key=str(row["blob_key"]),
        peaks=None if peaks is None else json.loads(str(peaks)),
        retention=row["retention"],  # type: ignore[arg-type]
        created_at=int(row["created_at"]),  # type: ignore[arg-type]
        expires_at=None if expires_at is None else int(expires_at),
    )
