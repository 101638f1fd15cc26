"""The studio as a console in Chromium, on a wide screen and on a phone: chips, the parameter
drawer (a bottom sheet on phones), the price, what the prompt resolves to, and live progress."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import count
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page

from beatbun.billing.pricing import price_in_credits
from tests.conftest import LiveServer
from tests.processes import PROJECT_ROOT
from tests.visitors import sign_in_browser
from tests.web.test_shell_browser import AXE, AXE_RUN, AXE_TAGS
from tests.web.test_studio_browser import slow_model, slow_server

pytestmark = pytest.mark.browser

__all__ = ["slow_model", "slow_server"]  # fixtures, used by name

SIZES = {"desktop": {"width": 1440, "height": 900}, "phone": {"width": 390, "height": 844}}
SHOTS = PROJECT_ROOT / "test-results" / "studio"
# Every event the studio hands to the docked player and to the measurements, as they happen.
RECORD_EVENTS = """
window.studioEvents = [];
for (const name of ["beatbun:play", "beatbun:measure"]) {
  document.addEventListener(name, (event) => window.studioEvents.push({ type: name, ...event.detail }));
}
"""
_emails = count()


@pytest.fixture
def server(shared_live_server: LiveServer) -> LiveServer:
    return shared_live_server


def open_studio(
    browser: Browser, server: LiveServer, size: str, *, scheme: str = "light"
) -> Iterator[Page]:
    context = browser.new_context(viewport=SIZES[size], color_scheme=scheme)  # type: ignore[arg-type]
    sign_in_browser(context, server, f"console-{size}-{next(_emails)}-{id(context)}@example.com")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.add_init_script(RECORD_EVENTS)
    page.goto(f"{server.url}/studio")
    yield page
    assert errors == []
    context.close()


@pytest.fixture(params=list(SIZES))
def studio(request: pytest.FixtureRequest, browser: Browser, server: LiveServer) -> Iterator[Page]:
    yield from open_studio(browser, server, request.param)


def is_phone(page: Page) -> bool:
    return bool(page.viewport_size and page.viewport_size["width"] < 600)


def open_drawer(page: Page) -> None:
    """On a phone the parameters wait in a closed bottom sheet; on a wide screen they show."""
    if is_phone(page):
        assert page.locator("[data-drawer]").get_attribute("open") is None
        page.get_by_text("Parameters", exact=True).first.click()
    page.get_by_label("Tempo (BPM)").wait_for(state="visible")


def events(page: Page, kind: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = page.evaluate("window.studioEvents")
    return [event for event in found if event["type"] == kind]


def covers_its_centre(page: Page, selector: str) -> bool:
    """The element at the centre of `selector`'s box is that element or inside it."""
    return bool(
        page.evaluate(
            """(selector) => {
                const target = document.querySelector(selector);
                const box = target.getBoundingClientRect();
                const found = document.elementFromPoint(box.x + box.width / 2, box.y + box.height / 2);
                return found !== null && (found === target || target.contains(found));
            }""",
            selector,
        )
    )


def test_chips_toggle_with_space_and_with_the_mouse(studio: Page) -> None:
    jazz = studio.get_by_role("checkbox", name="Jazz")
    jazz.focus()
    studio.keyboard.press("Space")
    assert jazz.is_checked()
    # The invisible control covers its chip, so a click anywhere on the chip lands on it.
    jazz.click()
    assert not jazz.is_checked()
    # The instrument, not the "Solo piano" genre nor the "Electric piano": each chip is itself.
    piano = studio.get_by_role("group", name="Instruments").get_by_role(
        "checkbox", name="Piano", exact=True
    )
    assert piano.get_attribute("name") == "instruments"
    piano.click()
    assert piano.is_checked()
    assert not studio.get_by_role("checkbox", name="Solo piano", exact=True).is_checked()
    studio.get_by_role("radio", name="Dreamy").click()
    assert studio.get_by_role("radio", name="Dreamy").is_checked()
    # The checkbox itself is never drawn: no raw square next to the chip's name.
    assert jazz.evaluate("box => getComputedStyle(box).opacity") == "0"
    clicks = events(studio, "beatbun:measure")
    assert (
        clicks
        == [{"type": "beatbun:measure", "name": "genre_tag_click", "value": 1, "label": "jazz"}] * 2
    )


def test_drawer_opens_and_nothing_covers_the_submit_button(studio: Page) -> None:
    studio.get_by_role("button", name="Make it").scroll_into_view_if_needed()
    assert covers_its_centre(studio, "[data-generate] button[type=submit]")
    open_drawer(studio)
    studio.get_by_label("Tempo (BPM)").scroll_into_view_if_needed()
    assert covers_its_centre(studio, "#bpm")
    if is_phone(studio):
        # A sheet over the bottom of the screen, closed again by its own button.
        box = studio.locator(".drawer__body").bounding_box()
        assert box and box["y"] + box["height"] == pytest.approx(844, abs=1)
        studio.get_by_role("button", name="Done").click()
        assert studio.locator("[data-drawer]").get_attribute("open") is None
    studio.get_by_role("button", name="Make it").scroll_into_view_if_needed()
    assert covers_its_centre(studio, "[data-generate] button[type=submit]")
    width = studio.evaluate("document.documentElement.scrollWidth")
    assert width <= studio.evaluate("window.innerWidth")


def test_the_cost_follows_the_length(studio: Page) -> None:
    open_drawer(studio)
    cost = studio.locator("[data-cost]")
    for seconds in ("60", "300", "7", "12.5"):
        studio.get_by_label("Length (seconds, 5 to 300)").fill(seconds)
        expected = price_in_credits(duration_seconds=float(seconds), has_lyrics=False)
        assert cost.inner_text() == str(expected)


def test_the_prompt_resolves_to_chips_and_says_what_chose_the_genre(studio: Page) -> None:
    studio.get_by_label("Describe your track").fill("a tune at 95 bpm for grandma")
    chips = studio.locator("[data-resolved-chips]")
    chips.get_by_role("button", name="Tempo: 95 BPM").wait_for()
    assert chips.get_by_role("button", name="Genre: Pop").is_visible()
    note = studio.locator("[data-resolved-note]")
    assert note.inner_text() == (
        "No genre named; chose pop to suit 95 BPM. Not understood: grandma."
    )
    words = studio.locator("[data-resolved-words]")
    assert words.inner_text() == "Understood: 95 bpm (95 BPM)"
    # A chip puts its value into the matching control, opening the sheet on a phone.
    chips.get_by_role("button", name="Tempo: 95 BPM").click()
    assert studio.get_by_label("Tempo (BPM)").input_value() == "95"
    assert studio.get_by_label("Tempo (BPM)").is_visible()


def test_submitting_shows_progress_and_hands_the_track_to_the_player(
    browser: Browser, slow_server: LiveServer
) -> None:
    for page in open_studio(browser, slow_server, "desktop"):
        page.get_by_label("Describe your track").click()
        page.keyboard.type("slow cinematic strings")
        page.get_by_label("Length (seconds, 5 to 300)").fill("5")
        page.get_by_role("button", name="Make it").click()
        job = page.locator('[data-jobs] [data-status="running"]')
        job.wait_for(timeout=10_000)
        # The queue does not know how far a render has got: the bar says so by moving freely.
        assert job.locator("progress").get_attribute("value") is None
        assert "Making your track" in page.locator(".status").inner_text()
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=SHOTS / "studio-desktop-light-progress.png", animations="disabled")
        done = page.locator('[data-jobs] [data-status="succeeded"]')
        done.wait_for(timeout=20_000)
        assert done.locator("progress").evaluate("bar => bar.value === bar.max")
        plays = events(page, "beatbun:play")
        assert plays == [
            {
                "type": "beatbun:play",
                "trackId": done.locator("[data-play]").get_attribute("data-play"),
                "title": "slow cinematic strings",
                "autoplay": False,
            }
        ]
        dwell = [e for e in events(page, "beatbun:measure") if e["name"] == "prompt_dwell_ms"]
        assert len(dwell) == 1 and dwell[0]["value"] > 0


def test_screenshots_of_the_studio_at_both_sizes_and_themes_with_no_serious_axe_finding(
    browser: Browser, server: LiveServer
) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    findings: dict[str, list[str]] = {}
    for size in SIZES:
        for scheme in ("light", "dark"):
            for page in open_studio(browser, server, size, scheme=scheme):
                page.get_by_label("Describe your track").fill(
                    "a tune at 95 bpm, warm and dreamy, for grandma"
                )
                page.locator("[data-resolved-note]").wait_for()
                page.get_by_role("checkbox", name="Synthwave").click()
                page.get_by_role("button", name="Genre: Synthwave").wait_for()
                _shoot(page, SHOTS / f"studio-{size}-{scheme}.png")
                page.evaluate(AXE.read_text())
                findings[f"{size}-{scheme}"] = page.evaluate(AXE_RUN, AXE_TAGS)
                if size == "phone":
                    open_drawer(page)
                    page.screenshot(
                        path=SHOTS / f"studio-{size}-{scheme}-sheet.png", animations="disabled"
                    )
                    findings[f"{size}-{scheme}-sheet"] = page.evaluate(AXE_RUN, AXE_TAGS)
    assert findings == {name: [] for name in findings}


def _shoot(page: Page, path: Path) -> None:
    page.screenshot(path=path, full_page=True, animations="disabled")


@pytest.mark.parametrize("size", list(SIZES))
def test_without_scripts_the_drawer_shows_and_the_form_fits(
    browser: Browser, server: LiveServer, size: str
) -> None:
    context = browser.new_context(viewport=SIZES[size], java_script_enabled=False)  # type: ignore[arg-type]
    sign_in_browser(context, server, f"console-nojs-{size}@example.com")
    page = context.new_page()
    page.goto(f"{server.url}/studio")
    assert page.get_by_label("Tempo (BPM)").is_visible()
    page.get_by_label("Describe your track").fill("a tune at 95 bpm for grandma")
    page.get_by_role("button", name="Check what we understood").click()
    assert "Not understood: grandma." in page.locator("[data-resolved-note]").inner_text()
    page.get_by_role("button", name="Make it").scroll_into_view_if_needed()
    assert covers_its_centre(page, "[data-generate] button[type=submit]")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=SHOTS / f"studio-{size}-no-script.png", full_page=True)
    context.close()
