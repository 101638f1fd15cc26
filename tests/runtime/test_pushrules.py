"""The live progress channel's rules, and both hosts' sockets following them alike."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from js import WebSocketPair

from beatbun.runtime.actors import Actor, PushSocket, answer_socket_message, push_events
from beatbun.runtime.cloudflare import HibernatedSocket
from beatbun.runtime.pushrules import (
    CLOSE_INVALID_MESSAGE,
    INVALID_MESSAGE_REASON,
    encode_event,
    encode_resume,
    is_same_origin,
    origin_of,
    parse_resume,
    unseen,
)
from beatbun_local.actors import LocalSocket


@pytest.mark.parametrize(
    ("message", "after"),
    [
        ('{"after": 0}', 0),
        ('{"after": 42}', 42),
        (encode_resume(7), 7),
        ('{"after": -1}', None),
        ('{"after": 1.5}', None),
        ('{"after": true}', None),  # JSON true is a Python bool, which is an int
        ('{"after": "3"}', None),
        ("{}", None),
        ("[1]", None),
        ("3", None),
        ("not json", None),
        (None, None),  # a binary frame
        ('{"after": ' + "1" * 200 + "}", None),  # longer than any resume message
        ('{"after": 9007199254740991}', 9007199254740991),  # the largest safe integer in JS
        ('{"after": 9007199254740992}', None),  # past it: no SQLite or JS number holds all
        ('{"after": ' + "9" * 80 + "}", None),
    ],
)
def test_parse_resume(message: str | None, after: int | None) -> None:
    assert parse_resume(message) == after


def test_unseen_keeps_later_events_in_order() -> None:
    events = [{"seq": 5}, {"seq": 3}, {"seq": 4}, {"seq": 2}]
    assert [event["seq"] for event in unseen(events, 2)] == [3, 4, 5]
    assert unseen(events, 5) == []


def test_encode_event_keeps_a_failures_code_but_not_its_message() -> None:
    event = {
        "seq": 9,
        "job_id": "j",
        "type": "failed",
        "error": {"code": "provider_busy", "message": "ElevenLabs says 429 (quota 10/min)"},
        "refunded": 3,
    }
    assert json.loads(encode_event(event)) == {**event, "error": {"code": "provider_busy"}}


@pytest.mark.parametrize(
    ("origin", "url", "same"),
    [
        ("https://beatbun.example", "https://beatbun.example/studio/live", True),
        ("https://beatbun.example", "wss://beatbun.example/studio/live", True),
        ("http://127.0.0.1:8787", "ws://127.0.0.1:8787/studio/live", True),
        ("HTTPS://BeatBun.Example", "https://beatbun.example/studio/live", True),
        ("http://beatbun.example", "https://beatbun.example/studio/live", False),  # downgraded
        ("https://evil.example", "https://beatbun.example/studio/live", False),
        ("https://beatbun.example.evil.example", "https://beatbun.example/x", False),
        ("http://127.0.0.1:9999", "ws://127.0.0.1:8787/studio/live", False),  # another port
        ("null", "https://beatbun.example/studio/live", False),  # a sandboxed page
        (None, "https://beatbun.example/studio/live", False),
    ],
)
def test_is_same_origin(origin: str | None, url: str, same: bool) -> None:
    assert is_same_origin(origin, url=url) is same


def test_origin_of_maps_socket_schemes_to_page_schemes() -> None:
    assert origin_of("wss://a.example:8443/x?y") == "https://a.example:8443"


# --- both hosts' sockets ------------------------------------------------------------------


class EventLog(Actor):
    """An actor whose events are a list, without storage."""

    def __init__(self, events: list[dict[str, Any]]) -> None:
        self.events = events

    def events_after(self, seq: int) -> list[dict[str, Any]]:
        return [event for event in self.events if event["seq"] > seq]


class Local:
    def __init__(self) -> None:
        self.socket = LocalSocket()

    def sent(self) -> list[Any]:
        items = []
        while not self.socket.outbox.empty():
            item = self.socket.outbox.get_nowait()
            items.append(item if isinstance(item, str) else (item.code, item.reason))
        return items


class Hibernated:
    def __init__(self) -> None:
        pair = WebSocketPair.new()
        self.client = pair.client
        self.socket = HibernatedSocket(pair.server)

    def sent(self) -> list[Any]:
        closed = [self.client.closed] if self.client.closed else []
        return [*self.client.received, *closed]


HOSTS: list[Callable[[], Local | Hibernated]] = [Local, Hibernated]


@pytest.mark.parametrize("host", HOSTS, ids=["local", "hibernated"])
def test_resume_then_push_sends_each_event_once(host: Callable[[], Local | Hibernated]) -> None:
    end = host()
    socket: PushSocket = end.socket
    log = EventLog([{"seq": 1, "type": "queued"}, {"seq": 2, "type": "running"}])
    push_events(log, socket)
    assert end.sent() == []  # nothing before the client says where it resumes
    answer_socket_message(log, socket, encode_resume(1))
    log.events.append({"seq": 3, "type": "succeeded"})
    push_events(log, socket)
    push_events(log, socket)
    assert [json.loads(text)["seq"] for text in end.sent()] == [2, 3]
    assert socket.cursor() == 3


@pytest.mark.parametrize("host", HOSTS, ids=["local", "hibernated"])
def test_a_message_that_is_not_a_resume_closes_the_socket(
    host: Callable[[], Local | Hibernated],
) -> None:
    end = host()
    answer_socket_message(EventLog([{"seq": 1}]), end.socket, "everything please")
    assert end.sent() == [(CLOSE_INVALID_MESSAGE, INVALID_MESSAGE_REASON)]
    assert end.socket.cursor() is None


@pytest.mark.parametrize("host", HOSTS, ids=["local", "hibernated"])
def test_a_second_resume_on_the_same_socket_closes_it_without_a_replay(
    host: Callable[[], Local | Hibernated],
) -> None:
    # Each resume would replay up to a thousand events: a loop of them must not be answered.
    end = host()
    log = EventLog([{"seq": 1, "type": "queued"}, {"seq": 2, "type": "running"}])
    answer_socket_message(log, end.socket, encode_resume(0))
    answer_socket_message(log, end.socket, encode_resume(0))
    sent = end.sent()
    assert [json.loads(text)["seq"] for text in sent[:-1]] == [1, 2]
    assert sent[-1] == (CLOSE_INVALID_MESSAGE, INVALID_MESSAGE_REASON)
    assert end.socket.cursor() == 2
