"""The local D1 adapter against D1 itself (Miniflare, through `wrangler d1 execute --local`).

Each case runs as one batch on both sides, as wrangler runs a command. Results must be equal
after normalizing what wrangler's JSON prints differently: a BLOB prints as "[1, 2]".
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from beatbun.errors import ConstraintViolation, DatabaseError
from beatbun.runtime.d1rules import error_from_message
from beatbun_local.database import LocalDatabase
from tests.conformance.wrangler import d1_execute

pytestmark = pytest.mark.wrangler


@dataclass(frozen=True)
class Case:
    name: str
    statements: tuple[str, ...]


RESULT_CASES = [
    Case(
        "nulls",
        (
            "CREATE TABLE n1 (a, b)",
            "INSERT INTO n1 VALUES (NULL, 1)",
            "SELECT a, b, a IS NULL AS a_missing FROM n1",
        ),
    ),
    Case(
        "integers", ("SELECT 0 AS z, -1 AS neg, 2147483648 AS over32, 9007199254740991 AS maxsafe",)
    ),
    # Beyond 2^53 a JS number loses precision; D1 returns 9007199254740992 and so must we.
    Case("integer_beyond_2_53", ("SELECT 9007199254740993 AS big",)),
    # An integral REAL comes back as a whole number.
    Case("floats", ("SELECT 1.5 AS f, -0.25 AS g, 1e300 AS huge, 1.0 AS whole, 0.1 + 0.2 AS sum",)),
    Case("unicode", ("SELECT 'héllo 🎵' AS a, '日本語' AS b, '' AS empty, 'it''s' AS quote",)),
    Case("blob_literals", ("SELECT x'00ff10' AS b, zeroblob(3) AS z",)),
    Case(
        "blob_column",
        (
            "CREATE TABLE b1 (b BLOB)",
            "INSERT INTO b1 VALUES (x'0102')",
            "SELECT b, length(b) AS len, typeof(b) AS t FROM b1",
        ),
    ),
    Case(
        "typeof",
        (
            "SELECT typeof(1) AS i, typeof(1.0) AS r, typeof('1') AS t, typeof(NULL) AS n, typeof(x'01') AS b",
        ),
    ),
    Case(
        "insert_returning",
        (
            "CREATE TABLE r1 (id INTEGER PRIMARY KEY, name TEXT)",
            "INSERT INTO r1 (name) VALUES ('a'), ('b') RETURNING id, name",
        ),
    ),
    Case(
        "update_returning",
        (
            "CREATE TABLE r2 (id INTEGER PRIMARY KEY, v INTEGER)",
            "INSERT INTO r2 (v) VALUES (1), (2)",
            "UPDATE r2 SET v = v * 10 WHERE v > 1 RETURNING id, v",
        ),
    ),
    # The mail queue's claim: a guarded UPDATE of the first rows in order, each returned with a
    # correlated check on another table (mail.mailqueue._claim_due).
    Case(
        "update_first_rows_returning_a_subquery",
        (
            "CREATE TABLE claimq (id TEXT PRIMARY KEY, lane INTEGER, owner TEXT, taken REAL)",
            "CREATE TABLE claimo (id TEXT PRIMARY KEY, ok INTEGER)",
            "INSERT INTO claimo VALUES ('a', 1), ('b', 0)",
            "INSERT INTO claimq VALUES ('m1', 1, 'a', NULL), ('m2', 0, 'b', NULL), ('m3', 0, 'a', NULL)",
            "UPDATE claimq SET taken = 5 WHERE id IN (SELECT id FROM claimq WHERE taken IS NULL"
            " ORDER BY lane, id LIMIT 2) AND taken IS NULL RETURNING id, lane,"
            " EXISTS (SELECT 1 FROM claimo WHERE claimo.id = claimq.owner AND claimo.ok = 1) AS allowed",
        ),
    ),
    Case(
        "delete_returning",
        (
            "CREATE TABLE r3 (id INTEGER PRIMARY KEY)",
            "INSERT INTO r3 VALUES (1), (2)",
            "DELETE FROM r3 WHERE id = 2 RETURNING id",
        ),
    ),
    Case(
        "aggregates",
        (
            "CREATE TABLE a1 (g TEXT, v INTEGER)",
            "INSERT INTO a1 VALUES ('x', 1), ('x', 2), ('y', 5)",
            "SELECT g, count(*) AS n, sum(v) AS s, avg(v) AS m, group_concat(v) AS all_v FROM a1 GROUP BY g ORDER BY g",
        ),
    ),
    Case(
        "json_functions",
        (
            "SELECT json_object('a', 1, 'b', 'x') AS o, json_extract('{\"k\": [1, 2]}', '$.k[1]') AS e",
        ),
    ),
    Case(
        "order_nulls_limit",
        (
            "CREATE TABLE o1 (v INTEGER)",
            "INSERT INTO o1 VALUES (3), (NULL), (1), (2)",
            "SELECT v FROM o1 ORDER BY v LIMIT 3 OFFSET 1",
        ),
    ),
    Case(
        "dates",
        ("SELECT date('2026-01-31', '+1 month') AS d, strftime('%s', '2026-11-20 00:00:00') AS s",),
    ),
    Case(
        "last_insert_rowid",
        (
            "CREATE TABLE l1 (id INTEGER PRIMARY KEY AUTOINCREMENT, v TEXT)",
            "INSERT INTO l1 (v) VALUES ('a')",
            "INSERT INTO l1 (v) VALUES ('b')",
            "SELECT last_insert_rowid() AS id",
        ),
    ),
    Case(
        "upsert",
        (
            "CREATE TABLE u1 (k TEXT PRIMARY KEY, n INTEGER)",
            "INSERT INTO u1 VALUES ('a', 1)",
            "INSERT INTO u1 VALUES ('a', 1) ON CONFLICT (k) DO UPDATE SET n = n + 1",
            "SELECT k, n FROM u1",
        ),
    ),
    Case("booleans", ("SELECT 1 = 1 AS t, 'a' > 'b' AS f, NULL = NULL AS n",)),
    Case(
        "recursive_cte",
        (
            "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 100) SELECT sum(x) AS total FROM c",
        ),
    ),
    Case(
        "nocase",
        (
            "CREATE TABLE c1 (email TEXT UNIQUE COLLATE NOCASE)",
            "INSERT INTO c1 VALUES ('A@Example.com')",
            "SELECT email FROM c1 WHERE email = 'a@example.COM'",
        ),
    ),
    Case("arithmetic", ("SELECT 7 / 2 AS idiv, 7 % 3 AS m, 7 / 2.0 AS fdiv, -7 / 2 AS negdiv",)),
    Case(
        "foreign_keys",
        (
            "CREATE TABLE p1 (id INTEGER PRIMARY KEY)",
            "CREATE TABLE c2 (p INTEGER REFERENCES p1 (id) ON DELETE CASCADE)",
            "INSERT INTO p1 VALUES (1)",
            "INSERT INTO c2 VALUES (1)",
            "DELETE FROM p1",
            "SELECT count(*) AS children FROM c2",
        ),
    ),
]

ERROR_CASES = [
    (
        Case(
            "unique_violation",
            (
                "CREATE TABLE e1 (v TEXT UNIQUE)",
                "INSERT INTO e1 VALUES ('a')",
                "INSERT INTO e1 VALUES ('a')",
            ),
        ),
        ConstraintViolation,
    ),
    (
        Case(
            "not_null_violation",
            ("CREATE TABLE e2 (v TEXT NOT NULL)", "INSERT INTO e2 VALUES (NULL)"),
        ),
        ConstraintViolation,
    ),
    (
        Case(
            "check_violation",
            ("CREATE TABLE e3 (v INTEGER CHECK (v >= 0))", "INSERT INTO e3 VALUES (-1)"),
        ),
        ConstraintViolation,
    ),
    (
        Case(
            "foreign_key_violation",
            (
                "CREATE TABLE e4 (id INTEGER PRIMARY KEY)",
                "CREATE TABLE e5 (p INTEGER REFERENCES e4 (id))",
                "INSERT INTO e5 VALUES (42)",
            ),
        ),
        ConstraintViolation,
    ),
    (Case("syntax_error", ("SELEC 1",)), DatabaseError),
    (Case("no_such_table", ("SELECT * FROM missing_table",)), DatabaseError),
]


def _normalize(value: Any) -> Any:
    if isinstance(value, bytes):
        return str(list(value))  # wrangler prints a BLOB as "[1, 2, 3]"
    return value


def _as_pyodide_sees_it(value: Any) -> Any:
    """A number from wrangler's JSON as Python on Workers gets it: not a safe integer, a float."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 2**53 - 1:
        return float(value)
    return value


def _typed(rows: list[list[dict[str, Any]]]) -> str:
    # JSON keeps 1 and 1.0 apart, which == does not.
    return json.dumps(rows, ensure_ascii=False)


async def _run_locally(db: LocalDatabase, case: Case) -> list[list[dict[str, Any]]]:
    results = await db.batch([db.prepare(sql) for sql in case.statements])
    return [
        [{k: _normalize(v) for k, v in row.items()} for row in result.results] for result in results
    ]


@pytest.fixture(scope="module")
def wrangler_results(tmp_path_factory: pytest.TempPathFactory) -> list[list[dict[str, Any]]]:
    """All result cases in one wrangler call (each call costs a Miniflare start)."""
    statements = [sql for case in RESULT_CASES for sql in case.statements]
    output = d1_execute(tmp_path_factory.mktemp("d1"), ";\n".join(statements) + ";")
    assert isinstance(output, list), output
    return [
        [{k: _as_pyodide_sees_it(v) for k, v in row.items()} for row in statement["results"]]
        for statement in output
    ]


@pytest.mark.parametrize("case", RESULT_CASES, ids=lambda case: case.name)
async def test_results_match_d1(case: Case, wrangler_results: list[Any], tmp_path: Path) -> None:
    start = sum(len(c.statements) for c in RESULT_CASES[: RESULT_CASES.index(case)])
    expected = wrangler_results[start : start + len(case.statements)]
    local = await _run_locally(LocalDatabase(tmp_path / "d1.sqlite"), case)
    assert _typed(local) == _typed(expected)


@pytest.mark.parametrize(("case", "error_class"), ERROR_CASES, ids=lambda v: getattr(v, "name", ""))
async def test_errors_match_d1(
    case: Case, error_class: type[DatabaseError], tmp_path: Path
) -> None:
    output = d1_execute(tmp_path / "wrangler", ";\n".join(case.statements) + ";")
    assert "error" in output, output
    with pytest.raises(error_class) as raised:
        await _run_locally(LocalDatabase(tmp_path / "d1.sqlite"), case)
    d1_side = error_from_message(output["error"]["text"])
    assert type(d1_side) is type(raised.value) is error_class
    assert d1_side.message == raised.value.message


async def test_failed_batch_leaves_nothing_on_either_side(tmp_path: Path) -> None:
    statements = (
        "CREATE TABLE h1 (v TEXT UNIQUE)",
        "INSERT INTO h1 VALUES ('a')",
        "INSERT INTO h1 VALUES ('a')",
    )
    persist = tmp_path / "wrangler"
    assert "error" in d1_execute(persist, ";\n".join(statements) + ";")
    after = d1_execute(persist, "SELECT count(*) AS n FROM sqlite_master WHERE name = 'h1';")
    db = LocalDatabase(tmp_path / "d1.sqlite")
    with pytest.raises(ConstraintViolation):
        await db.batch([db.prepare(sql) for sql in statements])
    local = await db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name = 'h1'").all()
    assert after[0]["results"] == local.results == [{"n": 0}]
