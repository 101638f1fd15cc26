"""The docked player in Chromium, at desktop and phone size, light and dark.

A 30-second composed track (and a copy of it) is made before the server starts; the browser
logs in as a person would and hands the track to the player with the page contract
(`beatbun:play`). Screenshots go to test-results/player/.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from beatbun.generation.models import GenerationRequest
from beatbun.generation.queue import UserQueue
from beatbun.generation.service import submit_generation
from beatbun.settings import Settings
from beatbun.tracks.store import list_tracks
from beatbun_local.migrations import apply_migrations
from beatbun_local.runtime import LocalRuntime
from tests.conftest import CHROMIUM, CHROMIUM_ARGS, MIGRATIONS, LiveServer
from tests.factories import clone_track, create_verified_account
from tests.generation.conftest import drain
from tests.processes import PROJECT_ROOT
from tests.tracks.conftest import set_plan
from tests.visitors import Visitor, hand_session_to, log_in
from tests.web.test_shell_browser import AXE, AXE_RUN, AXE_TAGS, INSPECT

pytestmark = pytest.mark.browser

SHOTS = PROJECT_ROOT / "test-results" / "player"
EMAIL = "listener@example.com"
SECONDS = 30
SIZES = {"desktop": (1440, 900), "phone": (390, 844)}
Theme = Literal["light", "dark"]
SHARE_LINK = re.compile(r'/s/([A-Za-z0-9_-]+)"')
# Every `beatbun:measure` event the page dispatches, kept on window for the test to read.
RECORD_MEASURES = """
window.measures = [];
document.addEventListener("beatbun:measure", (event) => window.measures.push(event.detail));
"""
# Predicates are functions: a string would be evaluated, which the page's CSP refuses.
PAUSED = "() => document.querySelector('[data-player-audio]').paused"
MEASURED = "(name) => window.measures.some((m) => m.name === name)"
# Pixels of the waveform canvas that are not transparent background.
INKED_PIXELS = """() => {
  const canvas = document.querySelector("[data-player-wave] canvas");
  const { data } = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height);
  let inked = 0;
  for (let index = 3; index < data.length; index += 4) if (data[index] > 0) inked += 1;
  return inked;
}"""
# The colour of the last inked pixel (an unplayed bar), and whether the canvas has one backing
# pixel per device pixel.
LAST_INK = """() => {
  const canvas = document.querySelector("[data-player-wave] canvas");
  const { data } = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height);
  for (let index = data.length - 4; index >= 0; index -= 4) {
    if (data[index + 3] === 255) return `${data[index]},${data[index + 1]},${data[index + 2]}`;
  }
  return "";
}"""
SHARP = """() => {
  const canvas = document.querySelector("[data-player-wave] canvas");
  return canvas.width === Math.round(canvas.clientWidth * devicePixelRatio);
}"""
# What the browser finds at the centre of each footer control, once the page is scrolled down.
FOOTER_HITS = """() => {
  window.scrollTo(0, document.documentElement.scrollHeight);
  const footer = document.querySelector(".site-footer");
  const controls = [...footer.querySelectorAll("a, select, button")];
  return controls.filter((el) => {
    const box = el.getBoundingClientRect();
    const found = document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2);
    return !(found === el || el.contains(found) || el.labels?.[0]?.contains(found));
  }).map((el) => el.textContent.trim() || el.id);
}"""


async def _seeded(state_dir: Path) -> tuple[str, str]:
    runtime = LocalRuntime.open(
        state_dir, settings=Settings(environment="test"), user_queue=UserQueue
    )
    try:
        await apply_migrations(runtime.db, MIGRATIONS)
        account = await create_verified_account(runtime, email=EMAIL)
        await set_plan(runtime, account_id=account.id, plan="free")
        request = GenerationRequest.parse(
            {"prompt": "warm lo-fi piano at dusk", "duration_seconds": SECONDS, "seed": 3}
        )
        await submit_generation(
            runtime, account_id=account.id, request=request, idempotency_key=None
        )
        await drain(runtime)
        (original,) = await list_tracks(runtime.db, account_id=account.id)
        (copy,) = await clone_track(runtime, original, copies=1)
        await (
            runtime.db.prepare("UPDATE tracks SET title = ? WHERE id = ?")
            .bind("Second take", copy)
            .run()
        )
        return original.id, copy
    finally:
        runtime.close()


@pytest.fixture(scope="module")
def seeded_server(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[LiveServer, str, str]]:
    folder = tmp_path_factory.mktemp("player")
    first, second = asyncio.run(_seeded(folder / "state"))
    server = LiveServer(folder / "state", folder / "server.log")
    server.start()
    yield server, first, second
    server.stop()


def _open(browser: Browser, server: LiveServer, size: str, theme: Theme) -> tuple[Page, list[str]]:
    width, height = SIZES[size]
    # Phones have dense screens: the waveform must be drawn for their pixels, not blurred.
    context = browser.new_context(
        viewport={"width": width, "height": height},
        color_scheme=theme,
        device_scale_factor=2 if size == "phone" else 1,
    )
    return _signed_in_page(context, server)


def _signed_in_page(context: BrowserContext, server: LiveServer) -> tuple[Page, list[str]]:
    """A page of a logged-in context that records measurements; the page's errors as they come."""
    visitor = Visitor(server.url)
    assert log_in(visitor, EMAIL).status_code == 303
    hand_session_to(context, visitor)
    context.add_init_script(RECORD_MEASURES)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    return page, errors


def _hand_over(page: Page, track_id: str, *, autoplay: bool) -> None:
    page.evaluate(
        """([trackId, autoplay]) => document.dispatchEvent(new CustomEvent("beatbun:play",
            { detail: { trackId, title: "", autoplay } }))""",
        [track_id, autoplay],
    )


def _audio(page: Page) -> dict[str, Any]:
    state: dict[str, Any] = page.evaluate(
        """() => { const a = document.querySelector("[data-player-audio]");
          return { time: a.currentTime, paused: a.paused, duration: a.duration }; }"""
    )
    return state


def _wait_playing(page: Page, *, after: float = 0.0) -> None:
    page.wait_for_function(
        """(after) => { const a = document.querySelector("[data-player-audio]");
          return !a.paused && a.currentTime > after + 0.3; }""",
        arg=after,
        timeout=10_000,
    )


def _measures(page: Page, name: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = page.evaluate(
        "(name) => window.measures.filter((m) => m.name === name)", name
    )
    return found


def _shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / f"{name}.png")


@pytest.mark.parametrize("theme", ["light", "dark"])
@pytest.mark.parametrize("size", list(SIZES))
def test_player_journey(
    seeded_server: tuple[LiveServer, str, str], browser: Browser, size: str, theme: Theme
) -> None:
    server, track_id, second_id = seeded_server
    page, errors = _open(browser, server, size, theme)
    page.goto(f"{server.url}/studio")
    dock = page.locator("[data-player]")
    expect(dock).to_be_hidden()  # nothing handed over yet

    _hand_over(page, track_id, autoplay=False)
    expect(page.locator("[data-player] [data-player-title]")).to_have_text(
        "Warm lo-fi piano at dusk"
    )
    page.wait_for_function(f"() => ({INKED_PIXELS})() > 500")
    assert page.evaluate(SHARP)
    # A theme change redraws the waveform in the other theme's colours.
    ink = page.evaluate(LAST_INK)
    page.emulate_media(color_scheme="dark" if theme == "light" else "light")
    page.wait_for_function(f"(ink) => ({LAST_INK})() !== ink", arg=ink)
    page.emulate_media(color_scheme=theme)
    page.wait_for_function(f"(ink) => ({LAST_INK})() === ink", arg=ink)
    wave = page.get_by_role("slider", name="Position in the track")
    expect(wave).to_have_attribute("aria-valuemax", str(SECONDS))

    # Play: the start is measured from the request to `playing`.
    page.get_by_role("button", name="Play", exact=True).click()
    _wait_playing(page)
    (start,) = _measures(page, "player_start_ms")
    assert start["label"] == "first" and 0 <= start["value"] < 10_000
    expect(page.get_by_role("button", name="Pause", exact=True)).to_be_visible()

    # Clicking the middle of the waveform seeks to the middle of the track.
    box = wave.bounding_box()
    assert box is not None
    wave.click(position={"x": box["width"] / 2, "y": box["height"] / 2})
    assert _audio(page)["time"] == pytest.approx(SECONDS / 2, abs=1.5)
    expect(wave).to_have_attribute("aria-valuetext", "0:15 of 0:30", timeout=2_000)

    # Space pauses and plays again from anywhere but a field or a button; arrows seek by 5 s.
    page.evaluate("document.activeElement.blur()")
    page.keyboard.press("Space")
    page.wait_for_function(PAUSED)
    paused_at = _audio(page)["time"]
    page.keyboard.press("ArrowRight")
    assert _audio(page)["time"] == pytest.approx(paused_at + 5, abs=0.3)
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")
    assert _audio(page)["time"] == pytest.approx(paused_at - 5, abs=0.3)
    page.get_by_label("Describe your track").focus()
    page.keyboard.press("Space")  # typed, not a shortcut
    assert _audio(page)["paused"]
    page.evaluate("document.activeElement.blur()")
    page.keyboard.press("Space")
    _wait_playing(page, after=paused_at - 5)

    # Phones get a slim bar that opens with a tap; the shortcut list opens from the "?".
    if size == "phone":
        assert dock.bounding_box()["height"] < 72  # type: ignore[index]
        expect(page.get_by_role("button", name="Keyboard shortcuts")).to_be_hidden()
        _shot(page, f"dock-{size}-{theme}-slim")
        page.get_by_role("button", name="More player controls").click()
    help_button = page.get_by_role("button", name="Keyboard shortcuts")
    help_button.click()
    keys = page.locator("[data-player-keys]")
    expect(keys).to_be_visible()
    expect(keys).to_contain_text("Play or pause")
    _shot(page, f"dock-{size}-{theme}-help")
    page.keyboard.press("Escape")
    expect(keys).to_be_hidden()
    page.keyboard.press("?")
    expect(keys).to_be_visible()
    page.keyboard.press("?")
    expect(keys).to_be_hidden()
    _shot(page, f"dock-{size}-{theme}-studio")

    # To the library: the same track carries on where it was.
    before = _audio(page)["time"]
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Library").click()
    page.wait_for_url("**/tracks")
    expect(page.locator("[data-player] [data-player-title]")).to_have_text(
        "Warm lo-fi piano at dusk"
    )
    # Measured on this page too: from the request to `playing`.
    page.wait_for_function(MEASURED, arg="player_start_ms")
    resumed_at = _audio(page)["time"]
    assert resumed_at >= before
    _wait_playing(page, after=resumed_at)
    _shot(page, f"dock-{size}-{theme}-library")

    # A library row's play button hands its track to the dock; the row's own audio is hidden.
    row = page.locator(f'[data-track-row="{second_id}"]')
    expect(row.locator("audio")).to_be_hidden()
    row.get_by_role("button", name="Play Second take").click()
    expect(page.locator("[data-player] [data-player-title]")).to_have_text("Second take")
    _wait_playing(page)
    # While its track plays, the row's button pauses it.
    row.get_by_role("button", name="Pause Second take").click()
    page.wait_for_function(PAUSED)
    expect(row.get_by_role("button", name="Play Second take")).to_be_visible()
    row.get_by_role("button", name="Play Second take").click()
    _wait_playing(page, after=_audio(page)["time"])

    # The dock covers nothing: every control is what the browser finds at its centre.
    for path in ("/studio", "/tracks", "/account", f"/tracks/{track_id}"):
        page.goto(server.url + path)
        expect(dock).to_be_visible()
        assert page.evaluate(FOOTER_HITS) == [], path
        if path == "/tracks":  # scrolled to the end: the footer sits above the dock
            _shot(page, f"dock-{size}-{theme}-footer")
        seen = page.evaluate(INSPECT)
        assert (seen["covered"], seen["small"], seen["unfocused"]) == ([], [], []), path
        assert seen["overflow"] <= 0, path
        page.evaluate(AXE.read_text())
        assert page.evaluate(AXE_RUN, AXE_TAGS) == [], path
    assert errors == []
    page.context.close()


def test_track_page_plays_in_the_dock_and_downloads_are_timed(
    seeded_server: tuple[LiveServer, str, str], browser: Browser
) -> None:
    server, track_id, _ = seeded_server
    page, errors = _open(browser, server, "desktop", "light")
    page.goto(f"{server.url}/tracks/{track_id}")
    expect(page.locator("main audio")).to_be_hidden()
    page.locator("main").get_by_role("button", name="Play", exact=True).click()
    _wait_playing(page)
    # One sound at a time: the page's own control yields to the dock and the other way round.
    page.evaluate("document.querySelector('main audio').play()")
    page.wait_for_function(PAUSED)
    page.evaluate("document.querySelector('main audio').pause()")

    with page.expect_download() as download:
        page.locator("[data-player]").get_by_role("link", name="Download WAV").click()
    assert download.value.suggested_filename.endswith(".wav")
    size = Path(download.value.path()).stat().st_size
    page.wait_for_function(MEASURED, arg="download_bytes")
    (took,) = _measures(page, "download_ms")
    (bytes_,) = _measures(page, "download_bytes")
    assert bytes_ == {"name": "download_bytes", "value": size, "label": "1_10mb"}
    assert took["label"] == "1_10mb" and took["value"] >= 0
    assert errors == []
    page.context.close()


def test_a_second_tab_that_plays_pauses_the_first(
    seeded_server: tuple[LiveServer, str, str], browser: Browser
) -> None:
    server, track_id, second_id = seeded_server
    first, errors = _open(browser, server, "desktop", "light")
    first.goto(f"{server.url}/tracks")
    _hand_over(first, track_id, autoplay=False)
    first.get_by_role("button", name="Play", exact=True).click()
    _wait_playing(first)
    second = first.context.new_page()
    second.goto(f"{server.url}/tracks/{second_id}")
    second.locator("main").get_by_role("button", name="Play", exact=True).click()
    _wait_playing(second)
    first.wait_for_function(PAUSED)
    assert errors == []
    first.context.close()


def test_shared_page_keeps_its_own_player(
    seeded_server: tuple[LiveServer, str, str], browser: Browser
) -> None:
    server, track_id, _ = seeded_server
    visitor = Visitor(server.url)
    assert log_in(visitor, EMAIL).status_code == 303
    shared = visitor.post(f"/tracks/{track_id}/share", {}, csrf_from=f"/tracks/{track_id}")
    assert shared.status_code == 303
    token = SHARE_LINK.search(visitor.get(f"/tracks/{track_id}").text)
    assert token
    page, errors = _open(browser, server, "desktop", "light")
    page.goto(f"{server.url}/s/{token.group(1)}")
    assert page.locator("[data-player]").count() == 0
    expect(page.locator("main audio")).to_be_visible()
    assert errors == []
    visitor.post(f"/tracks/{track_id}/unshare", {}, csrf_from=f"/tracks/{track_id}")
    page.context.close()


def test_blocked_autoplay_offers_to_resume_where_it_was(
    seeded_server: tuple[LiveServer, str, str],
) -> None:
    """Under the strictest autoplay rule the next page cannot start sound by itself."""
    server, track_id, _ = seeded_server
    with sync_playwright() as playwright:
        strict = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[*CHROMIUM_ARGS, "--autoplay-policy=document-user-activation-required"],
            headless=True,
        )
        context = strict.new_context(viewport={"width": 390, "height": 844})
        page, errors = _signed_in_page(context, server)
        page.goto(f"{server.url}/studio")
        _hand_over(page, track_id, autoplay=False)
        page.get_by_role("button", name="Play", exact=True).click()
        _wait_playing(page, after=1.0)
        # Typed into the address bar: no gesture on this site leads to the next page.
        page.goto(f"{server.url}/tracks")
        resume = page.locator("[data-player-resume]")
        expect(resume).to_be_visible()
        expect(resume).to_have_text(re.compile(r"Resume at 0:0[1-4]"))
        # The audio takes that place once it knows its length, which may come after the offer.
        page.wait_for_function(
            """() => { const a = document.querySelector("[data-player-audio]");
              return a.readyState > 0 && a.currentTime > 1; }""",
            timeout=10_000,
        )
        assert _audio(page)["paused"]
        _shot(page, "dock-phone-light-resume")
        resume.click()
        _wait_playing(page, after=1.0)
        expect(resume).to_be_hidden()
        assert errors == []
        strict.close()
