"""Consent, theme, language and drafts in real Chromium against the live server."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Request, Route, expect

from beatbun.consent.models import Category
from beatbun.consent.registry import find_item
from tests.conftest import LiveServer, screenshot
from tests.visitors import PASSWORD, signed_in

pytestmark = pytest.mark.browser

OPTIONAL_COOKIES = {"__Host-perf", "__Host-prefs"}
DRAFT_KEY = "beatbun.draft.studio-prompt"
# The studio's prompt box, added to a real page of the server so the draft memory runs there.
PROMPT_BOX = (
    '<form><label for="prompt">Prompt</label>'
    '<textarea id="prompt" data-remember-draft="studio-prompt"></textarea></form>'
)
DARK_BACKGROUND = "rgb(18, 17, 16)"
DRAFT = "warm jazz trio, brushed drums"


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    fresh = browser.new_context()
    yield fresh
    fresh.close()


def storage_keys(page: Page) -> dict[str, str]:
    """Every localStorage and sessionStorage key on the page, with its kind."""
    found: dict[str, str] = page.evaluate(
        """() => Object.fromEntries([
            ...Object.keys(localStorage).map((k) => [k, "localStorage"]),
            ...Object.keys(sessionStorage).map((k) => [k, "sessionStorage"]),
        ])"""
    )
    return found


def assert_only_allowed(page: Page, allowed: set[Category]) -> None:
    """Every cookie and storage key is declared, and belongs to an allowed category."""
    for cookie in page.context.cookies():
        item = find_item(cookie["name"], kind="cookie")
        assert item is not None and item.category in allowed, cookie["name"]
    for name, kind in storage_keys(page).items():
        item = find_item(name, kind=kind)  # type: ignore[arg-type]
        assert item is not None and item.category in allowed, name


def with_prompt_box(page: Page, server: LiveServer) -> str:
    """Serve the landing page at /draft with the studio's prompt box in it."""
    url = server.url + "/draft"

    def handle(route: Route) -> None:
        response = route.fetch(url=server.url + "/")
        body = response.text().replace('<main id="main">', '<main id="main">' + PROMPT_BOX, 1)
        route.fulfill(response=response, body=body)

    page.context.route(url, handle)
    return url


def type_then_reopen(page: Page, server: LiveServer) -> Page:
    """Type a prompt, close the tab, and open the same page again in the same browser."""
    url = with_prompt_box(page, server)
    page.goto(url)
    page.get_by_label("Prompt").fill(DRAFT)
    page.close()
    reopened = page.context.new_page()
    reopened.goto(url)
    return reopened


def choose(page: Page, server: LiveServer, button: str) -> None:
    page.goto(server.url + "/")
    page.get_by_role("button", name=button).click()
    page.wait_for_load_state()


def test_first_visit_shows_the_banner_and_leaves_only_necessary_items(
    live_server: LiveServer, page: Page
) -> None:
    page.goto(live_server.url + "/")
    banner = page.get_by_role("region", name="Your cookie choices")
    assert banner.is_visible()
    # Equal visual weight: the three choices render at the same size.
    sizes = [
        banner.get_by_role("button", name="Accept all").bounding_box(),
        banner.get_by_role("button", name="Reject all").bounding_box(),
        banner.get_by_role("link", name="Customize").bounding_box(),
    ]
    assert all(box is not None for box in sizes)
    assert len({(round(b["height"]), round(b["width"])) for b in sizes if b}) == 1
    screenshot(page, "consent-banner")
    assert_only_allowed(page, {"necessary"})


def test_reject_all_leaves_no_optional_cookie_or_storage_key(
    live_server: LiveServer, page: Page
) -> None:
    choose(page, live_server, "Reject all")
    assert page.get_by_role("region", name="Your cookie choices").count() == 0
    page.goto(with_prompt_box(page, live_server))
    page.get_by_label("Prompt").fill("dark synthwave at 100 bpm")
    assert_only_allowed(page, {"necessary"})  # on the page typed in, before any reload
    page.goto(live_server.url + "/privacy/choices")
    assert_only_allowed(page, {"necessary"})


def test_accept_all_then_withdrawal_deletes_cookies_and_storage(
    live_server: LiveServer, page: Page
) -> None:
    choose(page, live_server, "Accept all")
    page.get_by_label("Theme").select_option("dark")
    page.get_by_role("button", name="Apply").click()
    page.goto(with_prompt_box(page, live_server))
    page.get_by_label("Prompt").fill("lo-fi piano in A minor")
    names = {cookie["name"] for cookie in page.context.cookies()}
    assert names >= OPTIONAL_COOKIES and DRAFT_KEY in storage_keys(page)
    assert_only_allowed(page, {"necessary", "performance", "functionality", "marketing"})

    page.get_by_role("link", name="Cookie preferences").click()
    page.get_by_role("button", name="Reject all").click()
    page.wait_for_load_state()
    names = {cookie["name"] for cookie in page.context.cookies()}
    assert names.isdisjoint(OPTIONAL_COOKIES) and storage_keys(page) == {}
    assert_only_allowed(page, {"necessary"})
    assert page.locator("html").get_attribute("data-theme") == "dark"  # kept for the session


def test_one_switch_withdraws_a_single_category(live_server: LiveServer, page: Page) -> None:
    choose(page, live_server, "Accept all")
    page.goto(live_server.url + "/privacy/choices")
    with page.expect_navigation():  # the switch alone submits: one click withdraws
        page.get_by_role("switch", name="Allow Performance").click()
    assert "__Host-perf" not in {cookie["name"] for cookie in page.context.cookies()}
    assert page.get_by_role("switch", name="Allow Functionality").is_checked()


def test_gpc_request_defaults_marketing_off(live_server: LiveServer, browser: Browser) -> None:
    context = browser.new_context(extra_http_headers={"Sec-GPC": "1"})
    page = context.new_page()
    choose(page, live_server, "Accept all")
    page.goto(live_server.url + "/privacy/choices")
    assert not page.get_by_role("switch", name="Allow Marketing").is_checked()
    assert page.get_by_text("Opt-out request honored").is_visible()
    context.close()


def test_page_gpc_signal_turns_an_earlier_marketing_opt_in_off(
    live_server: LiveServer, page: Page
) -> None:
    choose(page, live_server, "Accept all")
    # Chromium has no GPC setting; the property is what extensions and other browsers expose.
    page.context.add_init_script(
        "Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', {get: () => true})"
    )
    with page.expect_response("**/consent/gpc"):
        page.goto(live_server.url + "/privacy/choices")
    # consent.js reported the signal and reloads; the reloaded page has marketing off.
    expect(page.get_by_role("switch", name="Allow Marketing")).not_to_be_checked()
    expect(page.get_by_text("Opt-out request honored")).to_be_visible()


def test_page_gpc_opt_in_from_the_preference_center_sticks(
    live_server: LiveServer, page: Page
) -> None:
    page.context.add_init_script(
        "Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', {get: () => true})"
    )
    page.goto(live_server.url + "/privacy/choices")
    # Told of the conflict before switching marketing on against the signal.
    expect(page.get_by_text("Switching marketing on here overrides it")).to_be_visible()
    with page.expect_navigation():
        page.get_by_role("switch", name="Allow Marketing").click()
    page.reload()
    assert page.get_by_role("switch", name="Allow Marketing").is_checked()
    expect(page.get_by_text("You turned marketing on although")).to_be_visible()
    expect(page.get_by_text("Opt-out request honored")).to_be_hidden()


def test_dark_theme_is_dark_in_the_first_paint(live_server: LiveServer, page: Page) -> None:
    page.emulate_media(color_scheme="light")
    page.goto(live_server.url + "/")
    page.get_by_label("Theme").select_option("dark")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_load_state()
    # No script may run: the server's first byte of HTML has to carry the theme on its own.
    page.context.route("**/*.js", lambda route: route.abort())
    page.goto(live_server.url + "/login")
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == DARK_BACKGROUND


def test_following_the_system_theme_uses_the_dark_system_setting(
    live_server: LiveServer, page: Page
) -> None:
    page.emulate_media(color_scheme="dark")
    page.context.route("**/*.js", lambda route: route.abort())
    page.goto(live_server.url + "/")
    assert page.locator("html").get_attribute("data-theme") is None
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == DARK_BACKGROUND


def test_draft_survives_reopening_the_page_with_functionality_allowed(
    live_server: LiveServer, context: BrowserContext
) -> None:
    page = context.new_page()
    page.goto(live_server.url + "/privacy/choices")
    with page.expect_navigation():
        page.get_by_role("switch", name="Allow Functionality").click()
    reopened = type_then_reopen(page, live_server)
    assert reopened.get_by_label("Prompt").input_value() == DRAFT
    assert "unfinished prompt" in reopened.get_by_role("status").inner_text()


def test_draft_is_forgotten_without_functionality(
    live_server: LiveServer, context: BrowserContext
) -> None:
    page = context.new_page()
    choose(page, live_server, "Reject all")
    reopened = type_then_reopen(page, live_server)
    assert reopened.get_by_label("Prompt").input_value() == ""
    assert storage_keys(reopened) == {}


def test_choice_on_one_device_is_adopted_by_another_without_banner(
    live_server: LiveServer, browser: Browser
) -> None:
    address = f"{uuid.uuid4().hex[:12]}@example.com"
    signed_in(live_server.url, live_server.state_dir, address)
    devices = [browser.new_context(), browser.new_context()]
    laptop, phone = (device.new_page() for device in devices)
    for page in (laptop, phone):
        page.goto(live_server.url + "/login")
        page.get_by_label("Email address").fill(address)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url("**/studio")
    laptop.get_by_role("button", name="Accept all").click()
    laptop.wait_for_load_state()
    phone.goto(live_server.url + "/")
    assert phone.get_by_role("region", name="Your cookie choices").count() == 0
    assert "__Host-perf" in {cookie["name"] for cookie in devices[1].cookies()}
    laptop.goto(live_server.url + "/privacy/choices")
    laptop.get_by_role("button", name="Reject all").click()
    laptop.wait_for_load_state()
    phone.reload()
    assert "__Host-perf" not in {cookie["name"] for cookie in devices[1].cookies()}
    for device in devices:
        device.close()


def test_gated_script_waits_for_consent_then_runs_with_the_nonce(
    live_server: LiveServer, page: Page
) -> None:
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(live_server.url + "/")
    assert not any(url.endswith("/static/js/analytics.js") for url in requested)
    with page.expect_request("**/analytics/events") as beacon:
        page.get_by_role("button", name="Accept all").click()
    assert beacon.value.post_data_json == {"kind": "page_view", "label": "/"}
    assert page.locator('script[data-category="performance"]:not([type])').count() == 1


def open_studio(page: Page, server: LiveServer, consent_button: str) -> None:
    """Sign up over HTTP, hand the session to the browser, answer the banner, open the studio."""
    visitor = signed_in(server.url, server.state_dir, f"{uuid.uuid4().hex[:12]}@example.com")
    session = visitor.cookies["__Host-session"]
    page.context.add_cookies(
        [
            {
                "name": "__Host-session",
                "value": session,
                "domain": "127.0.0.1",
                "path": "/",
                "secure": True,
                "httpOnly": True,
                "sameSite": "Lax",
            }
        ]
    )
    choose(page, server, consent_button)
    page.goto(server.url + "/studio")


def test_studio_prompt_draft_is_offered_back_after_reopening(
    live_server: LiveServer, context: BrowserContext
) -> None:
    page = context.new_page()
    open_studio(page, live_server, "Accept all")
    page.get_by_label("Describe your track").fill(DRAFT)
    page.close()
    reopened = context.new_page()
    reopened.goto(live_server.url + "/studio")
    assert reopened.get_by_label("Describe your track").input_value() == DRAFT
    assert_only_allowed(reopened, {"necessary", "performance", "functionality", "marketing"})


def test_studio_genre_tag_click_is_counted_with_performance_consent(
    live_server: LiveServer, page: Page
) -> None:
    open_studio(page, live_server, "Accept all")
    tag = page.locator("[data-genre-tag]").first
    with page.expect_request(_genre_click) as beacon:
        tag.click()
    sent = (beacon.value.post_data_json or {})["measurements"]
    assert {"name": "genre_tag_click", "value": 1, "label": tag.get_attribute("value")} in sent


def _genre_click(request: Request) -> bool:
    items = (request.post_data_json or {}).get("measurements", [])
    return request.url.endswith("/analytics/measurements") and any(
        item.get("name") == "genre_tag_click" for item in items
    )
