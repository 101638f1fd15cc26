"""Keeping tracks after an upgrade, and moving their audio out of the free tier's prefix.

When an account moves to a plan that keeps tracks, the batch that switches the plan also runs
`keep_tracks_statement`: every track of the account loses its expiry at once, and from then on
nothing deletes it. The audio of the tracks made on the free plan is still under
`tracks/free/`, which R2's lifecycle rule empties 14 days after upload, so `move_kept_audio`
moves it to `tracks/paid/`: the account's queue runs it right after the plan change, and
`move_all_kept_audio` (cron, hourly) finishes whatever a crash or a lost call left behind.
A track waiting to move is `retention = 'free' AND expires_at IS NULL`.

Invariant: a move never deletes audio that a row names, and it makes a row name the paid key
only once the audio is stored there, so every track stays playable at every step. A row's key
changes once at most, from the free key to the paid one, never back: a key that a row has
stopped naming is never named again, and may be deleted. Moving one track:

1. copy: stream the free key's bytes, HTTP metadata and custom metadata (`expires_at`
   cleared) to the paid key, in parts (`BlobWriter`): the object is stored whole or not at
   all, and never sits whole in memory. The track's exports stored beside it (FLAC, MIDI,
   stems: `export_keys_for`) are copied the same way first, so they are under the paid prefix
   before the row says so.
2. switch: one UPDATE sets `blob_key` to the paid key and `retention = 'paid'` where the row
   still names the free key. The switches of a page of tracks go to D1 as one batch.
3. delete: the free key and its exports (nothing names them after step 2, whether this run's
   switch or an earlier one changed the row, or the row is gone). If the switch changed
   nothing and no row names the paid key, the track was deleted meanwhile, so the copy goes
   too.

What a crash or a concurrent change leaves, and what the next run does:

- crash before the switch: the row still names the free key, which still holds the audio.
  The next run copies again (the same bytes) and switches.
- crash after the switch, before the delete: the free key is left over, unnamed. A run that
  finds nothing more to move lists the account's `tracks/free/` prefix and deletes the keys
  (audio and exports) whose track's row names another audio key. Keys without a row stay:
  the runner stores audio before it records the row, so they may be a track being made now.
  The lifecycle rule removes any that are left over.
- the free key is gone but the paid key is there: an earlier run copied and then R2's
  lifecycle rule deleted the source. The run switches without copying.
- both keys are gone: the lifecycle rule deleted the audio before any run copied it, or the
  owner is deleting the track. There is nothing to move; the row stays as it is, and reads
  as a track whose audio is gone.
- the owner deletes the track mid-move: `tracks.service.delete_track` deletes the audio under
  both prefixes, then the row. A switch after that changes nothing, and the run deletes its
  copy, which no row names. (A switch that lands between the owner's two deletes makes the
  row name the deleted copy until the row goes a moment later.) A copy made before a crash
  goes with the track, since the delete covers both prefixes.

Two runs for the same account at once (the queue's and the cron's) are safe with each other:
the later switch changes nothing, finds the paid key named and keeps it. One interleaving of
three is not covered: run A switches the row; the owner deletes both keys; run B, which read
the free key before that, puts its copy back and finds the row still there, before the
owner's delete of the row lands. B's copy then outlives the track under `tracks/paid/`.
Running every move inside the account's queue Durable Object (the cron asking the queue to
move, rather than moving itself) would serialize the runs and close that window.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from beatbun.billing.plans import FREE_RETENTION_SECONDS, PLANS
from beatbun.errors import BlobStoreError
from beatbun.runtime.base import (
    MAX_BOUND_PARAMETERS,
    MAX_KEYS_PER_CALL,
    BlobStore,
    Database,
    Runtime,
    SqlValue,
    Statement,
)
from beatbun.runtime.blobwriter import BlobWriter
from beatbun.tracks.models import blob_key_for, blob_prefix_for, export_keys_for

logger = logging.getLogger(__name__)

# Tracks copied before their switches go to D1 together; a crash makes the next run copy at
# most this many again. Each page deletes up to twice this many keys (R2 takes 1000 a call).
PAGE = 50
# The cron's share per run; the account's queue moves an upgraded account's audio at once.
MOVES_PER_RUN = 300
ACCOUNTS_PER_RUN = 100
# What a crashed move left under `tracks/free/` is gone once R2's lifecycle rule has run
# (14 days after upload, applied within about a day); until then the cron looks for it.
LEFTOVER_SECONDS = FREE_RETENTION_SECONDS + 2 * 24 * 3600
# Plans whose tracks start under `tracks/free/`: a track of theirs now 'paid' was moved.
_FREE_PLANS = ", ".join(f"'{plan.id}'" for plan in PLANS.values() if plan.retention == "free")
# One parameter of each lookup is the account id.
_KEYS_PER_QUERY = MAX_BOUND_PARAMETERS - 1


@dataclass(frozen=True)
class _Move:
    track_id: str
    old_key: str
    new_key: str


def keep_tracks_statement(
    db: Database,
    *,
    account_id: str,
    only_if: str = "1",
    only_if_params: Sequence[SqlValue] = (),
) -> Statement:
    """Lift the expiry of every track of the account; licences are left as they are.

    `only_if` is an SQL condition (with its `only_if_params`) for the plan-switching batch, so
    the statement keeps the tracks only when the plan the batch switched to keeps them.
    """
    return db.prepare(
        "UPDATE tracks SET expires_at = NULL WHERE account_id = ? AND expires_at IS NOT NULL"
        f" AND {only_if}"
    ).bind(account_id, *only_if_params)


async def move_kept_audio(runtime: Runtime, *, account_id: str, limit: int = 100) -> int:
    """Move the audio of up to `limit` kept tracks to `tracks/paid/`; returns how many moved.

    Call it until it returns 0. Once nothing is left to move, the call also deletes what a
    crashed run left under `tracks/free/`. Safe to repeat after a crash at any point, and
    beside another run for the same account (see the module docstring).
    """
    moved, after = 0, ""
    while True:
        wanted = min(PAGE, limit - moved)
        if wanted <= 0:
            return moved
        pending = await _kept_under_free(
            runtime.db, account_id=account_id, after=after, limit=wanted
        )
        if pending:
            moved += await _move_page(runtime, account_id=account_id, pending=pending)
        if len(pending) < wanted:
            break
        # Past this page, so a track whose audio is lost never blocks the ones after it.
        after = pending[-1][0]
    await _delete_leftovers(runtime, account_id=account_id)
    return moved


async def move_all_kept_audio(runtime: Runtime) -> int:
    """Cron: carry on every account's move, up to `MOVES_PER_RUN` tracks a run; how many moved.

    Accounts with tracks to move come first; then, in random order, accounts with tracks moved
    within `LEFTOVER_SECONDS`, where a crashed run may have left audio under `tracks/free/`.
    """
    moved = 0
    for account_id in await _accounts_to_visit(runtime.db, now=runtime.clock.now()):
        if moved >= MOVES_PER_RUN:
            break
        moved += await move_kept_audio(runtime, account_id=account_id, limit=MOVES_PER_RUN - moved)
    return moved


async def _kept_under_free(
    db: Database, *, account_id: str, after: str, limit: int
) -> list[tuple[str, str]]:
    """(track id, blob key) of kept tracks whose audio is under `tracks/free/`, by id."""
    result = await (
        db.prepare(
            "SELECT id, blob_key FROM tracks WHERE account_id = ? AND retention = 'free'"
            " AND expires_at IS NULL AND id > ? ORDER BY id LIMIT ?"
        )
        .bind(account_id, after, limit)
        .all()
    )
    return [(str(row["id"]), str(row["blob_key"])) for row in result.results]


async def _move_page(runtime: Runtime, *, account_id: str, pending: list[tuple[str, str]]) -> int:
    copied: list[_Move] = []
    for track_id, old_key in pending:
        new_key = blob_key_for(retention="paid", account_id=account_id, track_id=track_id)
        move = _Move(track_id=track_id, old_key=old_key, new_key=new_key)
        if await _copy(runtime.blobs, move):
            copied.append(move)
    if not copied:
        return 0
    db = runtime.db
    results = await db.batch(
        [
            db.prepare(
                "UPDATE tracks SET blob_key = ?, retention = 'paid'"
                " WHERE id = ? AND account_id = ? AND blob_key = ?"
            ).bind(move.new_key, move.track_id, account_id, move.old_key)
            for move in copied
        ]
    )
    missed = [
        move for move, result in zip(copied, results, strict=True) if result.meta.changes == 0
    ]
    # Every row of the page has left its free key, or is gone: the old keys are unnamed for good.
    unnamed = [
        key
        for move in copied
        if move.old_key != move.new_key
        for key in (move.old_key, *export_keys_for(move.old_key))
    ]
    if missed:
        named = await _named_keys(db, [move.new_key for move in missed])
        unnamed += [
            key
            for move in missed
            if move.new_key not in named
            for key in (move.new_key, *export_keys_for(move.new_key))
        ]
    for start in range(0, len(unnamed), MAX_KEYS_PER_CALL):
        await runtime.blobs.delete(unnamed[start : start + MAX_KEYS_PER_CALL])
    return len(copied) - len(missed)


async def _copy(blobs: BlobStore, move: _Move) -> bool:
    """Store the audio and its exports under the new key; False when the audio is under neither.

    The exports go first: once the audio is copied, the switch may make the row name it.
    """
    old_base, new_base = move.old_key.removesuffix(".wav"), move.new_key.removesuffix(".wav")
    exports = await blobs.list(prefix=f"{old_base}.")
    for found in exports.objects:
        if found.key != move.old_key:
            await copy_blob(blobs, found.key, new_base + found.key[len(old_base) :])
    if await copy_blob(blobs, move.old_key, move.new_key):
        return True
    if await blobs.head(move.new_key) is not None:
        return True
    logger.warning("Track %s has no audio to move (from %s)", move.track_id, move.old_key)
    return False


async def copy_blob(blobs: BlobStore, old_key: str, new_key: str) -> bool:
    """Copy one object in parts, metadata included (`expires_at` cleared); False when it is gone."""
    source = await blobs.stream(old_key)
    if source is None:
        return False
    try:
        async with BlobWriter(
            blobs,
            new_key,
            http_metadata=source.object.http_metadata,
            custom_metadata={**source.object.custom_metadata, "expires_at": ""},
        ) as writer:
            async for piece in source.chunks:
                await writer.write(piece)
    except BlobStoreError:
        # Deleted while it was read (the owner deleted the track, or another run moved it):
        # the same as finding it gone. Any other failure is raised.
        if await blobs.head(old_key) is not None:
            raise
        return False
    return True


async def _named_keys(db: Database, keys: list[str]) -> set[str]:
    """Which of `keys` a track row names."""
    named: set[str] = set()
    for start in range(0, len(keys), MAX_BOUND_PARAMETERS):
        chunk = keys[start : start + MAX_BOUND_PARAMETERS]
        result = await (
            db.prepare(
                f"SELECT blob_key FROM tracks WHERE blob_key IN ({', '.join('?' * len(chunk))})"
            )
            .bind(*chunk)
            .all()
        )
        named.update(str(row["blob_key"]) for row in result.results)
    return named


async def _delete_leftovers(runtime: Runtime, *, account_id: str) -> None:
    """Delete the account's keys under `tracks/free/` whose track's row names another key.

    Exports go with their audio: `<track>.flac`, `<track>.stems/drums.wav`, ... are the keys
    of the track whose id precedes the first dot.
    """
    prefix = blob_prefix_for(retention="free", account_id=account_id)
    cursor: str | None = None
    while True:
        listing = await runtime.blobs.list(prefix=prefix, cursor=cursor)
        by_track: dict[str, list[str]] = {}
        for found in listing.objects:
            by_track.setdefault(found.key[len(prefix) :].split(".")[0], []).append(found.key)
        stale: list[str] = []
        track_ids = list(by_track)
        for start in range(0, len(track_ids), _KEYS_PER_QUERY):
            chunk = track_ids[start : start + _KEYS_PER_QUERY]
            result = await (
                runtime.db.prepare(
                    "SELECT id, blob_key FROM tracks WHERE account_id = ?"
                    f" AND id IN ({', '.join('?' * len(chunk))})"
                )
                .bind(account_id, *chunk)
                .all()
            )
            stale += [
                key
                for row in result.results
                if row["blob_key"]
                != blob_key_for(retention="free", account_id=account_id, track_id=str(row["id"]))
                for key in by_track[str(row["id"])]
            ]
        if stale:
            await runtime.blobs.delete(stale)
        if not listing.truncated:
            return
        cursor = listing.cursor


async def _accounts_to_visit(db: Database, *, now: float) -> list[str]:
    results = await db.batch(
        [
            db.prepare(
                "SELECT DISTINCT account_id FROM tracks WHERE retention = 'free'"
                " AND expires_at IS NULL LIMIT ?"
            ).bind(ACCOUNTS_PER_RUN),
            db.prepare(
                "SELECT account_id FROM tracks WHERE retention = 'paid'"
                f" AND licence_plan IN ({_FREE_PLANS}) AND created_at >= ?"
                " GROUP BY account_id ORDER BY random() LIMIT ?"
            ).bind(int(now - LEFTOVER_SECONDS), ACCOUNTS_PER_RUN),
        ]
    )
    accounts = [str(row["account_id"]) for result in results for row in result.results]
    return list(dict.fromkeys(accounts))[:ACCOUNTS_PER_RUN]
