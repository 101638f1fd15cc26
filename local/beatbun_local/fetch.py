"""Outbound HTTP on CPython: httpx, with one deadline over the whole call.

httpx's timeouts bound each phase (connect, each read, each write, pool) separately, so a server
that trickles its body never trips them; `asyncio.timeout` bounds connect, headers and body
together, as `AbortSignal.timeout` does on Workers.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping

import httpx

from beatbun.runtime.base import FetchError, FetchResponse, FetchStream, FetchTimeout
from beatbun.runtime.fetchrules import check_timeout, read_whole, request_headers


class HttpxFetcher:
    """A `Fetcher` over `client` (tests hand it `httpx.MockTransport`), or a client per call."""

    def __init__(self, client: httpx.AsyncClient | None = None) -> None:
        self._client = client

    async def fetch(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
        timeout_seconds: float,
    ) -> FetchResponse:
        return await read_whole(
            self.stream(method, url, headers=headers, body=body, timeout_seconds=timeout_seconds)
        )

    @contextlib.asynccontextmanager
    async def stream(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
        timeout_seconds: float,
    ) -> AsyncIterator[FetchStream]:
        check_timeout(timeout_seconds)
        async with contextlib.AsyncExitStack() as stack:
            client = self._client
            if client is None:
                client = await stack.enter_async_context(httpx.AsyncClient())
            # Every phase may take the whole deadline; the deadline itself is asyncio's.
            request = client.build_request(
                method,
                url,
                headers=request_headers(headers),
                content=body,
                timeout=httpx.Timeout(timeout_seconds),
            )
            try:
                async with asyncio.timeout(timeout_seconds):
                    response = await client.send(request, stream=True)
                    try:
                        yield FetchStream(
                            status=response.status_code,
                            headers={k.lower(): v for k, v in response.headers.items()},
                            chunks=response.aiter_bytes(),
                        )
                    finally:
                        await response.aclose()
            # httpx's TimeoutException is an HTTPError, so it has to be caught first.
            except (TimeoutError, httpx.TimeoutException) as exc:
                raise FetchTimeout(
                    f"{method} {request.url.host} took longer than {timeout_seconds:g} s."
                ) from exc
            except httpx.HTTPError as exc:
                raise FetchError(
                    f"{method} {request.url.host} failed: {type(exc).__name__}."
                ) from exc
