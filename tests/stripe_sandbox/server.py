"""Helpers that run the Stripe sandbox for tests: as a subprocess, or inside the test's loop.

`RunningSandbox` is the CLI in its own process, shaped like `LiveServer` in tests/conftest.py.
`serving(ServedApp(app), ...)` serves ASGI apps (the sandbox, a `WebhookReceiver`) with uvicorn
in the running event loop, which is quicker to start and lets a test inspect the app's state.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import stripe
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp

from tests.processes import ServerProcess, free_port

WEBHOOK_SECRET = "whsec_test_sandbox_secret"
API_KEY = "sk_test_sandbox"


def stripe_client(url: str, http_client: stripe.HTTPXClient) -> stripe.StripeClient:
    """An SDK client built as the app builds its own, aimed at the sandbox at `url`."""
    return stripe.StripeClient(
        API_KEY, base_addresses={"api": url}, http_client=http_client, max_network_retries=0
    )


async def close_http_client(http_client: stripe.HTTPXClient) -> None:
    await http_client.close_async()  # type: ignore[no-untyped-call]  # untyped in stripe 16.1


class RunningSandbox(ServerProcess):
    """`python -m beatbun_local.stripe_sandbox` on a free loopback port."""

    name = "Sandbox"
    health_path = "/_sandbox/health"

    def __init__(
        self,
        state_path: Path | None,
        log_path: Path,
        *,
        webhook_url: str = "",
        webhook_secret: str = WEBHOOK_SECRET,
        extra_args: tuple[str, ...] = (),
    ) -> None:
        super().__init__(log_path)
        self.state_path = state_path
        self.webhook_url = webhook_url
        self.webhook_secret = webhook_secret
        self.extra_args = extra_args

    def command(self) -> list[str]:
        command = [
            sys.executable,
            "-m",
            "beatbun_local.stripe_sandbox",
            "--port",
            str(self.port),
            "--webhook-url",
            self.webhook_url,
            "--webhook-secret",
            self.webhook_secret,
            "--log-level",
            "warning",
            *self.extra_args,
        ]
        if self.state_path is not None:
            command += ["--state", str(self.state_path)]
        return command

    def control(self, path: str, body: dict[str, Any] | None = None) -> Any:
        """POST (with a body) or GET a `/_sandbox/...` test control; its JSON answer."""
        url = f"{self.url}/_sandbox/{path}"
        response = httpx.post(url, json=body, timeout=15) if body is not None else httpx.get(url)
        response.raise_for_status()
        return response.json()


def running_sandbox(tmp_path: Path, **kwargs: Any) -> Iterator[RunningSandbox]:
    """A subprocess sandbox keeping its state under `tmp_path`, for fixtures to `yield from`."""
    sandbox = RunningSandbox(
        tmp_path / "stripe-state.json", tmp_path / "stripe-sandbox.log", **kwargs
    )
    sandbox.start()
    yield sandbox
    sandbox.stop()


class ServedApp:
    """uvicorn serving an ASGI app in the running event loop; see `serving`."""

    def __init__(self, app: ASGIApp, *, port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_level="warning", ws="none", lifespan="auto"
        )
        self._server = uvicorn.Server(config)
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._server.serve())
        while not self._server.started:
            if self._task.done():
                self._task.result()
                raise RuntimeError(f"uvicorn stopped before serving on {self.url}")
            await asyncio.sleep(0.01)

    def request_exit(self) -> None:
        self._server.should_exit = True

    async def wait_closed(self) -> None:
        if self._task is not None:
            await self._task


@contextlib.asynccontextmanager
async def serving(*apps: ServedApp) -> AsyncIterator[None]:
    """Serve `apps` for the block, then stop them all at once (each takes a ~0.1 s tick)."""
    await asyncio.gather(*(app.start() for app in apps))
    try:
        yield
    finally:
        for app in apps:
            app.request_exit()
        await asyncio.gather(*(app.wait_closed() for app in apps))


class WebhookReceiver:
    """An endpoint that verifies each delivery with the official SDK, as the app will.

    `fail_next(n)` makes it answer 500 to the next `n` deliveries (before verifying them).
    """

    def __init__(self, secret: str = WEBHOOK_SECRET) -> None:
        self.secret = secret
        self.url = ""  # set once served
        self.events: list[stripe.Event] = []
        self.bodies: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.refusals = 0
        # Deliveries whose signature the SDK refused; a test expects none.
        self.rejected: list[str] = []
        self._to_refuse = 0
        self._arrived = asyncio.Condition()
        self.app = Starlette(routes=[Route("/webhook", self._receive, methods=["POST"])])

    def fail_next(self, count: int) -> None:
        self._to_refuse = count

    @property
    def types(self) -> list[str]:
        return [event.type for event in self.events]

    async def wait_for(self, count: int, *, within: float = 5.0) -> list[stripe.Event]:
        """Wait until `count` events have been accepted; all accepted so far."""
        async with asyncio.timeout(within), self._arrived:
            await self._arrived.wait_for(lambda: len(self.events) >= count)
        return self.events

    async def _receive(self, request: Request) -> Response:
        if self._to_refuse:
            self._to_refuse -= 1
            self.refusals += 1
            return PlainTextResponse("not now", status_code=500)
        payload = (await request.body()).decode()
        try:
            event = stripe.Webhook.construct_event(
                payload, request.headers.get("Stripe-Signature"), self.secret
            )
        except stripe.SignatureVerificationError as exc:
            self.rejected.append(str(exc))
            return PlainTextResponse("bad signature", status_code=400)
        async with self._arrived:
            self.events.append(event)
            self.bodies.append(json.loads(payload))
            self.headers.append(dict(request.headers))
            self._arrived.notify_all()
        return PlainTextResponse("ok")
