"""The studio without JavaScript, and its live channel, over HTTP against the real server."""

from __future__ import annotations

import json
import re
import sqlite3
import time
from typing import Any

import httpx
import pytest

from tests.conftest import LiveServer
from tests.visitors import Visitor, signed_in

TOKEN = re.compile(r'name="request_token" value="([0-9a-f]+)"')


@pytest.fixture
def server(shared_live_server: LiveServer) -> LiveServer:
    return shared_live_server


def submit(visitor: Visitor, **fields: str) -> httpx.Response:
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
    return visitor.post("/studio", form, csrf_from="/studio")


def read_events(
    visitor: Visitor, *, until: str, headers: dict[str, str] | None = None, after: int = 0
) -> list[dict[str, Any]]:
    """Read the event stream until an event of type `until` arrives."""
    events: list[dict[str, Any]] = []
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
                assert event["seq"] == event_id
                events.append(event)
                if event["type"] == until:
                    return events
    raise AssertionError(f"The stream ended before a {until!r} event")


def test_studio_asks_visitors_to_log_in(server: LiveServer) -> None:
    response = httpx.get(f"{server.url}/studio")
    assert response.status_code == 401 and 'href="/login"' in response.text


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
    assert "sunny pop" in gallery.text and "Deleted in 13 d 23 h" in gallery.text


def test_form_with_a_bad_field_is_shown_again_with_the_error_next_to_it(server: LiveServer) -> None:
    visitor = signed_in(server.url, server.state_dir, "typo@example.com")
    response = submit(visitor, duration_seconds="900")
    assert response.status_code == 422
    assert 'aria-invalid="true" aria-describedby="duration-error"' in response.text
    assert "Duration 900 s is outside 5..300 s" in response.text
    assert "sunny pop" in response.text  # what was typed is kept


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
    events = read_events(visitor, until="succeeded")
    assert [event["type"] for event in events] == ["queued", "running", "succeeded"]
    resumed = read_events(
        visitor, until="succeeded", headers={"Last-Event-ID": str(events[0]["seq"])}
    )
    assert resumed == events[1:]


def test_gallery_delete_removes_the_track_and_its_audio(server: LiveServer) -> None:
    visitor = signed_in(server.url, server.state_dir, "tidy@example.com")
    submit(visitor)
    track_id = read_events(visitor, until="succeeded")[-1]["track_id"]
    assert visitor.get(f"/tracks/{track_id}/audio").status_code == 200
    deleted = visitor.post(f"/tracks/{track_id}/delete", {}, csrf_from="/tracks")
    assert deleted.status_code == 303
    assert visitor.get(f"/tracks/{track_id}/audio").status_code == 404
    with sqlite3.connect(server.state_dir / "r2" / "AUDIO" / "index.sqlite") as index:
        (left,) = index.execute(
            "SELECT count(*) FROM objects WHERE key LIKE ?", (f"%/{track_id}.wav",)
        ).fetchone()
    assert left == 0
