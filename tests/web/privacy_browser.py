"""Helpers for the privacy flows in Chromium: the live server's state "later" (cron tasks run by
the test with its own clock), screenshots of the privacy page's states, and a look at the local
bucket's files themselves, under the blob store's interface."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from playwright.sync_api import Page, ViewportSize

from beatbun.generation.queue import UserQueue
from beatbun.settings import Settings
from beatbun_local.runtime import LocalRuntime
from tests.conftest import shoot_light_and_dark
from tests.fakes import ManualClock
from tests.processes import PROJECT_ROOT

SHOTS = PROJECT_ROOT / "test-results" / "privacy"
DESKTOP: ViewportSize = {"width": 1440, "height": 900}
SIZES: dict[str, ViewportSize] = {"desktop": DESKTOP, "phone": {"width": 390, "height": 844}}

T = TypeVar("T")
# What sticks out past the right edge of the window, for the message of a failed check.
WIDE = """() => [...document.querySelectorAll("body *")]
    .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1)
    .map((e) => `${e.tagName}.${e.className}: ${(e.textContent || "").trim().slice(0, 40)}`)"""


def on_state(
    state_dir: Path, task: Callable[[LocalRuntime], Awaitable[T]], *, later: float = 0.0
) -> T:
    """`task` run on the server's state with a clock `later` seconds ahead of now.

    Playwright's sync API keeps an event loop running in the test's thread, so the task gets
    a thread and an event loop of its own.
    """

    async def run() -> T:
        runtime = LocalRuntime.open(
            state_dir,
            settings=Settings(environment="test"),
            user_queue=UserQueue,
            clock=ManualClock(time.time() + later),
        )
        try:
            return await task(runtime)
        finally:
            runtime.close()

    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, run()).result()


def shoot_state(page: Page, name: str, *, focus: str) -> None:
    """The page as it is, at desktop and phone sizes, light and dark, whole and in the window
    (`<name>-<size>-{light,dark,view}.png`); checks nothing runs off to the side.

    The desktop window is left where the person left it; on the phone, whose window the test
    just resized, it shows `focus` (a selector).
    """
    SHOTS.mkdir(parents=True, exist_ok=True)
    for size, viewport in SIZES.items():
        page.set_viewport_size(viewport)
        if viewport != DESKTOP:
            page.locator(focus).first.scroll_into_view_if_needed()
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= viewport["width"], f"{name}-{size}: {width} px, {page.evaluate(WIDE)}"
        page.screenshot(path=SHOTS / f"{name}-{size}-view.png")
        shoot_light_and_dark(page, SHOTS, f"{name}-{size}")
    page.set_viewport_size(DESKTOP)


def traces_in_bucket_files(state_dir: Path, needles: Sequence[str]) -> list[str]:
    """Files of the local bucket (objects, parts of uploads) whose bytes hold one of `needles`,
    and rows of its index (keys, metadata, uploads) that do: what `blobs.list` would not show,
    such as an object file left behind by a delete."""
    root = state_dir / "r2"
    found = []
    for path in sorted(root.rglob("*")):
        if not path.is_file() or path.name.startswith("index.sqlite"):
            continue
        body = path.read_bytes()
        if any(needle.encode() in body for needle in needles):
            found.append(str(path.relative_to(root)))
    for index in root.glob("*/index.sqlite"):
        with contextlib.closing(sqlite3.connect(index)) as db:
            tables = [n for (n,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
            for table in tables:
                for row in db.execute(f'SELECT * FROM "{table}"'):
                    text = repr(row)
                    if any(needle in text for needle in needles):
                        found.append(f"{index.relative_to(root)}:{table}: {text[:80]}")
    return found
