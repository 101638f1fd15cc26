"""What an erased account could leave behind, looked for everywhere: every column of every row
of every D1 table, and every object in the bucket (key, metadata and bytes)."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass

from beatbun.accounts.tokens import hash_token
from beatbun.privacy.ledger import account_hash
from beatbun.runtime.base import Runtime
from beatbun_local.runtime import LocalRuntime


@dataclass(frozen=True)
class Erased:
    """What names the account: its id, its address, its consent subject, its address's hash."""

    account_id: str
    email: str

    @property
    def needles(self) -> tuple[str, ...]:
        return (
            self.account_id,
            self.email,
            f"account:{self.account_id}",
            hash_token(self.email),
        )


async def tables(runtime: Runtime) -> list[str]:
    rows = (
        await runtime.db.prepare(
            "SELECT name FROM sqlite_master WHERE type = 'table'"
            " AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '\\_cf\\_%' ESCAPE '\\'"
            " ORDER BY name"
        ).all()
    ).results
    return [str(row["name"]) for row in rows]


async def traces_in_database(runtime: Runtime, needles: Sequence[str]) -> list[str]:
    """`table.column = value` for every value holding one of `needles`."""
    found = []
    for table in await tables(runtime):
        rows = (await runtime.db.prepare(f'SELECT * FROM "{table}"').all()).results
        for row in rows:
            for column, value in row.items():
                text = value.decode(errors="replace") if isinstance(value, bytes) else str(value)
                if any(needle in text for needle in needles):
                    found.append(f"{table}.{column} = {text[:80]!r}")
    return found


async def traces_in_bucket(runtime: Runtime, needles: Sequence[str]) -> list[str]:
    """Every object whose key, metadata or bytes hold one of `needles`."""
    found = []
    cursor: str | None = None
    while True:
        listing = await runtime.blobs.list(cursor=cursor)
        for listed in listing.objects:
            stored = await runtime.blobs.get(listed.key)
            assert stored is not None and stored.body is not None
            texts = [
                listed.key,
                repr(stored.custom_metadata),
                repr(stored.http_metadata),
            ]
            body = stored.body
            if any(needle in text for needle in needles for text in texts) or any(
                needle.encode() in body for needle in needles
            ):
                found.append(listed.key)
        if not listing.truncated:
            return found
        cursor = listing.cursor


async def traces(runtime: Runtime, erased: Erased) -> list[str]:
    return [
        *await traces_in_database(runtime, erased.needles),
        *await traces_in_bucket(runtime, erased.needles),
    ]


def queue_tables(runtime: LocalRuntime, account_id: str) -> list[str]:
    """The tables left in the account's Durable Object storage (its own SQLite file)."""
    actor_id = runtime.user_queues.id_from_name(account_id)
    path = runtime.state_dir / "do" / "UserQueue" / f"{actor_id}.sqlite"
    with contextlib.closing(sqlite3.connect(path)) as connection:
        rows = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        return sorted(name for (name,) in rows)


def in_ledger(keys: set[str], account_id: str) -> bool:
    return f"erasures/{account_hash(account_id)}" in keys
