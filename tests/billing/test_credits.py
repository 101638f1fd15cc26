from __future__ import annotations

import pytest

from beatbun.billing.credits import (
    Note,
    charge,
    credit_statements,
    get_wallet,
    list_entries,
    open_wallet,
    take_back_statements,
)
from beatbun.billing.plans import FREE_PLAN
from beatbun.errors import InsufficientCredits
from beatbun.runtime.base import Statement
from beatbun_local.runtime import LocalRuntime
from tests.factories import create_verified_account

pytestmark = pytest.mark.usefixtures("money_invariants")


async def _ledger_total(runtime: LocalRuntime, account_id: str) -> int:
    total = await (
        runtime.db.prepare(
            "SELECT coalesce(sum(amount), 0) AS total FROM credit_ledger WHERE account_id = ?"
        )
        .bind(account_id)
        .first("total")
    )
    return int(total)


def _job_stand_in(runtime: LocalRuntime) -> Statement:
    """A write to go with a debit, as the job's insert does in production."""
    return runtime.db.prepare(
        "INSERT INTO cron_runs (cron, scheduled_at, finished_at, tasks) VALUES ('test', 0, 0, 0)"
    )


async def _spend(runtime: LocalRuntime, account_id: str, *, amount: int, key: str) -> bool:
    return await charge(
        runtime.db,
        account_id=account_id,
        amount=amount,
        job_id=f"job-{key}",
        idempotency_key=key,
        along_with=_job_stand_in(runtime),
        now=runtime.clock.now(),
    )


async def _buy(runtime: LocalRuntime, account_id: str, *, amount: int, key: str) -> None:
    await runtime.db.batch(
        credit_statements(
            runtime.db,
            account_id=account_id,
            kind="purchase",
            amount=amount,
            idempotency_key=key,
            note=Note("test"),
            now=runtime.clock.now(),
        )
    )


async def test_credit_once_per_key(runtime: LocalRuntime) -> None:
    account = await create_verified_account(runtime)
    for _ in range(3):
        await _buy(runtime, account.id, amount=100, key="stripe:cs_1")
    wallet = await get_wallet(runtime.db, account.id)
    assert wallet.balance == 100
    assert [e.kind for e in await list_entries(runtime.db, account.id)] == ["purchase"]


async def test_take_back_capped_at_balance(runtime: LocalRuntime) -> None:
    account = await create_verified_account(runtime)
    await _buy(runtime, account.id, amount=100, key="stripe:cs_1")
    assert await _spend(runtime, account.id, amount=70, key="spent")
    await runtime.db.batch(
        take_back_statements(
            runtime.db,
            account_id=account.id,
            amount=100,
            idempotency_key="stripe:refund:cs_1:300",
            note=Note("Refund"),
            now=runtime.clock.now(),
        )
    )
    wallet = await get_wallet(runtime.db, account.id)
    assert wallet.balance == 0
    entries = await list_entries(runtime.db, account.id)
    assert entries[0].kind == "adjustment"
    assert entries[0].amount == -30
    assert entries[0].balance_after == 0


async def test_take_back_repeated_changes_nothing(runtime: LocalRuntime) -> None:
    account = await create_verified_account(runtime)
    await _buy(runtime, account.id, amount=100, key="stripe:cs_1")
    for _ in range(3):
        await runtime.db.batch(
            take_back_statements(
                runtime.db,
                account_id=account.id,
                amount=40,
                idempotency_key="stripe:refund:cs_1:120",
                note=Note("Refund"),
                now=runtime.clock.now(),
            )
        )
    assert (await get_wallet(runtime.db, account.id)).balance == 60
    assert await _ledger_total(runtime, account.id) == 60


async def test_charge_refuses_overdraft_by_constraint(runtime: LocalRuntime) -> None:
    account = await create_verified_account(runtime)
    await open_wallet(runtime.db, account.id, now=runtime.clock.now())
    with pytest.raises(InsufficientCredits) as caught:
        await _spend(runtime, account.id, amount=FREE_PLAN.monthly_credits + 1, key="k1")
    assert caught.value.code == "insufficient_credits"
    assert caught.value.params == {
        "cost": FREE_PLAN.monthly_credits + 1,
        "balance": FREE_PLAN.monthly_credits,
    }
    assert (await get_wallet(runtime.db, account.id)).balance == FREE_PLAN.monthly_credits
    assert await _ledger_total(runtime, account.id) == FREE_PLAN.monthly_credits


async def test_charge_same_key_twice_charges_once(runtime: LocalRuntime) -> None:
    account = await create_verified_account(runtime)
    await open_wallet(runtime.db, account.id, now=runtime.clock.now())
    results = [await _spend(runtime, account.id, amount=5, key="same") for _ in range(2)]
    assert results == [True, False]
    assert (await get_wallet(runtime.db, account.id)).balance == FREE_PLAN.monthly_credits - 5
