"""Deleting with undo: hidden at once, restorable for 30 s, erased by the cron afterwards."""

from __future__ import annotations

import pytest

from beatbun.errors import Conflict, NotFound
from beatbun.scheduled import TASKS, run_scheduled
from beatbun.tracks.deletion import (
    UNDO_SECONDS,
    delete_track,
    find_deleted_track,
    purge_deleted_tracks,
    restore_track,
)
from beatbun.tracks.models import Track
from beatbun.tracks.sharing import get_shared_track, share_track
from beatbun.tracks.store import get_track, list_tracks
from beatbun_local.runtime import LocalRuntime
from tests.factories import create_verified_account
from tests.fakes import ManualClock
from tests.tracks.conftest import make_tracks, stored_keys


async def _track(runtime: LocalRuntime, email: str = "person@example.com") -> Track:
    account = await create_verified_account(runtime, email=email)
    (track,) = await make_tracks(runtime, account_id=account.id, count=1)
    return track


async def _deleted_past_the_window(runtime: LocalRuntime, clock: ManualClock) -> Track:
    """A track its owner deleted `UNDO_SECONDS` ago."""
    track = await _track(runtime)
    await delete_track(runtime, account_id=track.account_id, track_id=track.id)
    clock.advance(UNDO_SECONDS)
    return track


async def test_delete_hides_the_track_everywhere_at_once(runtime: LocalRuntime) -> None:
    track = await _track(runtime)
    token = await share_track(runtime.db, account_id=track.account_id, track_id=track.id)
    deleted = await delete_track(runtime, account_id=track.account_id, track_id=track.id)
    assert deleted.title == track.title
    with pytest.raises(NotFound):
        await get_track(runtime.db, account_id=track.account_id, track_id=track.id)
    with pytest.raises(NotFound):
        await get_shared_track(runtime.db, token=token)
    assert await list_tracks(runtime.db, account_id=track.account_id) == []
    # The audio stays for the undo.
    assert track.blob_key in await stored_keys(runtime)


async def test_delete_twice_is_not_found(runtime: LocalRuntime) -> None:
    track = await _track(runtime)
    await delete_track(runtime, account_id=track.account_id, track_id=track.id)
    with pytest.raises(NotFound):
        await delete_track(runtime, account_id=track.account_id, track_id=track.id)


async def test_delete_of_another_accounts_track_is_not_found(runtime: LocalRuntime) -> None:
    track = await _track(runtime)
    other = await create_verified_account(runtime, email="other@example.com")
    with pytest.raises(NotFound):
        await delete_track(runtime, account_id=other.id, track_id=track.id)
    assert await get_track(runtime.db, account_id=track.account_id, track_id=track.id)


async def test_undo_within_the_window_brings_the_track_back(
    runtime: LocalRuntime, clock: ManualClock
) -> None:
    track = await _track(runtime)
    token = await share_track(runtime.db, account_id=track.account_id, track_id=track.id)
    await delete_track(runtime, account_id=track.account_id, track_id=track.id)
    clock.advance(UNDO_SECONDS - 1)
    found = await find_deleted_track(runtime, account_id=track.account_id, track_id=track.id)
    assert found is not None and found.undo_seconds_left(clock.now()) == 1
    await restore_track(runtime, account_id=track.account_id, track_id=track.id)
    assert await get_track(runtime.db, account_id=track.account_id, track_id=track.id)
    # A restored track's link works again; nothing else about it changed.
    assert (await get_shared_track(runtime.db, token=token)).id == track.id
    clock.advance(3600)
    assert await purge_deleted_tracks(runtime) == 0
    assert track.blob_key in await stored_keys(runtime)


async def test_undo_after_the_window_is_a_conflict(
    runtime: LocalRuntime, clock: ManualClock
) -> None:
    track = await _deleted_past_the_window(runtime, clock)
    assert await find_deleted_track(runtime, account_id=track.account_id, track_id=track.id) is None
    with pytest.raises(Conflict) as raised:
        await restore_track(runtime, account_id=track.account_id, track_id=track.id)
    assert raised.value.code == "undo_expired"


async def test_undo_by_another_account_is_not_found(runtime: LocalRuntime) -> None:
    track = await _track(runtime)
    other = await create_verified_account(runtime, email="other@example.com")
    await delete_track(runtime, account_id=track.account_id, track_id=track.id)
    with pytest.raises(NotFound):
        await restore_track(runtime, account_id=other.id, track_id=track.id)
    assert await find_deleted_track(runtime, account_id=other.id, track_id=track.id) is None


async def test_purge_waits_for_the_undo_window(runtime: LocalRuntime, clock: ManualClock) -> None:
    track = await _track(runtime)
    await delete_track(runtime, account_id=track.account_id, track_id=track.id)
    clock.advance(UNDO_SECONDS - 1)
    assert await purge_deleted_tracks(runtime) == 0
    assert track.blob_key in await stored_keys(runtime)
    clock.advance(1)
    assert await purge_deleted_tracks(runtime) == 1
    assert await stored_keys(runtime) == set()
    row = await (
        runtime.db.prepare("SELECT count(*) AS n FROM tracks WHERE id = ?").bind(track.id).first()
    )
    assert row == {"n": 0}


async def test_purge_leaves_live_and_other_tracks_alone(
    runtime: LocalRuntime, clock: ManualClock
) -> None:
    doomed = await _track(runtime)
    kept = await _track(runtime, email="other@example.com")
    await delete_track(runtime, account_id=doomed.account_id, track_id=doomed.id)
    clock.advance(UNDO_SECONDS)
    assert await purge_deleted_tracks(runtime) == 1
    assert await stored_keys(runtime) == {kept.blob_key}


async def test_purge_claimed_track_cannot_be_restored(
    runtime: LocalRuntime, clock: ManualClock
) -> None:
    """A purge that crashed after claiming: no undo brings back a track losing its audio."""
    track = await _deleted_past_the_window(runtime, clock)
    await runtime.db.prepare("UPDATE tracks SET deleted_at = 0 WHERE id = ?").bind(track.id).run()
    with pytest.raises(Conflict):
        await restore_track(runtime, account_id=track.account_id, track_id=track.id)
    assert await purge_deleted_tracks(runtime) == 1
    assert await stored_keys(runtime) == set()


async def test_cron_purges_deleted_tracks(runtime: LocalRuntime, clock: ManualClock) -> None:
    assert purge_deleted_tracks in TASKS
    await _deleted_past_the_window(runtime, clock)
    await run_scheduled(runtime, cron="0 * * * *", scheduled_time=clock.now())
    assert await stored_keys(runtime) == set()
