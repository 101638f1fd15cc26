"""Extend and variations as the service applies them: what is refused, offered and replayed."""

from __future__ import annotations

import json
from typing import Any

import pytest

from beatbun.errors import InvalidInput
from beatbun.generation.derived import extend_track, extension_offers, vary_track
from beatbun.tracks.models import Track
from beatbun.tracks.store import get_track
from beatbun_local.runtime import LocalRuntime
from tests.factories import create_verified_account
from tests.tracks.conftest import make_tracks


async def _track(runtime: LocalRuntime, **plan: Any) -> tuple[Any, Track]:
    account = await create_verified_account(runtime)
    (track,) = await make_tracks(runtime, account_id=account.id, count=1)
    if plan:
        await (
            runtime.db.prepare("UPDATE tracks SET plan = ? WHERE id = ?")
            .bind(json.dumps({**track.plan, **plan}), track.id)
            .run()
        )
        track = await get_track(runtime.db, account_id=account.id, track_id=track.id)
    return account, track


async def _debits(runtime: LocalRuntime, account_id: str) -> int:
    row = await (
        runtime.db.prepare(
            "SELECT count(*) AS n FROM credit_ledger WHERE account_id = ? AND kind = 'debit'"
        )
        .bind(account_id)
        .first()
    )
    assert row is not None
    return int(row["n"])


@pytest.mark.parametrize(
    ("plan", "code"),
    [
        ({"composer_version": 1}, "plan_outdated"),  # an older composer cannot continue it
        ({"provider": "elevenlabs"}, "extend_unsupported"),  # not the provider in use
        ({"source": {"track_id": "t", "kind": "extension"}}, "already_extended"),
    ],
)
async def test_extend_refuses_a_track_whose_plan_cannot_continue(
    runtime: LocalRuntime, plan: dict[str, Any], code: str
) -> None:
    account, track = await _track(runtime, **plan)

    with pytest.raises(InvalidInput) as caught:
        await extend_track(
            runtime, account=account, track_id=track.id, seconds=30, idempotency_key=None
        )

    assert caught.value.code == code
    assert extension_offers(runtime.settings, track) == ()
    assert await _debits(runtime, account.id) == 1  # the original alone


async def test_a_variation_can_be_extended(runtime: LocalRuntime) -> None:
    account, track = await _track(runtime, source={"track_id": "t", "kind": "variation"})

    submission = await extend_track(
        runtime, account=account, track_id=track.id, seconds=30, idempotency_key=None
    )

    assert submission.job.request["extends_seconds"] == track.duration_seconds
    assert await _debits(runtime, account.id) == 2


async def test_extension_offers_stop_at_the_longest_track(runtime: LocalRuntime) -> None:
    _, track = await _track(runtime)
    long_track = Track(**{**vars(track), "duration_seconds": 200.0})

    assert extension_offers(runtime.settings, track) == (
        (15, 2),
        (30, 3),
        (60, 6),
        (90, 9),
        (120, 12),
    )
    assert extension_offers(runtime.settings, long_track) == ((15, 2), (30, 3), (60, 6), (90, 9))


async def test_variation_retried_with_its_key_is_the_same_job(runtime: LocalRuntime) -> None:
    account, track = await _track(runtime)

    first = await vary_track(runtime, account=account, track_id=track.id, idempotency_key="k")
    again = await vary_track(runtime, account=account, track_id=track.id, idempotency_key="k")
    other = await vary_track(runtime, account=account, track_id=track.id, idempotency_key="l")

    assert (first.created, again.created, other.created) == (True, False, True)
    assert again.job.id == first.job.id
    assert first.job.request["seed"] not in (track.seed, other.job.request["seed"])
    assert await _debits(runtime, account.id) == 3
