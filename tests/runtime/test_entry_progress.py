"""The live progress WebSocket on Workers: routed by the Worker, held by the hibernating queue.

Run against fakes of the Hibernation API's objects (tests/sdk_fakes/js.py, js_bindings.py):
`WebSocketPair`, `ctx.acceptWebSocket`/`getWebSockets`, attachments that must be plain JS
objects, and an eviction that loses the instance's memory but keeps its sockets.
"""

from __future__ import annotations

import dataclasses
import json
from email.message import Message
from pathlib import Path
from typing import Any

import pytest

import entry
from beatbun.accounts.sessions import create_session
from beatbun.generation.models import GenerationRequest
from beatbun.generation.service import submit_generation
from beatbun.runtime.base import Runtime
from beatbun.runtime.clock import SystemClock
from beatbun.runtime.cloudflare import D1Database, DurableObjectNamespace, runtime_from_env
from beatbun.runtime.pushrules import (
    CLOSE_INVALID_MESSAGE,
    CLOSE_SESSIONS_CHANGED,
    MAX_SOCKETS,
    PROGRESS_PATH,
    SESSIONS_CHANGED_REASON,
    TOO_MANY_SOCKETS,
    encode_resume,
)
from beatbun.web.progress import end_live_progress
from beatbun_local.mail import LocalOutbox
from beatbun_local.migrations import apply_migrations
from tests.factories import CLIENT, create_verified_account
from tests.runtime.js_bindings import (
    FakeD1Binding,
    FakeDurableObjectNamespace,
    FakeEnv,
    FakeR2Binding,
)

MIGRATIONS = Path(__file__).resolve().parents[2] / "d1" / "migrations"
SITE = "https://beatbun.example"


class WorkerRequest:
    """`workers.Request` as `Default.fetch` reads it: `url`, `headers` (an HTTPMessage)."""

    def __init__(self, url: str, headers: dict[str, str]) -> None:
        self.url = url
        self.headers = Message()
        for name, value in headers.items():
            self.headers[name] = value
        self.js_object = {"method": "GET", "url": url, "headers": headers}


@pytest.fixture
async def env() -> FakeEnv:
    database = FakeD1Binding()
    worker_env = FakeEnv(ENVIRONMENT="test", DB=database, AUDIO=FakeR2Binding())
    worker_env.__dict__["USER_QUEUE"] = FakeDurableObjectNamespace(entry.UserQueue, worker_env)
    await apply_migrations(D1Database(database), MIGRATIONS)
    return worker_env


def queues_of(env: FakeEnv) -> FakeDurableObjectNamespace:
    """The `USER_QUEUE` binding, holding the hosts it made."""
    namespace: FakeDurableObjectNamespace = env.__dict__["USER_QUEUE"]
    return namespace


@pytest.fixture
def runtime(env: FakeEnv, tmp_path: Path) -> Runtime:
    # Sign-up sends mail; the Worker's mailer needs Resend, so it goes to a local outbox here.
    return dataclasses.replace(
        runtime_from_env(env),
        mailer=LocalOutbox(tmp_path, sender="test@example.com", clock=SystemClock()),
    )


async def session_cookie(runtime: Runtime, *, email: str, stage: str = "full") -> tuple[str, str]:
    account = await create_verified_account(runtime, email=email)
    _, token = await create_session(
        runtime.db, account_id=account.id, stage=stage, client=CLIENT, now=runtime.clock.now()
    )
    return account.id, f"__Host-session={token}"


def handshake(cookie: str | None, *, origin: str | None = SITE) -> WorkerRequest:
    headers = {"upgrade": "websocket", "connection": "Upgrade"}
    if cookie is not None:
        headers["cookie"] = cookie
    if origin is not None:
        headers["origin"] = origin
    return WorkerRequest(f"{SITE}{PROGRESS_PATH}", headers)


async def submit(runtime: Runtime, account_id: str, prompt: str) -> str:
    submission = await submit_generation(
        runtime,
        account_id=account_id,
        request=GenerationRequest.parse({"prompt": prompt, "duration_seconds": 5}),
        idempotency_key=None,
    )
    return submission.job.id


def events_of(client: Any) -> list[dict[str, Any]]:
    return [json.loads(message) for message in client.received]


async def test_handshake_with_a_session_reaches_the_users_queue_object(
    env: FakeEnv, runtime: Runtime
) -> None:
    account_id, cookie = await session_cookie(runtime, email="ws@example.com")
    response = await entry.Default(ctx=None, env=env).fetch(handshake(cookie))
    assert response.status == 101
    queue_id = DurableObjectNamespace(queues_of(env)).id_from_name(account_id)
    assert queues_of(env).instances[queue_id].ctx.accepted == [response.web_socket.peer]


@pytest.mark.parametrize(
    ("cookie", "origin", "status", "code"),
    [
        (None, SITE, 401, "login_required"),
        ("__Host-session=not-a-real-token", SITE, 401, "login_required"),
        ("mfa", SITE, 401, "login_required"),  # password checked, second factor still missing
        ("full", "https://evil.example", 403, "cross_site_request"),
        ("full", None, 403, "cross_site_request"),  # every browser sends Origin with a handshake
        ("full", "http://beatbun.example", 403, "cross_site_request"),  # not the secure origin
    ],
)
async def test_handshake_is_refused_before_any_object_is_reached(
    env: FakeEnv,
    runtime: Runtime,
    cookie: str | None,
    origin: str | None,
    status: int,
    code: str,
) -> None:
    if cookie in ("full", "mfa"):
        _, cookie = await session_cookie(runtime, email="refused@example.com", stage=cookie)
    response = await entry.Default(ctx=None, env=env).fetch(handshake(cookie, origin=origin))
    assert response.status == status
    assert json.loads(response.body)["error"] == code
    assert queues_of(env).instances == {}


async def test_resume_replays_missed_events_then_pushes_live_ones(
    env: FakeEnv, runtime: Runtime
) -> None:
    account_id, cookie = await session_cookie(runtime, email="replay@example.com")
    first = await submit(runtime, account_id, "first")
    client = (await entry.Default(ctx=None, env=env).fetch(handshake(cookie))).web_socket
    assert client.received == []  # nothing until the client says where it resumes
    await queues_of(env).deliver(client, encode_resume(0))
    assert [(e["seq"], e["job_id"], e["type"]) for e in events_of(client)] == [(1, first, "queued")]
    second = await submit(runtime, account_id, "second")
    assert [(e["seq"], e["job_id"], e["position"]) for e in events_of(client)[1:]] == [
        (2, second, 2)
    ]


async def test_cursor_survives_hibernation_and_nothing_is_sent_twice(
    env: FakeEnv, runtime: Runtime
) -> None:
    account_id, cookie = await session_cookie(runtime, email="sleepy@example.com")
    await submit(runtime, account_id, "first")
    client = (await entry.Default(ctx=None, env=env).fetch(handshake(cookie))).web_socket
    await queues_of(env).deliver(client, encode_resume(0))
    queue_id = DurableObjectNamespace(queues_of(env)).id_from_name(account_id)
    queues_of(env).hibernate(queue_id)
    await submit(runtime, account_id, "second")
    assert [event["seq"] for event in events_of(client)] == [1, 2]
    assert client.peer.deserializeAttachment().to_py() == {"after": 2}


async def test_reconnect_resumes_after_the_last_event_seen(env: FakeEnv, runtime: Runtime) -> None:
    account_id, cookie = await session_cookie(runtime, email="again@example.com")
    for prompt in ("one", "two", "three"):
        await submit(runtime, account_id, prompt)
    client = (await entry.Default(ctx=None, env=env).fetch(handshake(cookie))).web_socket
    await queues_of(env).deliver(client, encode_resume(2))
    assert [event["seq"] for event in events_of(client)] == [3]


async def test_a_closed_socket_gets_no_more_pushes(env: FakeEnv, runtime: Runtime) -> None:
    account_id, cookie = await session_cookie(runtime, email="gone@example.com")
    client = (await entry.Default(ctx=None, env=env).fetch(handshake(cookie))).web_socket
    await queues_of(env).deliver(client, encode_resume(0))
    await queues_of(env).disconnect(client, 1001, "tab closed")
    await submit(runtime, account_id, "after the tab closed")
    assert client.received == []
    assert client.closed == (1001, "tab closed")  # the object answered the close frame


async def test_a_close_without_a_sendable_code_is_answered_with_1000(
    env: FakeEnv, runtime: Runtime
) -> None:
    _, cookie = await session_cookie(runtime, email="abrupt@example.com")
    client = (await entry.Default(ctx=None, env=env).fetch(handshake(cookie))).web_socket
    server = client.peer
    holder = next(iter(queues_of(env).instances.values()))
    await holder.webSocketClose(server, 1006, "", False)
    assert client.closed == (1000, "")


@pytest.mark.parametrize("message", ['{"after": -1}', "hello", '{"after": "3"}', b"\x00"])
async def test_anything_but_a_resume_message_closes_the_socket(
    env: FakeEnv, runtime: Runtime, message: Any
) -> None:
    _, cookie = await session_cookie(runtime, email="noise@example.com")
    client = (await entry.Default(ctx=None, env=env).fetch(handshake(cookie))).web_socket
    server = client.peer
    holder = next(iter(queues_of(env).instances.values()))
    await holder.webSocketMessage(server, message)
    assert client.closed is not None and client.closed[0] == CLOSE_INVALID_MESSAGE


async def test_object_refuses_a_request_that_is_not_an_upgrade(env: FakeEnv) -> None:
    queues = DurableObjectNamespace(queues_of(env))
    request = WorkerRequest(f"{SITE}{PROGRESS_PATH}", {})
    response = await queues.get(queues.id_from_name("someone")).forward(request)
    assert response.status == 426


async def test_a_plain_get_of_the_socket_path_goes_to_the_app(env: FakeEnv) -> None:
    request = WorkerRequest(f"{SITE}{PROGRESS_PATH}", {"accept": "text/html"})
    response = await entry.Default(ctx=None, env=env).fetch(request)
    assert response.status == 404
    assert queues_of(env).instances == {}


async def test_a_socket_error_closes_it_as_an_internal_error(
    env: FakeEnv, runtime: Runtime
) -> None:
    _, cookie = await session_cookie(runtime, email="broken@example.com")
    client = (await entry.Default(ctx=None, env=env).fetch(handshake(cookie))).web_socket
    holder = next(iter(queues_of(env).instances.values()))
    await holder.webSocketError(client.peer, "connection reset")
    assert client.closed == (1011, "")


async def test_sockets_past_the_limit_are_refused_until_one_closes(
    env: FakeEnv, runtime: Runtime
) -> None:
    # Every event is sent to every socket: one account must not hold thousands of them.
    _, cookie = await session_cookie(runtime, email="tabs@example.com")
    worker = entry.Default(ctx=None, env=env)
    clients = [(await worker.fetch(handshake(cookie))).web_socket for _ in range(MAX_SOCKETS)]
    refused = await worker.fetch(handshake(cookie))
    assert refused.status == 429
    assert json.loads(refused.body) == TOO_MANY_SOCKETS
    await queues_of(env).disconnect(clients[0], 1001, "tab closed")
    assert (await worker.fetch(handshake(cookie))).status == 101


async def test_ending_the_accounts_sessions_closes_its_sockets(
    env: FakeEnv, runtime: Runtime
) -> None:
    account_id, cookie = await session_cookie(runtime, email="ended@example.com")
    client = (await entry.Default(ctx=None, env=env).fetch(handshake(cookie))).web_socket
    await queues_of(env).deliver(client, encode_resume(0))
    await end_live_progress(runtime, account_id)
    assert client.closed == (CLOSE_SESSIONS_CHANGED, SESSIONS_CHANGED_REASON)
    await submit(runtime, account_id, "after the logout")
    assert client.received == []
