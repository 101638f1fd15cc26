"""The Worker: HTTP through the ASGI bridge, cron, and the Durable Object hosts.

Module top level runs at deploy time and is snapshotted, so it only builds the app (no I/O,
clock or randomness); every binding is reached through `self.env` inside a handler.

The live progress WebSocket is routed before the app: the bridge would accept it without
hibernation (§12), so after the session check the handshake goes to the user's queue object,
which accepts it with the Hibernation API and pushes events to it.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from workers import DurableObject, Response, WorkerEntrypoint

from beatbun.errors import AppError
from beatbun.generation.queue import UserQueue as UserQueueActor
from beatbun.main import create_app
from beatbun.runtime.actors import answer_socket_message, serve_alarm, serve_in_turn
from beatbun.runtime.cloudflare import (
    DurableObjectNamespace,
    DurableObjectStorage,
    HibernatedSocket,
    HibernatedSocketHost,
    accept_socket,
    finish_socket,
    hibernated_sockets,
    message_text,
    runtime_from_env,
)
from beatbun.runtime.pushrules import MAX_SOCKETS, PROGRESS_PATH, TOO_MANY_SOCKETS
from beatbun.runtime.streams import StreamHandoff
from beatbun.scheduled import run_scheduled
from beatbun.web.progress import refusal_body, socket_account_id

app = create_app(runtime_factory=runtime_from_env)


class Default(WorkerEntrypoint):
    async def fetch(self, request: Any) -> Any:
        if urlsplit(request.url).path == PROGRESS_PATH and _is_upgrade(request):
            return await self._progress_socket(request)
        import asgi

        # Audio leaves as the R2 body stream, not through the bridge's bytes (runtime/streams.py).
        handoff = StreamHandoff(app)
        response = await asgi.fetch(handoff, request.js_object, self.env)
        if handoff.stream is None:
            return response
        return Response(handoff.stream, status=response.status, headers=response.headers)

    async def _progress_socket(self, request: Any) -> Any:
        runtime = runtime_from_env(self.env)
        try:
            account_id = await socket_account_id(
                runtime,
                cookie_header=request.headers.get("cookie"),
                origin=request.headers.get("origin"),
                url=request.url,
            )
            queues = DurableObjectNamespace(self.env.USER_QUEUE)
            return await queues.get(queues.id_from_name(account_id)).forward(request)
        except AppError as exc:
            return _refusal(refusal_body(exc), status=exc.status)

    async def scheduled(self, controller: Any, env: Any = None, ctx: Any = None) -> None:
        # `env` and `ctx` arrive unwrapped; the SDK-wrapped ones are on self (§0.2).
        runtime = runtime_from_env(self.env)
        await run_scheduled(
            runtime,
            cron=str(controller.cron),
            scheduled_time=float(controller.scheduledTime) / 1000,
        )


class UserQueue(DurableObject):
    """Hosts `beatbun.generation.queue.UserQueue`; calls are serialized like the local host's."""

    def __init__(self, ctx: Any, env: Any) -> None:
        super().__init__(ctx, env)
        self.actor = UserQueueActor(
            actor_id=str(ctx.id.toString()),
            storage=DurableObjectStorage(ctx.storage),
            runtime=runtime_from_env(env),
        )
        self.actor.watch(HibernatedSocketHost(ctx, self.actor))

    async def fetch(self, request: Any) -> Any:
        """Accept the live progress WebSocket that `Default.fetch` forwarded after its checks."""
        if not _is_upgrade(request):
            return Response("Expected a WebSocket upgrade.", status=426)
        if len(hibernated_sockets(self.ctx)) >= MAX_SOCKETS:
            return _refusal(TOO_MANY_SOCKETS, status=429)
        return Response(None, status=101, web_socket=accept_socket(self.ctx))

    async def webSocketMessage(self, ws: Any, message: Any) -> None:
        answer_socket_message(self.actor, HibernatedSocket(ws), message_text(message))

    async def webSocketClose(self, ws: Any, code: int, reason: str, was_clean: bool) -> None:
        finish_socket(ws, code, reason)

    async def webSocketError(self, ws: Any, error: Any) -> None:
        finish_socket(ws, 1011, "")

    async def call(self, method: str, args: list[Any]) -> dict[str, Any]:
        return await serve_in_turn(self.actor, method, list(args))

    async def alarm(self, alarm_info: Any = None) -> None:
        await serve_alarm(self.actor)


def _is_upgrade(request: Any) -> bool:
    return (request.headers.get("upgrade") or "").lower() == "websocket"


def _refusal(body: dict[str, str], *, status: int) -> Any:
    """A refused socket handshake, with the app's JSON error shape."""
    return Response(
        json.dumps(body),
        status=status,
        headers={"content-type": "application/json", "cache-control": "no-store"},
    )
