"""The studio without JavaScript, and its live channel, over HTTP against the real server."""

from __future__ import annotations

import json
import re
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from markupsafe import escape

from beatbun.generation.models import REFUSALS
from beatbun.i18n import translate
from beatbun.web.i18n import FAILURE_REASONS
from tests.api.test_generations_http import api, api_key_of
from tests.conftest import LiveServer, running_live_server
from tests.generation.providers.fake_elevenlabs import FakeElevenLabs, serve, server_env
from tests.visitors import Visitor, signed_in

TOKEN = re.compile(r'name="request_token" value="([0-9a-f]+)"')


@pytest.fixture
def server(shared_live_server: LiveServer) -> LiveServer:
    return shared_live_server


@pytest.fixture
def unavailable_model() -> Iterator[FakeElevenLabs]:
    """The third-party model's stand-in, down for maintenance."""
    yield from serve(FakeElevenLabs())


@pytest.fixture
def failing_server(tmp_path: Path, unavailable_model: FakeElevenLabs) -> Iterator[LiveServer]:
    unavailable_model.answer_next(503, {"detail": {"status": "down", "message": "maintenance"}})
    yield from running_live_server(tmp_path, env=server_env(unavailable_model))


def submit(
    visitor: Visitor, *, headers: dict[str, str] | None = None, **fields: str
) -> httpx.Response:
    page = visitor.get("/studio")
    token = TOKEN.search(page.text)
    assert token, page.text
    form = {
        "prompt": "sunny pop",
        "duration_seconds": "5",
        "seed": "1",
        "request_token": token.group(1),
        **fields,
    }
    return visitor.post("/studio", form, csrf_from="/studio", headers=headers)


def speaking(language: str, visitor: Visitor) -> Visitor:
    """The visitor after choosing `language` (saved on their account too: they are logged in)."""
    chosen = visitor.post("/preferences/display", {"language": language}, csrf_from="/")
    assert chosen.status_code == 303
    return visitor


def read_events(
    visitor: Visitor, *, until: str, headers: dict[str, str] | None = None, after: int = 0
) -> list[dict[str, Any]]:
    """Read the event stream until an event of type `until` arrives."""
    return [event for _, event in read_stream(visitor, until=until, headers=headers, after=after)]


def read_stream(
    visitor: Visitor, *, until: str, headers: dict[str, str] | None = None, after: int = 0
) -> list[tuple[int | None, dict[str, Any]]]:
    """Each event up to one of type `until`, with the `id:` the browser would resend for it."""
    events: list[tuple[int | None, dict[str, Any]]] = []
    cookie = "; ".join(f"{k}={v}" for k, v in visitor.cookies.items())
    with httpx.stream(
        "GET",
        f"{visitor.base_url}/studio/events?after={after}",
        headers={"Cookie": cookie, "Accept": "text/event-stream", **(headers or {})},
        timeout=30,
    ) as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        event_id = None
        for line in stream.iter_lines():
            if line.startswith("id: "):
                event_id = int(line[4:])
            elif line.startswith("data: "):
                event = json.loads(line[6:])
                events.append((event_id, event))
                if event["type"] == until:
                    return events
    raise AssertionError(f"The stream ended before a {until!r} event")


def test_studio_asks_visitors_to_log_in(server: LiveServer) -> None:
    response = httpx.get(f"{server.url}/studio")
    assert response.status_code == 401 and 'href="/login?next=/studio"' in response.text


def test_form_post_queues_the_job_and_the_page_shows_it(server: LiveServer) -> None:
    visitor = signed_in(server.url, server.state_dir, "form@example.com")
    response = submit(visitor)
    assert response.status_code == 303 and response.headers["location"].startswith("/studio?job=")
    job_id = response.headers["location"].split("=", 1)[1]
    deadline = time.monotonic() + 20
    while 'data-status="succeeded"' not in (page := visitor.get("/studio").text):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert f'data-job="{job_id}"' in page
    gallery = visitor.get("/tracks")
    assert "Sunny pop" in gallery.text and "Deleted in 13 d 23 h" in gallery.text


def test_form_with_a_bad_field_is_shown_again_with_the_error_next_to_it(server: LiveServer) -> None:
    visitor = signed_in(server.url, server.state_dir, "typo@example.com")
    response = submit(visitor, duration_seconds="900")
    assert response.status_code == 422
    assert 'aria-invalid="true" aria-describedby="duration_seconds-error"' in response.text
    assert "Duration 900 s is outside 5..300 s" in response.text
    assert "sunny pop" in response.text  # what was typed is kept


@pytest.mark.parametrize(
    ("duration", "error"),
    [("abc", "Input should be a valid number"), ("nan", "Duration nan s is outside 5..300 s")],
)
def test_form_with_a_duration_that_is_not_a_length_is_shown_again_with_the_error(
    server: LiveServer, duration: str, error: str
) -> None:
    visitor = signed_in(server.url, server.state_dir, f"length-{duration}@example.com")
    response = submit(visitor, duration_seconds=duration)
    assert response.status_code == 422
    assert 'aria-invalid="true" aria-describedby="duration_seconds-error"' in response.text
    assert error in response.text


@pytest.mark.parametrize(
    ("field", "value", "code", "params"),
    [
        (
            "duration_seconds",
            "900",
            "duration_out_of_range",
            {"value": "900", "low": "5", "high": "300"},
        ),
        ("bpm", "20", "bpm_out_of_range", {"value": "20", "low": "40", "high": "240"}),
    ],
)
def test_a_refused_field_is_explained_in_german_on_pages_and_in_english_to_the_api(
    server: LiveServer, field: str, value: str, code: str, params: dict[str, str]
) -> None:
    visitor = speaking("de", signed_in(server.url, server.state_dir, f"de-{code}@example.com"))
    english = REFUSALS[code] % params
    german = translate("de", REFUSALS[code], params)
    assert german != english

    page = submit(visitor, **{field: value})
    assert page.status_code == 422
    assert str(escape(german)) in page.text and english not in page.text

    script = submit(visitor, headers={"Accept": "application/json"}, **{field: value})
    expected = {"error": code, "message": german, "field": field}
    assert (script.status_code, script.json()) == (422, expected)

    with api(server, api_key_of(visitor)) as client:
        answer = client.post(
            "/api/v1/generations",
            json={"prompt": "sunny pop", field: float(value)},
            headers={"Accept-Language": "de"},
        )
    assert (answer.status_code, answer.json()) == (422, {**expected, "message": english})


def test_a_failed_job_is_explained_in_the_visitors_language(failing_server: LiveServer) -> None:
    visitor = speaking(
        "de", signed_in(failing_server.url, failing_server.state_dir, "de-fail@example.com")
    )
    submit(visitor)
    failed = read_events(visitor, until="failed")[-1]
    reason = translate("de", FAILURE_REASONS["provider_unavailable"])
    assert reason != FAILURE_REASONS["provider_unavailable"]
    # Live events carry the code; the page explains it in the reader's language, both in the
    # job's entry and in the messages its script shows live events with.
    assert failed["error"] == {"code": "provider_unavailable"}
    page = visitor.get("/studio").text
    job = page.split(f'data-job="{failed["job_id"]}"', 1)[1]
    assert str(escape(reason)) in job.split("</li>", 1)[0]
    messages = page.split('id="studio-messages">', 1)[1].split("</script>", 1)[0]
    assert json.loads(messages)["reasons"]["provider_unavailable"] == reason


def test_resubmitting_the_same_form_does_not_charge_twice(server: LiveServer) -> None:
    visitor = signed_in(server.url, server.state_dir, "double@example.com")
    page = visitor.get("/studio")
    token = TOKEN.search(page.text).group(1)  # type: ignore[union-attr]
    form = {"prompt": "jazz trio", "duration_seconds": "5", "request_token": token}
    first = visitor.post("/studio", form, csrf_from="/studio")
    second = visitor.post("/studio", form, csrf_from="/studio")
    assert first.headers["location"] == second.headers["location"]


def test_events_arrive_in_order_and_resume_after_the_last_one_seen(server: LiveServer) -> None:
    visitor = signed_in(server.url, server.state_dir, "live@example.com")
    submit(visitor)
    stream = read_stream(visitor, until="succeeded")
    events = [event for _, event in stream]
    assert [event["type"] for event in events] == ["queued", "running", "succeeded"]
    # The browser resends the `id:` line it saw last, whatever the event's data says.
    first_id = stream[0][0]
    resumed = read_events(visitor, until="succeeded", headers={"Last-Event-ID": str(first_id)})
    assert resumed == events[1:]


def test_library_delete_hides_the_track_at_once_and_keeps_its_audio_for_the_undo(
    server: LiveServer,
) -> None:
    visitor = signed_in(server.url, server.state_dir, "tidy@example.com")
    submit(visitor)
    track_id = read_events(visitor, until="succeeded")[-1]["track_id"]
    assert visitor.get(f"/tracks/{track_id}/audio").status_code == 200
    deleted = visitor.post(f"/tracks/{track_id}/delete", {}, csrf_from="/tracks")
    assert deleted.status_code == 303
    assert visitor.get(f"/tracks/{track_id}/audio").status_code == 404
    # The cron erases it once the undo window is over (tests/tracks/test_deletion.py).
    with sqlite3.connect(server.state_dir / "r2" / "AUDIO" / "index.sqlite") as index:
        (left,) = index.execute(
            "SELECT count(*) FROM objects WHERE key LIKE ?", (f"%/{track_id}.wav",)
        ).fetchone()
    assert left == 1
