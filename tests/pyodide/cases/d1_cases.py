"""D1 through `D1Database` over Miniflare's D1, with the SDK's binding wrapper in between."""

from __future__ import annotations

from typing import Any

from pyodide.ffi import JsException
from runner import case
from support import unique, wrapped_env

from beatbun.errors import ConstraintViolation, DatabaseError
from beatbun.runtime.cloudflare import D1Database


async def _table(db: D1Database, columns: str) -> str:
    name = unique("t")
    await db.prepare(f"CREATE TABLE {name} ({columns})").run()
    return name


@case
async def bind_none_is_null() -> None:
    db = D1Database(wrapped_env().DB)
    # Python 3.13's Pyodide can send JS null; the SDK turns None into it (§0.4).
    assert await db.prepare("SELECT ? IS NULL AS missing").bind(None).first("missing") == 1
    table = await _table(db, "id INTEGER PRIMARY KEY, note TEXT")
    await db.prepare(f"INSERT INTO {table} (note) VALUES (?)").bind(None).run()
    assert await db.prepare(f"SELECT note FROM {table}").first() == {"note": None}


@case
async def values_round_trip() -> None:
    db = D1Database(wrapped_env().DB)
    row = await (
        db.prepare("SELECT ? AS i, ? AS f, ? AS s, ? AS yes, ? AS b, ? AS top, ? AS bottom")
        .bind(-7, 2.5, "ü ✓", True, b"\x00\xff\x10", 2**53 - 2, -(2**53 - 2))
        .first()
    )
    expected = {"i": -7, "f": 2.5, "s": "ü ✓", "yes": 1, "b": b"\x00\xff\x10"}
    assert row == {**expected, "top": 2**53 - 2, "bottom": -(2**53 - 2)}, row
    assert [type(row[name]) for name in ("i", "f", "b")] == [int, float, bytes]


@case
async def unsafe_integers_are_refused_by_d1_and_by_us() -> None:
    env = wrapped_env()
    # Pyodide 0.28 sends an int from 2**53 - 1 on (Number.MAX_SAFE_INTEGER itself included) as
    # a BigInt, which D1 refuses; our adapter refuses it first, with our error, not a JS one.
    for value in (2**53 - 1, -(2**53 - 1), 2**60):
        try:
            await env.DB.prepare("SELECT ?").bind(value).all()
        except JsException as exc:
            assert "D1_TYPE_ERROR" in str(exc), str(exc)
        else:
            raise AssertionError(f"D1 accepted {value}")
        try:
            D1Database(env.DB).prepare("SELECT ?").bind(value)
        except DatabaseError as exc:
            assert "2^53" in str(exc)
        else:
            raise AssertionError(f"the adapter let {value} through")


@case
async def all_run_first_raw() -> None:
    db = D1Database(wrapped_env().DB)
    table = await _table(db, "id INTEGER PRIMARY KEY, title TEXT")
    ran = await db.prepare(f"INSERT INTO {table} (title) VALUES (?), (?)").bind("a", "b").run()
    assert ran.meta.changes == 2 and ran.meta.last_row_id == 2, ran.meta
    assert ran.results == []
    everything = await db.prepare(f"SELECT id, title FROM {table} ORDER BY id").all()
    assert everything.results == [{"id": 1, "title": "a"}, {"id": 2, "title": "b"}]
    query = db.prepare(f"SELECT id, title FROM {table} WHERE id > ? ORDER BY id")
    assert await query.bind(1).first() == {"id": 2, "title": "b"}
    assert await query.bind(1).first("title") == "b"
    assert await query.bind(5).first() is None
    assert await query.bind(0).raw() == [[1, "a"], [2, "b"]]
    assert await query.bind(0).raw(column_names=True) == [["id", "title"], [1, "a"], [2, "b"]]
    returned = await db.prepare(f"INSERT INTO {table} (title) VALUES ('c') RETURNING id").first()
    assert returned == {"id": 3}


@case
async def batch_is_all_or_nothing() -> None:
    db = D1Database(wrapped_env().DB)
    table = await _table(db, "id INTEGER PRIMARY KEY, v TEXT UNIQUE")
    insert = f"INSERT INTO {table} (v) VALUES (?)"
    results = await db.batch([db.prepare(insert).bind("a"), db.prepare(f"SELECT v FROM {table}")])
    assert [result.results for result in results] == [[], [{"v": "a"}]]
    try:
        await db.batch([db.prepare(insert).bind("b"), db.prepare(insert).bind("a")])
    except ConstraintViolation as exc:
        assert (exc.kind, exc.target) == ("UNIQUE", f"{table}.v"), (exc.kind, exc.target)
    else:
        raise AssertionError("the duplicate was accepted")
    assert await db.prepare(f"SELECT count(*) AS n FROM {table}").first("n") == 1


@case
async def errors_become_ours() -> None:
    db = D1Database(wrapped_env().DB)
    try:
        await db.prepare("SELEC 1").all()
    except DatabaseError as exc:
        message: Any = str(exc)
        assert message.startswith('near "SELEC": syntax error'), message
        assert "D1_" not in message and "SQLITE_" not in message, message
    else:
        raise AssertionError("bad SQL ran")
    table = await _table(db, "id INTEGER PRIMARY KEY, v TEXT NOT NULL")
    try:
        await db.prepare(f"INSERT INTO {table} (v) VALUES (?)").bind(None).run()
    except ConstraintViolation as exc:
        assert exc.kind == "NOT NULL", exc.kind
    else:
        raise AssertionError("NULL went into a NOT NULL column")
