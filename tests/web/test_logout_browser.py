"""Logging out in real Chromium: the account leaves no trace, the device keeps its cookie choice."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import Page

from tests.conftest import LiveServer
from tests.visitors import PASSWORD, signed_in
from tests.web.test_consent_browser import DRAFT_KEY, choose, storage_keys, with_prompt_box

pytestmark = pytest.mark.browser

SWITCHES = ("Allow Performance", "Allow Functionality", "Allow Marketing")


def _log_in(page: Page, server: LiveServer, address: str) -> None:
    page.goto(server.url + "/login")
    page.get_by_label("Email address").fill(address)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/studio")


def _cookies(page: Page) -> dict[str, str]:
    return {cookie["name"]: cookie["value"] for cookie in page.context.cookies()}


def _switches(page: Page, server: LiveServer) -> list[bool]:
    page.goto(server.url + "/privacy/choices")
    return [page.get_by_role("switch", name=name).is_checked() for name in SWITCHES]


@pytest.mark.parametrize("button", ["Accept all", "Reject all"])
def test_logout_keeps_the_devices_cookie_choice_and_clears_the_rest(
    live_server: LiveServer, page: Page, button: str
) -> None:
    address = f"{uuid.uuid4().hex[:12]}@example.com"
    signed_in(live_server.url, live_server.state_dir, address)
    choose(page, live_server, button)
    # What the site keeps for a visitor, where the choice allows it: theme and a studio draft.
    page.get_by_label("Theme").select_option("dark")
    page.get_by_role("button", name="Apply").click()
    page.goto(with_prompt_box(page, live_server))
    page.get_by_label("Prompt").fill("brass band at dawn")
    choice = _switches(page, live_server)
    _log_in(page, live_server, address)
    before = _cookies(page)
    assert "__Host-session" in before and "__Host-consent" in before
    page.goto(with_prompt_box(page, live_server))
    assert (DRAFT_KEY in storage_keys(page)) == (button == "Accept all")

    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(live_server.url + "/")

    after = _cookies(page)
    assert "__Host-session" not in after
    assert after["__Host-consent"] == before["__Host-consent"]
    assert "__Host-prefs" not in after and "__Host-prefs-session" not in after
    assert page.get_by_role("region", name="Your cookie choices").count() == 0
    assert page.get_by_role("button", name="Log out").count() == 0
    assert storage_keys(page) == {}
    assert page.locator("html").get_attribute("data-theme") in (None, "system")
    assert _switches(page, live_server) == choice
    # The banner stays away on the pages after, too.
    page.goto(live_server.url + "/pricing")
    assert page.get_by_role("region", name="Your cookie choices").count() == 0
