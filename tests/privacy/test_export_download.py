"""Downloading an export: only its owner, only while it is offered, only with the password just
confirmed; then deleted when its days are over. And the schema it follows, published."""

from __future__ import annotations

import dataclasses

import httpx
import jsonschema  # type: ignore[import-untyped]
import pytest

from beatbun.accounts.reauth import WINDOW
from beatbun.errors import Conflict, NotFound, ReauthenticationRequired
from beatbun.privacy.export import (
    EXPORT_DAYS,
    build_pending_exports,
    delete_expired_exports,
    export_key,
    open_export,
    request_export,
)
from beatbun.privacy.exportschema import SCHEMA_PATH, export_schema
from beatbun.privacy.requests import find_request
from beatbun.scheduled import TASKS
from beatbun_local.runtime import LocalRuntime
from tests.factories import CLIENT, create_verified_account
from tests.fakes import ManualClock
from tests.privacy.exporting import confirmed_session, download, ready_export


async def test_open_export_logs_the_download(runtime: LocalRuntime) -> None:
    account = await create_verified_account(runtime)
    session = await confirmed_session(runtime, account)
    request_id = await ready_export(runtime, account, session)

    archive = await download(runtime, account, session, request_id)

    assert archive.testzip() is None
    kinds = (
        await runtime.db.prepare(
            "SELECT kind, ip FROM security_events WHERE account_id = ? ORDER BY id DESC LIMIT 1"
        )
        .bind(account.id)
        .raw()
    )
    assert kinds == [["export_downloaded", CLIENT.ip]]


async def test_open_export_after_the_password_window_is_refused(
    runtime: LocalRuntime, clock: ManualClock
) -> None:
    account = await create_verified_account(runtime)
    session = await confirmed_session(runtime, account)
    request_id = await ready_export(runtime, account, session)
    clock.advance(WINDOW + 1)

    with pytest.raises(ReauthenticationRequired):
        await open_export(runtime, account, session, request_id)


async def test_open_export_with_a_stolen_session_alone_is_refused(runtime: LocalRuntime) -> None:
    account = await create_verified_account(runtime)
    session = await confirmed_session(runtime, account)
    request_id = await ready_export(runtime, account, session)

    with pytest.raises(ReauthenticationRequired):
        await open_export(
            runtime, account, dataclasses.replace(session, reauthenticated_at=None), request_id
        )


async def test_open_export_of_another_account_is_not_found(runtime: LocalRuntime) -> None:
    owner = await create_verified_account(runtime)
    request_id = await ready_export(runtime, owner, await confirmed_session(runtime, owner))
    other = await create_verified_account(runtime, email="other@example.com")

    with pytest.raises(NotFound) as refused:
        await open_export(runtime, other, await confirmed_session(runtime, other), request_id)

    assert refused.value.code == "not_found"
    assert refused.value.message == f"Export {request_id} not found."


async def test_open_export_still_being_made_is_a_conflict(runtime: LocalRuntime) -> None:
    account = await create_verified_account(runtime)
    session = await confirmed_session(runtime, account)
    request = await request_export(runtime, account, session, client=CLIENT, language="en")

    with pytest.raises(Conflict) as refused:
        await open_export(runtime, account, session, request.id)

    assert refused.value.code == "export_not_ready"


async def test_expired_export_is_deleted_and_no_longer_offered(
    runtime: LocalRuntime, clock: ManualClock
) -> None:
    account = await create_verified_account(runtime)
    request_id = await ready_export(runtime, account, await confirmed_session(runtime, account))
    key = export_key(account.id, request_id)
    clock.advance(EXPORT_DAYS * 86400 - 1)
    assert await delete_expired_exports(runtime) == 0
    assert await runtime.blobs.head(key) is not None

    clock.advance(1)
    assert await delete_expired_exports(runtime) == 1

    assert await runtime.blobs.head(key) is None
    request = await find_request(runtime.db, account.id, request_id)
    assert request is not None and (request.status, request.blob_key) == ("expired", None)
    with pytest.raises(NotFound) as refused:
        await open_export(runtime, account, await confirmed_session(runtime, account), request_id)
    assert refused.value.code == "export_expired"
    assert await delete_expired_exports(runtime) == 0


async def test_export_past_its_days_is_not_offered_before_the_cron_deletes_it(
    runtime: LocalRuntime, clock: ManualClock
) -> None:
    account = await create_verified_account(runtime)
    request_id = await ready_export(runtime, account, await confirmed_session(runtime, account))
    clock.advance(EXPORT_DAYS * 86400)

    with pytest.raises(NotFound) as refused:
        await open_export(runtime, account, await confirmed_session(runtime, account), request_id)

    assert refused.value.code == "export_expired"


def test_export_building_and_expiry_run_on_the_cron() -> None:
    assert build_pending_exports in TASKS
    assert delete_expired_exports in TASKS


async def test_export_schema_is_published_as_a_valid_json_schema(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get(SCHEMA_PATH)

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/schema+json"
    assert response.json() == export_schema()
    jsonschema.Draft202012Validator.check_schema(response.json())
    assert response.json()["properties"]["format"] == {
        "const": "beatbun-export",
        "title": "Format",
        "type": "string",
    }
