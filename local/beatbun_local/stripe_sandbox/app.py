"""The sandbox as one Starlette app: Stripe's API, its hosted pages and the test controls."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from beatbun_local.stripe_sandbox import api, control, hosted
from beatbun_local.stripe_sandbox.endpoint import stripe_json
from beatbun_local.stripe_sandbox.objects import seed_catalogue
from beatbun_local.stripe_sandbox.sandbox import Sandbox
from beatbun_local.stripe_sandbox.store import Store
from beatbun_local.stripe_sandbox.wire import StripeError


def create_sandbox_app(
    *,
    webhook_url: str,
    webhook_secret: str,
    public_url: str,
    state_path: Path | None = None,
    async_settle_seconds: float = 3.0,
    legacy_fields: bool = True,
    max_delivery_attempts: int = 8,
    retry_base_seconds: float = 0.5,
) -> Starlette:
    """Build the sandbox; it loads `state_path` (if it exists) now and starts delivering on startup.

    `public_url` is where browsers reach it (hosted page URLs start with it). An empty
    `webhook_url` sends no webhooks. Retries wait `retry_base_seconds`, doubling each time.
    """
    store = Store.open(public_url=public_url, state_path=state_path)
    # The catalogue is re-seeded on every start, so a changed catalogue replaces the saved one.
    seed_catalogue(store)
    sandbox = Sandbox(
        store,
        webhook_url=webhook_url or None,
        webhook_secret=webhook_secret,
        async_settle_seconds=async_settle_seconds,
        legacy_fields=legacy_fields,
        max_attempts=max_delivery_attempts,
        retry_base_seconds=retry_base_seconds,
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await sandbox.start()
        try:
            yield
        finally:
            await sandbox.stop()

    app = Starlette(
        routes=[*api.ROUTES, *hosted.ROUTES, *control.ROUTES],
        lifespan=lifespan,
        exception_handlers={StripeError: _stripe_error, HTTPException: _http_error},
    )
    app.state.sandbox = sandbox
    return app


async def _stripe_error(request: Request, exc: Exception) -> Response:
    if not isinstance(exc, StripeError):
        raise TypeError(f"Registered for StripeError, called with {type(exc).__name__}.")
    return stripe_json(exc.body(), status=exc.status)


async def _http_error(request: Request, exc: Exception) -> Response:
    """Unknown `/v1` URLs answer as Stripe's do; anything else gets a plain status line."""
    if not isinstance(exc, HTTPException):
        raise TypeError(f"Registered for HTTPException, called with {type(exc).__name__}.")
    if request.url.path.startswith("/v1/"):
        error = StripeError(
            f"Unrecognized request URL ({request.method}: {request.url.path}). Please see "
            "https://stripe.com/docs or we can help at https://support.stripe.com/.",
            status=404,
        )
        return stripe_json(error.body(), status=404)
    return PlainTextResponse(exc.detail, status_code=exc.status_code)
