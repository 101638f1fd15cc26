"""The billing page (plan, payments, credit history, CSV) and the return from Checkout."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime

import httpx
import pytest

from beatbun.accounts.models import Account
from beatbun.billing.credits import Note, credit_statements, get_wallet, open_wallet
from beatbun.billing.models import CheckoutRecord, CheckoutStatus, Payment
from beatbun.billing.store import (
    insert_checkout_statement,
    insert_customer_statement,
    upsert_payment_statement,
)
from beatbun.settings import Settings
from beatbun.web.billing import LEDGER_PAGE_SIZE, ledger_note
from beatbun_local.runtime import LocalRuntime
from tests.web.test_billing_pages import STRIPE_TEST_KEY, member, subscribe

DAY = 86400


@pytest.fixture
def settings() -> Settings:
    return Settings(environment="test", stripe_secret_key=STRIPE_TEST_KEY)


async def add_ledger_rows(runtime: LocalRuntime, account: Account, count: int) -> None:
    """`count` purchases of 5 credits, one second apart, in batches as the webhook writes them."""
    await open_wallet(runtime.db, account.id, now=runtime.clock.now())
    for first in range(0, count, 20):
        statements = []
        for n in range(first, min(first + 20, count)):
            statements += credit_statements(
                runtime.db,
                account_id=account.id,
                kind="purchase",
                amount=5,
                idempotency_key=f"test:{n}",
                note=Note("%(credits)s credits", {"credits": 5}),
                now=runtime.clock.now() + n,
            )
        await runtime.db.batch(statements)


async def add_checkout(
    runtime: LocalRuntime, account: Account, *, item: str, status: CheckoutStatus
) -> str:
    session_id = f"cs_test_{account.id[:6]}_{item}_{status}"
    record = CheckoutRecord(
        id=session_id,
        account_id=account.id,
        mode="payment" if item.startswith("pack_") else "subscription",
        item=item,
        status=status,
        created_at=int(runtime.clock.now()),
    )
    await insert_checkout_statement(runtime.db, record, now=runtime.clock.now()).run()
    return session_id


async def test_billing_page_shows_the_free_plan_and_balance_without_a_portal_button(
    runtime: LocalRuntime, client: httpx.AsyncClient
) -> None:
    _, headers = await member(runtime)
    page = (await client.get("/billing", headers=headers)).text
    assert "Free plan, no payment needed" in page and "60 credits" in page
    assert 'action="/billing/portal"' not in page
    assert 'href="/pricing"' in page and "No payments yet." in page


async def test_billing_page_needs_a_login(client: httpx.AsyncClient) -> None:
    response = await client.get("/billing")
    assert response.status_code == 401


async def test_billing_page_of_a_subscriber_shows_renewal_and_manage_button(
    runtime: LocalRuntime, client: httpx.AsyncClient
) -> None:
    account, headers = await member(runtime)
    subscription = await subscribe(runtime, account, plan="pro")
    await insert_customer_statement(
        runtime.db, account_id=account.id, customer_id="cus_test", now=runtime.clock.now()
    ).run()
    page = (await client.get("/billing", headers=headers)).text
    assert "<dd>Pro</dd>" in page and "<dd>Active</dd>" in page
    assert "Renews on" in page and _day(subscription.current_period_end) in page
    assert 'action="/billing/portal"' in page and "Manage billing" in page


async def test_billing_page_says_when_a_canceled_plan_ends(
    runtime: LocalRuntime, client: httpx.AsyncClient
) -> None:
    account, headers = await member(runtime)
    subscription = await subscribe(runtime, account, cancel_at_period_end=True)
    page = (await client.get("/billing", headers=headers)).text
    assert f"Canceled: ends on {_day(subscription.current_period_end)}" in page
    assert "Renews on" not in page


async def test_billing_page_warns_when_a_renewal_failed(
    runtime: LocalRuntime, client: httpx.AsyncClient
) -> None:
    account, headers = await member(runtime)
    grace = int(runtime.clock.now()) + 7 * DAY
    await subscribe(runtime, account, status="past_due", grace_until=grace)
    page = (await client.get("/billing", headers=headers)).text
    assert "Your last payment failed" in page and 'role="alert"' in page
    assert f"Update your card in the billing portal by {_day(grace)}" in page


async def test_billing_page_lists_payments_with_status_amount_and_invoice(
    runtime: LocalRuntime, client: httpx.AsyncClient
) -> None:
    account, headers = await member(runtime)
    now = int(runtime.clock.now())
    payments = [
        Payment(
            "in_1",
            "invoice",
            "creator",
            900,
            "eur",
            "paid",
            600,
            0,
            "https://invoice.example/in_1",
            now - 2,
        ),
        Payment(
            "cs_2",
            "top_up",
            "pack_small",
            300,
            "eur",
            "partially_refunded",
            100,
            150,
            None,
            now - 1,
        ),
        Payment("in_3", "invoice", "pro", 2400, "eur", "failed", 0, 0, None, now),
    ]
    await runtime.db.batch(
        [
            upsert_payment_statement(runtime.db, p, account_id=account.id, paid_by=None)
            for p in payments
        ]
    )
    page = (await client.get("/billing", headers={**headers, "Accept-Language": "de"})).text
    assert "Creator-Tarif" in page and "100 Credits" in page
    assert "9,00\u00a0€" in page and "1,50\u00a0€ erstattet" in page
    assert "Bezahlt" in page and "Teilweise erstattet" in page and "Fehlgeschlagen" in page
    assert 'href="https://invoice.example/in_1"' in page


async def test_billing_page_pages_the_credit_history_fifty_rows_at_a_time(
    runtime: LocalRuntime, client: httpx.AsyncClient
) -> None:
    account, headers = await member(runtime)
    await add_ledger_rows(runtime, account, 60)  # plus the free plan's monthly grant: 61
    first = (await client.get("/billing", headers=headers)).text
    assert _ledger_rows(first) == LEDGER_PAGE_SIZE
    older = first.split('rel="next"', 1)[0].rsplit('href="', 1)[1].split('"', 1)[0]
    assert older.startswith("/billing?before=")
    second = (await client.get(older.split("#", 1)[0], headers=headers)).text
    assert _ledger_rows(second) == 11
    assert 'rel="next"' not in second and "Newest" in second
    assert "Free plan, " in second  # the oldest row is on the last page


async def test_billing_page_refuses_a_cursor_that_is_not_a_number(
    runtime: LocalRuntime, client: httpx.AsyncClient
) -> None:
    _, headers = await member(runtime)
    response = await client.get("/billing?before=abc", headers=headers)
    assert response.status_code == 422


async def test_ledger_csv_has_every_row_with_utc_iso_dates(
    runtime: LocalRuntime, client: httpx.AsyncClient
) -> None:
    account, headers = await member(runtime)
    await add_ledger_rows(runtime, account, 60)
    response = await client.get("/billing/ledger.csv", headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"].startswith("attachment; filename=")
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == ["id", "date", "kind", "amount", "balance_after", "job_id", "note"]
    assert len(rows) == 1 + 61
    assert all(row[1].endswith("Z") and "T" in row[1] for row in rows[1:])
    assert rows[1][4] == str((await get_wallet(runtime.db, account.id)).balance)
    assert {row[2] for row in rows[1:]} == {"grant", "purchase"}


async def test_ledger_csv_is_only_the_readers_own(
    runtime: LocalRuntime, client: httpx.AsyncClient
) -> None:
    other, _ = await member(runtime, "other@example.com")
    await add_ledger_rows(runtime, other, 3)
    _, headers = await member(runtime)
    rows = list(
        csv.reader(io.StringIO((await client.get("/billing/ledger.csv", headers=headers)).text))
    )
    # The header, then the reader's own free grant (every signed-in page opens the wallet);
    # none of the other account's rows.
    assert [row[2] for row in rows[1:]] == ["grant"]


@pytest.mark.parametrize(
    ("item", "status", "message", "refreshes"),
    [
        ("creator", "open", "Payment received, activating your Creator plan…", True),
        ("pack_small", "open", "Payment received, adding 100 credits…", True),
        (
            "pack_small",
            "processing",
            "Your payment is being processed by your bank; we will add your 100 credits when it clears.",
            True,
        ),
        ("creator", "fulfilled", "Done: your Creator plan is active.", False),
        ("pack_medium", "fulfilled", "Done: 500 credits were added.", False),
        ("pack_small", "failed", "The payment failed; nothing was charged.", False),
    ],
)
async def test_return_page_tells_how_the_checkout_stands(
    runtime: LocalRuntime,
    client: httpx.AsyncClient,
    item: str,
    status: CheckoutStatus,
    message: str,
    refreshes: bool,
) -> None:
    account, headers = await member(runtime)
    session_id = await add_checkout(runtime, account, item=item, status=status)
    response = await client.get(f"/billing/return?session_id={session_id}", headers=headers)
    assert response.status_code == 200
    assert message in response.text
    assert ('http-equiv="refresh"' in response.text) is refreshes
    assert 'role="status" aria-live="polite"' in response.text
    script = re.search(r"<script[^>]*billing-return\.js[^>]*>", response.text)
    assert script and f'nonce="{_nonce(response)}"' in script.group(0)


async def test_return_page_shows_the_new_balance_once_fulfilled(
    runtime: LocalRuntime, client: httpx.AsyncClient
) -> None:
    account, headers = await member(runtime)
    await add_ledger_rows(runtime, account, 20)  # 60 free + 100 bought
    session_id = await add_checkout(runtime, account, item="pack_small", status="fulfilled")
    page = (await client.get(f"/billing/return?session_id={session_id}", headers=headers)).text
    assert "Your balance is now 160 credits." in page


async def test_return_page_grants_nothing(runtime: LocalRuntime, client: httpx.AsyncClient) -> None:
    account, headers = await member(runtime)
    await open_wallet(runtime.db, account.id, now=runtime.clock.now())
    before = await get_wallet(runtime.db, account.id)
    for status in ("open", "fulfilled"):
        session_id = await add_checkout(runtime, account, item="pack_large", status=status)
        await client.get(f"/billing/return?session_id={session_id}", headers=headers)
        await client.get(f"/billing/return/status?session_id={session_id}", headers=headers)
    assert await get_wallet(runtime.db, account.id) == before


async def test_return_page_of_another_accounts_checkout_is_not_found(
    runtime: LocalRuntime, client: httpx.AsyncClient
) -> None:
    other, _ = await member(runtime, "other@example.com")
    session_id = await add_checkout(runtime, other, item="pack_small", status="fulfilled")
    _, headers = await member(runtime)
    page = await client.get(f"/billing/return?session_id={session_id}", headers=headers)
    status = await client.get(f"/billing/return/status?session_id={session_id}", headers=headers)
    assert page.status_code == status.status_code == 404
    assert "Done" not in page.text and "100 credits" not in status.text


async def test_return_page_without_a_session_id_is_not_found(
    runtime: LocalRuntime, client: httpx.AsyncClient
) -> None:
    _, headers = await member(runtime)
    assert (await client.get("/billing/return", headers=headers)).status_code == 404


async def test_return_status_json_is_in_the_readers_language(
    runtime: LocalRuntime, client: httpx.AsyncClient
) -> None:
    account, headers = await member(runtime)
    session_id = await add_checkout(runtime, account, item="pro", status="open")
    response = await client.get(
        f"/billing/return/status?session_id={session_id}",
        headers={**headers, "Accept-Language": "fr"},
    )
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "open" and body["settled"] is False and body["balance"] is None
    assert (
        body["plan"] == "pro"
        and "Pro" in body["message"]
        and body["message"].startswith("Paiement")
    )
    await (
        runtime.db.prepare("UPDATE checkout_sessions SET status = 'fulfilled' WHERE id = ?")
        .bind(session_id)
        .run()
    )
    settled = (
        await client.get(f"/billing/return/status?session_id={session_id}", headers=headers)
    ).json()
    wallet = await get_wallet(runtime.db, account.id)
    assert settled["settled"] is True and settled["balance"] == wallet.balance
    assert json.dumps(settled)  # plain JSON, for the page's script


@pytest.mark.parametrize(
    ("note", "language", "shown"),
    [
        (Note("Free plan, %(month)s", {"month": "2027-01"}), "de", "Free-Tarif, 2027-01"),
        (
            Note("%(plan)s plan, invoice %(invoice)s", {"plan": "Creator", "invoice": "in_123"}),
            "fr",
            "Forfait Creator, facture in_123",
        ),
        (Note("Track"), "de", "Track"),
        (Note("%(credits)s credits", {"credits": 1500}), "de", "1.500 Credits"),
        (
            Note("Refund: %(reason)s", {"reason": "provider_timeout"}),
            "en",
            "Refund: Making the track took too long.",
        ),
        (Note("Something new"), "fr", "Something new"),  # no translation: shown as recorded
    ],
)
def test_ledger_notes_are_shown_in_the_readers_language(
    note: Note, language: str, shown: str
) -> None:
    assert ledger_note(note, language) == shown


def _ledger_rows(page: str) -> int:
    ledger = page.split('id="ledger-title"', 1)[1].split("</table>", 1)[0]
    return ledger.count("<tr>") - 1  # the header row


def _nonce(response: httpx.Response) -> str:
    return response.headers["content-security-policy"].split("'nonce-", 1)[1].split("'", 1)[0]


def _day(timestamp: int | None) -> str:
    assert timestamp is not None
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
