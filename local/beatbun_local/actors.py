"""Durable Objects in process: one live instance per id, serialized calls, SQLite storage, alarms.

Each object's storage is its own SQLite file (as `new_sqlite_classes` gives on Cloudflare), so
it survives a restart of the local server; pending alarms are kept in one index so that after a
restart they fire without opening every object. Setting an alarm wakes the alarm loop, so an
alarm set for now fires now, as on Cloudflare.

WebSockets the local server accepts are held here per object (`serve_socket`) and pushed to
whenever the object records an event, by the same rules the hibernating Durable Object follows.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.responses import JSONResponse
from starlette.websockets import WebSocket, WebSocketDisconnect

from beatbun.runtime.actors import (
    Actor,
    answer_socket_message,
    push_events,
    serve_alarm,
    serve_in_turn,
    to_rpc,
    unwrap_reply,
)
from beatbun.runtime.base import Clock, Row, Runtime, SqlValue
from beatbun.runtime.d1rules import check_params, error_from_message
from beatbun.runtime.pushrules import MAX_SOCKETS, TOO_MANY_SOCKETS

# Cloudflare retries a failing alarm with exponential backoff, starting at 2 s, up to 6 times
# (developers.cloudflare.com/durable-objects/api/alarms).
ALARM_RETRY_LIMIT = 6
ALARM_FIRST_RETRY_SECONDS = 2.0

logger = logging.getLogger(__name__)


class LocalActorStorage:
    def __init__(
        self,
        path: Path,
        *,
        actor_id: str,
        alarms: sqlite3.Connection,
        on_alarm_set: Callable[[], None],
    ) -> None:
        self._connection = sqlite3.connect(path, isolation_level=None)
        self._connection.execute("PRAGMA journal_mode = WAL")
        # As for the local D1 (local/database.py): durable across a crash of the process, with
        # no fsync per statement (each event is two statements, each fsync ~3 ms).
        self._connection.execute("PRAGMA synchronous = NORMAL")
        self._actor_id = actor_id
        self._alarms = alarms
        self._on_alarm_set = on_alarm_set

    def sql(self, query: str, *params: SqlValue) -> list[Row]:
        try:
            cursor = self._connection.execute(query, check_params(params))
            columns = [column[0] for column in cursor.description or ()]
            return [dict(zip(columns, values, strict=True)) for values in cursor.fetchall()]
        except sqlite3.Error as exc:
            raise error_from_message(str(exc)) from exc

    async def get_alarm(self) -> float | None:
        row = self._alarms.execute(
            "SELECT at FROM alarms WHERE actor_id = ?", (self._actor_id,)
        ).fetchone()
        return float(row[0]) if row else None

    async def set_alarm(self, at: float) -> None:
        self._alarms.execute(
            "INSERT INTO alarms (actor_id, at, retries) VALUES (?, ?, 0)"
            " ON CONFLICT (actor_id) DO UPDATE SET at = excluded.at, retries = 0",
            (self._actor_id, at),
        )
        self._on_alarm_set()

    async def delete_alarm(self) -> None:
        self._alarms.execute("DELETE FROM alarms WHERE actor_id = ?", (self._actor_id,))

    async def delete_all(self) -> None:
        """As `ctx.storage.deleteAll()`: every table goes, the alarm with them, and the file
        is compacted so no deleted page keeps old rows."""
        tables = self._connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        ).fetchall()
        for (name,) in tables:
            self._connection.execute(f'DROP TABLE "{name}"')
        if self._connection.execute(
            "SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'"
        ).fetchone():
            self._connection.execute("DELETE FROM sqlite_sequence")
        self._connection.execute("VACUUM")
        await self.delete_alarm()

    def close(self) -> None:
        self._connection.close()


@dataclass(frozen=True)
class _Close:
    code: int
    reason: str


class LocalSocket:
    """A WebSocket the local server accepted, as `PushSocket`: sends queue up for its writer."""

    def __init__(self) -> None:
        self.outbox: asyncio.Queue[str | _Close] = asyncio.Queue()
        self._cursor: int | None = None

    def send(self, text: str) -> None:
        self.outbox.put_nowait(text)

    def cursor(self) -> int | None:
        return self._cursor

    def set_cursor(self, seq: int) -> None:
        self._cursor = seq

    def close(self, code: int, reason: str) -> None:
        self.outbox.put_nowait(_Close(code, reason))


class LocalActorStub:
    def __init__(self, namespace: LocalActorNamespace, actor_id: str) -> None:
        self._namespace = namespace
        self.actor_id = actor_id

    async def call(self, method: str, *args: Any) -> Any:
        return await self._namespace.call(self.actor_id, method, list(args))


class LocalActorNamespace:
    """Stands in for a Durable Object binding; `runtime` is read lazily to break the cycle."""

    def __init__(
        self,
        actor_class: type[Actor],
        root: Path,
        *,
        clock: Clock,
        runtime: Callable[[], Runtime],
    ) -> None:
        self._actor_class = actor_class
        self._root = root
        self._root.mkdir(parents=True, exist_ok=True)
        self._clock = clock
        self._runtime = runtime
        self._instances: dict[str, tuple[Actor, LocalActorStorage]] = {}
        # Objects whose alarm handler is running: as on Cloudflare, an object runs one alarm at
        # a time, while other objects' alarms go ahead.
        self._firing: set[str] = set()
        # Set whenever an alarm is set or an alarm handler returns, so the loop fires what is
        # due without waiting out its idle sleep.
        self._settled = asyncio.Event()
        self._sockets: dict[str, set[LocalSocket]] = {}
        self._alarms = sqlite3.connect(root / "alarms.sqlite", isolation_level=None)
        self._alarms.execute("PRAGMA journal_mode = WAL")
        self._alarms.execute("PRAGMA synchronous = NORMAL")
        self._alarms.execute(
            "CREATE TABLE IF NOT EXISTS alarms"
            " (actor_id TEXT PRIMARY KEY, at REAL NOT NULL, retries INTEGER NOT NULL)"
        )

    def id_from_name(self, name: str) -> str:
        digest = hashlib.sha256(f"{self._actor_class.__name__}:{name}".encode())
        return digest.hexdigest()

    def get(self, actor_id: str) -> LocalActorStub:
        return LocalActorStub(self, actor_id)

    async def call(self, actor_id: str, method: str, args: list[Any]) -> Any:
        actor, _ = self._instance(actor_id)
        reply = await serve_in_turn(actor, method, to_rpc(args))
        return unwrap_reply(to_rpc(reply))

    async def serve_socket(self, actor_id: str, websocket: WebSocket) -> None:
        """Accept a WebSocket for the object and hold it until the client goes away.

        Past `MAX_SOCKETS` open ones, the handshake is refused with 429, as on Workers.

        The client's messages are answered by `answer_socket_message`, and every event the
        object records is pushed by `push_events`, as the Durable Object host does.
        """
        actor, _ = self._instance(actor_id)
        held = self._sockets.setdefault(actor_id, set())
        if len(held) >= MAX_SOCKETS:
            refusal = JSONResponse(
                TOO_MANY_SOCKETS, status_code=429, headers={"cache-control": "no-store"}
            )
            await websocket.send_denial_response(refusal)
            return
        await websocket.accept()
        socket = LocalSocket()
        held.add(socket)
        writer = asyncio.create_task(_write(websocket, socket))
        try:
            while True:
                message = await websocket.receive()
                if message["type"] == "websocket.disconnect":
                    break
                # A binary frame has "bytes" and no "text": not a resume message.
                answer_socket_message(actor, socket, message.get("text"))
        finally:
            held.discard(socket)
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await writer

    def next_alarm(self) -> float | None:
        """When the next alarm of an object not already in its alarm handler comes due."""
        row = self._alarms.execute(
            "SELECT min(at) FROM alarms WHERE actor_id NOT IN (SELECT value FROM json_each(?))",
            (json.dumps(sorted(self._firing)),),
        ).fetchone()
        return float(row[0]) if row and row[0] is not None else None

    async def run_due_alarms(self) -> int:
        """Fire every alarm due by the clock, objects side by side; returns how many ran.

        An object already in its alarm handler is skipped: its alarm fires once that returns.
        """
        now = self._clock.now()
        due = [
            (actor_id, at, retries)
            for actor_id, at, retries in self._alarms.execute(
                "SELECT actor_id, at, retries FROM alarms WHERE at <= ? ORDER BY at", (now,)
            ).fetchall()
            if actor_id not in self._firing
        ]
        self._firing.update(actor_id for actor_id, _, _ in due)
        await asyncio.gather(*(self._fire(actor_id, at, retries) for actor_id, at, retries in due))
        return len(due)

    async def run_alarm_loop(self, stop: asyncio.Event, *, idle_seconds: float = 0.5) -> None:
        """Fire alarms as they come due until `stop` is set (the local server's background task)."""
        # Each round runs as a task, so one object's long alarm holds up no other object's.
        rounds: set[asyncio.Task[int]] = set()
        try:
            while not stop.is_set():
                task = asyncio.create_task(self.run_due_alarms())
                rounds.add(task)
                task.add_done_callback(rounds.discard)
                await asyncio.sleep(0)  # let the round mark its objects as firing
                self._settled.clear()
                upcoming = self.next_alarm()
                wait = idle_seconds if upcoming is None else upcoming - self._clock.now()
                waiters = {
                    asyncio.ensure_future(stop.wait()),
                    asyncio.ensure_future(self._settled.wait()),
                }
                _, pending = await asyncio.wait(
                    waiters,
                    timeout=min(max(wait, 0.01), idle_seconds),
                    return_when=asyncio.FIRST_COMPLETED,
                )
                for waiter in pending:
                    waiter.cancel()
        finally:
            # A handler stopped mid-way is what a crash leaves: its alarm resumes the work.
            for task in rounds:
                task.cancel()
            await asyncio.gather(*rounds, return_exceptions=True)

    def close(self) -> None:
        for _, storage in self._instances.values():
            storage.close()
        self._instances.clear()
        self._alarms.close()

    async def _fire(self, actor_id: str, at: float, retries: int) -> None:
        try:
            actor, _ = self._instance(actor_id)
            # The alarm is cleared before the handler runs, so the handler may set the next one.
            self._alarms.execute("DELETE FROM alarms WHERE actor_id = ? AND at = ?", (actor_id, at))
            try:
                await serve_alarm(actor)
            except Exception:
                # As on Cloudflare: the failure is logged and the alarm retried with backoff.
                logger.exception("Alarm of %s %s failed", self._actor_class.__name__, actor_id)
                if retries < ALARM_RETRY_LIMIT and await actor.storage.get_alarm() is None:
                    retry_at = self._clock.now() + ALARM_FIRST_RETRY_SECONDS * 2**retries
                    self._alarms.execute(
                        "INSERT INTO alarms (actor_id, at, retries) VALUES (?, ?, ?)",
                        (actor_id, retry_at, retries + 1),
                    )
        finally:
            self._firing.discard(actor_id)
            self._settled.set()

    def _instance(self, actor_id: str) -> tuple[Actor, LocalActorStorage]:
        if actor_id not in self._instances:
            if len(actor_id) != 64 or not all(c in "0123456789abcdef" for c in actor_id):
                raise ValueError(f"Actor id {actor_id!r} was not made by id_from_name().")
            storage = LocalActorStorage(
                self._root / f"{actor_id}.sqlite",
                actor_id=actor_id,
                alarms=self._alarms,
                on_alarm_set=self._settled.set,
            )
            actor = self._actor_class(actor_id=actor_id, storage=storage, runtime=self._runtime())
            actor.watch(_LocalSocketHost(actor, self._sockets.setdefault(actor_id, set())))
            self._instances[actor_id] = (actor, storage)
        return self._instances[actor_id]


class _LocalSocketHost:
    """The sockets the local server holds for one object, as its actor's `SocketHost`."""

    def __init__(self, actor: Actor, sockets: set[LocalSocket]) -> None:
        self._actor = actor
        self._sockets = sockets

    def push(self) -> None:
        for socket in self._sockets:
            push_events(self._actor, socket)

    def close_all(self, code: int, reason: str) -> None:
        for socket in self._sockets:
            socket.close(code, reason)


async def _write(websocket: WebSocket, socket: LocalSocket) -> None:
    """Send what the socket queued, in order, until it is closed or the client has gone."""
    try:
        while True:
            item = await socket.outbox.get()
            if isinstance(item, _Close):
                await websocket.close(item.code, item.reason)
                return
            await websocket.send_text(item)
    except WebSocketDisconnect:
        return  # the client went away; it resumes from its last event when it reconnects
