"""Marketing email in Chromium: turned on from the email settings page, confirmed from the
mailed link, then unsubscribed from a marketing email's visible link."""

from __future__ import annotations

import re
import sqlite3
import uuid
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, expect

from beatbun.mail.marketingrules import unsubscribe_url
from beatbun.settings import Settings
from tests.conftest import LiveServer, screenshot
from tests.mail_waits import wait_for_mail
from tests.visitors import sign_in_browser

pytestmark = pytest.mark.browser

CONFIRM_LINK = re.compile(r"https?://\S+(/email/confirm-marketing\?token=\S+)")
PHONE = {"width": 390, "height": 844}


def test_double_opt_in_then_unsubscribe(live_server: LiveServer, browser: Browser) -> None:
    email = f"{uuid.uuid4().hex[:10]}@example.com"
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    sign_in_browser(context, live_server, email)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    # The page, from the account sidebar: service notices always on, marketing off.
    page.goto(live_server.url + "/account")
    page.locator("nav.account-nav").get_by_role("link", name="Email").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Email")
    expect(page.get_by_role("heading", name="Service notices")).to_contain_text("Always on")
    expect(page.locator("#marketing-title .pill")).to_have_text("Off")
    screenshot(page, "email-settings-off-1440")

    # Turning on mails a link first.
    page.get_by_role("button", name="Turn on").click()
    expect(page.get_by_role("status").filter(has_text="We emailed you a link")).to_be_visible()
    expect(page.locator("#marketing-title .pill")).to_have_text("Waiting for your confirmation")
    screenshot(page, "email-settings-pending-1440")
    page.set_viewport_size(PHONE)
    # On a phone the answer lands on the section it is about, not at the top of the page.
    page.goto(page.url)
    expect(page.get_by_role("status").filter(has_text="We emailed you a link")).to_be_in_viewport()
    screenshot(page, "email-settings-pending-390")
    page.set_viewport_size({"width": 1440, "height": 900})

    # The link's page asks once more, then marketing is on.
    mailed = wait_for_mail(live_server.state_dir, email, count=2)
    found = CONFIRM_LINK.search(mailed[-1])
    assert found, mailed[-1]
    page.goto(live_server.url + found.group(1))
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirm product updates and offers")
    screenshot(page, "email-confirm-marketing-1440")
    page.get_by_role("button", name="Yes, send me these emails").click()
    expect(page).to_have_url(re.compile(r"/account/email\?done=marketing_on#marketing$"))
    expect(page.locator("#marketing-title .pill")).to_have_text("On")
    expect(page.get_by_role("cell", name="Turned on (link confirmed)")).to_be_visible()
    screenshot(page, "email-settings-on-1440")
    page.set_viewport_size(PHONE)
    screenshot(page, "email-settings-on-390")
    page.set_viewport_size({"width": 1440, "height": 900})

    # A marketing email's visible unsubscribe link: one button, then off at once.
    with sqlite3.connect(live_server.state_dir / "d1" / "DB.sqlite") as db:
        (account_id,) = db.execute("SELECT id FROM accounts WHERE email = ?", (email,)).fetchone()
    link = urlsplit(unsubscribe_url(Settings(), account_id))
    page.goto(live_server.url + link.path)
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Unsubscribe from product updates and offers"
    )
    screenshot(page, "email-unsubscribe-1440")
    page.set_viewport_size(PHONE)
    screenshot(page, "email-unsubscribe-390")
    page.get_by_role("button", name="Unsubscribe").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("You are unsubscribed")
    screenshot(page, "email-unsubscribed-390")
    page.get_by_role("link", name="email settings").click()
    expect(page.locator("#marketing-title .pill")).to_have_text("Off")
    expect(page.get_by_role("cell", name="Unsubscribe link")).to_be_visible()
    assert errors == []
    context.close()
