"""`asgi.fetch` as workers/asgi.py behaves: runs the app once with `scope["env"]` set.

The request here is a plain dict (method, url, headers, body); the response is a dict of status,
headers and body, which is all the entry-point tests read, and also allows `.status` and
`.headers` as the JS Response it stands for does.
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urlsplit


class JsResponse(dict[str, Any]):
    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


async def fetch(app: Any, request: dict[str, Any], env: Any) -> JsResponse:
    url = urlsplit(request["url"])
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": request.get("method", "GET"),
        "scheme": url.scheme,
        "server": (url.hostname, url.port or 443),
        "path": url.path,
        "raw_path": url.path.encode(),
        "query_string": url.query.encode(),
        "headers": [
            (k.lower().encode(), v.encode()) for k, v in request.get("headers", {}).items()
        ],
        "client": ("203.0.113.9", 0),
        "root_path": "",
        "env": env,
        "state": {},
    }
    body = request.get("body", b"")
    response = JsResponse(status=0, headers=[], body=b"")

    pending = [{"type": "http.request", "body": body, "more_body": False}]
    finished = asyncio.Event()

    async def receive() -> dict[str, Any]:
        # As the bridge: the body once, then `http.disconnect` only after the response ended.
        if pending:
            return pending.pop()
        await finished.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            response["status"] = message["status"]
            response["headers"] = [(k.decode(), v.decode()) for k, v in message["headers"]]
        elif message["type"] == "http.response.body":
            # Like workers/asgi.py, only bytes: the bridge copies them into a JS buffer.
            body = message.get("body", b"")
            if not isinstance(body, bytes):
                raise TypeError(f"ASGI body must be bytes, got {type(body).__name__}")
            response["body"] += body
            if not message.get("more_body", False):
                finished.set()

    await app(scope, receive, send)
    return response
