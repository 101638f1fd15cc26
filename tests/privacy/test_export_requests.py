"""Asking for an export: the password confirmed first, one a day (counted in SQL), logged and
confirmed by email."""

from __future__ import annotations

import dataclasses

import pytest

from beatbun.accounts.reauth import WINDOW
from beatbun.errors import ReauthenticationRequired, TooManyRequests
from beatbun.privacy.export import DAY_SECONDS, request_export
from beatbun.privacy.requests import list_requests
from beatbun_local.runtime import LocalRuntime
from tests.factories import CLIENT, create_verified_account
from tests.fakes import ManualClock
from tests.privacy.exporting import confirmed_session


async def _security_kinds(runtime: LocalRuntime, account_id: str) -> list[str]:
    rows = (
        await runtime.db.prepare(
            "SELECT kind FROM security_events WHERE account_id = ? ORDER BY id"
        )
        .bind(account_id)
        .raw()
    )
    return [str(row[0]) for row in rows]


async def _queued_subjects(runtime: LocalRuntime, recipient: str) -> list[str]:
    """What was queued for `recipient` after the sign-up's verification link."""
    rows = (
        await runtime.db.prepare(
            "SELECT subject FROM mail_queue WHERE recipient = ? AND kind <> 'verify'"
            " ORDER BY created_at"
        )
        .bind(recipient)
        .raw()
    )
    return [str(row[0]) for row in rows]


async def test_request_export_is_pending_logged_and_confirmed_by_mail(
    runtime: LocalRuntime,
) -> None:
    account = await create_verified_account(runtime)
    session = await confirmed_session(runtime, account)

    request = await request_export(runtime, account, session, client=CLIENT, language="en")

    assert (request.kind, request.status, request.requested_by) == ("export", "pending", "owner")
    assert await list_requests(runtime.db, account.id) == [request]
    assert (await _security_kinds(runtime, account.id))[-1] == "export_requested"
    assert "We are preparing your Beat Bun data export" in await _queued_subjects(
        runtime, account.email
    )


async def test_request_export_without_a_confirmed_password_is_refused(
    runtime: LocalRuntime,
) -> None:
    account = await create_verified_account(runtime)
    session = dataclasses.replace(
        await confirmed_session(runtime, account), reauthenticated_at=None
    )

    with pytest.raises(ReauthenticationRequired):
        await request_export(runtime, account, session, client=CLIENT, language="en")

    assert await list_requests(runtime.db, account.id) == []


async def test_request_export_after_the_password_window_is_refused(
    runtime: LocalRuntime, clock: ManualClock
) -> None:
    account = await create_verified_account(runtime)
    session = await confirmed_session(runtime, account)
    clock.advance(WINDOW + 1)

    with pytest.raises(ReauthenticationRequired):
        await request_export(runtime, account, session, client=CLIENT, language="en")

    assert await list_requests(runtime.db, account.id) == []


@pytest.mark.parametrize(
    ("later", "allowed"),
    [
        (60, False),
        (DAY_SECONDS - 1, False),
        (DAY_SECONDS, True),  # exactly a day after the first: the window has passed
        (3 * DAY_SECONDS, True),
    ],
)
async def test_second_export_request_within_a_day_is_refused(
    runtime: LocalRuntime, clock: ManualClock, later: int, allowed: bool
) -> None:
    account = await create_verified_account(runtime)
    await request_export(
        runtime, account, await confirmed_session(runtime, account), client=CLIENT, language="en"
    )
    clock.advance(later)
    session = await confirmed_session(runtime, account)

    if allowed:
        await request_export(runtime, account, session, client=CLIENT, language="en")
        assert len(await list_requests(runtime.db, account.id)) == 2
        return
    with pytest.raises(TooManyRequests) as refused:
        await request_export(runtime, account, session, client=CLIENT, language="en")

    assert refused.value.status == 429
    assert refused.value.code == "export_limit"
    assert refused.value.message == (
        "You can ask for one export a day. You can ask for the next one after 2027-01-16 08:00"
        " (UTC)."
    )
    assert len(await list_requests(runtime.db, account.id)) == 1
    # Nothing of the refused request was logged or mailed.
    assert (await _security_kinds(runtime, account.id)).count("export_requested") == 1
    assert await _queued_subjects(runtime, account.email) == [
        "We are preparing your Beat Bun data export"
    ]


async def test_failed_export_does_not_count_against_the_limit(
    runtime: LocalRuntime, clock: ManualClock
) -> None:
    account = await create_verified_account(runtime)
    session = await confirmed_session(runtime, account)
    first = await request_export(runtime, account, session, client=CLIENT, language="en")
    await (
        runtime.db.prepare("UPDATE privacy_requests SET status = 'failed' WHERE id = ?")
        .bind(first.id)
        .run()
    )

    again = await request_export(runtime, account, session, client=CLIENT, language="en")

    assert [request.id for request in await list_requests(runtime.db, account.id)] == [
        again.id,
        first.id,
    ]


async def test_export_limit_is_per_account(runtime: LocalRuntime) -> None:
    first = await create_verified_account(runtime)
    second = await create_verified_account(runtime, email="second@example.com")
    for account in (first, second):
        await request_export(
            runtime,
            account,
            await confirmed_session(runtime, account),
            client=CLIENT,
            language="en",
        )

    assert len(await list_requests(runtime.db, second.id)) == 1
