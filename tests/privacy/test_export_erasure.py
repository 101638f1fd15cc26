"""Exports and erasure: no export is asked for or built once an erasure has started, a live
builder holds the erasure back, and an export made during the grace period says truly how long
it is there."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from beatbun.accounts.store import get_account
from beatbun.errors import Conflict
from beatbun.mail.drain import send_queued_mail
from beatbun.privacy.erasure import GRACE_SECONDS, claim_account, request_erasure
from beatbun.privacy.export import (
    CLAIM_SECONDS,
    DAY_SECONDS,
    EXPORT_DAYS,
    build_pending_exports,
    request_export,
)
from beatbun.privacy.removal import remove_account
from beatbun.privacy.requests import find_request
from beatbun_local.runtime import LocalRuntime
from tests.factories import CLIENT, PASSWORD, create_verified_account
from tests.fakes import ManualClock
from tests.privacy.exporting import confirmed_session, ready_export


async def _account_row(runtime: LocalRuntime, account_id: str) -> object:
    return await runtime.db.prepare("SELECT id FROM accounts WHERE id = ?").bind(account_id).first()


async def test_an_account_being_erased_cannot_ask_for_an_export(runtime: LocalRuntime) -> None:
    account = await create_verified_account(runtime)
    session = await confirmed_session(runtime, account)
    await claim_account(runtime, account.id)
    with pytest.raises(Conflict) as raised:
        await request_export(runtime, account, session, client=CLIENT, language="en")
    assert raised.value.code == "erasure_started"


async def test_no_export_is_built_once_the_erasure_started(runtime: LocalRuntime) -> None:
    account = await create_verified_account(runtime)
    session = await confirmed_session(runtime, account)
    request = await request_export(runtime, account, session, client=CLIENT, language="en")
    await claim_account(runtime, account.id)
    assert await build_pending_exports(runtime) == 0
    found = await find_request(runtime.db, account.id, request.id)
    assert found is not None and found.status == "pending"
    # The erasure fails it without a word and goes ahead.
    await send_queued_mail(runtime)
    told = len(runtime.mailer.messages())
    assert await remove_account(runtime, account.id, notify=False)
    assert await _account_row(runtime, account.id) is None
    await send_queued_mail(runtime)
    assert len(runtime.mailer.messages()) == told


async def test_a_live_builder_holds_the_erasure_until_its_claim_is_stale(
    runtime: LocalRuntime, clock: ManualClock
) -> None:
    account = await create_verified_account(runtime)
    await (
        runtime.db.prepare(
            "INSERT INTO privacy_requests (id, account_id, kind, status, created_at, claimed_at,"
            " attempts, language) VALUES ('live', ?, 'export', 'building', ?, ?, 1, 'en')"
        )
        .bind(account.id, int(clock.now()), int(clock.now()))
        .run()
    )
    await claim_account(runtime, account.id)
    assert not await remove_account(runtime, account.id, notify=False)
    live = await find_request(runtime.db, account.id, "live")
    assert live is not None and live.status == "building"
    clock.advance(CLAIM_SECONDS)
    assert await remove_account(runtime, account.id, notify=False)
    assert await _account_row(runtime, account.id) is None


async def test_an_export_during_the_grace_period_is_offered_until_the_erasure(
    runtime: LocalRuntime, clock: ManualClock
) -> None:
    account = await create_verified_account(runtime)
    session = await confirmed_session(runtime, account)
    await request_erasure(
        runtime, account, session, password=PASSWORD, code="", client=CLIENT, language="en"
    )
    clock.advance(GRACE_SECONDS - DAY_SECONDS)
    erasure_due_at = (await get_account(runtime.db, account.id)).erasure_due_at
    assert erasure_due_at is not None and erasure_due_at < clock.now() + EXPORT_DAYS * DAY_SECONDS
    session = await confirmed_session(runtime, account)
    request_id = await ready_export(runtime, account, session)
    ready = await find_request(runtime.db, account.id, request_id)
    assert ready is not None and ready.due_at == erasure_due_at
    await send_queued_mail(runtime)
    (mail,) = [m for m in runtime.mailer.messages() if "is ready" in m.subject]
    assert datetime.fromtimestamp(erasure_due_at, UTC).strftime("%Y-%m-%d %H:%M") in mail.text
