from __future__ import annotations

from pathlib import Path

import pytest

from beatbun.errors import DatabaseError
from beatbun_local.database import LocalDatabase
from beatbun_local.migrations import apply_migrations, split_statements


def _write(directory: Path, name: str, sql: str) -> None:
    directory.mkdir(exist_ok=True)
    (directory / name).write_text(sql)


async def test_migrations_apply_in_numeric_order_once(tmp_path: Path) -> None:
    migrations = tmp_path / "migrations"
    _write(migrations, "0002_add.sql", "INSERT INTO t VALUES (2);")
    _write(migrations, "0001_create.sql", "CREATE TABLE t (v INTEGER);")
    _write(migrations, "notes.txt", "not a migration")
    db = LocalDatabase(tmp_path / "d1.sqlite")
    assert await apply_migrations(db, migrations) == ["0001_create.sql", "0002_add.sql"]
    assert await apply_migrations(db, migrations) == []
    assert await db.prepare("SELECT v FROM t").raw() == [[2]]
    names = await db.prepare("SELECT name FROM d1_migrations ORDER BY id").raw()
    assert names == [["0001_create.sql"], ["0002_add.sql"]]


async def test_failing_migration_leaves_no_trace_and_keeps_earlier(tmp_path: Path) -> None:
    migrations = tmp_path / "migrations"
    _write(migrations, "0001_create.sql", "CREATE TABLE t (v INTEGER);")
    _write(
        migrations, "0002_bad.sql", "CREATE TABLE u (v INTEGER);\nINSERT INTO nowhere VALUES (1);"
    )
    db = LocalDatabase(tmp_path / "d1.sqlite")
    with pytest.raises(DatabaseError, match="no such table: nowhere"):
        await apply_migrations(db, migrations)
    tables = await db.prepare(
        "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
    ).raw()
    assert ["u"] not in tables and ["t"] in tables
    assert await db.prepare("SELECT name FROM d1_migrations").raw() == [["0001_create.sql"]]


def test_split_statements_keeps_triggers_and_quoted_semicolons_whole() -> None:
    script = """
    -- a comment; with a semicolon
    CREATE TABLE t (v TEXT DEFAULT 'a;b');
    CREATE TRIGGER tr AFTER INSERT ON t BEGIN
        UPDATE t SET v = 'x;y';
    END;
    """
    statements = split_statements(script)
    assert len(statements) == 2
    assert statements[0].startswith("CREATE TABLE") and "'a;b'" in statements[0]
    assert statements[1].startswith("CREATE TRIGGER") and statements[1].endswith("END;")
