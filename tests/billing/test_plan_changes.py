"""Which plan a batch of `apply_plan_statements` leaves, and what it says changed."""

from __future__ import annotations

import pytest

from beatbun.billing.subscriptions import apply_plan_statements, plan_change_of
from beatbun_local.runtime import LocalRuntime
from tests.factories import create_verified_account

pytestmark = pytest.mark.usefixtures("money_invariants")


async def test_plan_ending_reads_as_a_change_from_the_old_plan(runtime: LocalRuntime) -> None:
    account = await create_verified_account(runtime)
    await (
        runtime.db.prepare(
            "INSERT INTO wallets (account_id, plan, updated_at) VALUES (?, 'pro', 0)"
        )
        .bind(account.id)
        .run()
    )
    # No subscription in force: the account goes back to Free, and the queue must hear of it.
    results = await runtime.db.batch(
        apply_plan_statements(runtime.db, account_id=account.id, now=runtime.clock.now())
    )
    assert plan_change_of(results) == ("pro", "free")


async def test_account_without_a_wallet_was_free(runtime: LocalRuntime) -> None:
    account = await create_verified_account(runtime)
    results = await runtime.db.batch(
        apply_plan_statements(runtime.db, account_id=account.id, now=runtime.clock.now())
    )
    assert plan_change_of(results) == ("free", "free")
