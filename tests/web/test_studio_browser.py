"""The studio in Chromium: submit, follow live, hand the track to the docked player; survive a
reload, a closed tab and a lost network.

Live progress arrives over the WebSocket at `/studio/live`; without WebSockets the page falls
back to server-sent events, which end once the queue is idle.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import ConsoleMessage, Page, Request, Response, Route

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
    # The studio hands the track to the docked player (player.js), which loads it.
    page.locator("[data-player-title]", has_text="Dreamy synthwave at night").wait_for()
    duration = page.evaluate(
        """() => new Promise((resolve, reject) => {
            const audio = document.querySelector("[data-player-audio]");
            audio.addEventListener("loadedmetadata", () => resolve(audio.duration), { once: true });
            audio.addEventListener("error", () => reject(new Error("audio failed to load")), { once: true });
            audio.load();
        })"""
    )
    assert duration == pytest.approx(5.0, abs=0.01)
    assert page.locator("[data-player-title]").inner_text() == "Dreamy synthwave at night"
    screenshot(page, "studio")
    assert errors == []


def live_channels(page: Page) -> dict[str, list[str]]:
    """The WebSockets the page opens and the event-stream requests it makes, as they happen."""
    seen: dict[str, list[str]] = {"sockets": [], "streams": []}

    def on_request(request: Request) -> None:
        if "/studio/events" in request.url:
            seen["streams"].append(request.url)

    page.on("websocket", lambda socket: seen["sockets"].append(socket.url))
    page.on("request", on_request)
    return seen


def test_reload_mid_job_reattaches_and_sees_it_finish(slow_server: LiveServer, page: Page) -> None:
    channels = live_channels(page)
    errors = open_studio(page, slow_server, "reload@example.com")
    make_track(page, "slow cinematic strings")
    page.wait_for_selector('[data-jobs] [data-status="running"]', timeout=10_000)
    page.reload()
    assert job_status(page) == "running"  # rendered by the server from the queue
    page.wait_for_selector('[data-jobs] [data-status="succeeded"]', timeout=20_000)
    # One socket before the reload and one after it.
    assert len(channels["sockets"]) >= 2
    assert all(url.endswith("/studio/live") for url in channels["sockets"])
    assert channels["streams"] == []  # WebSockets work, so no fallback
    assert errors == []  # the content security policy let the socket through


def test_tab_closed_and_reopened_mid_job_sees_it_finish(
    slow_server: LiveServer, page: Page
) -> None:
    open_studio(page, slow_server, "tabs@example.com")
    make_track(page, "closing tabs in the rain")
    page.wait_for_selector('[data-jobs] [data-status="running"]', timeout=10_000)
    context = page.context
    page.close()
    reopened = context.new_page()
    channels = live_channels(reopened)
    reopened.goto(f"{slow_server.url}/studio")
    assert job_status(reopened) == "running"
    reopened.wait_for_selector('[data-jobs] [data-status="succeeded"]', timeout=20_000)
    assert reopened.locator("[data-jobs] [data-job] [data-play]").count() == 1
    assert channels["sockets"] and channels["streams"] == []


def test_without_websockets_events_stream_and_the_stream_ends_when_idle(
    live_server: LiveServer, page: Page
) -> None:
    page.add_init_script("delete window.WebSocket;")
    channels = live_channels(page)
    idle: list[int] = []

    def on_response(response: Response) -> None:
        if "/studio/events" in response.url and response.status == 204:
            idle.append(response.status)

    page.on("response", on_response)
    errors = open_studio(page, live_server, "fallback@example.com")
    make_track(page, "old browser polka")
    page.wait_for_selector('[data-jobs] [data-status="succeeded"]', timeout=20_000)
    assert channels["sockets"] == [] and channels["streams"]
    # The stream ended once nothing was queued or running; the browser's retry got a 204,
    # which stops it for good, so the page makes no more requests.
    page.wait_for_timeout(3000)
    assert idle
    requests = len(channels["streams"])
    page.wait_for_timeout(2000)
    assert len(channels["streams"]) == requests
    assert errors == []


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


def test_events_arriving_before_the_submission_answer_are_kept(
    live_server: LiveServer, page: Page
) -> None:
    """The queue pushes a job's events while its submission is still being answered."""
    errors = open_studio(page, live_server, "early@example.com")

    def answer_late(route: Route) -> None:
        answer = route.fetch()
        time.sleep(2)  # the job is made and pushed meanwhile
        route.fulfill(response=answer)

    page.route("**/studio", answer_late)
    make_track(page, "pushed before the answer")
    page.wait_for_selector('[data-jobs] [data-status="succeeded"]', timeout=20_000)
    entry = page.locator("[data-jobs] [data-job]").first
    # The answer has come once the entry carries the prompt (the events do not).
    entry.locator(".job__title", has_text="pushed before the answer").wait_for(timeout=10_000)
    assert entry.get_attribute("data-status") == "succeeded"
    assert page.locator("[data-jobs] [data-job]").count() == 1
    assert errors == []
