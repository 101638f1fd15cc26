"""What both fetch adapters send and check, so outbound calls look the same from either side."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping

from beatbun.runtime.base import FetchResponse, FetchStream
from beatbun.version import VERSION

# Some APIs refuse a request without one (Resend answers 403, error 1010), and Pyodide's httpx
# drops it (workers-py#68), so the adapters always set it themselves.
USER_AGENT = f"beatbun/{VERSION}"


def request_headers(headers: Mapping[str, str] | None) -> dict[str, str]:
    """`headers` with lower-case names and our `user-agent` first in it.

    A caller's own User-Agent (an SDK's product token) follows ours, as RFC 9110 §10.1.5 allows.
    """
    sent = {name.lower(): value for name, value in (headers or {}).items()}
    theirs = sent.pop("user-agent", "")
    sent["user-agent"] = f"{USER_AGENT} {theirs}".strip()
    return sent


def check_timeout(timeout_seconds: float) -> None:
    if not timeout_seconds > 0:
        raise ValueError(f"timeout_seconds must be positive, not {timeout_seconds!r}.")


async def read_whole(
    answer: contextlib.AbstractAsyncContextManager[FetchStream],
) -> FetchResponse:
    """A streamed answer (`Fetcher.stream(...)`) read to its end: how both adapters `fetch`."""
    async with answer as streamed:
        body = b"".join([chunk async for chunk in streamed.chunks])
    return FetchResponse(status=streamed.status, headers=streamed.headers, body=body)
