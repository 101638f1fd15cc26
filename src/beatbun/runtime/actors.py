"""The application side of a Durable Object, identical on both runtimes.

An `Actor` subclass holds the logic; on Cloudflare a thin `DurableObject` class in `entry.py`
hosts it, locally `LocalActorNamespace` does. Both serialize calls to one instance, and both
pass arguments through the same RPC rules, so what works locally can be sent on Workers.

An actor may also push its events to the WebSockets it hosts (`runtime/pushrules.py` has the
wire rules): both hosts hand each socket to `answer_socket_message` and `push_events`, so a
socket behaves the same whether a hibernating Durable Object or the local server holds it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping
from typing import Any, ClassVar, Protocol

from beatbun import errors
from beatbun.errors import AppError, CoordinatorError, InvalidInput
from beatbun.runtime.base import MAX_SAFE_INTEGER, ActorStorage, Runtime
from beatbun.runtime.pushrules import (
    CLOSE_INVALID_MESSAGE,
    INVALID_MESSAGE_REASON,
    encode_event,
    parse_resume,
    unseen,
)


class PushSocket(Protocol):
    """A client's WebSocket as an actor's host holds it; the cursor outlives hibernation."""

    def send(self, text: str) -> None:
        """Queue a message; a socket that has closed meanwhile drops it (its client resumes)."""

    def cursor(self) -> int | None:
        """The last event number sent, or None until the client has said where to resume."""

    def set_cursor(self, seq: int) -> None: ...

    def close(self, code: int, reason: str) -> None: ...


class SocketHost(Protocol):
    """What an actor's host does with the WebSockets it holds for the actor."""

    def push(self) -> None:
        """Send each socket the events it has not seen yet (`push_events`)."""

    def close_all(self, code: int, reason: str) -> None:
        """Close every socket the host holds for the actor."""


class Actor:
    """One instance per id; only methods named in `RPC_METHODS` can be called through a stub."""

    RPC_METHODS: ClassVar[frozenset[str]] = frozenset()
    # Read-only methods that may run while another call awaits I/O (a Durable Object's input
    # gate opens during a fetch too), so a long provider call never blocks progress reads.
    READ_ONLY_METHODS: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, *, actor_id: str, storage: ActorStorage, runtime: Runtime) -> None:
        self.actor_id = actor_id
        self.storage = storage
        self.runtime = runtime
        # The instance's turn: held by each exclusive call and by the alarm, so state changes
        # never interleave (a Durable Object's input gate opens at every non-storage await).
        self.turn = asyncio.Lock()
        self._hosts: list[SocketHost] = []

    async def dispatch(self, method: str, args: list[Any]) -> Any:
        """Run an RPC method by name; refuses anything not declared callable."""
        if method not in self.RPC_METHODS:
            raise CoordinatorError(
                f"{type(self).__name__} has no callable method '{method}'.", code="unknown_method"
            )
        return await getattr(self, method)(*args)

    async def alarm(self) -> None:
        """Called when the alarm set through `storage.set_alarm` comes due."""

    def events_after(self, seq: int) -> list[dict[str, Any]]:
        """The events numbered above `seq`, oldest first; an actor with events overrides it."""
        return []

    def watch(self, host: SocketHost) -> None:
        """Have `host` pushed to after each new event, and closed by `close_sockets`."""
        self._hosts.append(host)

    def changed(self) -> None:
        """Tell the host a new event was recorded; called synchronously, so nothing is polled."""
        for host in self._hosts:
            host.push()

    def close_sockets(self, code: int, reason: str) -> None:
        """Close every socket the host holds; their clients reconnect through the handshake."""
        for host in self._hosts:
            host.close_all(code, reason)

    def is_exclusive(self, method: str) -> bool:
        """Whether a call must wait for the calls before it to finish."""
        return method not in self.READ_ONLY_METHODS

    @contextlib.asynccontextmanager
    async def outside_turn(self) -> AsyncIterator[None]:
        """Give the turn up while the body awaits slow work, and take it back afterwards.

        Other calls (and their state changes) run meanwhile, so the caller must not rely on
        anything it read before: what the body may use is state that no other call changes.

        Raises RuntimeError when the turn is not held (only an exclusive call or the alarm may).
        """
        if not self.turn.locked():
            raise RuntimeError(
                "outside_turn() needs the turn: use it inside an exclusive method or alarm()."
            )
        self.turn.release()
        try:
            yield
        finally:
            await self.turn.acquire()


def answer_socket_message(actor: Actor, socket: PushSocket, message: str | None) -> None:
    """Take a client's resume message: send it every event it missed, then keep it current.

    Anything but a resume message closes the socket with `CLOSE_INVALID_MESSAGE`, and so does a
    second one: a client resumes once per socket, and each resume may replay a thousand events.
    """
    after = parse_resume(message)
    if after is None or socket.cursor() is not None:
        socket.close(CLOSE_INVALID_MESSAGE, INVALID_MESSAGE_REASON)
        return
    socket.set_cursor(after)
    push_events(actor, socket)


def push_events(actor: Actor, socket: PushSocket) -> None:
    """Send the socket the events after its cursor, and move the cursor past them.

    A socket whose client has not yet said where it resumes gets nothing.
    """
    cursor = socket.cursor()
    if cursor is None:
        return
    events = unseen(actor.events_after(cursor), cursor)
    for event in events:
        socket.send(encode_event(event))
    if events:
        socket.set_cursor(int(events[-1]["seq"]))


async def serve_alarm(actor: Actor) -> None:
    """Run the actor's alarm in its turn (it may give the turn up around slow work)."""
    async with actor.turn:
        await actor.alarm()


async def serve_call(actor: Actor, method: str, args: list[Any]) -> dict[str, Any]:
    """Run a call on the host side; an `AppError` travels back as data, not as a JS error.

    JS errors carry only a message across RPC, so the class and code are sent explicitly and
    `unwrap_reply` raises the same error on the caller's side, on both runtimes.
    """
    try:
        return {"result": await actor.dispatch(method, args)}
    except AppError as exc:
        lineage = [cls.__name__ for cls in type(exc).__mro__]
        return {
            "error": {
                "lineage": lineage,
                "code": exc.code,
                "template": exc.template,
                "params": exc.params,
                "field": getattr(exc, "field", None),
            }
        }


async def serve_in_turn(actor: Actor, method: str, args: list[Any]) -> dict[str, Any]:
    """`serve_call` in the instance's turn, unless the method may run alongside others."""
    if not actor.is_exclusive(method):
        return await serve_call(actor, method, args)
    async with actor.turn:
        return await serve_call(actor, method, args)


def unwrap_reply(reply: Mapping[str, Any]) -> Any:
    """The result of `serve_call`, or its error raised again (as the nearest shared class)."""
    if "error" not in reply:
        return reply["result"]
    error = reply["error"]
    template, code, params = error["template"], error["code"], error["params"]
    for name in error["lineage"]:
        known = getattr(errors, name, None)
        if isinstance(known, type) and issubclass(known, InvalidInput):
            raise known(template, code=code, params=params, field=error["field"])
        if isinstance(known, type) and issubclass(known, AppError):
            raise known(template, code=code, params=params)
    raise CoordinatorError(template, code=code, params=params)


def to_rpc(value: Any) -> Any:
    """Copy a value as Workers RPC delivers it, or raise TypeError where the SDK refuses it.

    The SDK (`workers/rpc.py`) refuses tuples and bytearrays, and bytes arrive as memoryview.
    JS has one number type, so a whole float arrives as int while it is a safe integer (30.0 as
    30, 2.0**53 as a float; tests/pyodide).
    """
    if isinstance(value, float) and value.is_integer() and abs(value) <= MAX_SAFE_INTEGER:
        return int(value)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, bytes):
        return memoryview(value)
    if isinstance(value, memoryview):
        return memoryview(bytes(value))
    if isinstance(value, list):
        return [to_rpc(item) for item in value]
    if isinstance(value, Mapping):
        return {str(key): to_rpc(item) for key, item in value.items()}
    raise TypeError(
        f"{type(value).__name__} cannot be sent over RPC; use a list, dict, str, number, "
        "bool, None or bytes."
    )
