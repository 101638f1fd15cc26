"""The event-stream fallback as the Workers ASGI bridge runs it: no disconnect is ever reported.

The bridge's `receive()` yields `http.disconnect` only after the response has finished, and a
write to a closed client raises; the stream must stop polling the queue at that failed write.
"""

from __future__ import annotations

import asyncio
from collections.abc import MutableMapping
from typing import Any

import pytest
from fastapi import FastAPI

from beatbun.accounts.sessions import create_session
from beatbun.generation.models import GenerationRequest
from beatbun.generation.service import submit_generation
from beatbun.runtime.base import ActorStub
from beatbun.web.progress import POLL_SECONDS
from beatbun_local.runtime import LocalRuntime
from tests.factories import CLIENT, create_verified_account


class ClientGone(Exception):
    """What the bridge's `send` raises once the browser has closed the connection."""


class CountingQueues:
    """The user queues, counting the calls made to them."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.calls = 0

    def id_from_name(self, name: str) -> str:
        return str(self.inner.id_from_name(name))

    def get(self, actor_id: str) -> ActorStub:
        stub = self.inner.get(actor_id)
        counter = self

        class Counted:
            async def call(self, method: str, *args: Any) -> Any:
                counter.calls += 1
                return await stub.call(method, *args)

        return Counted()


async def stream_until_the_client_goes(
    app: FastAPI, cookie: str, *, writes_before_gone: int
) -> list[bytes]:
    """Run GET /studio/events as the bridge would; the client vanishes after some writes."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "https",
        "server": ("beatbun.example", 443),
        "path": "/studio/events",
        "raw_path": b"/studio/events",
        "query_string": b"after=0",
        "headers": [(b"host", b"beatbun.example"), (b"cookie", cookie.encode())],
        "root_path": "",
        "state": {},
    }
    finished = asyncio.Event()
    written: list[bytes] = []

    async def receive() -> dict[str, Any]:
        await finished.wait()  # never during the response, as in workers/asgi.py
        return {"type": "http.disconnect"}

    async def send(message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.body" and message.get("body"):
            if len(written) == writes_before_gone:
                raise ClientGone
            written.append(message["body"])

    with pytest.raises(ClientGone):
        await app(scope, receive, send)
    finished.set()
    return written


async def test_event_stream_stops_polling_at_the_first_failed_write(
    runtime: LocalRuntime, app: FastAPI
) -> None:
    account = await create_verified_account(runtime, email="gone@example.com")
    _, token = await create_session(
        runtime.db, account_id=account.id, stage="full", client=CLIENT, now=runtime.clock.now()
    )
    # No alarm loop runs here, so the job stays queued and the stream would go on forever.
    await submit_generation(
        runtime,
        account_id=account.id,
        request=GenerationRequest.parse({"prompt": "never heard", "duration_seconds": 5}),
        idempotency_key=None,
    )
    local_queues = runtime.user_queues
    queues = CountingQueues(local_queues)
    runtime.user_queues = queues  # type: ignore[assignment]
    try:
        started = asyncio.get_running_loop().time()
        written = await stream_until_the_client_goes(
            app, f"__Host-session={token}", writes_before_gone=3
        )
        # Every poll writes, so a closed client is found at the next poll, not minutes later.
        noticed_after = asyncio.get_running_loop().time() - started
        calls = queues.calls
        await asyncio.sleep(POLL_SECONDS * 3)
    finally:
        runtime.user_queues = local_queues
    assert written[0].startswith(b"retry:") and b'"type":"queued"' in written[1]
    assert noticed_after < POLL_SECONDS * 3
    assert calls > 0 and queues.calls == calls
