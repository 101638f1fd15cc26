"""Share links: unguessable tokens, the same link until revoked, never valid again after."""

from __future__ import annotations

import pytest

from beatbun.errors import NotFound
from beatbun.tracks.models import Track
from beatbun.tracks.sharing import get_shared_track, revoke_share, share_track
from beatbun_local.runtime import LocalRuntime
from tests.factories import create_verified_account
from tests.tracks.conftest import make_tracks


async def _track(runtime: LocalRuntime) -> Track:
    account = await create_verified_account(runtime)
    (track,) = await make_tracks(runtime, account_id=account.id, count=1)
    return track


async def test_share_makes_a_256_bit_token_that_finds_the_track(runtime: LocalRuntime) -> None:
    track = await _track(runtime)
    token = await share_track(runtime.db, account_id=track.account_id, track_id=track.id)
    assert len(token) == 43  # 32 random bytes in base64url
    shared = await get_shared_track(runtime.db, token=token, with_peaks=True)
    assert shared.id == track.id and shared.peaks


async def test_share_again_keeps_the_same_link(runtime: LocalRuntime) -> None:
    track = await _track(runtime)
    first = await share_track(runtime.db, account_id=track.account_id, track_id=track.id)
    assert await share_track(runtime.db, account_id=track.account_id, track_id=track.id) == first


async def test_revoked_link_never_works_again(runtime: LocalRuntime) -> None:
    track = await _track(runtime)
    old = await share_track(runtime.db, account_id=track.account_id, track_id=track.id)
    await revoke_share(runtime.db, account_id=track.account_id, track_id=track.id)
    with pytest.raises(NotFound) as raised:
        await get_shared_track(runtime.db, token=old)
    assert raised.value.code == "share_not_found" and old not in raised.value.message
    new = await share_track(runtime.db, account_id=track.account_id, track_id=track.id)
    assert new != old
    with pytest.raises(NotFound):
        await get_shared_track(runtime.db, token=old)


async def test_only_the_owner_shares_or_revokes(runtime: LocalRuntime) -> None:
    track = await _track(runtime)
    other = await create_verified_account(runtime, email="other@example.com")
    with pytest.raises(NotFound):
        await share_track(runtime.db, account_id=other.id, track_id=track.id)
    token = await share_track(runtime.db, account_id=track.account_id, track_id=track.id)
    with pytest.raises(NotFound):
        await revoke_share(runtime.db, account_id=other.id, track_id=track.id)
    assert (await get_shared_track(runtime.db, token=token)).id == track.id


@pytest.mark.parametrize(
    "token",
    [
        "",
        "short",
        "A" * 43,  # well formed, but nobody was given it
        "A" * 44,
        "' OR 1=1 --" + "A" * 32,
    ],
)
async def test_unknown_tokens_find_nothing(runtime: LocalRuntime, token: str) -> None:
    await _track(runtime)
    with pytest.raises(NotFound):
        await get_shared_track(runtime.db, token=token)
