from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any, cast

import httpx
import pytest
import stripe
from starlette.applications import Starlette
from stripe.params.checkout import SessionCreateParams

from beatbun_local.stripe_sandbox.app import create_sandbox_app
from beatbun_local.stripe_sandbox.sandbox import Sandbox
from tests.stripe_sandbox.server import (
    WEBHOOK_SECRET,
    RunningSandbox,
    ServedApp,
    WebhookReceiver,
    close_http_client,
    free_port,
    running_sandbox,
    serving,
    stripe_client,
)

# Short enough to keep the suite quick, long enough that a test sees the states in between.
ASYNC_SETTLE_SECONDS = 0.3
RETRY_BASE_SECONDS = 0.05
# stripe-python 16.1's HTTPXClient posts its form body as `data=<str>`, which httpx 0.28 deprecates;
# under `filterwarnings = error` the SDK wraps that warning into an APIConnectionError.
SDK_POSTS_RAW_DATA = pytest.mark.filterwarnings(
    "ignore:Use 'content=<...>' to upload raw bytes/text content:DeprecationWarning"
)
GOOD_CARD = {"cardNumber": "4242 4242 4242 4242", "cardExpiry": "12 / 34", "cardCvc": "123"}


class InProcessSandbox:
    """The sandbox served in the test's event loop, with its internals at hand."""

    def __init__(self, app: Starlette, url: str) -> None:
        self.app = app
        self.url = url
        self.state: Sandbox = app.state.sandbox

    async def get(self, path: str) -> Any:
        async with httpx.AsyncClient(base_url=self.url) as http:
            response = await http.get(f"/_sandbox/{path}")
        response.raise_for_status()
        return response.json()

    async def post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        async with httpx.AsyncClient(base_url=self.url, timeout=15) as http:
            response = await http.post(f"/_sandbox/{path}", json=body or {})
        response.raise_for_status()
        return response.json()


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[tuple[WebhookReceiver, InProcessSandbox]]:
    """A webhook receiver, and a sandbox delivering to it, in this test's event loop."""
    receiver = WebhookReceiver()
    receiver_app = ServedApp(receiver.app)
    receiver.url = f"{receiver_app.url}/webhook"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    app = create_sandbox_app(
        webhook_url=receiver.url,
        webhook_secret=WEBHOOK_SECRET,
        public_url=url,
        state_path=tmp_path / "stripe-state.json",
        async_settle_seconds=ASYNC_SETTLE_SECONDS,
        retry_base_seconds=RETRY_BASE_SECONDS,
    )
    async with serving(receiver_app, ServedApp(app, port=port)):
        yield receiver, InProcessSandbox(app, url)


@pytest.fixture
def receiver(served: tuple[WebhookReceiver, InProcessSandbox]) -> WebhookReceiver:
    return served[0]


@pytest.fixture
def sandbox(served: tuple[WebhookReceiver, InProcessSandbox]) -> InProcessSandbox:
    return served[1]


@pytest.fixture
def stripe_sandbox(tmp_path: Path) -> Iterator[RunningSandbox]:
    """The sandbox CLI in its own process, state under `tmp_path`, no webhook target."""
    yield from running_sandbox(tmp_path)


@pytest.fixture
async def stripe_api(sandbox: InProcessSandbox) -> AsyncIterator[stripe.StripeClient]:
    http_client = stripe.HTTPXClient()
    yield stripe_client(sandbox.url, http_client)
    await close_http_client(http_client)


@pytest.fixture
async def shopper() -> AsyncIterator[httpx.AsyncClient]:
    """A shopper's browser on the hosted pages: plain GETs and form POSTs, no JavaScript."""
    async with httpx.AsyncClient(timeout=10) as http:
        yield http


async def open_checkout(
    stripe_api: stripe.StripeClient, *, price: str, mode: str, **extra: Any
) -> tuple[stripe.Customer, stripe.checkout.Session]:
    """A customer and an open Checkout Session for one unit of `price`, made as the app makes them."""
    customer = await stripe_api.v1.customers.create_async(
        params={"email": "ada@example.com", "metadata": {"account_id": "acc_1"}}
    )
    session = await stripe_api.v1.checkout.sessions.create_async(
        params=cast(
            "SessionCreateParams",
            {
                "mode": mode,
                "customer": customer.id,
                "client_reference_id": "acc_1",
                "line_items": [{"price": price, "quantity": 1}],
                "success_url": "http://app.test/billing/done?session_id={CHECKOUT_SESSION_ID}",
                "cancel_url": "http://app.test/billing",
                "metadata": {"account_id": "acc_1"},
                **extra,
            },
        )
    )
    return customer, session


async def pay(
    shopper: httpx.AsyncClient, url: str, card_number: str = "4242 4242 4242 4242"
) -> httpx.Response:
    return await shopper.post(url, data={**GOOD_CARD, "cardNumber": card_number})
