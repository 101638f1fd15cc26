"""Exports follow their track's audio: moved with it on upgrade, deleted with it, both prefixes."""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from beatbun.accounts.models import Account
from beatbun.billing.pricing import EXPORT_KINDS
from beatbun.generation.queue import UserQueue
from beatbun.runtime.base import Runtime
from beatbun.settings import Settings
from beatbun.tracks.deletion import UNDO_SECONDS, delete_track, purge_deleted_tracks
from beatbun.tracks.expiry import delete_expired_tracks
from beatbun.tracks.exportfiles import follow_move, store_export
from beatbun.tracks.exports import buy_export, get_export
from beatbun.tracks.models import Track, blob_key_for, export_key_for, export_keys_for
from beatbun.tracks.retention import keep_tracks_statement, move_kept_audio
from beatbun.tracks.store import get_track
from beatbun_local.migrations import apply_migrations
from beatbun_local.runtime import LocalRuntime
from tests.conftest import MIGRATIONS
from tests.factories import create_verified_account
from tests.fakes import ManualClock
from tests.tracks.conftest import make_tracks, set_plan, stored_keys
from tests.tracks.faults import Crash, Operations, faulty

DAY = 24 * 3600


async def _track_with_exports(runtime: LocalRuntime) -> tuple[Account, Track, dict[str, bytes]]:
    """A free track with every export bought; every key it has and its bytes."""
    account = await create_verified_account(runtime)
    (track,) = await make_tracks(runtime, account_id=account.id, count=1)
    for kind in EXPORT_KINDS:
        await buy_export(runtime, account=account, track_id=track.id, kind=kind)
    keys = [track.blob_key, *export_keys_for(track.blob_key)]
    stored = {}
    for key in keys:
        found = await runtime.blobs.get(key)
        assert found is not None and found.body is not None, key
        stored[key] = found.body
    return account, track, stored


async def _upgrade(runtime: Runtime, account_id: str) -> None:
    await set_plan(runtime, account_id=account_id, plan="creator")
    await keep_tracks_statement(runtime.db, account_id=account_id).run()


def _paid(key: str) -> str:
    return key.replace("tracks/free/", "tracks/paid/", 1)


async def test_move_carries_every_export_to_the_paid_prefix(runtime: LocalRuntime) -> None:
    account, track, stored = await _track_with_exports(runtime)
    await _upgrade(runtime, account.id)
    assert await move_kept_audio(runtime, account_id=account.id) == 1
    assert await stored_keys(runtime) == {_paid(key) for key in stored}
    for key, body in stored.items():
        moved = await runtime.blobs.get(_paid(key))
        assert moved is not None and moved.body == body
    # Downloads now read them under the paid prefix.
    found = await get_export(runtime, account_id=account.id, track_id=track.id, kind="flac")
    assert found[2] == _paid(export_key_for(track.blob_key, kind="flac"))


async def test_move_with_exports_finishes_after_a_crash_at_any_point(
    tmp_path: Path, settings: Settings, clock: ManualClock
) -> None:
    state = tmp_path / "made"
    runtime = LocalRuntime.open(state, settings=settings, user_queue=UserQueue, clock=clock)
    await apply_migrations(runtime.db, MIGRATIONS)
    account, track, stored = await _track_with_exports(runtime)
    await _upgrade(runtime, account.id)
    runtime.close()

    @contextlib.asynccontextmanager
    async def copy_of(name: str) -> AsyncIterator[LocalRuntime]:
        shutil.copytree(state, tmp_path / name)
        opened = LocalRuntime.open(
            tmp_path / name, settings=settings, user_queue=UserQueue, clock=clock
        )
        try:
            yield opened
        finally:
            opened.close()

    async with copy_of("uninterrupted") as counting:
        counted = Operations()
        await move_kept_audio(faulty(counting, counted), account_id=account.id)
    for crash_at in range(counted.done):
        async with copy_of(f"crash-{crash_at}") as crashed:
            with pytest.raises(Crash):
                await move_kept_audio(
                    faulty(crashed, Operations(crash_at=crash_at)), account_id=account.id
                )
            row = await get_track(crashed.db, account_id=account.id, track_id=track.id)
            # Wherever the row points, the audio and every export are there.
            for key in [row.blob_key, *export_keys_for(row.blob_key)]:
                assert await crashed.blobs.head(key) is not None, (crash_at, key)
            while await move_kept_audio(crashed, account_id=account.id):
                pass
            assert await stored_keys(crashed) == {_paid(key) for key in stored}, crash_at


async def test_purge_leaves_no_export_under_either_prefix(
    runtime: LocalRuntime, clock: ManualClock
) -> None:
    account, track, stored = await _track_with_exports(runtime)
    # A copy under the paid prefix too, as a move that was under way leaves it.
    for key, body in stored.items():
        await runtime.blobs.put(_paid(key), body)
    await delete_track(runtime, account_id=account.id, track_id=track.id)
    clock.advance(UNDO_SECONDS + 1)
    assert await purge_deleted_tracks(runtime) == 1
    assert await stored_keys(runtime) == set()


async def test_expiry_deletes_the_exports_with_the_audio(
    runtime: LocalRuntime, clock: ManualClock
) -> None:
    await _track_with_exports(runtime)
    clock.advance(15 * DAY)
    assert await delete_expired_tracks(runtime) == 1
    assert await stored_keys(runtime) == set()


async def test_exports_are_stored_beside_the_audio(runtime: LocalRuntime) -> None:
    account, track, stored = await _track_with_exports(runtime)
    base = blob_key_for(retention="free", account_id=account.id, track_id=track.id)
    assert set(stored) == {
        base,
        base.replace(".wav", ".flac"),
        base.replace(".wav", ".mid"),
        *(
            base.replace(".wav", f".stems/{stem}.wav")
            for stem in ("drums", "bass", "harmony", "lead", "pads")
        ),
    }


async def test_export_made_while_its_track_moved_follows_it(runtime: LocalRuntime) -> None:
    account = await create_verified_account(runtime)
    (track,) = await make_tracks(runtime, account_id=account.id, count=1)
    written: list[str] = []
    size = await store_export(runtime, track, "flac", written)
    assert written == [export_key_for(track.blob_key, kind="flac")]
    # The move ran while the export was being stored: it found no FLAC to carry.
    made = await runtime.blobs.get(written[0])
    assert made is not None and made.body is not None
    await runtime.blobs.delete(written)
    await _upgrade(runtime, account.id)
    assert await move_kept_audio(runtime, account_id=account.id) == 1
    await runtime.blobs.put(written[0], made.body, http_metadata=made.http_metadata)
    await follow_move(runtime, track, written)
    moved = await runtime.blobs.head(_paid(written[0]))
    assert moved is not None and moved.size == size
    assert await stored_keys(runtime, prefix="tracks/free/") == set()
