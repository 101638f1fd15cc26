"""Every string the billing pages ask the catalogs for has a German and a French translation."""

from __future__ import annotations

import httpx
import pytest

from beatbun.billing.models import Payment
from beatbun.billing.store import upsert_payment_statement
from beatbun_local.runtime import LocalRuntime
from tests.web.test_billing_history import add_checkout, add_ledger_rows
from tests.web.test_billing_pages import member, subscribe
from tests.web.test_i18n_pages import misses

__all__ = ["misses"]  # the fixture recording every lookup a catalog cannot answer


@pytest.mark.parametrize("language", ["de", "fr"])
async def test_billing_pages_have_every_string_translated(
    runtime: LocalRuntime, client: httpx.AsyncClient, misses: set[str], language: str
) -> None:
    account, headers = await member(runtime)
    await subscribe(runtime, account, status="past_due", grace_until=int(runtime.clock.now()) + 60)
    await add_ledger_rows(runtime, account, 3)
    await upsert_payment_statement(
        runtime.db,
        Payment(
            "in_1",
            "invoice",
            "creator",
            900,
            "eur",
            "partially_refunded",
            600,
            100,
            "https://x.example",
            1,
        ),
        account_id=account.id,
        paid_by=None,
    ).run()
    paths = ["/billing", "/pricing", "/pricing?canceled=1"]
    for item, status in [
        ("creator", "open"),
        ("pack_small", "processing"),
        ("pro", "fulfilled"),
        ("pack_large", "failed"),
    ]:
        session_id = await add_checkout(runtime, account, item=item, status=status)  # type: ignore[arg-type]
        paths += [
            f"/billing/return?session_id={session_id}",
            f"/billing/return/status?session_id={session_id}",
        ]
    for path in paths:
        response = await client.get(path, headers={**headers, "Accept-Language": language})
        assert response.status_code == 200, path
    for path in ["/pricing", "/cookies"]:
        response = await client.get(path, headers={"Accept-Language": language})
        assert response.status_code == 200, path
    assert misses == set()
