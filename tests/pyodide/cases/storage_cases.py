"""`ctx.storage` of the queue object through `DurableObjectStorage`: the SQL API and the alarm,
reached from src/entry.py's UserQueue over RPC, the storage wrapped by the real SDK."""

from __future__ import annotations

import conformance_js
from runner import case
from support import load_entry, unique, wrapped_env
from workers.entrypoints import DurableObjectContext

from beatbun.errors import ConstraintViolation, DatabaseError
from beatbun.runtime.cloudflare import DurableObjectNamespace, DurableObjectStorage


def _stub():  # type: ignore[no-untyped-def]
    load_entry()
    queues = DurableObjectNamespace(wrapped_env().USER_QUEUE)
    return queues.get(queues.id_from_name(unique("account-")))


@case
async def sql_rows_round_trip() -> None:
    stub = _stub()
    assert await stub.call("store", "first", b"\x00\x01\xff") == 1
    assert await stub.call("store", "second", None) == 2
    assert await stub.call("rows") == [[1, "first", [0, 1, 255]], [2, "second", None]]


@case
async def sql_errors_become_ours() -> None:
    state = conformance_js.newActorState("0" * 64)
    storage = DurableObjectStorage(DurableObjectContext(state).storage)
    storage.sql("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT UNIQUE)")
    assert storage.sql("INSERT INTO t (v) VALUES (?) RETURNING id", "a") == [{"id": 1}]
    try:
        storage.sql("INSERT INTO t (v) VALUES (?)", "a")
    except ConstraintViolation as exc:
        assert (exc.kind, exc.target) == ("UNIQUE", "t.v"), (exc.kind, exc.target)
    else:
        raise AssertionError("a duplicate went in")
    try:
        storage.sql("SELEC 1")
    except DatabaseError:
        pass
    else:
        raise AssertionError("bad SQL ran")


@case
async def alarm_is_set_read_and_deleted() -> None:
    stub = _stub()
    assert await stub.call("alarm_at", 1_900_000_000.25) == 1_900_000_000.25
    assert await stub.call("alarm_at", None) is None
