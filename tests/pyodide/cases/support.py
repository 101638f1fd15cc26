"""What the cases share: the Worker's env as the SDK wraps it, and src/entry.py loaded.

`src/entry.py` imports the whole app (FastAPI, pydantic, numpy), which has no Pyodide wheels
here; the modules that bring those in are replaced before it loads, and nothing else:
`beatbun.main.create_app` returns `audio_app` (what the audio route does on Workers, in plain
ASGI), `beatbun.generation.queue.UserQueue` is `ProbeActor`, `beatbun.scheduled` records its
calls, and `beatbun.web.progress` (the WebSocket session check) is left out. The `Default` and
`UserQueue` classes that run are the real ones, built by the real SDK.
"""

from __future__ import annotations

import asyncio
import itertools
import sys
import types
from typing import Any, ClassVar

import conformance_js
from pyodide.ffi import create_proxy
from workers import python_from_rpc, python_to_rpc
from workers.rpc import _EnvWrapper

from beatbun.errors import NotFound
from beatbun.runtime.actors import Actor
from beatbun.runtime.base import ByteRange, Runtime
from beatbun.runtime.streams import BODY_STREAM_EXTENSION

_counter = itertools.count(1)


def unique(prefix: str) -> str:
    """A name no other case uses (D1 and R2 are shared by the whole run)."""
    return f"{prefix}{next(_counter)}"


def wrapped_env() -> Any:
    """`self.env` as a WorkerEntrypoint or DurableObject sees it."""
    return _EnvWrapper(conformance_js.env)


class ProbeActor(Actor):
    """Stands in for the queue actor: echoes what arrived and raises our errors on request."""

    RPC_METHODS: ClassVar[frozenset[str]] = frozenset({"echo", "fail", "store", "rows", "alarm_at"})

    async def echo(self, *values: Any) -> list[Any]:
        return [[type(value).__name__, value] for value in values]

    async def fail(self, key: str) -> None:
        raise NotFound("Track {key} not found", code="track_not_found", params={"key": key})

    async def store(self, text: str, blob: memoryview | None) -> int:
        self.storage.sql(
            "CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, text TEXT, blob BLOB)"
        )
        row = self.storage.sql(
            "INSERT INTO notes (text, blob) VALUES (?, ?) RETURNING id",
            text,
            None if blob is None else bytes(blob),  # bytes arrive over RPC as a memoryview
        )
        return int(row[0]["id"])  # type: ignore[arg-type]

    async def rows(self) -> list[Any]:
        return [
            [row["id"], row["text"], None if row["blob"] is None else list(row["blob"])]  # type: ignore[arg-type]
            for row in self.storage.sql("SELECT * FROM notes ORDER BY id")
        ]

    async def alarm_at(self, at: float | None) -> float | None:
        if at is None:
            await self.storage.delete_alarm()
        else:
            await self.storage.set_alarm(at)
        return await self.storage.get_alarm()


def audio_app(runtime_factory: Any) -> Any:
    """An ASGI app doing what api/audio.py's BlobResponse does when the server takes a stream."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                if (await receive())["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                else:
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        runtime: Runtime = runtime_factory(scope["env"])
        key = scope["path"].removeprefix("/audio/")
        if key == "plain":
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"plain"})
            return
        requested = _range(dict(scope["headers"]).get(b"range"))
        stream = await runtime.blobs.stream(key, range=requested)
        assert stream is not None
        assert BODY_STREAM_EXTENSION in scope["extensions"]
        size = stream.object.size
        status, headers = 200, [(b"content-length", str(size).encode())]
        if requested is not None:
            start = requested.offset or 0
            end = start + (requested.length or size - start) - 1
            status = 206
            headers = [
                (b"content-length", str(end - start + 1).encode()),
                (b"content-range", f"bytes {start}-{end}/{size}".encode()),
            ]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": BODY_STREAM_EXTENSION, "stream": stream.native})

    return app


SCHEDULED_RUNS: list[dict[str, Any]] = []


async def _record_scheduled(runtime: Runtime, **when: Any) -> None:
    SCHEDULED_RUNS.append({"runtime": runtime, **when})


def _range(header: bytes | None) -> ByteRange | None:
    if header is None:
        return None
    start, _, end = header.decode().removeprefix("bytes=").partition("-")
    return ByteRange(offset=int(start), length=int(end) - int(start) + 1 if end else None)


def load_entry() -> Any:
    """`src/entry.py`, imported once with the stand-ins, its UserQueue hosting the RPC fakes."""
    if "entry" in sys.modules:
        return sys.modules["entry"]
    stand_ins = {
        "beatbun.main": {"create_app": audio_app},
        "beatbun.generation.queue": {"UserQueue": ProbeActor},
        "beatbun.scheduled": {"run_scheduled": _record_scheduled},
        "beatbun.web.progress": {"refusal_body": None, "socket_account_id": None},
    }
    for name, attributes in stand_ins.items():
        module = sys.modules[name] = types.ModuleType(name)
        module.__dict__.update(attributes)
    try:
        import entry
    except ModuleNotFoundError as exc:
        raise RuntimeError(
            f"src/entry.py now needs {exc.name!r} (no Pyodide wheel here) through a module "
            "without a stand-in: add one to load_entry() in tests/pyodide/cases/support.py."
        ) from exc
    actors: dict[str, Any] = {}

    def host(actor_id: str, method: str, args: Any) -> Any:
        # What workerd's Python entrypoint does for an RPC call into a Durable Object: one
        # instance per id, arguments through python_from_rpc (now: JS lends them only for the
        # duration of this call), the result through python_to_rpc.
        actor = actors.get(actor_id)
        if actor is None:
            actor = actors[actor_id] = entry.UserQueue(
                conformance_js.newActorState(actor_id), conformance_js.env
            )
        call = actor.call(str(method), python_from_rpc(args))
        return asyncio.ensure_future(_converted(call))

    conformance_js.setActorHost(create_proxy(host))
    return entry


async def _converted(call: Any) -> Any:
    return python_to_rpc(await call)
