"""The Worker: HTTP through the ASGI bridge, cron, and the Durable Object hosts.

Module top level runs at deploy time and is snapshotted, so it only builds the app (no I/O,
clock or randomness); every binding is reached through `self.env` inside a handler.
"""

from __future__ import annotations

from typing import Any

from workers import DurableObject, Response, WorkerEntrypoint

from beatbun.generation.queue import UserQueue as UserQueueActor
from beatbun.main import create_app
from beatbun.runtime.actors import serve_alarm, serve_in_turn
from beatbun.runtime.cloudflare import DurableObjectStorage, runtime_from_env
from beatbun.runtime.streams import StreamHandoff
from beatbun.scheduled import run_scheduled

app = create_app(runtime_factory=runtime_from_env)


class Default(WorkerEntrypoint):
    async def fetch(self, request: Any) -> Any:
        import asgi

        # Audio leaves as the R2 body stream, not through the bridge's bytes (runtime/streams.py).
        handoff = StreamHandoff(app)
        response = await asgi.fetch(handoff, request.js_object, self.env)
        if handoff.stream is None:
            return response
        return Response(handoff.stream, status=response.status, headers=response.headers)

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

    async def call(self, method: str, args: list[Any]) -> dict[str, Any]:
        return await serve_in_turn(self.actor, method, list(args))

    async def alarm(self, alarm_info: Any = None) -> None:
        await serve_alarm(self.actor)
