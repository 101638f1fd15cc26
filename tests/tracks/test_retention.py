"""Keeping tracks on upgrade and moving their audio out of `tracks/free/`, crashes included."""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from beatbun.errors import StorageError
from beatbun.generation.queue import UserQueue
from beatbun.runtime.base import Runtime
from beatbun.scheduled import TASKS
from beatbun.settings import Settings
from beatbun.tracks.deletion import UNDO_SECONDS, delete_track, purge_deleted_tracks
from beatbun.tracks.expiry import delete_expired_tracks
from beatbun.tracks.models import blob_key_for, blob_prefix_for
from beatbun.tracks.retention import (
    keep_tracks_statement,
    move_all_kept_audio,
    move_kept_audio,
)
from beatbun.tracks.store import get_track, list_tracks
from beatbun_local.migrations import apply_migrations
from beatbun_local.runtime import LocalRuntime
from tests.conftest import MIGRATIONS
from tests.factories import create_verified_account
from tests.fakes import ManualClock
from tests.tracks.conftest import make_tracks, set_plan, stored_keys
from tests.tracks.faults import Crash, Operations, faulty

DAY = 24 * 3600


@dataclass(frozen=True)
class Upgraded:
    """A state folder: an account with three free tracks, just upgraded (kept, not yet moved)."""

    state: Path
    account_id: str
    audio: dict[str, bytes]


@pytest.fixture
async def upgraded(tmp_path: Path, settings: Settings, clock: ManualClock) -> Upgraded:
    runtime = LocalRuntime.open(
        tmp_path / "upgraded", settings=settings, user_queue=UserQueue, clock=clock
    )
    await apply_migrations(runtime.db, MIGRATIONS)
    account = await create_verified_account(runtime)
    tracks = await make_tracks(runtime, account_id=account.id, count=3)
    await set_plan(runtime, account_id=account.id, plan="creator")
    await keep_tracks_statement(runtime.db, account_id=account.id).run()
    audio = {}
    for track in tracks:
        stored = await runtime.blobs.get(track.blob_key)
        assert stored is not None and stored.body is not None
        audio[track.id] = stored.body
    runtime.close()
    return Upgraded(tmp_path / "upgraded", account.id, audio)


@pytest.fixture
def copy_of(
    upgraded: Upgraded, tmp_path: Path, settings: Settings, clock: ManualClock
) -> Callable[[str], contextlib.AbstractAsyncContextManager[LocalRuntime]]:
    """Open a fresh copy of the upgraded state, so each crash starts from the same place."""

    @contextlib.asynccontextmanager
    async def opened(name: str) -> AsyncIterator[LocalRuntime]:
        shutil.copytree(upgraded.state, tmp_path / name)
        runtime = LocalRuntime.open(
            tmp_path / name, settings=settings, user_queue=UserQueue, clock=clock
        )
        try:
            yield runtime
        finally:
            runtime.close()

    return opened


async def _every_row_is_playable(runtime: Runtime, account_id: str) -> bool:
    tracks = await list_tracks(runtime.db, account_id=account_id)
    return all([await runtime.blobs.head(track.blob_key) is not None for track in tracks])


async def _assert_moved(runtime: Runtime, upgraded: Upgraded, *, deleted: str = "") -> None:
    """Every track kept, under `tracks/paid/` with its own bytes, and nothing else stored."""
    tracks = await list_tracks(runtime.db, account_id=upgraded.account_id)
    assert {track.id for track in tracks} == set(upgraded.audio) - {deleted}
    for track in tracks:
        paid_key = blob_key_for(retention="paid", account_id=track.account_id, track_id=track.id)
        assert (track.retention, track.blob_key, track.expires_at) == ("paid", paid_key, None)
        stored = await runtime.blobs.get(track.blob_key)
        assert stored is not None and stored.body == upgraded.audio[track.id]
    assert await stored_keys(runtime) == {track.blob_key for track in tracks}


async def _move_until_done(runtime: Runtime, account_id: str) -> None:
    while await move_kept_audio(runtime, account_id=account_id):
        pass


async def test_keep_tracks_statement_lifts_every_expiry_and_leaves_licences(
    runtime: LocalRuntime,
) -> None:
    account = await create_verified_account(runtime)
    made = await make_tracks(runtime, account_id=account.id, count=2)
    assert all(track.expires_at is not None for track in made)
    result = await keep_tracks_statement(runtime.db, account_id=account.id).run()
    assert result.meta.changes == 2
    for track in await list_tracks(runtime.db, account_id=account.id):
        assert track.expires_at is None and track.seconds_left(runtime.clock.now()) is None
        assert (track.licence, track.licence_plan, track.retention) == ("personal", "free", "free")


async def test_keep_tracks_statement_only_if_false_keeps_nothing(runtime: LocalRuntime) -> None:
    account = await create_verified_account(runtime)
    await make_tracks(runtime, account_id=account.id, count=1)
    statement = keep_tracks_statement(
        runtime.db, account_id=account.id, only_if="? = 'pro'", only_if_params=("free",)
    )
    assert (await statement.run()).meta.changes == 0


async def test_keep_tracks_statement_leaves_other_accounts_alone(runtime: LocalRuntime) -> None:
    mine = await create_verified_account(runtime)
    theirs = await create_verified_account(runtime, email="other@example.com")
    await make_tracks(runtime, account_id=theirs.id, count=1)
    await keep_tracks_statement(runtime.db, account_id=mine.id).run()
    (track,) = await list_tracks(runtime.db, account_id=theirs.id)
    assert track.expires_at is not None


async def test_move_kept_audio_moves_every_kept_track_to_the_paid_prefix(
    upgraded: Upgraded,
    copy_of: Callable[[str], contextlib.AbstractAsyncContextManager[LocalRuntime]],
) -> None:
    async with copy_of("moved") as runtime:
        before = await list_tracks(runtime.db, account_id=upgraded.account_id)
        assert await move_kept_audio(runtime, account_id=upgraded.account_id) == 3
        await _assert_moved(runtime, upgraded)
        for old in before:
            assert await runtime.blobs.head(old.blob_key) is None
            stored = await runtime.blobs.head(
                blob_key_for(retention="paid", account_id=old.account_id, track_id=old.id)
            )
            assert stored is not None
            assert stored.http_metadata.content_type == "audio/wav"
            assert stored.custom_metadata["owner"] == upgraded.account_id
            assert stored.custom_metadata["expires_at"] == ""
        assert await move_kept_audio(runtime, account_id=upgraded.account_id) == 0


async def test_move_kept_audio_leaves_tracks_that_still_expire(runtime: LocalRuntime) -> None:
    account = await create_verified_account(runtime)
    made = await make_tracks(runtime, account_id=account.id, count=2)
    assert await move_kept_audio(runtime, account_id=account.id) == 0
    assert await stored_keys(runtime) == {track.blob_key for track in made}


@pytest.mark.parametrize("failure", [Crash, StorageError])
async def test_move_kept_audio_finishes_after_a_crash_at_any_point(
    upgraded: Upgraded,
    copy_of: Callable[[str], contextlib.AbstractAsyncContextManager[LocalRuntime]],
    failure: type[BaseException],
) -> None:
    async with copy_of("uninterrupted") as runtime:
        counted = Operations()
        assert await move_kept_audio(faulty(runtime, counted), account_id=upgraded.account_id) == 3
    # Stopping before each operation in turn, and once after the last (no crash at all).
    for crash_at in range(counted.done + 1):
        async with copy_of(f"crash-{crash_at}") as runtime:
            operations = Operations(crash_at=crash_at, failure=failure)
            with pytest.raises(failure) if crash_at < counted.done else contextlib.nullcontext():
                await move_kept_audio(faulty(runtime, operations), account_id=upgraded.account_id)
            assert await _every_row_is_playable(runtime, upgraded.account_id), crash_at
            await _move_until_done(runtime, upgraded.account_id)
            await _assert_moved(runtime, upgraded)


async def test_cron_finishes_a_move_that_crashed_at_any_point(
    upgraded: Upgraded,
    copy_of: Callable[[str], contextlib.AbstractAsyncContextManager[LocalRuntime]],
) -> None:
    async with copy_of("uninterrupted") as runtime:
        counted = Operations()
        await move_kept_audio(faulty(runtime, counted), account_id=upgraded.account_id)
    for crash_at in range(counted.done):
        async with copy_of(f"crash-{crash_at}") as runtime:
            with pytest.raises(Crash):
                await move_kept_audio(
                    faulty(runtime, Operations(crash_at=crash_at)), account_id=upgraded.account_id
                )
            await move_all_kept_audio(runtime)
            await _assert_moved(runtime, upgraded)


async def _delete_for_good(
    runtime: Runtime, clock: ManualClock, *, account_id: str, track_id: str
) -> None:
    """The owner deletes the track, and the cron erases it once the undo window is over."""
    await delete_track(runtime, account_id=account_id, track_id=track_id)
    clock.advance(UNDO_SECONDS)
    assert await purge_deleted_tracks(runtime) == 1


async def test_track_deleted_at_any_point_of_a_move_leaves_no_orphan(
    upgraded: Upgraded,
    copy_of: Callable[[str], contextlib.AbstractAsyncContextManager[LocalRuntime]],
    clock: ManualClock,
) -> None:
    async with copy_of("uninterrupted") as runtime:
        counted = Operations()
        await move_kept_audio(faulty(runtime, counted), account_id=upgraded.account_id)
    doomed = sorted(upgraded.audio)[0]
    for then_at in range(counted.done):
        async with copy_of(f"delete-{then_at}") as runtime:

            async def owner_deletes(runtime: Runtime = runtime) -> None:
                await _delete_for_good(
                    runtime, clock, account_id=upgraded.account_id, track_id=doomed
                )

            operations = Operations(then_at=then_at, then=owner_deletes)
            await _move_until_done(faulty(runtime, operations), upgraded.account_id)
            assert operations.done > then_at, "the owner's delete should have happened"
            await _assert_moved(runtime, upgraded, deleted=doomed)


async def test_track_deleted_after_a_crashed_move_leaves_no_orphan(
    upgraded: Upgraded,
    copy_of: Callable[[str], contextlib.AbstractAsyncContextManager[LocalRuntime]],
    clock: ManualClock,
) -> None:
    async with copy_of("uninterrupted") as runtime:
        counted = Operations()
        await move_kept_audio(faulty(runtime, counted), account_id=upgraded.account_id)
    doomed = sorted(upgraded.audio)[0]
    for crash_at in range(counted.done):
        async with copy_of(f"crash-{crash_at}") as runtime:
            with pytest.raises(Crash):
                await move_kept_audio(
                    faulty(runtime, Operations(crash_at=crash_at)), account_id=upgraded.account_id
                )
            await _delete_for_good(runtime, clock, account_id=upgraded.account_id, track_id=doomed)
            await _move_until_done(runtime, upgraded.account_id)
            await _assert_moved(runtime, upgraded, deleted=doomed)


async def test_two_moves_at_once_move_each_track_once_and_leave_nothing_behind(
    upgraded: Upgraded,
    copy_of: Callable[[str], contextlib.AbstractAsyncContextManager[LocalRuntime]],
) -> None:
    async with copy_of("uninterrupted") as runtime:
        counted = Operations()
        await move_kept_audio(faulty(runtime, counted), account_id=upgraded.account_id)
    for then_at in range(counted.done):
        async with copy_of(f"concurrent-{then_at}") as runtime:
            moved_by_the_other: list[int] = []

            async def cron_moves_too(
                runtime: Runtime = runtime, moved_by_the_other: list[int] = moved_by_the_other
            ) -> None:
                moved_by_the_other.append(
                    await move_kept_audio(runtime, account_id=upgraded.account_id)
                )

            operations = Operations(then_at=then_at, then=cron_moves_too)
            moved = await move_kept_audio(
                faulty(runtime, operations), account_id=upgraded.account_id
            )
            assert moved + sum(moved_by_the_other) == 3, then_at
            await _assert_moved(runtime, upgraded)


async def test_move_kept_audio_switches_to_a_copy_whose_source_is_gone(
    upgraded: Upgraded,
    copy_of: Callable[[str], contextlib.AbstractAsyncContextManager[LocalRuntime]],
) -> None:
    async with copy_of("copied") as runtime:
        track = (await list_tracks(runtime.db, account_id=upgraded.account_id))[0]
        paid_key = blob_key_for(retention="paid", account_id=track.account_id, track_id=track.id)
        # An earlier run copied, then R2's lifecycle rule removed the source.
        await runtime.blobs.put(paid_key, upgraded.audio[track.id])
        await runtime.blobs.delete(track.blob_key)
        assert await move_kept_audio(runtime, account_id=upgraded.account_id) == 3
        await _assert_moved(runtime, upgraded)


async def test_move_kept_audio_leaves_a_track_whose_audio_is_lost_and_moves_the_rest(
    upgraded: Upgraded,
    copy_of: Callable[[str], contextlib.AbstractAsyncContextManager[LocalRuntime]],
) -> None:
    async with copy_of("lost") as runtime:
        lost = min(
            await list_tracks(runtime.db, account_id=upgraded.account_id), key=lambda t: t.id
        )
        await runtime.blobs.delete(lost.blob_key)
        # One at a time: the lost track, first by id, must not stop the others.
        moved = 0
        while found := await move_kept_audio(runtime, account_id=upgraded.account_id, limit=1):
            moved += found
        assert moved == 2
        after = await get_track(runtime.db, account_id=upgraded.account_id, track_id=lost.id)
        assert (after.blob_key, after.retention, after.expires_at) == (lost.blob_key, "free", None)
        paid = await stored_keys(runtime, prefix="tracks/paid/")
        assert len(paid) == 2 and lost.id not in "".join(paid)
        prefix = blob_prefix_for(retention="free", account_id=upgraded.account_id)
        assert await stored_keys(runtime, prefix=prefix) == set()


async def test_hourly_cron_moves_kept_audio(
    upgraded: Upgraded,
    copy_of: Callable[[str], contextlib.AbstractAsyncContextManager[LocalRuntime]],
) -> None:
    assert move_all_kept_audio in TASKS
    async with copy_of("cron") as runtime:
        assert await move_all_kept_audio(runtime) == 3
        await _assert_moved(runtime, upgraded)


async def test_expiry_deletes_a_due_free_track_and_its_audio(
    runtime: LocalRuntime, clock: ManualClock
) -> None:
    account = await create_verified_account(runtime)
    (track,) = await make_tracks(runtime, account_id=account.id, count=1)
    clock.advance(14 * DAY)
    assert await delete_expired_tracks(runtime) == 1
    assert await list_tracks(runtime.db, account_id=account.id) == []
    assert await runtime.blobs.head(track.blob_key) is None


@pytest.mark.parametrize("kept_after", [0, 1])
async def test_expiry_racing_an_upgrade_leaves_no_row_without_audio(
    runtime: LocalRuntime, clock: ManualClock, kept_after: int
) -> None:
    account = await create_verified_account(runtime)
    await make_tracks(runtime, account_id=account.id, count=2)
    clock.advance(14 * DAY)

    async def upgrade() -> None:
        await keep_tracks_statement(runtime.db, account_id=account.id).run()

    await delete_expired_tracks(faulty(runtime, Operations(then_at=kept_after, then=upgrade)))
    assert await _every_row_is_playable(runtime, account.id)


async def test_expiry_never_deletes_a_kept_track(runtime: LocalRuntime, clock: ManualClock) -> None:
    account = await create_verified_account(runtime)
    (track,) = await make_tracks(runtime, account_id=account.id, count=1)
    await keep_tracks_statement(runtime.db, account_id=account.id).run()
    # Past the expiry the track had, before the move took its audio out of `tracks/free/`.
    clock.advance(15 * DAY)
    assert await delete_expired_tracks(runtime) == 0
    assert await runtime.blobs.head(track.blob_key) is not None
    kept = await get_track(runtime.db, account_id=account.id, track_id=track.id)
    assert kept.expires_at is None
