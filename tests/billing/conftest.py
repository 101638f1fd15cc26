from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from beatbun_local.runtime import LocalRuntime


@pytest.fixture
async def money_invariants(runtime: LocalRuntime) -> AsyncIterator[None]:
    """After the test: each balance is the sum of its ledger, and no Stripe invoice or checkout
    granted credits twice. Modules use it with `pytest.mark.usefixtures`."""
    yield
    drift = await runtime.db.prepare(
        "SELECT w.account_id, w.balance, coalesce(sum(l.amount), 0) AS ledger FROM wallets w"
        " LEFT JOIN credit_ledger l USING (account_id) GROUP BY w.account_id"
        " HAVING w.balance != coalesce(sum(l.amount), 0)"
    ).all()
    assert drift.results == [], "a balance differs from the sum of its ledger"
    twice = await runtime.db.prepare(
        "SELECT idempotency_key, count(*) AS n FROM credit_ledger"
        " WHERE kind IN ('grant', 'purchase') AND idempotency_key LIKE 'stripe:%'"
        " GROUP BY idempotency_key HAVING n > 1"
    ).all()
    assert twice.results == [], "a Stripe object granted credits more than once"
