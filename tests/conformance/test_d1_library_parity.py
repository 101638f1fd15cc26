"""The library's SQL in D1 itself (Miniflare) and in the local adapter: the same rows back.

Search with instr/lower (LIKE patterns are capped at 50 bytes on D1), case-blind name order,
keyset conditions, partial indexes, json_extract, and UPDATE ... RETURNING on a LIMITed subquery.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from beatbun_local.database import LocalDatabase
from tests.conformance.wrangler import d1_execute

pytestmark = pytest.mark.wrangler

STATEMENTS = (
    "CREATE TABLE lib (id TEXT PRIMARY KEY, account_id TEXT NOT NULL, title TEXT NOT NULL,"
    " prompt TEXT NOT NULL, plan TEXT NOT NULL, duration_seconds REAL NOT NULL,"
    " created_at INTEGER NOT NULL, favourite INTEGER NOT NULL DEFAULT 0, deleted_at INTEGER)",
    "CREATE INDEX lib_by_name ON lib (account_id, title COLLATE NOCASE, id) WHERE deleted_at IS NULL",
    "INSERT INTO lib (id, account_id, title, prompt, plan, duration_seconds, created_at) VALUES"
    " ('a', 'acc', 'beta', 'Rainy day', '{\"genre\":\"lofi\",\"bpm\":80.5}', 5.0, 100),"
    " ('b', 'acc', 'Alpha', 'sunny über', '{\"genre\":\"pop\"}', 30.0, 100),"
    " ('c', 'acc', 'alpha', 'dark 100%', '{}', 12.5, 101),"
    " ('d', 'other', 'Alpha', 'rainy', '{}', 1.0, 99)",
    "SELECT id FROM lib WHERE account_id = 'acc' AND deleted_at IS NULL"
    " ORDER BY title COLLATE NOCASE ASC, id ASC",
    "SELECT id FROM lib WHERE account_id = 'acc' AND (title COLLATE NOCASE > 'alpha'"
    " OR (title COLLATE NOCASE = 'alpha' AND id > 'b')) ORDER BY title COLLATE NOCASE, id",
    "SELECT id FROM lib WHERE instr(lower(prompt), lower('RAINY')) > 0 ORDER BY id",
    "SELECT id FROM lib WHERE instr(lower(prompt), lower('Über')) > 0 ORDER BY id",
    "SELECT id FROM lib WHERE instr(lower(prompt), lower('%')) > 0 ORDER BY id",
    "SELECT id, COALESCE(json_extract(plan, '$.genre'), '') AS genre,"
    " json_extract(plan, '$.bpm') AS bpm FROM lib ORDER BY id",
    "SELECT id FROM lib WHERE account_id = 'acc' AND (created_at < 101"
    " OR (created_at = 101 AND id < 'c')) ORDER BY created_at DESC, id DESC",
    "UPDATE lib SET deleted_at = 0 WHERE id IN (SELECT id FROM lib WHERE account_id = 'acc'"
    " ORDER BY duration_seconds LIMIT 2) RETURNING id, deleted_at",
    "SELECT id FROM lib WHERE deleted_at IS NULL ORDER BY id",
)


def _typed(rows: list[list[dict[str, Any]]]) -> str:
    # JSON keeps 1 and 1.0 apart, which == does not.
    return json.dumps(rows, ensure_ascii=False, sort_keys=True)


def _in_order(index: int, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # RETURNING gives rows in no promised order, on D1 as in SQLite; the SELECTs order theirs.
    if not STATEMENTS[index].startswith("UPDATE"):
        return rows
    return sorted(rows, key=lambda row: json.dumps(row, sort_keys=True))


async def test_library_sql_gives_the_same_rows_on_d1_and_locally(tmp_path: Path) -> None:
    output = d1_execute(tmp_path / "d1", ";\n".join(STATEMENTS) + ";")
    assert isinstance(output, list), output
    expected = [_in_order(i, statement["results"]) for i, statement in enumerate(output)]
    db = LocalDatabase(tmp_path / "local.sqlite")
    results = await db.batch([db.prepare(sql) for sql in STATEMENTS])
    local = [_in_order(i, list(result.results)) for i, result in enumerate(results)]
    assert _typed(local) == _typed(expected)
    # What the library relies on, whichever side answered.
    assert local[3] == [{"id": "b"}, {"id": "c"}, {"id": "a"}]
    assert local[5] == [{"id": "a"}, {"id": "d"}]
    assert local[7] == [{"id": "c"}]
