"""stripe-python's HTTP transport over the runtime's fetch port.

stripe-python lets a `StripeClient` take any `stripe.HTTPClient` subclass; the async methods
we call need only `request_async` (and `request_stream_async`, `sleep_async`, `close_async`).
So Stripe gets our User-Agent first and one deadline over each whole call, as all other
outbound HTTP does, and on Workers it goes through `fetch` rather than Pyodide's httpx.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Iterator, Mapping
from typing import Any

import stripe

from beatbun.runtime.base import Fetcher, FetchError


class FetcherHTTPClient(stripe.HTTPClient):
    """Stripe's transport through a `Fetcher`: asynchronous calls only (a Worker cannot block)."""

    name = "beatbun-fetch"

    def __init__(self, fetcher: Fetcher, *, timeout_seconds: float) -> None:
        super().__init__()
        self._fetcher = fetcher
        self._timeout_seconds = timeout_seconds

    def request(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str] | None,
        post_data: Any = None,
        *,
        _usage: list[str] | None = None,
    ) -> tuple[str, int, Mapping[str, str]]:
        raise RuntimeError(
            "Stripe was called synchronously; call the client's *_async methods instead "
            "(e.g. client.v1.customers.create_async)."
        )

    request_stream = request

    async def request_async(
        self, method: str, url: str, headers: Mapping[str, str], post_data: Any = None
    ) -> tuple[bytes, int, Mapping[str, str]]:
        body = post_data.encode() if isinstance(post_data, str) else post_data
        try:
            response = await self._fetcher.fetch(
                method.upper(),
                url,
                headers=headers,
                body=body or None,
                timeout_seconds=self._timeout_seconds,
            )
        except FetchError as exc:
            # A StripeError, which stripe_client turns into PaymentProviderError (no retries).
            raise stripe.APIConnectionError(  # type: ignore[no-untyped-call]
                f"Stripe could not be reached: {exc.message}", should_retry=True
            ) from exc
        return response.body, response.status, _Headers(response.headers)

    async def request_stream_async(
        self, method: str, url: str, headers: Mapping[str, str], post_data: Any = None
    ) -> tuple[AsyncIterator[bytes], int, Mapping[str, str]]:
        body, status, answered = await self.request_async(method, url, headers, post_data)
        return _once(body), status, answered

    def sleep_async(self, secs: float) -> Awaitable[None]:
        return asyncio.sleep(secs)

    async def close_async(self) -> None:
        return None

    def close(self) -> None:
        return None


class _Headers(Mapping[str, str]):
    """Response headers looked up by any case: the SDK reads `rheaders["Request-Id"]`."""

    def __init__(self, headers: Mapping[str, str]) -> None:
        self._headers = {name.lower(): value for name, value in headers.items()}

    def __getitem__(self, name: str) -> str:
        return self._headers[name.lower()]

    def __iter__(self) -> Iterator[str]:
        return iter(self._headers)

    def __len__(self) -> int:
        return len(self._headers)


async def _once(body: bytes) -> AsyncIterator[bytes]:
    yield body
