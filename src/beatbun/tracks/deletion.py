"""Deleting a track: hidden at once, undoable for 30 seconds, erased by the cron after that.

`delete_track` only marks the row (`deleted_at`): every list and route stops showing the track,
its share link included, in the same statement. `restore_track` clears the mark while the undo
window lasts. `purge_deleted_tracks` (cron) erases what is older: it first claims the rows by
setting `deleted_at` to 0, which no undo matches, then deletes the audio under every retention
prefix, then the rows. A crash after the claim leaves hidden rows that the next run finishes;
the audio of a track that can still be restored is never touched.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import get_args

from beatbun.billing.plans import Retention
from beatbun.errors import Conflict
from beatbun.i18n import N_
from beatbun.runtime.base import MAX_BOUND_PARAMETERS, MAX_KEYS_PER_CALL, BlobStore, Runtime
from beatbun.tracks.models import blob_key_for, export_keys_for
from beatbun.tracks.store import LIVE, track_not_found

UNDO_SECONDS = 30
# Tracks erased per cron run; each has its audio and exports (`export_keys_for`) under both
# prefixes, some 20 keys, and R2 deletes 1000 keys a call.
PURGE_BATCH = 300


@dataclass(frozen=True)
class DeletedTrack:
    id: str
    title: str
    deleted_at: int

    def undo_seconds_left(self, now: float) -> int:
        return max(0, int(self.deleted_at + UNDO_SECONDS - now))


async def delete_track(runtime: Runtime, *, account_id: str, track_id: str) -> DeletedTrack:
    """Hide the track from every list and route; its audio stays until the undo window ends.

    Raises NotFound for a track the account does not own or has deleted already.
    """
    now = int(runtime.clock.now())
    row = await (
        runtime.db.prepare(
            f"UPDATE tracks SET deleted_at = ? WHERE id = ? AND account_id = ? AND {LIVE}"
            " RETURNING id, title"
        )
        .bind(now, track_id, account_id)
        .first()
    )
    if row is None:
        raise track_not_found(track_id)
    return DeletedTrack(id=str(row["id"]), title=str(row["title"]), deleted_at=now)


async def restore_track(runtime: Runtime, *, account_id: str, track_id: str) -> None:
    """Undo a delete made less than `UNDO_SECONDS` ago.

    Raises Conflict once the window has passed, NotFound for a track the account never had.
    """
    now = int(runtime.clock.now())
    result = await (
        runtime.db.prepare(
            "UPDATE tracks SET deleted_at = NULL WHERE id = ? AND account_id = ? AND deleted_at > ?"
        )
        .bind(track_id, account_id, now - UNDO_SECONDS)
        .run()
    )
    if result.meta.changes:
        return
    deleted = await (
        runtime.db.prepare(
            "SELECT 1 AS found FROM tracks WHERE id = ? AND account_id = ?"
            " AND deleted_at IS NOT NULL"
        )
        .bind(track_id, account_id)
        .first()
    )
    if deleted is None:
        raise track_not_found(track_id)
    raise Conflict(
        N_("It is too late to undo: the track is being deleted for good."),
        code="undo_expired",
    )


async def find_deleted_track(
    runtime: Runtime, *, account_id: str, track_id: str
) -> DeletedTrack | None:
    """The account's track deleted within the undo window, for the page that offers the undo."""
    row = await (
        runtime.db.prepare(
            "SELECT id, title, deleted_at FROM tracks WHERE id = ? AND account_id = ?"
            " AND deleted_at > ?"
        )
        .bind(track_id, account_id, int(runtime.clock.now()) - UNDO_SECONDS)
        .first()
    )
    if row is None:
        return None
    return DeletedTrack(
        id=str(row["id"]),
        title=str(row["title"]),
        deleted_at=int(row["deleted_at"]),
    )


async def purge_deleted_tracks(runtime: Runtime) -> int:
    """Cron: erase the audio, then the rows, of tracks deleted before the undo window; how many."""
    db = runtime.db
    claimed = await (
        db.prepare(
            "UPDATE tracks SET deleted_at = 0 WHERE id IN (SELECT id FROM tracks"
            " WHERE deleted_at IS NOT NULL AND deleted_at <= ? ORDER BY deleted_at LIMIT ?)"
            " RETURNING id, account_id, blob_key"
        )
        .bind(int(runtime.clock.now()) - UNDO_SECONDS, PURGE_BATCH)
        .all()
    )
    rows = claimed.results
    if not rows:
        return 0
    # Under every prefix, not only the row's key: `tracks.retention` may be moving the audio.
    audio = {str(row["blob_key"]) for row in rows} | {
        blob_key_for(
            retention=retention, account_id=str(row["account_id"]), track_id=str(row["id"])
        )
        for row in rows
        for retention in get_args(Retention)
    }
    keys = sorted(audio | {key for found in audio for key in export_keys_for(found)})
    await delete_keys(runtime.blobs, keys)
    ids = [str(row["id"]) for row in rows]
    for start in range(0, len(ids), MAX_BOUND_PARAMETERS):
        chunk = ids[start : start + MAX_BOUND_PARAMETERS]
        await (
            db.prepare(
                f"DELETE FROM tracks WHERE deleted_at = 0 AND id IN ({', '.join('?' * len(chunk))})"
            )
            .bind(*chunk)
            .run()
        )
    return len(rows)


async def delete_keys(blobs: BlobStore, keys: Sequence[str]) -> None:
    """Delete `keys` from the bucket, as many per call as R2 takes."""
    for start in range(0, len(keys), MAX_KEYS_PER_CALL):
        await blobs.delete(keys[start : start + MAX_KEYS_PER_CALL])
