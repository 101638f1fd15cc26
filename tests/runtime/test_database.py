from __future__ import annotations

from pathlib import Path

import pytest

from beatbun.errors import ConstraintViolation, DatabaseError
from beatbun.runtime.base import Database
from beatbun.runtime.cloudflare import D1Database
from beatbun_local.database import LocalDatabase
from tests.runtime.js_bindings import FakeD1Binding


@pytest.fixture(params=["local", "cloudflare"])
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> Database:
    """Every behaviour below holds for both adapters: that is the point of the seam."""
    database: Database
    if request.param == "local":
        database = LocalDatabase(tmp_path / "d1.sqlite")
    else:
        database = D1Database(FakeD1Binding())
    await database.prepare(
        "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL, score REAL, data BLOB)"
    ).run()
    return database


async def test_run_insert_reports_changes_and_last_row_id(db: Database) -> None:
    result = await db.prepare("INSERT INTO items (name) VALUES (?)").bind("a").run()
    assert result.meta.changes == 1
    assert result.meta.last_row_id == 1
    assert result.results == []


async def test_all_returns_rows_as_dicts(db: Database) -> None:
    await db.prepare("INSERT INTO items (name, score) VALUES (?, ?)").bind("a", 1.5).run()
    result = await db.prepare("SELECT name, score FROM items").all()
    assert result.results == [{"name": "a", "score": 1.5}]


async def test_first_returns_row_column_or_none(db: Database) -> None:
    await db.prepare("INSERT INTO items (name) VALUES (?)").bind("a").run()
    assert await db.prepare("SELECT name FROM items").first() == {"name": "a"}
    assert await db.prepare("SELECT name FROM items").first("name") == "a"
    assert await db.prepare("SELECT name FROM items WHERE id = 99").first() is None


async def test_first_unknown_column_raises(db: Database) -> None:
    await db.prepare("INSERT INTO items (name) VALUES (?)").bind("a").run()
    with pytest.raises(DatabaseError, match="Column 'nope' not found"):
        await db.prepare("SELECT name FROM items").first("nope")


async def test_raw_returns_lists_with_optional_column_names(db: Database) -> None:
    await db.prepare("INSERT INTO items (name) VALUES (?)").bind("a").run()
    assert await db.prepare("SELECT id, name FROM items").raw() == [[1, "a"]]
    assert await db.prepare("SELECT id, name FROM items").raw(column_names=True) == [
        ["id", "name"],
        [1, "a"],
    ]


async def test_raw_column_names_on_empty_result(db: Database) -> None:
    assert await db.prepare("SELECT id, name FROM items").raw(column_names=True) == [["id", "name"]]


@pytest.mark.parametrize(
    ("value", "stored"),
    [
        (None, None),
        (True, 1),  # D1 stores booleans as integers and reads them back as 0/1
        (False, 0),
        (2**53 - 2, 2**53 - 2),
        (2.0, 2),  # an integral REAL reads back as int, as Pyodide converts JS numbers
        ("héllo 🎵", "héllo 🎵"),
        (b"\x00\xff", b"\x00\xff"),
    ],
)
async def test_bind_maps_values_like_d1(db: LocalDatabase, value: object, stored: object) -> None:
    row = await db.prepare("SELECT ? AS v").bind(value).first()  # type: ignore[arg-type]
    assert row == {"v": stored}


async def test_bind_more_than_100_parameters_is_refused(db: Database) -> None:
    placeholders = ", ".join("?" for _ in range(101))
    with pytest.raises(DatabaseError, match="at most 100"):
        db.prepare(f"SELECT {placeholders}").bind(*range(101))


async def test_bind_100_parameters_is_accepted(db: Database) -> None:
    placeholders = ", ".join("?" for _ in range(100))
    row = await db.prepare(f"SELECT {placeholders}").bind(*range(100)).raw()
    assert row == [list(range(100))]


async def test_bind_integer_beyond_2_pow_53_is_refused(db: Database) -> None:
    with pytest.raises(DatabaseError, match="2\\^53"):
        db.prepare("SELECT ?").bind(2**53 + 1)


@pytest.mark.parametrize("value", [(1, 2), bytearray(b"x"), object()])
async def test_bind_unsendable_type_raises_type_error(db: LocalDatabase, value: object) -> None:
    with pytest.raises(TypeError, match="cannot bind"):
        db.prepare("SELECT ?").bind(value)  # type: ignore[arg-type]


@pytest.mark.parametrize("sql", ["BEGIN TRANSACTION", "commit", "SAVEPOINT x", "  rollback"])
async def test_transaction_control_is_refused(db: LocalDatabase, sql: str) -> None:
    with pytest.raises(DatabaseError, match="batch"):
        db.prepare(sql)


async def test_oversized_statement_is_refused(db: Database) -> None:
    with pytest.raises(DatabaseError, match="at most 100000"):
        db.prepare("SELECT '" + "x" * 100_001 + "'")


async def test_unique_violation_raises_constraint_violation(db: Database) -> None:
    await db.prepare("INSERT INTO items (name) VALUES (?)").bind("a").run()
    with pytest.raises(ConstraintViolation, match=r"UNIQUE constraint failed: items\.name"):
        await db.prepare("INSERT INTO items (name) VALUES (?)").bind("a").run()


async def test_syntax_error_raises_database_error(db: Database) -> None:
    with pytest.raises(DatabaseError, match="syntax error"):
        await db.prepare("SELEC 1").all()


async def test_batch_is_all_or_nothing(db: Database) -> None:
    insert = db.prepare("INSERT INTO items (name) VALUES (?)")
    with pytest.raises(ConstraintViolation):
        await db.batch([insert.bind("a"), insert.bind("b"), insert.bind("a")])
    assert await db.prepare("SELECT count(*) AS n FROM items").first("n") == 0


async def test_batch_returns_one_result_per_statement(db: Database) -> None:
    insert = db.prepare("INSERT INTO items (name) VALUES (?) RETURNING id")
    results = await db.batch([insert.bind("a"), insert.bind("b")])
    assert [result.results for result in results] == [[{"id": 1}], [{"id": 2}]]


async def test_bind_returns_new_statement(db: Database) -> None:
    base = db.prepare("SELECT ? AS v")
    assert await base.bind(1).first("v") == 1
    assert await base.bind(2).first("v") == 2


async def test_local_data_survives_reopening(tmp_path: Path) -> None:
    db = LocalDatabase(tmp_path / "d1.sqlite")
    await db.prepare("CREATE TABLE items (name TEXT)").run()
    await db.prepare("INSERT INTO items (name) VALUES (?)").bind("kept").run()
    db.close()
    reopened = LocalDatabase(tmp_path / "d1.sqlite")
    assert await reopened.prepare("SELECT name FROM items").first("name") == "kept"
