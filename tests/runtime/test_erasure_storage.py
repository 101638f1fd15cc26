"""`ActorStorage.delete_all`, which an erasure uses on the account's Durable Object: every table,
every row and the alarm go, on both adapters."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from beatbun.runtime.cloudflare import DurableObjectStorage
from beatbun_local.actors import LocalActorStorage
from tests.runtime.js_bindings import FakeDurableObjectStorage


async def test_cloudflare_storage_delete_all_drops_tables_and_the_alarm() -> None:
    js_storage = FakeDurableObjectStorage()
    storage = DurableObjectStorage(js_storage)
    storage.sql("CREATE TABLE queue (id TEXT PRIMARY KEY, job TEXT)")
    storage.sql("INSERT INTO queue VALUES ('j1', 'account a1')")
    await storage.set_alarm(1_800_000_000.0)
    await storage.delete_all()
    assert storage.sql("SELECT name FROM sqlite_master WHERE type = 'table'") == []
    assert await storage.get_alarm() is None


async def test_local_storage_delete_all_leaves_an_empty_file(tmp_path: Path) -> None:
    alarms = sqlite3.connect(tmp_path / "alarms.sqlite", isolation_level=None)
    alarms.execute("CREATE TABLE alarms (actor_id TEXT PRIMARY KEY, at REAL, retries INTEGER)")
    path = tmp_path / "actor.sqlite"
    storage = LocalActorStorage(path, actor_id="a" * 64, alarms=alarms, on_alarm_set=lambda: None)
    storage.sql("CREATE TABLE events (seq INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT)")
    for _ in range(200):
        storage.sql("INSERT INTO events (body) VALUES (?)", "person@example.com " * 20)
    await storage.set_alarm(1_800_000_000.0)
    await storage.delete_all()
    assert storage.sql("SELECT name FROM sqlite_master") == []
    assert await storage.get_alarm() is None
    storage.close()
    # Compacted: no freed page still holds the old rows.
    assert b"person@example.com" not in path.read_bytes()
    alarms.close()
