"""`asgi.fetch` as workers/asgi.py behaves: runs the app once with `scope["env"]` set.

The request here is a plain dict (method, url, headers, body); the response is a dict of status,
headers and body, which is all the entry-point tests read.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit


async def fetch(app: Any, request: dict[str, Any], env: Any) -> dict[str, Any]:
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
    response: dict[str, Any] = {"status": 0, "headers": [], "body": b""}

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            response["status"] = message["status"]
            response["headers"] = [(k.decode(), v.decode()) for k, v in message["headers"]]
        elif message["type"] == "http.response.body":
            response["body"] += message.get("body", b"")

    await app(scope, receive, send)
    return response
