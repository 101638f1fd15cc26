"""The landing page in Chromium: no errors, demos that play in place, screenshots to look at."""

from __future__ import annotations

from typing import Literal

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, expect

from beatbun.generation.demos import DEMOS
from tests.conftest import LiveServer, screenshot
from tests.processes import PROJECT_ROOT

pytestmark = pytest.mark.browser

SHOTS = PROJECT_ROOT / "test-results" / "landing"
SIZES = {"desktop": (1440, 900), "phone": (390, 844)}
THEMES: tuple[Literal["light"], Literal["dark"]] = ("light", "dark")
PLAYING = "(audio) => audio.readyState >= 2 && !audio.paused && audio.currentTime > 0"


def test_landing_page_renders_without_console_errors(live_server: LiveServer, page: Page) -> None:
    errors: list[str] = []
    page.on("console", lambda message: _collect_error(message, errors))
    page.on("pageerror", lambda error: errors.append(str(error)))
    response = page.goto(live_server.url + "/")
    assert response is not None and response.status == 200
    assert page.get_by_role("heading", level=1).inner_text() == "Type a feeling. Hear a track."
    assert page.title() == "Beat Bun"
    assert screenshot(page, "landing").stat().st_size > 10_000
    assert errors == []


def test_landing_demos_play_in_place_one_at_a_time(live_server: LiveServer, page: Page) -> None:
    page.goto(live_server.url + "/")
    players = page.locator("[data-demo] audio")
    expect(players).to_have_count(len(DEMOS))
    first, second = players.nth(0), players.nth(1)
    first.evaluate("(audio) => audio.play()")
    page.wait_for_function(PLAYING, arg=first.element_handle())
    expect(page.locator("[data-demo][data-playing]")).to_have_count(1)
    second.evaluate("(audio) => audio.play()")
    page.wait_for_function(PLAYING, arg=second.element_handle())
    # Starting one demo pauses the other: the page never plays two at once.
    assert first.evaluate("(audio) => audio.paused")
    assert page.url == live_server.url + "/"


def test_landing_waveform_click_seeks_and_fills_as_it_plays(
    live_server: LiveServer, page: Page
) -> None:
    page.goto(live_server.url + "/")
    card = page.locator("[data-demo]").nth(2)
    audio = card.locator("audio")
    wave = card.locator("[data-demo-wave]")
    box = wave.bounding_box()
    assert box is not None
    wave.click(position={"x": box["width"] * 0.5, "y": box["height"] / 2})
    page.wait_for_function(PLAYING, arg=audio.element_handle())
    # Half-way into a 24-second demo, and the played part of the waveform drawn up to there.
    assert 11.5 <= audio.evaluate("(a) => a.currentTime") <= 14
    played = float(card.locator("[data-played]").get_attribute("width") or 0)
    assert 30 <= played <= 38


def test_landing_screenshots_at_both_sizes_and_themes(
    live_server: LiveServer, browser: Browser
) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    for size, (width, height) in SIZES.items():
        for theme in THEMES:
            context = browser.new_context(
                viewport={"width": width, "height": height}, color_scheme=theme
            )
            page = context.new_page()
            page.goto(live_server.url + "/")
            page.get_by_role("button", name="Reject all").click()
            page.wait_for_load_state()
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow == 0, f"{size} {theme} scrolls sideways by {overflow} px"
            page.screenshot(path=SHOTS / f"landing-{size}-{theme}.png", full_page=True)
            page.screenshot(path=SHOTS / f"landing-{size}-{theme}-fold.png")
            context.close()


def _collect_error(message: ConsoleMessage, errors: list[str]) -> None:
    if message.type == "error":
        errors.append(message.text)
