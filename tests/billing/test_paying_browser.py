"""Paying, in Chromium, on the real local server with the Stripe sandbox delivering webhooks.

A free user who has run out of credits follows the link to /pricing, subscribes with the test
card, comes back to the new plan and balance and a track that is now kept and still plays; buys
credits; is declined; and cancels in the portal.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from beatbun.billing.plans import PACKS, PLANS
from tests.conftest import LiveServer, running_with_stripe, screenshot
from tests.stripe_sandbox.server import RunningSandbox
from tests.visitors import sign_in_browser

pytestmark = pytest.mark.browser

EMAIL = "payer@example.com"
CARD = "4242 4242 4242 4242"
DECLINED = "4000 0000 0000 0002"


@pytest.fixture
def payments(tmp_path: Path) -> Iterator[tuple[LiveServer, RunningSandbox]]:
    yield from running_with_stripe(tmp_path)


def _spend_everything(server: LiveServer) -> None:
    """What making tracks until the balance is gone leaves: a debit of the rest, in the ledger."""
    with sqlite3.connect(server.state_dir / "d1" / "DB.sqlite") as db:
        (account_id, balance) = db.execute(
            "SELECT w.account_id, w.balance FROM wallets w JOIN accounts a ON a.id = w.account_id"
            " WHERE a.email = ?",
            (EMAIL,),
        ).fetchone()
        db.execute("UPDATE wallets SET balance = 0 WHERE account_id = ?", (account_id,))
        db.execute(
            "INSERT INTO credit_ledger (account_id, kind, amount, balance_after, note, created_at)"
            " VALUES (?, 'adjustment', ?, 0, 'Spent in another session', unixepoch())",
            (account_id, -balance),
        )


def _pay(page: Page, card: str) -> None:
    expect(page).to_have_title(re.compile("Stripe sandbox checkout"))
    page.get_by_label("Card number").fill(card)
    page.get_by_label("Expiration (MM / YY)").fill("12 / 34")
    page.get_by_label("CVC").fill("123")
    page.get_by_role("button", name="Pay").click()


def _make_track(page: Page, server: LiveServer, prompt: str) -> None:
    page.goto(f"{server.url}/studio")
    page.get_by_label("Describe your track").fill(prompt)
    page.get_by_label("Length (seconds, 5 to 300)").fill("5")
    page.get_by_role("button", name="Make it").click()


def _reload_until(page: Page, text: str) -> None:
    """Reload until the page says `text`: the webhook that changes it may still be on its way."""
    for _ in range(50):
        if text in page.locator("main").inner_text():
            return
        page.wait_for_timeout(300)
        page.reload()
    raise AssertionError(f"{page.url} never said {text!r}")


def _balance(page: Page, server: LiveServer) -> str:
    page.goto(f"{server.url}/billing")
    return page.locator(".summary-grid").inner_text()


def test_free_user_subscribes_tops_up_is_declined_and_cancels(
    page: Page, payments: tuple[LiveServer, RunningSandbox]
) -> None:
    server, _ = payments
    sign_in_browser(page.context, server, EMAIL)
    _make_track(page, server, "rainy lo-fi before the upgrade")
    expect(page.locator("[data-jobs] [data-job]").first).to_have_attribute(
        "data-status", "succeeded", timeout=30_000
    )
    page.goto(f"{server.url}/tracks")
    expect(page.locator(".track__expiry")).to_have_count(1)

    # Out of credits: the studio says so and links to the plans.
    _spend_everything(server)
    _make_track(page, server, "one more")
    link = page.get_by_role("link", name="Buy credits or choose a plan")
    expect(link).to_be_visible()
    link.click()
    expect(page).to_have_url(re.compile(r"/pricing$"))

    # Subscribe to Creator with the test card; the return page follows the webhook.
    page.get_by_role("button", name="Choose Creator").click()
    _pay(page, CARD)
    expect(page).to_have_url(re.compile(r"/billing/return\?session_id=cs_"))
    expect(page.get_by_role("status")).to_contain_text(
        "Done: your Creator plan is active.", timeout=15_000
    )
    screenshot(page, "billing-return-subscribed")
    # The header's balance shows the plan's credits without a reload.
    status = page.request.get(
        page.url.replace("/billing/return?", "/billing/return/status?"),
        headers={"Accept": "application/json"},
    ).json()
    expect(page.locator("[data-balance]")).to_have_text(f"{status['balance']:,}")
    summary = _balance(page, server)
    assert "Creator" in summary
    assert f"{PLANS['creator'].monthly_credits} credits" in summary

    # The track made on the free plan is kept now, and plays.
    page.goto(f"{server.url}/tracks")
    expect(page.locator(".track__expiry")).to_have_count(0)
    expect(page.locator(".track__kept")).to_have_count(1)
    played = page.evaluate(
        """async () => {
            const audio = document.querySelector('audio');
            audio.muted = true;
            await audio.play();
            await new Promise((done) => setTimeout(done, 700));
            return audio.currentTime;
        }"""
    )
    assert played > 0

    # A top-up with the test card.
    pack = PACKS["pack_small"]
    page.goto(f"{server.url}/pricing")
    page.get_by_role("button", name=f"Buy {pack.credits} credits").click()
    _pay(page, CARD)
    expect(page.get_by_role("status")).to_contain_text(
        f"Done: {pack.credits} credits were added.", timeout=15_000
    )
    total = PLANS["creator"].monthly_credits + pack.credits
    assert f"{total} credits" in _balance(page, server)

    # A declined card: a clear message on Stripe's page, and nothing granted.
    page.goto(f"{server.url}/pricing")
    page.get_by_role("button", name=f"Buy {PACKS['pack_large'].credits:,} credits").click()
    _pay(page, DECLINED)
    expect(page.get_by_role("alert")).to_contain_text("Your card was declined.")
    screenshot(page, "billing-declined")
    assert f"{total} credits" in _balance(page, server)

    # Cancelling in the portal ends the plan at the end of the period.
    page.get_by_role("button", name="Manage billing").click()
    page.get_by_role("button", name="Cancel plan").click()
    page.get_by_role("link", name="Return to Beat Bun").click()
    expect(page).to_have_url(re.compile(r"/billing$"))
    _reload_until(page, "Canceled: ends on")
    screenshot(page, "billing-canceling")
