"""The per-user queue Durable Object: every state change of a user's jobs as numbered events."""

from __future__ import annotations

import json
from typing import Any, ClassVar

from beatbun.runtime.actors import Actor

_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at REAL NOT NULL,
    body TEXT NOT NULL
)
"""


class UserQueue(Actor):
    """One per user (`id_from_name(user_id)`); sequence numbers let clients resume after a gap."""

    RPC_METHODS: ClassVar[frozenset[str]] = frozenset({"ping", "append_event", "events_since"})

    async def ping(self) -> str:
        return "pong"

    async def append_event(self, body: dict[str, Any]) -> int:
        """Record an event; returns its sequence number (strictly increasing, never reused)."""
        self.storage.sql(_SCHEMA)
        rows = self.storage.sql(
            "INSERT INTO events (at, body) VALUES (?, ?) RETURNING seq",
            self.runtime.clock.now(),
            json.dumps(body, separators=(",", ":")),
        )
        return int(rows[0]["seq"])  # type: ignore[arg-type]

    async def events_since(self, seq: int) -> list[dict[str, Any]]:
        """Every event after `seq`, oldest first, each with its `seq` and `at`."""
        self.storage.sql(_SCHEMA)
        rows = self.storage.sql("SELECT seq, at, body FROM events WHERE seq > ? ORDER BY seq", seq)
        return [
            {"seq": row["seq"], "at": row["at"], **json.loads(str(row["body"]))} for row in rows
        ]
