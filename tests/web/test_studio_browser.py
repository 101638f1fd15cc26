"""The studio in Chromium: submit, follow live, play; survive a reload and a lost network."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import ConsoleMessage, Page

from tests.conftest import LiveServer, running_live_server, screenshot
from tests.generation.providers.fake_elevenlabs import (
    FakeElevenLabs,
    serve,
    server_env,
    sine_pcm,
)
from tests.visitors import sign_in_browser

pytestmark = pytest.mark.browser

RENDER_DELAY_SECONDS = 4.0


def open_studio(page: Page, server: LiveServer, email: str) -> list[str]:
    """Sign up over HTTP, hand the session cookie to the browser, open the studio."""
    sign_in_browser(page.context, server, email)
    errors: list[str] = []
    page.on("console", lambda message: _collect_error(message, errors))
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{server.url}/studio")
    return errors


def make_track(page: Page, prompt: str) -> None:
    page.get_by_label("Describe your track").fill(prompt)
    page.get_by_label("Length (seconds, 5 to 300)").fill("5")
    page.get_by_role("button", name="Make it").click()


def job_status(page: Page) -> str:
    return str(page.locator("[data-jobs] [data-job]").first.get_attribute("data-status"))


def _collect_error(message: ConsoleMessage, errors: list[str]) -> None:
    if message.type == "error":
        errors.append(message.text)


@pytest.fixture
def slow_model() -> Iterator[FakeElevenLabs]:
    """The third-party model's stand-in, answering after a delay so a job stays in flight."""
    yield from serve(FakeElevenLabs())


@pytest.fixture
def slow_server(tmp_path: Path, slow_model: FakeElevenLabs) -> Iterator[LiveServer]:
    slow_model.answer_next(
        200, sine_pcm(5 * 44100), headers={"song-id": "s1"}, delay_seconds=RENDER_DELAY_SECONDS
    )
    yield from running_live_server(tmp_path, env=server_env(slow_model))


def test_prompt_to_a_playing_track(live_server: LiveServer, page: Page) -> None:
    errors = open_studio(page, live_server, "player@example.com")
    page.get_by_label("Length (seconds, 5 to 300)").fill("60")
    assert (
        page.locator("[data-cost]").inner_text() == "6"
    )  # the published formula, before submitting
    make_track(page, "dreamy synthwave at night")
    page.wait_for_selector('[data-jobs] [data-status="succeeded"]', timeout=20_000)
    duration = page.evaluate(
        """() => new Promise((resolve, reject) => {
            const audio = document.querySelector("[data-audio]");
            audio.addEventListener("loadedmetadata", () => resolve(audio.duration), { once: true });
            audio.addEventListener("error", () => reject(new Error("audio failed to load")), { once: true });
            audio.load();
        })"""
    )
    assert duration == pytest.approx(5.0, abs=0.01)
    assert page.locator("[data-player-title]").inner_text() == "dreamy synthwave at night"
    screenshot(page, "studio")
    assert errors == []


def test_reload_mid_job_reattaches_and_sees_it_finish(slow_server: LiveServer, page: Page) -> None:
    open_studio(page, slow_server, "reload@example.com")
    make_track(page, "slow cinematic strings")
    page.wait_for_selector('[data-jobs] [data-status="running"]', timeout=10_000)
    page.reload()
    assert job_status(page) == "running"  # rendered by the server from the queue
    page.wait_for_selector('[data-jobs] [data-status="succeeded"]', timeout=20_000)


def test_lost_network_mid_job_catches_up_when_back(slow_server: LiveServer, page: Page) -> None:
    open_studio(page, slow_server, "offline@example.com")
    make_track(page, "rainy lo-fi beats")
    page.wait_for_selector('[data-jobs] [data-status="running"]', timeout=10_000)
    page.context.set_offline(True)
    page.wait_for_selector("[data-connection]:not([hidden])")
    page.wait_for_timeout(RENDER_DELAY_SECONDS * 1000 + 1500)  # the job finishes while we are away
    assert job_status(page) == "running"
    page.context.set_offline(False)
    page.wait_for_selector('[data-jobs] [data-status="succeeded"]', timeout=10_000)
    assert page.locator("[data-jobs] [data-job] [data-play]").count() == 1
