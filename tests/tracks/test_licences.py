"""Each track records the retention and licence of the plan it was made under, for good."""

from __future__ import annotations

import pytest

from beatbun.billing.plans import FREE_RETENTION_SECONDS, LicenceId, PlanId, Retention
from beatbun.generation.models import GenerationRequest
from beatbun.generation.service import submit_generation
from beatbun.tracks.expiry import delete_expired_tracks
from beatbun.tracks.retention import keep_tracks_statement, move_kept_audio
from beatbun.tracks.store import get_track, list_tracks
from beatbun_local.runtime import LocalRuntime
from tests.factories import create_verified_account
from tests.fakes import ManualClock
from tests.generation.conftest import drain
from tests.tracks.conftest import make_tracks, sample_track, set_plan

DAY = 24 * 3600


@pytest.mark.parametrize(
    ("plan", "retention", "licence", "kept"),
    [
        ("free", "free", "personal", False),
        ("creator", "paid", "commercial", True),
        ("pro", "paid", "commercial", True),
    ],
)
async def test_runner_records_retention_and_licence_of_the_plan(
    runtime: LocalRuntime, plan: PlanId, retention: Retention, licence: LicenceId, kept: bool
) -> None:
    account = await create_verified_account(runtime)
    (made,) = await make_tracks(runtime, account_id=account.id, count=1, plan=plan)
    track = await get_track(runtime.db, account_id=account.id, track_id=made.id)
    assert (track.retention, track.licence, track.licence_plan) == (retention, licence, plan)
    assert track.licensed_at == track.created_at
    assert track.blob_key == f"tracks/{retention}/{account.id}/{track.id}.wav"
    assert track.expires_at == (None if kept else track.created_at + FREE_RETENTION_SECONDS)
    stored = await runtime.blobs.head(track.blob_key)
    assert stored is not None and stored.custom_metadata["expires_at"] == (
        "" if kept else str(track.expires_at)
    )


async def test_downgrade_leaves_an_existing_tracks_licence_and_keeping_alone(
    runtime: LocalRuntime, clock: ManualClock
) -> None:
    account = await create_verified_account(runtime)
    (made,) = await make_tracks(runtime, account_id=account.id, count=1, plan="creator")
    await set_plan(runtime, account_id=account.id, plan="free")
    # Everything that runs afterwards: the upgrade move and the expiry cron, weeks later.
    await move_kept_audio(runtime, account_id=account.id)
    clock.advance(30 * DAY)
    await delete_expired_tracks(runtime)
    track = await get_track(runtime.db, account_id=account.id, track_id=made.id)
    assert (track.licence, track.licence_plan, track.licensed_at) == (
        "commercial",
        "creator",
        made.licensed_at,
    )
    assert track.expires_at is None and await runtime.blobs.head(track.blob_key) is not None


async def test_track_made_after_a_downgrade_gets_the_new_plans_licence(
    runtime: LocalRuntime,
) -> None:
    account = await create_verified_account(runtime)
    await make_tracks(runtime, account_id=account.id, count=1, plan="pro")
    (after,) = await make_tracks(runtime, account_id=account.id, count=1, plan="free")
    assert (after.licence, after.licence_plan, after.retention) == ("personal", "free", "free")
    licences = {track.licence for track in await list_tracks(runtime.db, account_id=account.id)}
    assert licences == {"personal", "commercial"}


async def test_upgrade_keeps_tracks_but_not_their_licence(runtime: LocalRuntime) -> None:
    account = await create_verified_account(runtime)
    (made,) = await make_tracks(runtime, account_id=account.id, count=1)
    await set_plan(runtime, account_id=account.id, plan="pro")
    await keep_tracks_statement(runtime.db, account_id=account.id).run()
    assert await move_kept_audio(runtime, account_id=account.id) == 1
    track = await get_track(runtime.db, account_id=account.id, track_id=made.id)
    assert (track.retention, track.expires_at) == ("paid", None)
    assert (track.licence, track.licence_plan) == ("personal", "free")


async def test_track_finished_after_an_upgrade_is_kept(runtime: LocalRuntime) -> None:
    """A job queued on the free plan finishes once the plan keeps tracks: the upgrade's batch
    could not lift the expiry of a track that did not exist yet, so the insert does."""
    account = await create_verified_account(runtime)
    await set_plan(runtime, account_id=account.id, plan="free")
    request = GenerationRequest.parse({"prompt": "upgrade race", "duration_seconds": 5})
    await submit_generation(runtime, account_id=account.id, request=request, idempotency_key=None)
    # The plan changes while the job is queued as a free one.
    await set_plan(runtime, account_id=account.id, plan="pro")
    await drain(runtime)
    (made,) = await list_tracks(runtime.db, account_id=account.id)
    assert (made.retention, made.expires_at) == ("free", None)
    assert (made.licence, made.licence_plan) == ("personal", "free")
    assert await move_kept_audio(runtime, account_id=account.id) == 1


def test_to_public_states_the_licence() -> None:
    track = sample_track(licence="commercial", licence_plan="creator", licensed_at=1_800_000_000)
    assert track.to_public(now=1_800_000_000)["licence"] == {
        "id": "commercial",
        "name": "Commercial licence",
        "plan": "creator",
        "granted_at": 1_800_000_000,
    }
