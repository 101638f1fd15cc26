from __future__ import annotations

from typing import Any

from beatbun.billing.credits import open_wallet
from beatbun.billing.plans import PlanId
from beatbun.generation.models import GenerationRequest
from beatbun.generation.service import submit_generation
from beatbun.runtime.base import Runtime
from beatbun.tracks.models import Track
from beatbun.tracks.store import list_tracks
from beatbun_local.runtime import LocalRuntime
from tests.generation.conftest import drain


def sample_track(**fields: Any) -> Track:
    """A track as the runner records one on the free plan, with `fields` changed."""
    values: dict[str, Any] = {
        "id": "0123456789abcdef0123456789abcdef",
        "account_id": "acc_42",
        "job_id": "job_42",
        "title": "Rainy Day Lo-Fi",
        "prompt": "rainy day lo-fi",
        "plan": {"genre": "lo-fi", "bpm": 80},
        "media_type": "audio/wav",
        "duration_seconds": 30.0,
        "size_bytes": 5_292_044,
        "blob_key": "tracks/free/acc_42/0123456789abcdef0123456789abcdef.wav",
        "peaks": None,
        "retention": "free",
        "created_at": 1_800_000_000,
        "expires_at": 1_800_000_000 + 14 * 24 * 3600,
        "licence": "personal",
        "licence_plan": "free",
        "licensed_at": 1_800_000_000,
    }
    return Track(**{**values, **fields})


async def set_plan(runtime: Runtime, *, account_id: str, plan: PlanId) -> None:
    """Put the account on `plan`, as the billing webhook's batch leaves the wallet."""
    await open_wallet(runtime.db, account_id, now=runtime.clock.now())
    await (
        runtime.db.prepare("UPDATE wallets SET plan = ? WHERE account_id = ?")
        .bind(plan, account_id)
        .run()
    )


async def make_tracks(
    runtime: LocalRuntime, *, account_id: str, count: int, plan: PlanId = "free"
) -> list[Track]:
    """`count` 5-second tracks, paid for, queued and rendered as a user on `plan` gets them."""
    await set_plan(runtime, account_id=account_id, plan=plan)
    before = {track.id for track in await list_tracks(runtime.db, account_id=account_id)}
    for number in range(count):
        request = GenerationRequest.parse(
            {"prompt": f"test track {number}", "duration_seconds": 5, "seed": number}
        )
        await submit_generation(
            runtime, account_id=account_id, request=request, idempotency_key=None
        )
    await drain(runtime)
    made = [
        track
        for track in await list_tracks(runtime.db, account_id=account_id)
        if track.id not in before
    ]
    assert len(made) == count, "every job should have finished with a track"
    return made


async def stored_keys(runtime: Runtime, *, prefix: str = "") -> set[str]:
    """Every key in the blob store under `prefix`."""
    keys: set[str] = set()
    cursor: str | None = None
    while True:
        listing = await runtime.blobs.list(prefix=prefix, cursor=cursor)
        keys.update(found.key for found in listing.objects)
        if not listing.truncated:
            return keys
        cursor = listing.cursor
