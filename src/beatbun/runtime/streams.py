"""Handing a JS body stream from the app to the Worker's Response, past the ASGI bridge.

The SDK's ASGI bridge (workers/asgi.py `process_request`) copies the `bytes` of every
`http.response.body` message into a JS buffer, so a JS ReadableStream cannot travel through it.
`src/entry.py` therefore runs the app inside a `StreamHandoff`, which advertises the
`BODY_STREAM_EXTENSION` in the scope's `extensions`. A response holding a native stream (the R2
body, `BlobStream.native`) sends `{"type": BODY_STREAM_EXTENSION, "stream": ...}` instead of body
messages; the handoff keeps the stream, tells the bridge the body is empty, and the entry builds
the Worker's Response from that stream with the status and headers the bridge built. Under
uvicorn nothing advertises the extension and responses send their bytes as usual.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

BODY_STREAM_EXTENSION = "beatbun.body_stream"


class StreamHandoff:
    """Wraps the app for one request; `stream` is the native body it handed over, or None."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.stream: Any = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extensions = {**(scope.get("extensions") or {}), BODY_STREAM_EXTENSION: {}}

        async def forward(message: Message) -> None:
            if message["type"] == BODY_STREAM_EXTENSION:
                self.stream = message["stream"]
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await self.app({**scope, "extensions": extensions}, receive, forward)
