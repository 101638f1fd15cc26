"""An operator writes, previews, tests and sends a campaign in Chromium; screenshots of the
pages at desktop and phone sizes."""

from __future__ import annotations

import sqlite3
import uuid

import pytest
from playwright.sync_api import Page, ViewportSize, expect

from tests.conftest import LiveServer, screenshot
from tests.mail_waits import wait_for_mail
from tests.visitors import sign_in_browser

pytestmark = pytest.mark.browser

DESKTOP: ViewportSize = {"width": 1440, "height": 900}
PHONE: ViewportSize = {"width": 390, "height": 844}


def _shoot(page: Page, name: str) -> None:
    for size, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        page.set_viewport_size(viewport)
        screenshot(page, f"admin-{name}-{size}")
    page.set_viewport_size(DESKTOP)


def test_operator_writes_previews_tests_and_sends_a_campaign(
    page: Page, live_server: LiveServer
) -> None:
    server, address = live_server, f"{uuid.uuid4().hex[:12]}@example.com"
    sign_in_browser(page.context, server, address)
    with sqlite3.connect(server.state_dir / "d1" / "DB.sqlite") as db:
        db.execute("UPDATE accounts SET is_admin = 1 WHERE email = ?", (address,))
    page.set_viewport_size(DESKTOP)
    page.goto(server.url + "/account")
    page.get_by_role("link", name="Operators").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Operators")
    _shoot(page, "index")
    page.get_by_role("link", name="Campaigns").click()
    page.get_by_role("link", name="New campaign").click()
    # Saving without the English email: the error is shown at its field.
    page.get_by_label("Name").fill("Stems launch")
    page.locator("#subject_en").fill("Stems are here")
    page.get_by_role("button", name="Save draft").click()
    expect(page.locator("#error-summary")).to_contain_text("Write the email for this language.")
    expect(page.locator("#body_en")).to_have_attribute("aria-invalid", "true")
    _shoot(page, "campaign-refused")
    page.locator("#body_en").fill(
        "# Stems are here\n\nSplit any track into **drums, bass and melody**.\n\n"
        "- Pick a track\n- Choose *Stems*\n\n[Open the studio](https://example.com/studio)"
    )
    page.locator("#subject_de").fill("Stems sind da")
    page.locator("#body_de").fill("# Stems sind da\n\nZerlege jeden Track in **Spuren**.")
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_role("status").first).to_have_text("Draft saved.")
    preview = page.locator('[data-preview="en"]')
    expect(preview.get_by_role("heading", name="Stems are here", level=1)).to_be_visible()
    expect(preview.locator("strong")).to_have_text("drums, bass and melody")
    expect(page.locator('[data-preview="de"]')).to_contain_text("Zerlege jeden Track")
    _shoot(page, "campaign-draft")

    page.get_by_label("Language of the test").select_option("de")
    page.get_by_role("button", name=f"Send a test to {address}").click()
    expect(page.get_by_role("status").first).to_have_text(f"Test email sent to {address}.")
    assert wait_for_mail(server.state_dir, address, count=2)[-1].startswith("# Stems sind da")

    page.get_by_label("I checked the previews").check()
    page.get_by_role("button", name="Send the campaign").click()
    expect(page.get_by_role("status").first).to_contain_text("Sending started.")
    expect(page.locator("[data-counts]")).to_be_visible()
    _shoot(page, "campaign-sending")
    page.get_by_role("link", name="Campaigns").click()
    expect(page.get_by_role("link", name="Stems launch")).to_be_visible()
    _shoot(page, "campaigns")
