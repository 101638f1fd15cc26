"""The return from Checkout in Chromium: it follows the webhook's progress without a reload."""

from __future__ import annotations

import sqlite3
import time
import uuid

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.conftest import LiveServer
from tests.visitors import sign_in_browser

pytestmark = pytest.mark.browser


def _add_checkout(server: LiveServer, email: str, *, status: str) -> str:
    """A checkout row as `start_checkout` leaves it; the webhook is played by `_settle`."""
    session_id = f"cs_test_{uuid.uuid4().hex}"
    with sqlite3.connect(server.state_dir / "d1" / "DB.sqlite") as db:
        (account_id,) = db.execute("SELECT id FROM accounts WHERE email = ?", (email,)).fetchone()
        now = int(time.time())
        db.execute(
            "INSERT INTO checkout_sessions (id, account_id, mode, item, status, created_at,"
            " updated_at) VALUES (?, ?, 'payment', 'pack_small', ?, ?, ?)",
            (session_id, account_id, status, now, now),
        )
    return session_id


def _settle(server: LiveServer, session_id: str, status: str) -> None:
    with sqlite3.connect(server.state_dir / "d1" / "DB.sqlite") as db:
        db.execute("UPDATE checkout_sessions SET status = ? WHERE id = ?", (status, session_id))


def test_return_page_updates_itself_when_the_payment_is_confirmed(
    shared_live_server: LiveServer, page: Page
) -> None:
    email = f"{uuid.uuid4().hex[:12]}@example.com"
    sign_in_browser(page.context, shared_live_server, email)
    session_id = _add_checkout(shared_live_server, email, status="open")
    loads: list[str] = []
    page.on("load", lambda _: loads.append(page.url))
    page.goto(f"{shared_live_server.url}/billing/return?session_id={session_id}")
    status = page.locator("[data-return-state][role=status]")
    expect(status).to_contain_text("Payment received, adding 100 credits…")
    expect(page.get_by_role("link", name="Make a track")).to_be_hidden()
    _settle(shared_live_server, session_id, "fulfilled")
    expect(status).to_contain_text("Done: 100 credits were added.", timeout=10_000)
    expect(page.get_by_role("link", name="Make a track")).to_be_visible()
    expect(page.get_by_role("link", name="Try again")).to_be_hidden()
    assert len(loads) == 1  # updated in place, never reloaded


def test_return_page_without_javascript_reloads_until_settled(
    shared_live_server: LiveServer, browser: Browser
) -> None:
    email = f"{uuid.uuid4().hex[:12]}@example.com"
    context = browser.new_context(java_script_enabled=False)
    sign_in_browser(context, shared_live_server, email)
    session_id = _add_checkout(shared_live_server, email, status="processing")
    page = context.new_page()
    page.goto(f"{shared_live_server.url}/billing/return?session_id={session_id}")
    expect(page.get_by_text("being processed by your bank")).to_be_visible()
    _settle(shared_live_server, session_id, "failed")
    expect(page.get_by_text("The payment failed; nothing was charged.")).to_be_visible(
        timeout=10_000
    )
    context.close()
