"""D1 semantics on a local SQLite file: auto-commit statements, atomic batches, D1's limits."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from beatbun.runtime.base import MAX_SAFE_INTEGER, QueryMeta, QueryResult, Row, SqlValue
from beatbun.runtime.d1rules import check_params, check_sql, error_from_message, first_of


class LocalDatabase:
    """One SQLite connection in auto-commit mode; each call runs to completion before the next.

    The event loop never switches inside a call, so statements never interleave, as on D1.
    """

    def __init__(self, path: Path | str) -> None:
        self._connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._connection.execute("PRAGMA journal_mode = WAL")
        # A commit then survives the process dying, but waits for no fsync (which cost ~3 ms a
        # statement here, most of a request's time); only an OS crash could lose the last ones.
        self._connection.execute("PRAGMA synchronous = NORMAL")
        self._connection.execute("PRAGMA busy_timeout = 5000")
        # D1 enforces foreign keys (developers.cloudflare.com/d1/sql-api/foreign-keys).
        self._connection.execute("PRAGMA foreign_keys = ON")

    def prepare(self, sql: str) -> LocalStatement:
        check_sql(sql)
        return LocalStatement(self, sql, ())

    async def batch(self, statements: Sequence[Any]) -> list[QueryResult]:
        """Run every statement in one transaction; on any error none of them took effect."""
        if not all(isinstance(statement, LocalStatement) for statement in statements):
            raise TypeError("batch() takes statements made by this database's prepare().")
        self._connection.execute("SAVEPOINT d1_batch")
        try:
            results = [self._execute(statement.sql, statement.params) for statement in statements]
        except BaseException:
            self._connection.execute("ROLLBACK TO d1_batch")
            self._connection.execute("RELEASE d1_batch")
            raise
        self._connection.execute("RELEASE d1_batch")
        return results

    def close(self) -> None:
        self._connection.close()

    def _execute(self, sql: str, params: tuple[SqlValue, ...]) -> QueryResult:
        columns, values, meta = self._query(sql, params)
        return QueryResult(results=[_row(columns, row) for row in values], meta=meta)

    def _query(
        self, sql: str, params: tuple[SqlValue, ...]
    ) -> tuple[list[str], list[list[SqlValue]], QueryMeta]:
        started = time.perf_counter()
        try:
            cursor = self._connection.execute(sql, params)
            columns = [column[0] for column in cursor.description or ()]
            values = [[_as_d1_value(value) for value in row] for row in cursor.fetchall()]
        except sqlite3.Error as exc:
            raise error_from_message(str(exc)) from exc
        meta = QueryMeta(
            changes=max(cursor.rowcount, 0),
            last_row_id=cursor.lastrowid or 0,
            duration_ms=(time.perf_counter() - started) * 1000,
        )
        return columns, values, meta


class LocalStatement:
    def __init__(self, database: LocalDatabase, sql: str, params: tuple[SqlValue, ...]) -> None:
        self._database = database
        self.sql = sql
        self.params = params

    def bind(self, *params: SqlValue | bool) -> LocalStatement:
        return LocalStatement(self._database, self.sql, tuple(check_params(params)))

    async def all(self) -> QueryResult:
        return self._database._execute(self.sql, self.params)

    async def run(self) -> QueryResult:
        return self._database._execute(self.sql, self.params)

    async def first(self, column: str | None = None) -> Any:
        return first_of(self._database._execute(self.sql, self.params).results, column)

    async def raw(self, *, column_names: bool = False) -> list[list[SqlValue]]:
        columns, values, _ = self._database._query(self.sql, self.params)
        return [list(columns), *values] if column_names else values


def _row(columns: list[str], values: list[SqlValue]) -> Row:
    # Like a JS object, a repeated column name keeps its last value.
    return dict(zip(columns, values, strict=True))


def _as_d1_value(value: Any) -> SqlValue:
    # D1 hands numbers to Python as JS numbers, which Pyodide converts to int when they are safe
    # integers and to float otherwise: a REAL 2.0 reads back as 2, an INTEGER 2**60 as a float.
    if isinstance(value, float) and value.is_integer() and abs(value) <= MAX_SAFE_INTEGER:
        return int(value)
    if isinstance(value, int) and abs(value) > MAX_SAFE_INTEGER:
        return float(value)
    return value  # type: ignore[no-any-return]
