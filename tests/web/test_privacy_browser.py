"""The "Privacy & data" page in Chromium: reached from the sidebar, the profile edited on the
account page and shown on a shared track, an objection switched on, an export asked for."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import Browser, expect

from tests.conftest import LiveServer, screenshot
from tests.visitors import PASSWORD, sign_in_browser
from tests.web.privacy_browser import shoot_state

pytestmark = pytest.mark.browser


def test_privacy_page_from_the_nav_profile_and_an_objection(
    live_server: LiveServer, browser: Browser
) -> None:
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    sign_in_browser(context, live_server, f"{uuid.uuid4().hex[:10]}@example.com")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(live_server.url + "/studio")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Account").click()

    # The public profile, on the account page.
    page.get_by_label("Artist name").fill("DJ Bun")
    page.get_by_label("Short bio").fill("Lo-fi from Leipzig.\nSince 2019.")
    page.get_by_label("Link").fill("bun.example/music")
    page.get_by_role("button", name="Save profile").click()
    expect(page.get_by_role("status").filter(has_text="Profile saved.")).to_be_visible()
    expect(page.get_by_label("Link")).to_have_value("https://bun.example/music")
    page.get_by_label("Link").fill("http://bun.example")
    page.get_by_role("button", name="Save profile").click()
    expect(page.locator("#link-error")).to_contain_text("https://")
    expect(page.get_by_label("Link")).to_have_attribute("aria-invalid", "true")

    # The privacy page, from the account sidebar.
    sidebar = page.locator("nav.account-nav")  # named after the person
    sidebar.get_by_role("link", name="Privacy & data").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Privacy & data")
    expect(sidebar.get_by_role("link", name="Privacy & data")).to_have_attribute(
        "aria-current", "page"
    )
    page.get_by_text("Account and sign-in").click()  # a group of the data map opens
    expect(page.get_by_text("How long we keep it").first).to_be_visible()

    analytics = page.get_by_role("switch", name="Analytics")
    expect(analytics).not_to_be_checked()
    analytics.check()
    page.get_by_role("button", name="Save my objections").click()
    expect(page.get_by_role("status").filter(has_text="Your choices are saved")).to_be_visible()
    expect(page.get_by_role("switch", name="Analytics")).to_be_checked()
    expect(page.get_by_role("switch", name="Marketing")).not_to_be_checked()

    # An export: a wrong password is refused next to its field, on the same page (the sidebar
    # still says where); the right one confirms and asks in one step, and the link appears.
    page.get_by_label("Confirm your password to request your export").fill("not my password")
    page.get_by_role("button", name="Request an export").click()
    expect(page.locator("#export_password-error")).to_be_visible()
    expect(sidebar.get_by_role("link", name="Privacy & data")).to_have_attribute(
        "aria-current", "page"
    )
    summary = page.locator(".error-summary").bounding_box()
    card = page.locator("#export").bounding_box()
    assert summary and card and summary["width"] == pytest.approx(card["width"], abs=1)
    shoot_state(page, "export-refused", focus="#error-summary")
    page.get_by_label("Confirm your password to request your export").fill(PASSWORD)
    page.get_by_role("button", name="Request an export").click()
    expect(page.get_by_role("link", name="Download export")).to_be_visible(timeout=20_000)
    screenshot(page, "privacy-page-desktop-light")
    assert errors == []
    context.close()
