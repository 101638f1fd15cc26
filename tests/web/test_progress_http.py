"""The live progress channel over a real WebSocket (and its event-stream fallback) on the real server."""

from __future__ import annotations

import contextlib
import json
import re
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect
from websockets.typing import Origin

from beatbun.runtime.pushrules import (
    CLOSE_INVALID_MESSAGE,
    CLOSE_SESSIONS_CHANGED,
    MAX_SOCKETS,
    PROGRESS_PATH,
    TOO_MANY_SOCKETS,
    encode_resume,
)
from tests.conftest import LiveServer
from tests.visitors import Visitor, signed_in

TOKEN = re.compile(r'name="request_token" value="([0-9a-f]+)"')
LAST_SEQ = re.compile(r'data-last-seq="(\d+)"')


@pytest.fixture
def server(shared_live_server: LiveServer) -> LiveServer:
    return shared_live_server


def socket_url_of(base_url: str) -> str:
    return base_url.replace("http://", "ws://") + PROGRESS_PATH


def cookie_of(visitor: Visitor) -> str:
    return "; ".join(f"{k}={v}" for k, v in visitor.cookies.items())


@contextlib.contextmanager
def open_socket(
    visitor: Visitor, *, after: int, origin: str | None = None
) -> Iterator[ClientConnection]:
    """A socket of `visitor`'s browser (same-origin `Origin`, its cookies), resumed at `after`."""
    with connect(
        socket_url_of(visitor.base_url),
        origin=Origin(origin or visitor.base_url),
        additional_headers={"Cookie": cookie_of(visitor)},
        open_timeout=10,
    ) as socket:
        socket.send(encode_resume(after))
        yield socket


def submit(visitor: Visitor, prompt: str) -> str:
    page = visitor.get("/studio")
    token = TOKEN.search(page.text)
    assert token, page.text
    form = {"prompt": prompt, "duration_seconds": "5", "seed": "1", "request_token": token[1]}
    response = visitor.post("/studio", form, csrf_from="/studio")
    assert response.status_code == 303, response.text
    return str(response.headers["location"]).split("=", 1)[1]


def last_seq(visitor: Visitor) -> int:
    found = LAST_SEQ.search(visitor.get("/studio").text)
    assert found
    return int(found[1])


def receive_until(socket: ClientConnection, until: str, job_id: str) -> list[dict[str, Any]]:
    events = []
    while True:
        event = json.loads(socket.recv(timeout=20))
        events.append(event)
        if event["type"] == until and event["job_id"] == job_id:
            return events


@pytest.fixture
def visitor(server: LiveServer) -> Visitor:
    return signed_in(server.url, server.state_dir, f"live-{uuid.uuid4().hex[:12]}@example.com")


def test_live_events_are_pushed_as_the_job_moves(visitor: Visitor) -> None:
    with open_socket(visitor, after=last_seq(visitor)) as socket:
        job_id = submit(visitor, "pushed pop")
        events = receive_until(socket, "succeeded", job_id)
    assert [event["type"] for event in events] == ["queued", "running", "succeeded"]
    seqs = [event["seq"] for event in events]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    assert events[-1]["track_id"]


def test_every_open_tab_gets_the_same_events(visitor: Visitor) -> None:
    after = last_seq(visitor)
    with open_socket(visitor, after=after) as one, open_socket(visitor, after=after) as two:
        job_id = submit(visitor, "two tabs")
        assert receive_until(one, "succeeded", job_id) == receive_until(two, "succeeded", job_id)


def test_reconnecting_replays_what_was_missed_and_nothing_before(visitor: Visitor) -> None:
    with open_socket(visitor, after=last_seq(visitor)) as socket:
        first = submit(visitor, "heard live")
        seen = receive_until(socket, "succeeded", first)[-1]["seq"]
    second = submit(visitor, "made while away")  # no socket open meanwhile
    deadline = time.monotonic() + 20
    while 'data-status="succeeded"' not in visitor.get("/studio").text.split(second, 1)[1][:200]:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    with open_socket(visitor, after=seen) as socket:
        replayed = receive_until(socket, "succeeded", second)
    assert {event["job_id"] for event in replayed} == {second}
    assert [event["type"] for event in replayed] == ["queued", "running", "succeeded"]
    assert replayed[0]["seq"] == seen + 1


def test_socket_without_a_session_is_refused(server: LiveServer) -> None:
    url = socket_url_of(server.url)
    with (
        pytest.raises(InvalidStatus) as refused,
        connect(url, origin=Origin(server.url), open_timeout=10),
    ):
        pass
    assert refused.value.response.status_code == 401
    assert json.loads(refused.value.response.body or b"{}")["error"] == "login_required"


@pytest.mark.parametrize("origin", ["https://evil.example", "http://127.0.0.1.evil.example"])
def test_socket_from_another_site_is_refused(visitor: Visitor, origin: str) -> None:
    with pytest.raises(InvalidStatus) as refused, open_socket(visitor, after=0, origin=origin):
        pass
    assert refused.value.response.status_code == 403
    assert json.loads(refused.value.response.body or b"{}")["error"] == "cross_site_request"


@pytest.mark.parametrize("message", ["give me everything", '{"after": ' + "9" * 30 + "}"])
def test_socket_closes_on_a_message_that_is_not_a_resume(visitor: Visitor, message: str) -> None:
    with open_socket(visitor, after=0) as socket:
        socket.send(message)
        with pytest.raises(ConnectionClosed) as closed:
            socket.recv(timeout=10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == CLOSE_INVALID_MESSAGE


def test_sockets_past_the_limit_are_refused_until_one_closes(visitor: Visitor) -> None:
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(open_socket(visitor, after=0)) for _ in range(MAX_SOCKETS)]
        with pytest.raises(InvalidStatus) as refused, open_socket(visitor, after=0):
            pass
        assert refused.value.response.status_code == 429
        assert json.loads(refused.value.response.body or b"{}") == TOO_MANY_SOCKETS
        sockets[0].close()
        deadline = time.monotonic() + 10
        while True:  # the server lets the socket go once it has seen the close
            try:
                with open_socket(visitor, after=0):
                    break
            except InvalidStatus:
                assert time.monotonic() < deadline
                time.sleep(0.05)


def test_logging_out_closes_the_sockets_and_the_old_session_cannot_reconnect(
    visitor: Visitor,
) -> None:
    old_cookie = cookie_of(visitor)
    with open_socket(visitor, after=0) as socket:
        assert visitor.post("/logout", {}, csrf_from="/account").status_code == 303
        with pytest.raises(ConnectionClosed) as closed:
            socket.recv(timeout=10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == CLOSE_SESSIONS_CHANGED
    with (
        pytest.raises(InvalidStatus) as refused,
        connect(
            socket_url_of(visitor.base_url),
            origin=Origin(visitor.base_url),
            additional_headers={"Cookie": old_cookie},
            open_timeout=10,
        ),
    ):
        pass
    assert refused.value.response.status_code == 401


@pytest.mark.parametrize("after", ["abc", "-1", "\u00b2"])  # "²" passes str.isdigit()
def test_event_stream_refuses_an_event_id_that_is_not_a_whole_number(
    visitor: Visitor, after: str
) -> None:
    response = httpx.get(
        f"{visitor.base_url}/studio/events",
        params={"after": after},
        headers={"Cookie": cookie_of(visitor), "Accept": "application/json"},
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "invalid_event_id"


def test_event_stream_answers_204_when_nothing_is_queued_or_running(visitor: Visitor) -> None:
    response = httpx.get(
        f"{visitor.base_url}/studio/events?after={last_seq(visitor)}",
        headers={"Cookie": cookie_of(visitor)},
    )
    assert response.status_code == 204


def test_event_stream_ends_by_itself_once_the_queue_is_idle(visitor: Visitor) -> None:
    after = last_seq(visitor)
    job_id = submit(visitor, "streamed pop")
    lines = []
    with httpx.stream(
        "GET",
        f"{visitor.base_url}/studio/events?after={after}",
        headers={"Cookie": cookie_of(visitor)},
        timeout=30,
    ) as stream:
        lines = list(stream.iter_lines())  # returns only when the server ends the stream
    events = [json.loads(line[6:]) for line in lines if line.startswith("data: ")]
    assert [(e["job_id"], e["type"]) for e in events][-1] == (job_id, "succeeded")
