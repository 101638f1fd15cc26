"""`/api/v1/billing*` (read scope) and `/api/v1/plans` (public), in process."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from beatbun.accounts.apikeys import create_api_key
from beatbun.accounts.models import Account
from beatbun.billing.models import Payment
from beatbun.billing.plans import CURRENCY, GRACE_SECONDS, PACKS, PLANS
from beatbun.billing.store import upsert_payment_statement
from beatbun.web.api_docs import list_operations
from beatbun_local.runtime import LocalRuntime
from tests.factories import create_verified_account
from tests.web.test_billing_history import add_ledger_rows
from tests.web.test_billing_pages import subscribe

BILLING_PATHS = (
    "/api/v1/billing",
    "/api/v1/billing/payments",
    "/api/v1/billing/ledger",
)


async def key_holder(
    runtime: LocalRuntime, *, scopes: tuple[str, ...] = ("read",)
) -> tuple[Account, dict[str, str]]:
    account = await create_verified_account(runtime)
    _, secret = await create_api_key(
        runtime.db, account_id=account.id, name="tests", scopes=scopes, now=runtime.clock.now()
    )
    return account, {"Authorization": f"Bearer {secret}"}


@pytest.mark.parametrize("path", BILLING_PATHS)
async def test_billing_api_needs_an_api_key(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)
    assert response.status_code == 401
    assert response.json()["error"] == "api_key_required"


@pytest.mark.parametrize("path", BILLING_PATHS)
async def test_billing_api_needs_the_read_scope(
    runtime: LocalRuntime, client: httpx.AsyncClient, path: str
) -> None:
    _, headers = await key_holder(runtime, scopes=("generate",))
    response = await client.get(path, headers=headers)
    assert response.status_code == 403
    assert response.json()["error"] == "insufficient_scope"


async def test_billing_summary_of_a_free_account(
    runtime: LocalRuntime, client: httpx.AsyncClient
) -> None:
    _, headers = await key_holder(runtime)
    response = await client.get("/api/v1/billing", headers=headers)
    assert response.status_code == 200
    assert response.json() == {
        "plan": {"id": "free", "name": "Free"},
        "status": "free",
        "current_period_end": None,
        "cancel_at_period_end": False,
        "grace_until": None,
        "balance": PLANS["free"].monthly_credits,
        "currency": CURRENCY,
    }


async def test_billing_summary_of_a_past_due_subscriber(
    runtime: LocalRuntime, client: httpx.AsyncClient
) -> None:
    account, headers = await key_holder(runtime)
    grace = int(runtime.clock.now()) + GRACE_SECONDS
    subscription = await subscribe(
        runtime, account, plan="pro", status="past_due", grace_until=grace
    )
    body = (await client.get("/api/v1/billing", headers=headers)).json()
    assert body["plan"] == {"id": "pro", "name": "Pro"}
    assert body["status"] == "past_due" and body["grace_until"] == grace
    assert body["current_period_end"] == subscription.current_period_end


async def test_payments_are_listed_newest_first_in_pages(
    runtime: LocalRuntime, client: httpx.AsyncClient
) -> None:
    account, headers = await key_holder(runtime)
    now = int(runtime.clock.now())
    await runtime.db.batch(
        [
            upsert_payment_statement(
                runtime.db,
                Payment(f"in_{n}", "invoice", "creator", 900, "eur", "paid", 600, 0, None, now + n),
                account_id=account.id,
                paid_by=None,
            )
            for n in range(5)
        ]
    )
    first = (await client.get("/api/v1/billing/payments?limit=3", headers=headers)).json()
    assert [item["id"] for item in first["items"]] == ["in_4", "in_3", "in_2"]
    assert first["items"][0] == {
        "id": "in_4",
        "kind": "invoice",
        "item": "creator",
        "amount": 900,
        "amount_refunded": 0,
        "currency": "eur",
        "status": "paid",
        "credits": 600,
        "url": None,
        "created_at": now + 4,
    }
    second = (
        await client.get(
            f"/api/v1/billing/payments?limit=3&before={first['next_before']}", headers=headers
        )
    ).json()
    assert [item["id"] for item in second["items"]] == ["in_1", "in_0"]
    assert second["next_before"] is None


async def test_ledger_is_listed_in_pages_until_the_first_row(
    runtime: LocalRuntime, client: httpx.AsyncClient
) -> None:
    account, headers = await key_holder(runtime)
    await add_ledger_rows(runtime, account, 9)  # and the monthly grant: 10 rows
    seen: list[int] = []
    before: int | None = None
    while True:
        query = "limit=4" + (f"&before={before}" if before else "")
        page = (await client.get(f"/api/v1/billing/ledger?{query}", headers=headers)).json()
        seen += [item["id"] for item in page["items"]]
        before = page["next_before"]
        if before is None:
            break
    assert len(seen) == 10 and seen == sorted(seen, reverse=True)
    oldest = (await client.get("/api/v1/billing/ledger?limit=10", headers=headers)).json()
    assert oldest["items"][-1]["kind"] == "grant" and oldest["next_before"] is None


@pytest.mark.parametrize("query", ["limit=0", "limit=201", "before=0", "before=x"])
async def test_ledger_refuses_a_bad_page(
    runtime: LocalRuntime, client: httpx.AsyncClient, query: str
) -> None:
    _, headers = await key_holder(runtime)
    response = await client.get(f"/api/v1/billing/ledger?{query}", headers=headers)
    assert response.status_code == 422


async def test_plans_are_public_and_come_from_the_plan_rules(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/plans")
    assert response.status_code == 200
    body = response.json()
    assert body["currency"] == CURRENCY
    assert [(p["id"], p["monthly_price"], p["monthly_credits"]) for p in body["plans"]] == [
        (plan.id, plan.monthly_price_cents, plan.monthly_credits) for plan in PLANS.values()
    ]
    assert [(p["id"], p["credits"], p["price"]) for p in body["packs"]] == [
        (pack.id, pack.credits, pack.price_cents) for pack in PACKS.values()
    ]
    free = body["plans"][0]
    assert free["retention_seconds"] == PLANS["free"].retention_seconds
    assert free["licence"]["id"] == "personal"
    assert body["rules"]["credits_expire"] is False
    assert body["rules"]["grace_seconds"] == GRACE_SECONDS


def test_api_reference_lists_the_billing_operations(app: FastAPI) -> None:
    listed = {(op.method, op.path) for op in list_operations(app.openapi(), "en")}
    for path in (*BILLING_PATHS, "/api/v1/plans"):
        assert ("GET", path) in listed
