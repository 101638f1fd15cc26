"""The fetch port: the same cases against httpx (a real local server) and `js.fetch` (the fake).

Both sides must send our User-Agent and bound the whole call, body included, by one deadline:
a server that sends its headers at once and then stalls or trickles the body times out at the
deadline, and one that answers slowly but within it does not.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import httpx
import js
import pytest
from js_bindings import FakeNetwork, Scripted, SentRequest
from pyodide.ffi import JsException

from beatbun.runtime.base import Fetcher, FetchError, FetchTimeout
from beatbun.runtime.cloudflare import JsFetcher
from beatbun.runtime.fetchrules import USER_AGENT
from beatbun_local.fetch import HttpxFetcher


@dataclass
class Side:
    """One adapter and the far end it talks to: `play(script)` gives the URL that plays it."""

    fetcher: Fetcher
    play: Callable[[Scripted], str]
    requests: Callable[[], list[SentRequest]]


@pytest.fixture(params=["local", "cloudflare"])
async def side(request: pytest.FixtureRequest) -> AsyncIterator[Side]:
    if request.param == "local":
        async with LocalServer() as side:
            yield side
        return
    network = FakeNetwork(Scripted())

    def play(script: Scripted) -> str:
        network.script = script
        return "https://api.example.com/v1/things?x=1"

    js.network = network
    try:
        yield Side(fetcher=JsFetcher(), play=play, requests=lambda: network.requests)
    finally:
        js.network = None


async def test_fetch_sends_our_user_agent(side: Side) -> None:
    url = side.play(Scripted(pieces=((0, b"ok"),)))

    await side.fetcher.fetch("GET", url, timeout_seconds=5)

    assert side.requests()[0].headers["user-agent"] == USER_AGENT


async def test_fetch_caller_user_agent_follows_ours(side: Side) -> None:
    url = side.play(Scripted(pieces=((0, b"ok"),)))

    await side.fetcher.fetch(
        "GET", url, headers={"User-Agent": "Stripe/v1 PythonBindings/16"}, timeout_seconds=5
    )

    assert side.requests()[0].headers["user-agent"] == f"{USER_AGENT} Stripe/v1 PythonBindings/16"


async def test_fetch_sends_method_headers_and_body(side: Side) -> None:
    url = side.play(Scripted(pieces=((0, b"ok"),)))

    await side.fetcher.fetch(
        "POST",
        url,
        headers={"Authorization": "Bearer k", "Content-Type": "application/json"},
        body=b'{"a": 1}',
        timeout_seconds=5,
    )

    [sent] = side.requests()
    assert (sent.method, sent.body) == ("POST", b'{"a": 1}')
    assert sent.headers["authorization"] == "Bearer k"
    assert sent.headers["content-type"] == "application/json"


async def test_fetch_error_status_is_an_answer(side: Side) -> None:
    script = Scripted(status=429, headers={"Retry-After": "3"}, pieces=((0, b'{"e": 1}'),))
    url = side.play(script)

    response = await side.fetcher.fetch("GET", url, timeout_seconds=5)

    assert response.status == 429
    assert response.headers["retry-after"] == "3"
    assert response.body == b'{"e": 1}'


async def test_fetch_slow_answer_within_the_deadline_arrives(side: Side) -> None:
    pieces = ((0.15, b"one "), (0.15, b"two "), (0.15, b"three"))
    url = side.play(Scripted(headers_after=0.3, pieces=pieces))

    response = await side.fetcher.fetch("GET", url, timeout_seconds=2)

    assert response.body == b"one two three"


@pytest.mark.parametrize(
    "script",
    [
        Scripted(pieces=((0, b"start"), (30, b"never"))),  # headers at once, then the body stalls
        # Each piece well inside the deadline, the whole body far beyond it: a per-read timeout
        # (httpx's own) would never fire.
        Scripted(pieces=tuple((0.1, b"x") for _ in range(40))),
        Scripted(headers_after=30),  # no headers at all
    ],
)
async def test_fetch_whole_call_deadline_covers_the_body(side: Side, script: Scripted) -> None:
    url = side.play(script)
    started = time.monotonic()

    with pytest.raises(FetchTimeout, match=r"longer than 0\.6 s"):
        await side.fetcher.fetch("GET", url, timeout_seconds=0.6)

    assert 0.5 <= time.monotonic() - started < 1.5


async def test_fetch_stream_hands_over_the_body_in_pieces(side: Side) -> None:
    url = side.play(Scripted(headers={"Song-Id": "s1"}, pieces=((0, b"ab"), (0.05, b"cd"))))

    async with side.fetcher.stream("GET", url, timeout_seconds=5) as answer:
        assert (answer.status, answer.headers["song-id"]) == (200, "s1")
        received = [chunk async for chunk in answer.chunks]

    assert b"".join(received) == b"abcd"


async def test_fetch_stream_stalled_body_times_out_while_reading(side: Side) -> None:
    url = side.play(Scripted(pieces=((0, b"start"), (30, b"never"))))
    started = time.monotonic()

    with pytest.raises(FetchTimeout):
        async with side.fetcher.stream("GET", url, timeout_seconds=0.5) as answer:
            async for _ in answer.chunks:
                pass

    assert 0.4 <= time.monotonic() - started < 1.5


async def test_fetch_unreachable_host_is_a_fetch_error_not_a_timeout(side: Side) -> None:
    url = side.play(Scripted(unreachable=True))

    with pytest.raises(FetchError) as caught:
        await side.fetcher.fetch("GET", url, timeout_seconds=5)

    assert not isinstance(caught.value, FetchTimeout)


async def test_fetch_refuses_a_deadline_that_is_not_positive(side: Side) -> None:
    with pytest.raises(ValueError, match="positive"):
        await side.fetcher.fetch("GET", side.play(Scripted()), timeout_seconds=0)


async def test_js_fetch_signal_is_abort_signal_timeout_of_the_deadline() -> None:
    seen: list[dict[str, object]] = []

    async def network(url: str, init: dict[str, object]) -> object:
        seen.append(init)
        raise JsException("stop here", name="TypeError")

    js.network = network
    try:
        with pytest.raises(FetchError):
            await JsFetcher().fetch("GET", "https://x.example/", timeout_seconds=2.5)
    finally:
        js.network = None

    signal = seen[0]["signal"]
    assert isinstance(signal, js._TimeoutSignal) and signal.timeout_ms == 2500


async def test_js_fetch_answer_without_body_has_no_chunks() -> None:
    # `Response.body` is null for a 204, which Pyodide hands over as jsnull, not None.
    js.network = FakeNetwork(Scripted(status=204))
    try:
        response = await JsFetcher().fetch("DELETE", "https://x.example/a", timeout_seconds=1)
    finally:
        js.network = None

    assert (response.status, response.body) == (204, b"")


async def test_local_fetch_uses_the_injected_client() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=b"mocked")

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        response = await HttpxFetcher(client).fetch("GET", "https://x.example/", timeout_seconds=1)

    assert response.body == b"mocked"
    assert seen[0].headers["user-agent"] == USER_AGENT


class LocalServer:
    """A real HTTP/1.1 server on 127.0.0.1 that plays each request's script over a socket."""

    def __init__(self) -> None:
        self.script = Scripted()
        self.requests: list[SentRequest] = []
        self._tasks: set[asyncio.Task[None]] = set()

    async def __aenter__(self) -> Side:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        self._url = f"http://127.0.0.1:{port}/v1/things?x=1"
        return Side(fetcher=HttpxFetcher(), play=self._play, requests=lambda: self.requests)

    async def __aexit__(self, *exc: object) -> None:
        self._server.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

    def _play(self, script: Scripted) -> str:
        self.script = script
        if script.unreachable:
            # A port nobody listens on: the connection is refused.
            return "http://127.0.0.1:9/"
        return self._url

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            await self._answer(reader, writer)
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    async def _answer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
        method, target, _ = head[0].split(" ", 2)
        headers = dict(line.split(": ", 1) for line in head[1:] if line)
        headers = {name.lower(): value for name, value in headers.items()}
        length = int(headers.get("content-length", "0"))
        body = await reader.readexactly(length) if length else None
        self.requests.append(SentRequest(method, target, headers, body))
        script = self.script
        await asyncio.sleep(script.headers_after)
        lines = [f"HTTP/1.1 {script.status} X", f"Content-Length: {len(script.body)}"]
        lines += [f"{name}: {value}" for name, value in script.headers.items()]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        await writer.drain()
        for delay, piece in script.pieces:
            await asyncio.sleep(delay)
            writer.write(piece)
            await writer.drain()
