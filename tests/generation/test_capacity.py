"""The global render line: paid plans first, free plans never starved."""

from __future__ import annotations

import pytest

from beatbun.generation.capacity import (
    PAID_HEAD_START_SECONDS,
    SlotRequest,
    release_slot_statements,
    try_acquire_slot,
)
from beatbun.runtime.local.runtime import LocalRuntime

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
        (10, "paid"),  # within the head start: the paid job overtakes
        (PAID_HEAD_START_SECONDS + 10, "free"),  # past it: the free job keeps its place
    ],
)
async def test_line_order_between_free_and_paid(
    runtime: LocalRuntime, paid_joins_after: int, first: str
) -> None:
    await _occupy(runtime)
    assert not await _join(runtime, "free", plan="free", joined_at=T0)
    assert not await _join(runtime, "paid", plan="paid", joined_at=T0 + paid_joins_after)
    await runtime.db.batch(release_slot_statements(runtime.db, job_id="busy"))
    second = "free" if first == "paid" else "paid"
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
