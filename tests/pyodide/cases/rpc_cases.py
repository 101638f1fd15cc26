"""Durable Object RPC as the actor host uses it: `DurableObjectStub.call` on the caller's side,
src/entry.py's `UserQueue.call` (serve_in_turn) on the object's side, the SDK converting both
ways and V8's serializer in between."""

from __future__ import annotations

from typing import Any

from runner import case
from support import load_entry, unique, wrapped_env

from beatbun.errors import CoordinatorError, NotFound
from beatbun.runtime.actors import to_rpc
from beatbun.runtime.cloudflare import DurableObjectNamespace

# (sent, what the object receives as (type, value)), as measured through the real SDK.
SAMPLES: list[tuple[Any, tuple[str, Any]]] = [
    (7, ("int", 7)),
    (1.5, ("float", 1.5)),
    (30.0, ("int", 30)),  # a whole float arrives as int: JS has one number type
    (2.0**53 - 1, ("int", 2**53 - 1)),
    (2.0**53, ("float", 2.0**53)),  # past Number.MAX_SAFE_INTEGER it stays a float
    (None, ("NoneType", None)),
    (True, ("bool", True)),
    ("ü", ("str", "ü")),
    ([1, None, "x"], ("list", [1, None, "x"])),
    ({"a": {"b": [1.0]}}, ("JsDict", {"a": {"b": [1]}})),
    (b"\x00\xff", ("memoryview", b"\x00\xff")),
]


def _stub() -> Any:
    load_entry()
    queues = DurableObjectNamespace(wrapped_env().USER_QUEUE)
    return queues.get(queues.id_from_name(unique("account-")))


def _plain(value: Any) -> Any:
    if isinstance(value, memoryview):
        return bytes(value)
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value


@case
async def arguments_and_results_convert() -> None:
    echoed = await _stub().call("echo", *[sent for sent, _ in SAMPLES])
    received = [(kind, _plain(value)) for kind, value in echoed]
    assert received == [expected for _, expected in SAMPLES], received
    # The reply crossed back the same way: the JsDict is a dict, bytes are a memoryview again.
    assert isinstance(echoed[-2][1], dict) and isinstance(echoed[-1][1], memoryview)


@case
async def local_rpc_model_matches() -> None:
    # runtime/actors.py `to_rpc` is what the local runtime applies to every call.
    modelled = [(type(to_rpc(sent)).__name__, _plain(to_rpc(sent))) for sent, _ in SAMPLES]
    measured = [(kind if kind != "JsDict" else "dict", value) for _, (kind, value) in SAMPLES]
    differences = [
        (sent, local, real)
        for (sent, _), local, real in zip(SAMPLES, modelled, measured, strict=True)
        if local != real
    ]
    assert not differences, f"to_rpc differs from Workers RPC (sent, local, real): {differences}"


@case
async def tuples_and_bytearrays_are_refused() -> None:
    stub = _stub()
    for value in ((1, 2), bytearray(b"x"), [(1, 2)], {"k": bytearray(b"x")}):
        for send in (lambda v: stub.call("echo", v), lambda v: _local(v)):
            try:
                await send(value)
            except TypeError:
                pass
            else:
                raise AssertionError(f"{value!r} was sent")


async def _local(value: Any) -> Any:
    return to_rpc(value)


@case
async def app_errors_come_back_as_ours() -> None:
    stub = _stub()
    try:
        await stub.call("fail", "abc")
    except NotFound as exc:
        assert (exc.code, exc.params) == ("track_not_found", {"key": "abc"}), (exc.code, exc.params)
    else:
        raise AssertionError("no error")
    try:
        await stub.call("rm_rf")
    except CoordinatorError as exc:
        assert exc.code == "unknown_method", exc.code
    else:
        raise AssertionError("an undeclared method ran")
