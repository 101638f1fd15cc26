"""Apply `d1/migrations/NNNN_name.sql` by the rules `wrangler d1 migrations apply` follows.

Same tracking table, same order (the leading number, then the name), each file once, and each
file with its tracking row in one batch, so a failing file leaves no trace and earlier ones stay.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from beatbun.runtime.base import Database

# The DDL wrangler uses, to the whitespace, since sqlite_master keeps it verbatim
# (workers-sdk: packages/wrangler/src/d1/migrations/helpers.ts).
TRACKING_TABLE_DDL = (
    'CREATE TABLE IF NOT EXISTS "d1_migrations"(\n'
    "\t\tid         INTEGER PRIMARY KEY AUTOINCREMENT,\n"
    "\t\tname       TEXT UNIQUE,\n"
    "\t\tapplied_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP NOT NULL\n"
    ")"
)
_MIGRATION_FILE = re.compile(r"^(\d+)_.+\.sql$")


@dataclass(frozen=True)
class Migration:
    number: int
    name: str
    path: Path


def find_migrations(directory: Path) -> list[Migration]:
    found = [
        Migration(int(match.group(1)), path.name, path)
        for path in directory.iterdir()
        if (match := _MIGRATION_FILE.match(path.name))
    ]
    return sorted(found, key=lambda migration: (migration.number, migration.name))


async def apply_migrations(db: Database, directory: Path) -> list[str]:
    """Apply the pending migrations in order; returns the names applied."""
    await db.prepare(TRACKING_TABLE_DDL).run()
    applied = {
        row["name"] for row in (await db.prepare("SELECT name FROM d1_migrations").all()).results
    }
    done: list[str] = []
    for migration in find_migrations(directory):
        if migration.name in applied:
            continue
        statements = [db.prepare(sql) for sql in split_statements(migration.path.read_text())]
        record = db.prepare('INSERT INTO "d1_migrations" (name) values (?)').bind(migration.name)
        await db.batch([*statements, record])
        done.append(migration.name)
    return done


def split_statements(script: str) -> list[str]:
    """Split SQL text into complete statements (trigger bodies and quoted `;` stay whole)."""
    statements: list[str] = []
    pending = ""
    for piece in script.split(";"):
        pending += piece + ";"
        if sqlite3.complete_statement(pending):
            statement = _strip_leading_comments(pending).strip()
            if statement.rstrip(";").strip():
                statements.append(statement)
            pending = ""
    return statements


def _strip_leading_comments(sql: str) -> str:
    # wrangler drops the comment lines before a statement and keeps those inside it, and
    # sqlite_master stores what was sent: the schemas only match if we do the same.
    lines = sql.splitlines()
    while lines and (not lines[0].strip() or lines[0].lstrip().startswith("--")):
        lines.pop(0)
    return "\n".join(lines)
