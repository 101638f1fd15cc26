"""Erasure and the account's communications: its emails (by account, whatever the address),
support requests with their conversation, consent to news and offers, policy notices and
sign-in devices all go, by name rather than through the foreign keys; what an operator wrote
stays, without the operator."""

from __future__ import annotations

import pytest

from beatbun.mail.drain import send_queued_mail
from beatbun.privacy.erasure import (
    GRACE_SECONDS,
    erase_account,
    erase_due_accounts,
    request_erasure,
)
from beatbun_local.runtime import LocalRuntime
from tests.factories import CLIENT, PASSWORD, create_verified_account
from tests.fakes import ManualClock
from tests.privacy.communications import ANSWER, QUESTION, fill_communications
from tests.privacy.erasure_setup import leaver
from tests.privacy.traces import Erased, traces

# Each table holding the account's communications, and how a row is tied to its account.
OWNED = {
    "mail_queue": "account_id = ?",
    "support_tickets": "account_id = ?",
    "support_messages": "ticket_id IN (SELECT id FROM support_tickets WHERE account_id = ?)",
    "marketing_consents": "account_id = ?",
    "policy_notices": "account_id = ?",
    "sign_in_devices": "account_id = ?",
}


async def _owned(runtime: LocalRuntime, account_id: str) -> dict[str, int]:
    counts = {}
    for table, where in OWNED.items():
        found = await (
            runtime.db.prepare(f"SELECT COUNT(*) AS n FROM {table} WHERE {where}")
            .bind(account_id)
            .first("n")
        )
        counts[table] = int(str(found))
    return counts


async def _foreign_keys(runtime: LocalRuntime, *, on: bool) -> None:
    await runtime.db.prepare(f"PRAGMA foreign_keys = {'ON' if on else 'OFF'}").run()


@pytest.mark.parametrize("foreign_keys", [True, False])
async def test_erasure_takes_every_communication_of_the_account_and_no_other(
    runtime: LocalRuntime, foreign_keys: bool
) -> None:
    who = await leaver(runtime, tracks=0)
    bystander = await leaver(runtime, email="staying@example.com", tracks=0)
    kept = await _owned(runtime, bystander.account.id)
    assert all(kept.values()) and all((await _owned(runtime, who.account.id)).values())
    await _foreign_keys(runtime, on=foreign_keys)

    await erase_account(runtime, who.account.id)
    await send_queued_mail(runtime)

    erased = Erased(account_id=who.account.id, email=who.account.email)
    assert await traces(runtime, erased) == []
    assert await _owned(runtime, bystander.account.id) == kept
    # The conversation goes with its ticket: no message is left without one.
    orphans = await runtime.db.prepare(
        "SELECT COUNT(*) AS n FROM support_messages"
        " WHERE ticket_id NOT IN (SELECT id FROM support_tickets)"
    ).first("n")
    assert orphans == 0


@pytest.mark.parametrize("foreign_keys", [True, False])
async def test_erasing_an_operator_keeps_what_they_wrote_without_them(
    runtime: LocalRuntime, foreign_keys: bool
) -> None:
    operator = await leaver(runtime, email="operator@example.com", tracks=0)
    customer = await create_verified_account(runtime, email="customer@example.com")
    written = await fill_communications(
        runtime, account_id=customer.id, email=customer.email, operator_id=operator.account.id
    )
    await _foreign_keys(runtime, on=foreign_keys)

    await erase_account(runtime, operator.account.id)

    erased = Erased(account_id=operator.account.id, email=operator.account.email)
    assert await traces(runtime, erased) == []
    campaign = await (
        runtime.db.prepare("SELECT name, created_by FROM campaigns WHERE id = ?")
        .bind(written.campaign_id)
        .first()
    )
    assert campaign == {"name": "Autumn news", "created_by": None}
    thread = (
        await runtime.db.prepare(
            "SELECT author, operator_id, body FROM support_messages WHERE ticket_id = ?"
            " ORDER BY created_at"
        )
        .bind(written.ticket_id)
        .raw()
    )
    assert thread == [["customer", None, QUESTION], ["operator", None, ANSWER]]


async def test_the_closing_mail_is_an_erasure_notice_that_names_no_account(
    runtime: LocalRuntime, clock: ManualClock
) -> None:
    who = await leaver(runtime, tracks=0)
    await request_erasure(
        runtime, who.account, who.session, password=PASSWORD, code="", client=CLIENT, language="en"
    )
    clock.advance(GRACE_SECONDS)

    assert await erase_due_accounts(runtime) == 1

    closing = (
        await runtime.db.prepare(
            "SELECT kind, account_id, recipient FROM mail_queue WHERE sent_at IS NULL"
        ).all()
    ).results
    assert closing == [{"kind": "erasure_done", "account_id": None, "recipient": who.account.email}]
