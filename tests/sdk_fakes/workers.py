"""The `workers` SDK classes that `src/entry.py` subclasses."""

from __future__ import annotations

from typing import Any


class WorkerEntrypoint:
    def __init__(self, ctx: Any, env: Any) -> None:
        self.ctx = ctx
        self.env = env


class DurableObject:
    def __init__(self, ctx: Any, env: Any) -> None:
        self.ctx = ctx
        self.env = env


class Response:
    """`workers.Response` as the entry builds one: a body (here a JS stream), status, headers,
    and for a 101 the client's end of a WebSocketPair."""

    def __init__(
        self, body: Any = None, *, status: int = 200, headers: Any = None, web_socket: Any = None
    ) -> None:
        self.body = body
        self.status = status
        self.headers = headers
        self.web_socket = web_socket
