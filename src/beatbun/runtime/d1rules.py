"""D1's rules for statements and values, checked the same way by both database adapters.

Checking before sending means a statement D1 would refuse fails locally with the same error
class and message, instead of passing in tests and failing in production.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from beatbun.errors import ConstraintViolation, DatabaseError
from beatbun.runtime.base import (
    MAX_BINDABLE_INTEGER,
    MAX_BOUND_PARAMETERS,
    MAX_STATEMENT_BYTES,
    Row,
    SqlValue,
)

_TRANSACTION_CONTROL = re.compile(
    r"^\s*(BEGIN|COMMIT|END|ROLLBACK|SAVEPOINT|RELEASE)\b", re.IGNORECASE
)
_CONSTRAINT = re.compile(
    r"(UNIQUE|NOT NULL|CHECK|FOREIGN KEY|PRIMARY KEY) constraint failed(?:: (.+))?$"
)
# D1 wraps SQLite's message: "D1_ERROR: <sqlite message>: SQLITE_CONSTRAINT" (sometimes with
# a "D1_TYPE_ERROR"/"D1_EXEC_ERROR" prefix). We keep only SQLite's own words.
_D1_PREFIX = re.compile(r"^(?:Error: )?D1_[A-Z_]*ERROR: ")
_SQLITE_SUFFIX = re.compile(r": SQLITE_[A-Z_]+(?: \(extended: SQLITE_[A-Z_]+\))?$")
_OFFSET = re.compile(r" at offset \d+$")


def check_sql(sql: str) -> None:
    """Refuse what D1 refuses before a statement runs: oversize SQL and transaction control."""
    if len(sql.encode()) > MAX_STATEMENT_BYTES:
        raise DatabaseError(
            f"SQL statement is {len(sql.encode())} bytes; D1 allows at most {MAX_STATEMENT_BYTES}."
        )
    if _TRANSACTION_CONTROL.match(sql):
        raise DatabaseError(
            "D1 runs every statement in its own transaction: BEGIN, COMMIT and SAVEPOINT are "
            "not allowed. Group statements with batch() instead."
        )


def check_params(params: Sequence[Any]) -> list[SqlValue]:
    """Return the parameters as D1 stores them (booleans as 0/1), or raise.

    Raises DatabaseError past D1's 100 bound parameters or for an integer D1 cannot hold, and
    TypeError for values the Workers SDK cannot send (tuple, bytearray, datetime, ...).
    """
    if len(params) > MAX_BOUND_PARAMETERS:
        raise DatabaseError(
            f"Too many bound parameters: {len(params)}; D1 allows at most {MAX_BOUND_PARAMETERS}."
        )
    return [_check_value(index, value) for index, value in enumerate(params, start=1)]


def first_of(rows: Sequence[Row], column: str | None) -> Any:
    """What `first(column)` returns: the first row, its `column`, or None when there are no rows.

    Picked here rather than with D1's own first(column), so a missing column fails with the
    same error on both runtimes.
    """
    if not rows:
        return None
    if column is None:
        return rows[0]
    if column not in rows[0]:
        raise DatabaseError(f"Column '{column}' not found in the result.")
    return rows[0][column]


def error_from_message(message: str) -> DatabaseError:
    """Map a D1 or SQLite error message to our error class, with SQLite's own wording."""
    text = _OFFSET.sub("", _SQLITE_SUFFIX.sub("", _D1_PREFIX.sub("", message.strip())))
    if match := _CONSTRAINT.search(text):
        return ConstraintViolation(text, kind=match.group(1), target=match.group(2) or "")
    return DatabaseError(text)


def _check_value(position: int, value: Any) -> SqlValue:
    if value is None or isinstance(value, (str, float, bytes)):
        return value
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        if abs(value) > MAX_BINDABLE_INTEGER:
            raise DatabaseError(
                f"Parameter {position} is {value}, beyond ±(2^53 - 2), the integers D1 can take."
            )
        return value
    raise TypeError(
        f"Parameter {position} has type {type(value).__name__}, which D1 cannot bind. "
        "Use None, bool, int, float, str or bytes (convert datetimes to ISO strings or epochs)."
    )
