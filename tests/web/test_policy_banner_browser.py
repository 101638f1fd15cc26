"""The policy-change banner in Chromium: shown to older accounts on every page until "Got it"."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, expect

from beatbun.policies.versions import latest_significant
from tests.conftest import SCREENSHOTS, LiveServer, running_live_server, shoot_light_and_dark
from tests.visitors import sign_in_browser

pytestmark = pytest.mark.browser

SIZES = {"desktop": (1440, 900), "phone": (390, 844)}
PAGES = ("/studio", "/tracks", "/billing", "/account", "/privacy")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    yield from running_live_server(tmp_path_factory.mktemp("banner"))


def _older_account(context: BrowserContext, server: LiveServer) -> None:
    """Sign in an account made before every significant change of the privacy policy and terms."""
    address = f"{uuid.uuid4().hex[:12]}@example.com"
    sign_in_browser(context, server, address)
    changes = [latest_significant("privacy"), latest_significant("terms")]
    earliest = min(change.effective_at for change in changes if change is not None)
    with sqlite3.connect(server.state_dir / "d1" / "DB.sqlite") as db:
        db.execute(
            "UPDATE accounts SET created_at = ? WHERE email = ?", (int(earliest) - 86400, address)
        )


def test_banner_stays_on_every_page_until_got_it_then_never_again(
    browser: Browser, server: LiveServer
) -> None:
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    _older_account(context, server)
    page = context.new_page()
    for path in PAGES:
        page.goto(server.url + path)
        banner = page.get_by_role("region", name="We changed our policies")
        expect(banner).to_be_visible()
        # Each change is folded to its document, version and date.
        expect(banner.locator("summary")).to_have_count(2)
        for document in ("Privacy policy", "Terms of service"):
            expect(banner.locator("summary", has_text=document)).to_contain_text("version")
    # Opening a change shows its text and the link to the whole document.
    terms = banner.locator("details", has_text="Terms of service")
    expect(terms.get_by_role("link", name="Read the whole document")).to_be_hidden()
    terms.locator("summary").click()
    expect(terms.get_by_role("link", name="Read the whole document")).to_be_visible()
    expect(terms.get_by_role("link", name="Read the whole document")).to_have_attribute(
        "href", "/terms#history"
    )
    # In the page's flow under the header: it pushes the content down and covers nothing.
    layout = page.evaluate(
        """() => {
            const banner = document.querySelector('[data-policy-banner]').getBoundingClientRect();
            const main = document.querySelector('main').getBoundingClientRect();
            const style = getComputedStyle(document.querySelector('[data-policy-banner]'));
            return {position: style.position, bannerBottom: banner.bottom, mainTop: main.top};
        }"""
    )
    assert layout["position"] == "static" and layout["bannerBottom"] <= layout["mainTop"]
    # The cookie choices, answered once, no longer stand above it.
    page.get_by_role("button", name="Reject all").click()
    for size, (width, height) in SIZES.items():
        page.set_viewport_size({"width": width, "height": height})
        page.goto(server.url + "/studio")
        shoot_light_and_dark(page, SCREENSHOTS / "policy-banner", size)
        # "Got it" is in view without scrolling, on a phone too.
        button = page.get_by_role("button", name="Got it").bounding_box()
        assert button is not None and button["y"] + button["height"] <= height

    page.goto(server.url + "/tracks")
    page.get_by_role("button", name="Got it").click()

    expect(page).to_have_url(server.url + "/tracks")
    expect(page.get_by_role("region", name="We changed our policies")).to_have_count(0)
    for path in PAGES:
        page.goto(server.url + path)
        expect(page.locator("[data-policy-banner]")).to_have_count(0)
    context.close()


def test_got_it_works_without_javascript(browser: Browser, server: LiveServer) -> None:
    context = browser.new_context(java_script_enabled=False)
    _older_account(context, server)
    page = context.new_page()
    page.goto(server.url + "/account")

    page.get_by_role("button", name="Got it").click()

    expect(page).to_have_url(server.url + "/account")
    expect(page.locator("[data-policy-banner]")).to_have_count(0)
    context.close()


def test_a_new_account_never_sees_the_banner(browser: Browser, server: LiveServer) -> None:
    context = browser.new_context()
    sign_in_browser(context, server, f"{uuid.uuid4().hex[:12]}@example.com")
    page = context.new_page()
    for path in PAGES:
        page.goto(server.url + path)
        expect(page.get_by_role("heading", level=1).first).to_be_visible()
        expect(page.locator("[data-policy-banner]")).to_have_count(0)
    context.close()
