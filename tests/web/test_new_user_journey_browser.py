"""A new person's whole first visit in Chromium, at desktop and phone size, light and dark.

Land, sign up, confirm the address, arrive in the studio without typing an address, make a
track and watch it progress, play it in the docked player and seek on its waveform, go to the
library with the track still in the player, rename it, favourite it, filter, share it and open
the link logged out, stop sharing (404), delete and undo, delete for good. Screenshots of each
stop go to test-results/screenshots/journey-<step>-<size>-<theme>.png.
"""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.conftest import LiveServer, screenshot
from tests.visitors import sign_up_in_browser

pytestmark = pytest.mark.browser

SIZES = {"desktop": (1440, 900), "phone": (390, 844)}
PROMPT = "chill lo-fi piano at 80 bpm, rain on the window"
TITLE = "Chill lo-fi piano at 80 bpm"


def _fits(page: Page) -> None:
    # A click that submits a form returns once the next page starts to arrive: measure it whole.
    page.wait_for_load_state()
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{page.url} scrolls sideways by {overflow} px"


def _audio_time(page: Page) -> float:
    return float(page.evaluate("document.querySelector('[data-player-audio]').currentTime"))


@pytest.mark.parametrize("theme", ["light", "dark"])
@pytest.mark.parametrize("size", list(SIZES))
def test_a_new_person_makes_plays_keeps_shares_and_deletes_a_track(
    shared_live_server: LiveServer, browser: Browser, size: str, theme: str
) -> None:
    server = shared_live_server
    width, height = SIZES[size]
    context = browser.new_context(
        viewport={"width": width, "height": height},
        color_scheme=theme,  # type: ignore[arg-type]
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    def shot(step: str) -> None:
        _fits(page)
        screenshot(page, f"journey-{step}-{size}-{theme}")

    # Land, and sign up from the hero.
    page.goto(server.url + "/")
    page.get_by_role("button", name="Reject all").click()
    shot("landing")
    page.get_by_role("link", name="Start free").click()
    sign_up_in_browser(page, server.url, f"journey-{uuid.uuid4().hex[:10]}@example.com")
    # Confirming the address lands in the studio, logged in.
    expect(page).to_have_url(server.url + "/studio")
    expect(page.get_by_role("heading", name="Studio", level=1)).to_be_visible()
    balance = page.locator("[data-balance]").inner_text()

    # Make a track and watch it move through the queue.
    page.get_by_label("Describe your track").fill(PROMPT)
    expect(page.locator("[data-resolved]").get_by_text("Tempo: 80 BPM")).to_be_visible()
    shot("studio")
    page.get_by_role("button", name="Make it").click()
    job = page.locator("[data-job]").first
    expect(job).to_have_attribute("data-status", "succeeded", timeout=30_000)
    expect(page.locator("[data-balance]")).not_to_have_text(balance)  # the spend, live

    # The docked player has it: play, then seek by clicking the middle of the waveform.
    player = page.locator("[data-player]")
    expect(player.locator("[data-player-title]")).to_have_text(TITLE)
    if size == "phone":
        player.locator("[data-player-expand]").click()
    player.locator("[data-player-play]").click()
    page.wait_for_function(
        "() => !document.querySelector('[data-player-audio]').paused"
        " && document.querySelector('[data-player-audio]').currentTime > 0.2",
        timeout=10_000,
    )
    wave = player.locator("[data-player-wave]")
    box = wave.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    assert 12 <= _audio_time(page) <= 18  # half of a 30 s track
    shot("playing")

    # The library: the player still holds the track, and the row is there.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Library").click()
    expect(page.get_by_role("heading", name="Your library", level=1)).to_be_visible()
    expect(page.locator("[data-player] [data-player-title]")).to_have_text(TITLE)
    page.wait_for_function("() => document.querySelector('[data-player-audio]').readyState >= 1")
    row = page.locator("[data-track-row]").first
    track_id = row.get_attribute("data-track-row")
    row.get_by_text("Rename").click()
    row.get_by_label("New title").fill("Rainy piano")
    row.get_by_role("button", name="Save title").click()
    row = page.locator(f'[data-track-row="{track_id}"]')
    expect(row.locator(".track__title")).to_have_text("Rainy piano")
    star = row.locator(".favourite__button")
    star.click()
    expect(star).to_have_attribute("aria-pressed", "true")
    page.get_by_label("Favourites only").check()
    page.wait_for_url("**favourites=1**")
    expect(page.locator("[data-track-row]")).to_have_count(1)
    shot("library")

    # Share it; the link plays for someone logged out; stopping the share is a 404 at once.
    page.get_by_role("link", name="Rainy piano").click()
    track_url = page.url
    page.get_by_role("button", name="Make a public link").click()
    shared = page.locator("[data-share-url]").input_value()
    shot("track")
    stranger = browser.new_context(viewport={"width": width, "height": height})
    outside = stranger.new_page()
    outside.goto(shared)
    expect(outside.get_by_role("heading", name="Rainy piano", level=1)).to_be_visible()
    assert stranger.request.get(f"{shared}/audio", headers={"Range": "bytes=0-11"}).status == 206
    page.get_by_role("button", name="Stop sharing (the link stops working at once)").click()
    gone = outside.goto(shared)
    assert gone is not None and gone.status == 404
    stranger.close()

    # Delete, undo, delete for good.
    page.goto(track_url)
    page.get_by_text("Delete", exact=True).click()
    page.get_by_role("button", name="Delete this track").click()
    page.wait_for_url("**deleted=**")
    page.get_by_role("button", name="Undo").click()
    expect(page.locator(f'[data-track-row="{track_id}"]')).to_be_visible()
    page.goto(track_url)
    page.get_by_text("Delete", exact=True).click()
    page.get_by_role("button", name="Delete this track").click()
    page.wait_for_url("**deleted=**")
    expect(page.locator(f'[data-track-row="{track_id}"]')).to_have_count(0)
    assert errors == []
    deleted = page.goto(track_url)
    assert deleted is not None and deleted.status == 404
    context.close()
