"""The application side of a Durable Object, identical on both runtimes.

An `Actor` subclass holds the logic; on Cloudflare a thin `DurableObject` class in `entry.py`
hosts it, locally `LocalActorNamespace` does. Both serialize calls to one instance, and both
pass arguments through the same RPC rules, so what works locally can be sent on Workers.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
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


async def serve_in_turn(
    actor: Actor, lock: asyncio.Lock, method: str, args: list[Any]
) -> dict[str, Any]:
    """`serve_call` under the instance's lock, unless the method may run alongside others."""
    if not actor.is_exclusive(method):
        return await serve_call(actor, method, args)
    async with lock:
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
