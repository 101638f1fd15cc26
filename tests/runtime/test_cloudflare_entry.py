"""The Worker entry and the Durable Object host, run against fakes of the Workers objects."""

from __future__ import annotations

import dataclasses
import json
from email.message import Message
from pathlib import Path
from typing import Any

import pytest

import entry
from beatbun.errors import CoordinatorError, DatabaseError, NotFound
from beatbun.runtime.cloudflare import (
    D1Database,
    DurableObjectNamespace,
    DurableObjectStorage,
    runtime_from_env,
)
from beatbun.settings import Settings
from beatbun_local.migrations import apply_migrations
from tests.runtime.js_bindings import (
    FakeD1Binding,
    FakeDurableObjectNamespace,
    FakeDurableObjectStorage,
    FakeEnv,
    FakeR2Binding,
)

MIGRATIONS = Path(__file__).resolve().parents[2] / "d1" / "migrations"


class FakeRequest:
    """`workers.Request`: `url`, `headers` (an HTTPMessage) and the JS request it wraps."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.headers = Message()
        self.headers["accept"] = "application/json"
        self.js_object = {"method": "GET", "url": url, "headers": {"accept": "application/json"}}


class FakeCronController:
    cron = "0 * * * *"
    scheduledTime = 1_800_000_000_000.0


@pytest.fixture
async def env() -> FakeEnv:
    worker_env = FakeEnv(
        SITE_NAME="Edge Bun", ENVIRONMENT="test", DB=FakeD1Binding(), AUDIO=FakeR2Binding()
    )
    worker_env.USER_QUEUE = FakeDurableObjectNamespace(entry.UserQueue, worker_env)
    await apply_migrations(D1Database(worker_env.DB), MIGRATIONS)
    return worker_env


async def test_fetch_serves_healthz_through_cloudflare_adapters(env: FakeEnv) -> None:
    worker = entry.Default(ctx=None, env=env)
    response: dict[str, Any] = await worker.fetch(FakeRequest("https://beatbun.example/healthz"))
    assert response["status"] == 200
    body = json.loads(response["body"])
    assert body["bindings"] == {"DB": True, "AUDIO": True, "USER_QUEUE": True}


async def test_fetch_renders_landing_with_site_name_from_env(env: FakeEnv) -> None:
    worker = entry.Default(ctx=None, env=env)
    response: dict[str, Any] = await worker.fetch(FakeRequest("https://beatbun.example/"))
    assert response["status"] == 200
    assert b"<title>Edge Bun</title>" in response["body"]


async def test_healthz_reports_a_broken_binding(env: FakeEnv) -> None:
    env.DB = FakeD1Binding()  # no migrations: the probe works, but not D1 itself below
    env.DB.connection.close()
    response: dict[str, Any] = await entry.Default(ctx=None, env=env).fetch(
        FakeRequest("https://beatbun.example/healthz")
    )
    assert response["status"] == 503
    assert json.loads(response["body"])["bindings"]["DB"] is False


def test_every_settings_field_is_read_from_the_worker_env() -> None:
    """A field whose variable the Worker does not pass through would keep its default there."""
    expected: dict[str, object] = {}
    variables: dict[str, str] = {}
    for field in dataclasses.fields(Settings):
        if field.name == "environment":
            value: object = "test"
        elif isinstance(field.default, int | float):
            value = field.default + 1
        else:
            value = f"{field.name}-from-worker"
        expected[field.name] = value
        variables[field.name.upper()] = str(value)
    worker_env = FakeEnv(**variables, DB=FakeD1Binding(), AUDIO=FakeR2Binding(), USER_QUEUE=None)
    settings = runtime_from_env(worker_env).settings
    assert {name: getattr(settings, name) for name in expected} == expected


async def test_scheduled_records_the_cron_run(env: FakeEnv) -> None:
    await entry.Default(ctx=None, env=env).scheduled(FakeCronController())
    rows = await D1Database(env.DB).prepare("SELECT cron, scheduled_at FROM cron_runs").all()
    assert rows.results == [{"cron": "0 * * * *", "scheduled_at": 1_800_000_000}]


async def test_durable_object_rpc_round_trip(env: FakeEnv) -> None:
    queues = DurableObjectNamespace(env.USER_QUEUE)
    stub = queues.get(queues.id_from_name("user-1"))
    assert await stub.call("ping") == "pong"
    assert await stub.call("snapshot") == {"jobs": [], "seq": 0}
    assert await stub.call("events_since", 0) == []


async def test_durable_object_app_error_crosses_rpc_with_its_class(env: FakeEnv) -> None:
    queues = DurableObjectNamespace(env.USER_QUEUE)
    with pytest.raises(NotFound) as raised:
        await queues.get(queues.id_from_name("user-1")).call("cancel", "no-such-job")
    assert raised.value.code == "generation_not_found"
    # Pages translate the template and fill in the values, so both survive the trip.
    assert raised.value.params == {"id": "no-such-job"}
    assert raised.value.message == raised.value.template % raised.value.params


async def test_durable_object_unknown_method_raises_coordinator_error(env: FakeEnv) -> None:
    queues = DurableObjectNamespace(env.USER_QUEUE)
    with pytest.raises(CoordinatorError, match="no callable method 'drop_everything'"):
        await queues.get(queues.id_from_name("user-1")).call("drop_everything")


async def test_durable_object_storage_alarm_in_seconds() -> None:
    js_storage = FakeDurableObjectStorage()
    storage = DurableObjectStorage(js_storage)
    assert await storage.get_alarm() is None
    await storage.set_alarm(1_800_000_000.5)
    assert js_storage.alarm_ms == 1_800_000_000_500
    assert await storage.get_alarm() == 1_800_000_000.5
    await storage.delete_alarm()
    assert await storage.get_alarm() is None


async def test_durable_object_storage_sql_maps_blobs_and_errors() -> None:
    storage = DurableObjectStorage(FakeDurableObjectStorage())
    storage.sql("CREATE TABLE t (b BLOB)")
    storage.sql("INSERT INTO t VALUES (?)", b"\x01\x02")
    assert storage.sql("SELECT b FROM t") == [{"b": b"\x01\x02"}]
    with pytest.raises(DatabaseError, match="no such table: missing"):
        storage.sql("SELECT * FROM missing")
