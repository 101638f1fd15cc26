"""The global render line: paid plans first, free plans never starved."""

from __future__ import annotations

import pytest

from beatbun.billing.plans import PLANS
from beatbun.generation.capacity import (
    SlotRequest,
    release_slot_statements,
    rerank_statement,
    try_acquire_slot,
)
from beatbun_local.runtime import LocalRuntime

T0 = 1_800_000_000


async def _join(
    runtime: LocalRuntime, job_id: str, *, plan: str, joined_at: int, now: int = T0 + 1000
) -> bool:
    return (await _ask(runtime, job_id, plan=plan, joined_at=joined_at, now=now)).held


async def _ask(
    runtime: LocalRuntime, job_id: str, *, plan: str, joined_at: int, now: int = T0 + 1000
) -> SlotRequest:
    return await try_acquire_slot(
        runtime.db,
        job_id=job_id,
        account_id=f"owner-{job_id}",
        plan=plan,  # type: ignore[arg-type]
        joined_at=joined_at,
        leased_until=now + 600,
        now=now,
        capacity=1,
    )


async def _occupy(runtime: LocalRuntime) -> None:
    assert await _join(runtime, "busy", plan="free", joined_at=T0 - 10_000)


@pytest.mark.parametrize(
    ("paid_joins_after", "first"),
    [
        (10, "pro"),  # within the head start: the paid job overtakes
        (PLANS["pro"].head_start_seconds + 10, "free"),  # past it: the free job keeps its place
    ],
)
async def test_line_order_between_free_and_paid(
    runtime: LocalRuntime, paid_joins_after: int, first: str
) -> None:
    await _occupy(runtime)
    assert not await _join(runtime, "free", plan="free", joined_at=T0)
    assert not await _join(runtime, "pro", plan="pro", joined_at=T0 + paid_joins_after)
    await runtime.db.batch(release_slot_statements(runtime.db, job_id="busy"))
    second = "free" if first == "pro" else "pro"
    assert not await _join(
        runtime, second, plan=second, joined_at=0
    )  # joined_at is kept from the first call
    assert await _join(runtime, first, plan=first, joined_at=0)


async def test_line_position_counts_who_is_ahead(runtime: LocalRuntime) -> None:
    await _occupy(runtime)
    for n in range(3):
        await _join(runtime, f"j{n}", plan="free", joined_at=T0 + n)
    # Asking again (joining is idempotent) tells each its place once all three are in line.
    asked = [await _ask(runtime, f"j{n}", plan="free", joined_at=T0 + n) for n in range(3)]
    assert [slot.line_position for slot in asked] == [1, 2, 3]


async def test_a_job_holding_a_slot_keeps_it_and_has_no_place_in_line(
    runtime: LocalRuntime,
) -> None:
    # The second ask takes nothing new: it must still report the slot the first one took.
    first, again = [await _ask(runtime, "first", plan="free", joined_at=T0) for _ in range(2)]
    assert first == again == SlotRequest(held=True, line_position=None)


async def test_an_expired_lease_frees_its_slot(runtime: LocalRuntime) -> None:
    await _occupy(runtime)
    assert not await _join(runtime, "next", plan="free", joined_at=T0, now=T0 + 1000)
    assert await _join(runtime, "next", plan="free", joined_at=T0, now=T0 + 1000 + 601)


async def test_upgrade_gives_jobs_in_line_the_new_head_start(runtime: LocalRuntime) -> None:
    await _occupy(runtime)
    assert not await _join(runtime, "earlier", plan="free", joined_at=T0)
    assert not await _join(runtime, "upgraded", plan="free", joined_at=T0 + 30)
    # The owner of the later job subscribes to Creator while both wait.
    await runtime.db.batch(
        [
            runtime.db.prepare(
                "INSERT INTO accounts (id, email, display_name, birth_date, age_group,"
                " password_hash, created_at) VALUES"
                " ('owner-upgraded', 'u@example.com', 'U', '1990-01-01', 'adult', 'x', 0)"
            ),
            runtime.db.prepare(
                "INSERT INTO wallets (account_id, plan, updated_at) VALUES ('owner-upgraded', 'creator', 0)"
            ),
            rerank_statement(runtime.db, account_id="owner-upgraded"),
        ]
    )
    await runtime.db.batch(release_slot_statements(runtime.db, job_id="busy"))
    assert not await _join(runtime, "earlier", plan="free", joined_at=T0)
    assert await _join(runtime, "upgraded", plan="creator", joined_at=T0 + 30)
