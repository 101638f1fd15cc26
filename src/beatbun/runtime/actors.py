"""The application side of a Durable Object, identical on both runtimes.

An `Actor` subclass holds the logic; on Cloudflare a thin `DurableObject` class in `entry.py`
hosts it, locally `LocalActorNamespace` does. Both serialize calls to one instance, and both
pass arguments through the same RPC rules, so what works locally can be sent on Workers.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping
from typing import Any, ClassVar

from beatbun import errors
from beatbun.errors import AppError, CoordinatorError, InvalidInput
from beatbun.runtime.base import ActorStorage, Runtime


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

    async def dispatch(self, method: str, args: list[Any]) -> Any:
        """Run an RPC method by name; refuses anything not declared callable."""
        if method not in self.RPC_METHODS:
            raise CoordinatorError(
                f"{type(self).__name__} has no callable method '{method}'.", code="unknown_method"
            )
        return await getattr(self, method)(*args)

    async def alarm(self) -> None:
        """Called when the alarm set through `storage.set_alarm` comes due."""

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
    """
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
