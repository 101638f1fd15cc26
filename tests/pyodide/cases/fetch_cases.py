"""The fetch port (`JsFetcher`) through the runtime's `fetch` to a local Node HTTP server."""

from __future__ import annotations

import json
import time

import conformance_js
from runner import case

from beatbun.runtime.base import FetchError, FetchTimeout
from beatbun.runtime.cloudflare import JsFetcher
from beatbun.version import VERSION

PEER = conformance_js.peerUrl


@case
async def sends_every_header_and_our_user_agent() -> None:
    answer = await JsFetcher().fetch(
        "GET",
        f"{PEER}/echo",
        headers={"X-Api-Key": "k1", "Accept": "application/json", "User-Agent": "stripe/1"},
        timeout_seconds=5,
    )
    assert answer.status == 200 and answer.headers["x-peer"] == "echo", answer.headers
    received = json.loads(answer.body)
    assert received["headers"]["user-agent"] == f"beatbun/{VERSION} stripe/1", received
    assert received["headers"]["x-api-key"] == "k1"
    assert received["headers"]["accept"] == "application/json"


@case
async def sends_the_body_unchanged() -> None:
    payload = bytes(range(256))
    answer = await JsFetcher().fetch(
        "POST",
        f"{PEER}/echo",
        body=payload,
        headers={"content-type": "application/octet-stream"},
        timeout_seconds=5,
    )
    received = json.loads(answer.body)
    assert received["method"] == "POST" and received["body"].encode("latin1") == payload


@case
async def times_out_waiting_for_the_headers() -> None:
    started = time.monotonic()
    try:
        await JsFetcher().fetch("GET", f"{PEER}/slow-headers?ms=5000", timeout_seconds=0.3)
    except FetchTimeout:
        pass
    else:
        raise AssertionError("no timeout")
    assert time.monotonic() - started < 2


@case
async def times_out_while_the_body_arrives() -> None:
    # AbortSignal.timeout bounds the whole call: an abort after the headers errors the body.
    started = time.monotonic()
    received = []
    try:
        async with JsFetcher().stream(
            "GET", f"{PEER}/slow-body?ms=5000", timeout_seconds=0.5
        ) as answer:
            assert answer.status == 200
            try:
                async for chunk in answer.chunks:
                    received.append(chunk)
            except FetchTimeout:
                pass  # raised where the chunks are read, as a caller's loop expects it
            else:
                raise AssertionError("the body outlived the deadline")
    except FetchTimeout as exc:
        raise AssertionError("the timeout escaped only when the block ended") from exc
    assert b"".join(received) == b"first;" and time.monotonic() - started < 2


@case
async def empty_answer_has_empty_body() -> None:
    answer = await JsFetcher().fetch("GET", f"{PEER}/empty", timeout_seconds=5)
    assert (answer.status, answer.body) == (204, b"")


@case
async def refused_connection_is_fetch_error() -> None:
    try:
        await JsFetcher().fetch("GET", "http://127.0.0.1:9/", timeout_seconds=5)
    except FetchTimeout as exc:
        raise AssertionError("a refused connection was reported as a timeout") from exc
    except FetchError:
        pass
    else:
        raise AssertionError("no error")
