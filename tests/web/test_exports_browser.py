"""Buying a track's FLAC and stems from the library in Chromium, at desktop and phone sizes.

The account and its composer tracks are made before the server starts; the browser logs in
as a person would, opens an export's button, reads the price and confirms, then downloads.
Screenshots (light and dark) go to test-results/exports/.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from beatbun.generation.queue import UserQueue
from beatbun.settings import Settings
from beatbun.tracks.models import STEMS
from beatbun_local.migrations import apply_migrations
from beatbun_local.runtime import LocalRuntime
from tests.conftest import MIGRATIONS, LiveServer, running_live_server, shoot_light_and_dark
from tests.factories import create_verified_account
from tests.processes import PROJECT_ROOT
from tests.tracks.conftest import make_tracks
from tests.visitors import Visitor, hand_session_to, log_in

pytestmark = pytest.mark.browser

SHOTS = PROJECT_ROOT / "test-results" / "exports"
EMAIL = "person@example.com"
SIZES = {"desktop": (1440, 900), "phone": (390, 844)}


async def _seeded(state: Path) -> list[str]:
    runtime = LocalRuntime.open(state, settings=Settings(environment="test"), user_queue=UserQueue)
    try:
        await apply_migrations(runtime.db, MIGRATIONS)
        account = await create_verified_account(runtime, email=EMAIL)
        tracks = await make_tracks(runtime, account_id=account.id, count=2)
        return [track.id for track in tracks]
    finally:
        runtime.close()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[LiveServer, list[str]]]:
    tracks = asyncio.run(_seeded(tmp_path / "state"))
    for server in running_live_server(tmp_path):
        yield server, tracks


@pytest.mark.parametrize("size", list(SIZES))
def test_buy_flac_and_stems_from_the_library(
    server: tuple[LiveServer, list[str]], browser: Browser, size: str
) -> None:
    live, tracks = server
    width, height = SIZES[size]
    context = browser.new_context(
        viewport={"width": width, "height": height}, accept_downloads=True
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    visitor = Visitor(live.url)
    assert log_in(visitor, EMAIL).status_code == 303
    hand_session_to(context, visitor)
    page.goto(f"{live.url}/tracks")
    if page.get_by_role("button", name="Reject all").count():
        page.get_by_role("button", name="Reject all").click()
    # The newest track first; each size buys from its own row.
    row = page.locator(f'[data-track-row="{tracks[0] if size == "desktop" else tracks[1]}"]')
    exports = row.get_by_role("list", name="Exports of")

    # FLAC: the button shows the price and asks before it charges.
    exports.get_by_text("Get FLAC (lossless) · 1 credit").click()
    confirm = exports.get_by_role("button", name="Buy FLAC (lossless)")
    expect(confirm).to_be_visible()
    expect(
        exports.get_by_text(re.compile(r"^FLAC \(lossless\) of .*price in credits: 1\."))
    ).to_be_visible()
    shoot_light_and_dark(page, SHOTS, f"confirm-flac-{size}")
    confirm.click()
    page.wait_for_url("**/tracks#exports-*")
    link = exports.get_by_role("link", name="Download FLAC")
    expect(link).to_be_visible()
    with page.expect_download() as download:
        link.click()
    path = download.value.path()
    assert path is not None and Path(path).read_bytes()[:4] == b"fLaC"
    assert download.value.suggested_filename.endswith(".flac")

    # Stems: five WAVs, one link each.
    exports.get_by_text("Get Stems · 1 credit").click()
    exports.get_by_role("button", name="Buy Stems").click()
    page.wait_for_url("**/tracks#exports-*")
    for name in ("Drums", "Bass", "Harmony", "Lead", "Pads and effects"):
        expect(exports.get_by_role("link", name=name, exact=True)).to_be_visible()
    assert exports.get_by_role("link").count() == 1 + len(STEMS)
    with page.expect_download() as stem:
        exports.get_by_role("link", name="Drums", exact=True).click()
    stem_path = stem.value.path()
    assert stem_path is not None and Path(stem_path).read_bytes()[:4] == b"RIFF"
    # Nothing is offered twice: what was bought is a download now.
    expect(exports.get_by_text("Get FLAC (lossless)")).to_have_count(0)
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    shoot_light_and_dark(page, SHOTS, f"bought-{size}")
    assert errors == []
    context.close()
