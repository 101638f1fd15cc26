"""The library in Chromium, at desktop and phone sizes: find, rename, favourite, share, delete.

The account and its tracks are made before the server starts (one composed track, cloned),
then the browser logs in as a person would. Screenshots of every page, light and dark, go to
test-results/library/.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from beatbun.generation.queue import UserQueue
from beatbun.settings import Settings
from beatbun.tracks.deletion import UNDO_SECONDS, purge_deleted_tracks
from beatbun.tracks.library import PAGE_SIZE
from beatbun.tracks.models import blob_key_for
from beatbun_local.migrations import apply_migrations
from beatbun_local.runtime import LocalRuntime
from tests.conftest import MIGRATIONS, LiveServer, running_live_server, shoot_light_and_dark
from tests.factories import clone_track, create_verified_account
from tests.fakes import ManualClock
from tests.processes import PROJECT_ROOT
from tests.tracks.conftest import make_tracks
from tests.visitors import Visitor, hand_session_to, log_in

pytestmark = pytest.mark.browser

SHOTS = PROJECT_ROOT / "test-results" / "library"
EMAIL = "person@example.com"
SIZES = {"desktop": (1440, 900), "phone": (390, 844)}
# Tracks beyond one page, so the library shows its pager.
TRACKS = PAGE_SIZE + 3


def _seed(state_dir: Path) -> tuple[str, str]:
    """The account's id and the id of the one track named "neon" among `TRACKS`."""
    return asyncio.run(_seeded(state_dir))


async def _seeded(state_dir: Path) -> tuple[str, str]:
    runtime = LocalRuntime.open(
        state_dir, settings=Settings(environment="test"), user_queue=UserQueue
    )
    try:
        await apply_migrations(runtime.db, MIGRATIONS)
        account = await create_verified_account(runtime, email=EMAIL)
        (original,) = await make_tracks(runtime, account_id=account.id, count=1)
        ids = [original.id, *await clone_track(runtime, original, copies=TRACKS - 1)]
        for number, track_id in enumerate(ids):
            genre = "techno" if number % 9 == 0 else "lofi"
            await (
                runtime.db.prepare(
                    "UPDATE tracks SET created_at = created_at - ?, duration_seconds = ?,"
                    " title = ?, genre = ?, plan = json_set(plan, '$.genre', ?),"
                    " expires_at = CASE WHEN ? THEN NULL ELSE expires_at END WHERE id = ?"
                )
                .bind(
                    (TRACKS - number) * 3600,
                    5 + number,
                    f"Sketch {number:02d}",
                    genre,
                    genre,
                    number % 4 == 0,
                    track_id,
                )
                .run()
            )
        await (
            runtime.db.prepare("UPDATE tracks SET prompt = ?, title = ? WHERE id = ?")
            .bind("neon synthwave for a night drive, warm pads", "Neon night", ids[5])
            .run()
        )
        return account.id, ids[5]
    finally:
        runtime.close()


@pytest.fixture
def seeded(tmp_path: Path) -> tuple[str, str]:
    return _seed(tmp_path / "state")


@pytest.fixture
def server(tmp_path: Path, seeded: tuple[str, str]) -> Iterator[LiveServer]:
    yield from running_live_server(tmp_path)


def _log_in(page: Page, server: LiveServer) -> None:
    visitor = Visitor(server.url)
    assert log_in(visitor, EMAIL).status_code == 303
    hand_session_to(page.context, visitor)


def _shoot(page: Page, name: str, size: str) -> None:
    shoot_light_and_dark(page, SHOTS, f"{name}-{size}")


def _fits(page: Page, width: int) -> None:
    page.wait_for_load_state()
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def _rows(page: Page) -> list[str]:
    # A click that follows a link returns once the next page starts to arrive, before all of
    # its rows are parsed: read them from the whole page.
    page.wait_for_load_state()
    return page.locator("[data-track-row] .track__title").all_inner_texts()


def _audio_ready(page: Page) -> int:
    """Load the page's audio and return its readyState once it has data (or failed)."""
    state: int = page.evaluate(
        """() => new Promise((resolve, reject) => {
            const audio = document.querySelector("audio");
            audio.preload = "auto";
            audio.addEventListener("loadeddata", () => resolve(audio.readyState), { once: true });
            audio.addEventListener("error", () => reject(new Error("audio failed")), { once: true });
            audio.load();
        })"""
    )
    return state


@pytest.mark.parametrize("size", list(SIZES))
def test_library_journey(
    server: LiveServer, seeded: tuple[str, str], browser: Browser, size: str
) -> None:
    account_id, neon_id = seeded
    width, height = SIZES[size]
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    _log_in(page, server)
    page.goto(f"{server.url}/tracks")
    if page.get_by_role("button", name="Reject all").count():
        page.get_by_role("button", name="Reject all").click()
    assert len(_rows(page)) == PAGE_SIZE
    _fits(page, width)
    _shoot(page, "library", size)

    # The next page holds the rest; the pager leads back.
    page.get_by_role("link", name="Next page").click()
    assert len(_rows(page)) == TRACKS - PAGE_SIZE
    page.get_by_role("link", name="Previous page").click()
    assert len(_rows(page)) == PAGE_SIZE

    # Search, filter (applied as the select changes), sort.
    page.get_by_label("Search prompts and titles").fill("synthwave")
    page.get_by_role("button", name="Search").click()
    assert _rows(page) == ["Neon night"]
    page.goto(f"{server.url}/tracks")
    page.get_by_label("Genre").select_option("techno")
    page.wait_for_url("**genre=techno**")
    assert len(_rows(page)) == len(range(0, TRACKS, 9))
    page.get_by_label("Sort by").select_option("name")
    page.wait_for_url("**sort=name**")
    assert _rows(page) == sorted(_rows(page))
    page.get_by_label("Kept or expiring").select_option("kept")
    page.wait_for_url("**keep=kept**")
    assert _rows(page) == ["Sketch 00"]  # the one kept techno track
    _shoot(page, "library-filtered", size)

    # Rename and favourite the neon track, from its row.
    page.goto(f"{server.url}/tracks?q=neon")
    row = page.locator(f'[data-track-row="{neon_id}"]')
    row.get_by_text("Rename").click()
    row.get_by_label("New title").fill("Night drive")
    row.get_by_role("button", name="Save title").click()
    expect(page.locator(f'[data-track-row="{neon_id}"] .track__title')).to_have_text("Night drive")
    page.goto(f"{server.url}/tracks")
    star = page.locator(f'[data-track-row="{neon_id}"] .favourite__button')
    star.click()
    expect(star).to_have_attribute("aria-pressed", "true")
    page.get_by_label("Favourites only").check()
    page.wait_for_url("**favourites=1**")
    assert _rows(page) == ["Night drive"]

    # The track page: plan, prompt, seed, expiry; its settings fill the studio.
    page.get_by_role("link", name="Night drive").click()
    expect(page.get_by_role("heading", name="Night drive", level=1)).to_be_visible()
    expect(page.locator(".prompt")).to_have_text("neon synthwave for a night drive, warm pads")
    assert page.locator("svg.wave path").count() == 1
    assert _audio_ready(page) >= 2
    _fits(page, width)
    _shoot(page, "track", size)
    track_url = page.url
    page.get_by_role("link", name="Use these settings").click()
    expect(page.get_by_label("Describe your track")).to_have_value(
        "neon synthwave for a night drive, warm pads"
    )
    page.goto(track_url)

    # Share, play the link logged out, revoke.
    page.get_by_role("button", name="Make a public link").click()
    link = page.locator("[data-share-url]").input_value()
    assert "/s/" in link
    _shoot(page, "track-shared", size)
    public = browser.new_context(viewport={"width": width, "height": height})
    visitor = public.new_page()
    visitor.goto(link)
    visitor.get_by_role("button", name="Reject all").click()
    expect(visitor.get_by_role("heading", name="Night drive", level=1)).to_be_visible()
    assert visitor.locator('meta[name="robots"]').get_attribute("content") == "noindex"
    assert "person@example.com" not in visitor.content() and "Test Person" not in visitor.content()
    assert _audio_ready(visitor) >= 2
    _fits(visitor, width)
    _shoot(visitor, "public", size)
    page.get_by_role("button", name="Stop sharing (the link stops working at once)").click()
    revoked = visitor.goto(link)
    assert revoked is not None and revoked.status == 404
    assert public.request.get(f"{link}/audio").status == 404
    _shoot(visitor, "public-revoked", size)
    public.close()

    # Delete and undo.
    page.goto(track_url)
    page.get_by_text("Delete", exact=True).click()
    page.get_by_role("button", name="Delete this track").click()
    page.wait_for_url("**deleted=**")
    expect(page.locator("[data-undo]")).to_be_visible()
    assert "Night drive" not in _rows(page)
    _shoot(page, "library-undo", size)
    page.get_by_role("button", name="Undo").click()
    expect(page.locator(f'[data-track-row="{neon_id}"]')).to_be_visible()

    # Delete for good: after the undo window the cron erases the audio.
    page.goto(track_url)
    page.get_by_text("Delete", exact=True).click()
    page.get_by_role("button", name="Delete this track").click()
    page.wait_for_url("**deleted=**")
    assert errors == []  # before the 404 below, which the console reports
    assert page.goto(track_url).status == 404  # type: ignore[union-attr]
    key = blob_key_for(retention="free", account_id=account_id, track_id=neon_id)
    # Playwright's sync API keeps an event loop running in this thread: the cron gets its own.
    with ThreadPoolExecutor(1) as cron:
        assert cron.submit(asyncio.run, _purge_later(server.state_dir, key)).result() == (
            True,
            False,
        )
    context.close()


async def _purge_later(state_dir: Path, key: str) -> tuple[bool, bool]:
    """Whether the audio is stored before and after the cron runs past the undo window."""
    clock = ManualClock(time.time() + UNDO_SECONDS)
    runtime = LocalRuntime.open(
        state_dir, settings=Settings(environment="test"), user_queue=UserQueue, clock=clock
    )
    try:
        before = await runtime.blobs.head(key) is not None
        await purge_deleted_tracks(runtime)
        return before, await runtime.blobs.head(key) is not None
    finally:
        runtime.close()


def test_library_forms_work_without_scripts(
    server: LiveServer, seeded: tuple[str, str], browser: Browser
) -> None:
    _, neon_id = seeded
    context = browser.new_context(
        java_script_enabled=False, viewport={"width": 1440, "height": 900}
    )
    page = context.new_page()
    _log_in(page, server)
    page.goto(f"{server.url}/tracks?q=neon")
    row = page.locator(f'[data-track-row="{neon_id}"]')
    row.locator(".favourite__button").click()
    expect(page.locator(f'[data-track-row="{neon_id}"] .favourite__button')).to_have_attribute(
        "aria-pressed", "true"
    )
    assert page.url.endswith("/tracks?q=neon")  # back where the form was
    page.get_by_label("Sort by").select_option("name")
    page.get_by_role("button", name="Search").click()
    assert "sort=name" in page.url
    row = page.locator(f'[data-track-row="{neon_id}"]')
    row.get_by_text("Delete", exact=True).click()
    row.get_by_role("button", name="Delete this track").click()
    expect(page.locator("[data-undo]")).to_contain_text("You can undo this for")
    page.get_by_role("button", name="Undo").click()
    expect(page.locator(f'[data-track-row="{neon_id}"]')).to_be_visible()
    context.close()
