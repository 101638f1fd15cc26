"""`/_sandbox/...`: test controls Stripe does not have (JSON in and out, no auth).

Errors answer in Stripe's error shape. They stand in for time passing (renewals, async settlement, the clock) and for the Dashboard's
webhook tools (the delivery log, resending), and let a test hold deliveries to order them itself.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from beatbun_local.stripe_sandbox import checkout, subscriptions
from beatbun_local.stripe_sandbox.endpoint import stripe_json
from beatbun_local.stripe_sandbox.sandbox import sandbox_of
from beatbun_local.stripe_sandbox.store import Store
from beatbun_local.stripe_sandbox.types import StripeObject
from beatbun_local.stripe_sandbox.wire import StripeError

DRAIN_TIMEOUT_SECONDS = 10.0


async def health(request: Request) -> Response:
    return JSONResponse({"ok": True})


async def renew(request: Request) -> Response:
    return await _on_subscription(request, subscriptions.renew)


async def fail_renewal(request: Request) -> Response:
    return await _on_subscription(request, subscriptions.fail_renewal)


async def _on_subscription(
    request: Request, change: Callable[[Store, StripeObject], StripeObject]
) -> Response:
    sandbox = sandbox_of(request)
    subscription = sandbox.store.get("subscription", request.path_params["id"])
    change(sandbox.store, subscription)
    sandbox.persist()
    return stripe_json(sandbox.render(subscription))


async def settle(request: Request) -> Response:
    sandbox = sandbox_of(request)
    session = sandbox.store.get("checkout.session", request.path_params["id"])
    checkout.settle(sandbox.store, session)
    sandbox.persist()
    return stripe_json(sandbox.render(session))


async def deliveries(request: Request) -> Response:
    dispatcher = sandbox_of(request).dispatcher
    return JSONResponse(
        {
            "url": dispatcher.url,
            "paused": dispatcher.paused,
            "data": [delivery.as_json() for delivery in dispatcher.deliveries],
        }
    )


async def drain(request: Request) -> Response:
    """Answer once every pending delivery is done (200), or after the timeout (504)."""
    body = await _json(request)
    try:
        async with asyncio.timeout(float(body.get("timeout", DRAIN_TIMEOUT_SECONDS))):
            await sandbox_of(request).dispatcher.drain()
    except TimeoutError:
        return JSONResponse({"drained": False}, status_code=504)
    return JSONResponse({"drained": True})


async def resend(request: Request) -> Response:
    sandbox = sandbox_of(request)
    delivery = await sandbox.dispatcher.resend(request.path_params["id"])
    sandbox.persist()
    return JSONResponse(delivery.as_json())


async def set_webhook(request: Request) -> Response:
    body = await _json(request)
    dispatcher = sandbox_of(request).dispatcher
    dispatcher.configure(url=body.get("url"), secret=body.get("secret") or dispatcher.secret)
    return JSONResponse({"url": dispatcher.url})


async def pause_deliveries(request: Request) -> Response:
    sandbox_of(request).dispatcher.pause()
    return JSONResponse({"paused": True})


async def resume_deliveries(request: Request) -> Response:
    sandbox_of(request).dispatcher.resume()
    return JSONResponse({"paused": False})


async def clock(request: Request) -> Response:
    """`{"now": epoch}` pins the sandbox clock; `{"now": null}` returns it to real time."""
    sandbox = sandbox_of(request)
    if request.method == "POST":
        now = (await _json(request)).get("now")
        sandbox.store.clock.pinned = None if now is None else int(now)
        sandbox.store.dirty = True
        sandbox.persist()
    return JSONResponse(
        {"now": sandbox.store.now(), "pinned": sandbox.store.clock.pinned is not None}
    )


async def _json(request: Request) -> dict[str, Any]:
    raw = await request.body()
    try:
        parsed = json.loads(raw) if raw.strip() else {}
    except ValueError:
        parsed = None
    if not isinstance(parsed, dict):
        raise StripeError("Send a JSON object as the request body.")
    return parsed


ROUTES = [
    Route("/_sandbox/health", health, methods=["GET"]),
    Route("/_sandbox/subscriptions/{id}/renew", renew, methods=["POST"]),
    Route("/_sandbox/subscriptions/{id}/fail_renewal", fail_renewal, methods=["POST"]),
    Route("/_sandbox/checkout/{id}/settle", settle, methods=["POST"]),
    Route("/_sandbox/deliveries", deliveries, methods=["GET"]),
    Route("/_sandbox/deliveries/drain", drain, methods=["POST"]),
    Route("/_sandbox/events/{id}/resend", resend, methods=["POST"]),
    Route("/_sandbox/webhook", set_webhook, methods=["POST"]),
    Route("/_sandbox/pause_deliveries", pause_deliveries, methods=["POST"]),
    Route("/_sandbox/resume_deliveries", resume_deliveries, methods=["POST"]),
    Route("/_sandbox/clock", clock, methods=["GET", "POST"]),
]
