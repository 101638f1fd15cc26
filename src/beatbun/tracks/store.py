"""Tracks in D1; every read is scoped to the owner and skips deleted tracks."""

from __future__ import annotations

import json

from beatbun.billing.plans import PLANS
from beatbun.errors import NotFound
from beatbun.i18n import N_
from beatbun.runtime.base import Database, Row, Statement
from beatbun.tracks.models import Track

# Every column but `peaks` (some 16 KB of JSON a row), which only the player reads.
COLUMNS = (
    "id, account_id, job_id, title, prompt, plan, media_type, duration_seconds, size_bytes,"
    " blob_key, retention, created_at, expires_at, licence, licence_plan, licensed_at,"
    " favourite, share_token"
)
# What the cron erases and no route shows: a track its owner deleted (`tracks.deletion`).
LIVE = "deleted_at IS NULL"
# The plans whose tracks are kept for as long as the account lives.
_KEEPING_PLANS = ", ".join(
    f"'{plan.id}'" for plan in PLANS.values() if plan.retention_seconds is None
)


def insert_track_statement(db: Database, track: Track) -> Statement:
    """Insert the track only if its job was just marked succeeded with it, in the same batch.

    A track whose job started on the free plan but finishes after the account moved to a plan
    that keeps tracks is inserted kept (`expires_at` NULL): the batch that switched the plan
    lifted the expiry of the tracks that existed then, and this one did not exist yet. Its audio
    is still under `tracks/free/`, so `tracks.retention` moves it like any other kept track.
    """
    return db.prepare(
        f"INSERT INTO tracks ({COLUMNS}, peaks, genre) SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
        " CASE WHEN EXISTS (SELECT 1 FROM wallets WHERE account_id = ?"
        f" AND plan IN ({_KEEPING_PLANS})) THEN NULL ELSE ? END, ?, ?, ?, ?, ?, ?, ?"
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
        track.account_id,
        track.expires_at,
        track.licence,
        track.licence_plan,
        track.licensed_at,
        int(track.favourite),
        track.share_token,
        json.dumps(track.peaks, separators=(",", ":")),
        track.genre,
        track.job_id,
        track.id,
    )


async def get_track(
    db: Database, *, account_id: str, track_id: str, with_peaks: bool = False
) -> Track:
    """The track if the account owns it; someone else's (or a deleted one) is NotFound."""
    columns = f"{COLUMNS}, peaks" if with_peaks else COLUMNS
    row = (
        await db.prepare(f"SELECT {columns} FROM tracks WHERE id = ? AND account_id = ? AND {LIVE}")
        .bind(track_id, account_id)
        .first()
    )
    if row is None:
        raise track_not_found(track_id)
    return track_from_row(row)


def track_not_found(track_id: str) -> NotFound:
    return NotFound(
        N_("Track '%(id)s' not found."), code="track_not_found", params={"id": track_id}
    )


async def list_tracks(db: Database, *, account_id: str, limit: int = 100) -> list[Track]:
    result = (
        await db.prepare(
            f"SELECT {COLUMNS} FROM tracks WHERE account_id = ? AND {LIVE}"
            " ORDER BY created_at DESC, id DESC LIMIT ?"
        )
        .bind(account_id, limit)
        .all()
    )
    return [track_from_row(row) for row in result.results]


async def delete_expired_track_rows(db: Database, *, now: float, limit: int) -> list[str]:
    """Delete up to `limit` tracks expired by `now`, soonest expired first; their blob keys.

    One statement decides and deletes, so a track kept meanwhile (`expires_at` set to NULL by an
    upgrade) is never among them, and only the audio of rows really deleted is returned.
    """
    result = await (
        db.prepare(
            "DELETE FROM tracks WHERE id IN (SELECT id FROM tracks WHERE expires_at IS NOT NULL"
            " AND expires_at <= ? ORDER BY expires_at LIMIT ?) RETURNING blob_key"
        )
        .bind(int(now), limit)
        .all()
    )
    return [str(row["blob_key"]) for row in result.results]


async def update_track(
    db: Database,
    *,
    account_id: str,
    track_id: str,
    title: str | None = None,
    favourite: bool | None = None,
) -> None:
    """Set the title and/or the favourite mark; raises NotFound as `get_track` does."""
    changes = {"title": title, "favourite": None if favourite is None else int(favourite)}
    columns = [name for name, value in changes.items() if value is not None]
    if not columns:
        raise TypeError("update_track needs a title or a favourite mark to set.")
    result = await (
        db.prepare(
            f"UPDATE tracks SET {', '.join(f'{name} = ?' for name in columns)}"
            f" WHERE id = ? AND account_id = ? AND {LIVE}"
        )
        .bind(*(changes[name] for name in columns), track_id, account_id)
        .run()
    )
    if result.meta.changes == 0:
        raise track_not_found(track_id)


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
        licence=row["licence"],  # type: ignore[arg-type]
        licence_plan=row["licence_plan"],  # type: ignore[arg-type]
        licensed_at=int(row["licensed_at"]),  # type: ignore[arg-type]
        favourite=bool(row.get("favourite")),
        share_token=None if row.get("share_token") is None else str(row["share_token"]),
    )
