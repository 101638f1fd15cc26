from __future__ import annotations

import time
import uuid

import pyotp
import pytest
from playwright.sync_api import Page

from tests.conftest import LiveServer, screenshot
from tests.visitors import PASSWORD

pytestmark = pytest.mark.browser


def test_signup_verify_from_outbox_enable_totp_and_log_in(
    live_server: LiveServer, page: Page
) -> None:
    address = f"{uuid.uuid4().hex[:10]}@example.com"
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(live_server.url + "/")
    page.get_by_role("link", name="Sign up").click()
    page.get_by_label("Email address").fill(address)
    page.get_by_label("Display name").fill("Browser Person")
    page.get_by_label("Date of birth").fill("1991-02-03")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Check your inbox"

    page.goto(live_server.url + "/dev/outbox")
    link = page.get_by_role("link", name="/verify-email?token=").first.get_attribute("href") or ""
    # Mailed links use PUBLIC_URL (port 8787); the test server listens on its own port.
    page.goto(live_server.url + link[link.index("/verify-email") :])
    page.get_by_role("button", name="Confirm my email address").click()
    # The link logged this browser in and opened the studio.
    assert page.get_by_role("heading", level=1).inner_text() == "Studio"

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Account").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Your account"
    page.get_by_role("link", name="Two-step verification").click()
    # Two-step changes need the password again (a login does not count); confirming it
    # carries on to the key. The page itself never writes.
    page.get_by_role("link", name="Confirm your password to set up two-step verification").click()
    page.get_by_label("Current password").fill(PASSWORD)
    page.get_by_role("button", name="Confirm password").click()
    secret = page.locator("#totp-secret").inner_text()
    assert page.locator(".qr svg").count() == 1
    screenshot(page, "accounts-two-step")
    page.get_by_label("6-digit code").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Turn on two-step verification").click()
    assert page.locator("#recovery-codes li").count() == 10

    page.get_by_role("button", name="Log out").click()
    page.get_by_role("link", name="Log in").click()
    page.get_by_label("Email address").fill(address)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    # The enrolment used the current step; the next one is within the allowed drift.
    page.get_by_label("Code from your authenticator app").fill(
        pyotp.TOTP(secret).at(time.time() + 30)
    )
    page.get_by_role("button", name="Verify").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Studio"
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Account").click()
    assert page.get_by_role("heading", level=2, name="Browser Person").is_visible()
    assert errors == []
