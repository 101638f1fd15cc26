"""Objections are recorded like consent: one choice per changed purpose, a log event, a mail."""

from __future__ import annotations

import pytest

from beatbun.accounts.models import Account
from beatbun.accounts.security_log import list_events
from beatbun.accounts.store import get_account
from beatbun.errors import NotFound, TooManyRequests
from beatbun.mail.drain import send_queued_mail
from beatbun.privacy.objections import (
    MAX_CHANGES,
    WORDING_VERSION,
    Objections,
    objections_of,
    set_objections,
)
from beatbun.privacy.purposes import may_market, may_measure
from beatbun_local.runtime import LocalRuntime
from tests.factories import CLIENT, create_verified_account
from tests.fakes import ManualClock
from tests.privacy.members import count

NONE = Objections(analytics=False, marketing=False, prompt_use=False)
ALL = Objections(analytics=True, marketing=True, prompt_use=True)
CHOICES = "SELECT COUNT(*) AS n FROM privacy_choices WHERE account_id = ?"


async def test_objecting_sets_the_columns_and_records_each_changed_purpose(
    runtime: LocalRuntime,
) -> None:
    account = await create_verified_account(runtime)
    await set_objections(
        runtime, account, Objections(True, False, True), client=CLIENT, language="en"
    )
    changed = (
        await runtime.db.prepare("SELECT * FROM accounts WHERE id = ?").bind(account.id).first()
    )
    assert changed is not None
    assert (changed["objects_to_analytics"], changed["objects_to_marketing"]) == (1, 0)
    assert changed["objects_to_prompt_use"] == 1
    rows = (
        await runtime.db.prepare(
            "SELECT purpose, objects, wording_version, source FROM privacy_choices"
            " WHERE account_id = ? ORDER BY purpose"
        )
        .bind(account.id)
        .all()
    ).results
    assert [dict(row) for row in rows] == [
        {"purpose": p, "objects": 1, "wording_version": WORDING_VERSION, "source": "privacy_page"}
        for p in ("analytics", "prompt_use")
    ]


async def test_objecting_logs_the_change_and_mails_a_confirmation(
    runtime: LocalRuntime,
) -> None:
    account = await create_verified_account(runtime)
    await set_objections(
        runtime, account, Objections(False, True, False), client=CLIENT, language="de"
    )
    assert [e.kind for e in await list_events(runtime.db, account.id)].count(
        "objections_changed"
    ) == 1
    await send_queued_mail(runtime)
    (mail,) = [m for m in runtime.mailer.messages() if "Datenschutz" in m.subject]
    assert mail.to == account.email
    assert "/account/privacy" in mail.text
    assert "Marketing: du widersprichst" in mail.text


async def test_objections_take_effect_for_every_purpose_they_name(
    runtime: LocalRuntime,
) -> None:
    account = await create_verified_account(runtime)
    await set_objections(runtime, account, ALL, client=CLIENT, language="en")
    objecting = await _reloaded(runtime, account.id)
    assert objections_of(objecting) == ALL
    # Prompt use is checked through its query, in test_purposes_prompts.py.
    assert not (may_measure(objecting) or may_market(objecting))
    await set_objections(runtime, objecting, NONE, client=CLIENT, language="en")
    again = await _reloaded(runtime, account.id)
    assert may_measure(again) and may_market(again)
    # Three made and three withdrawn: each change is on record.
    assert await count(runtime, CHOICES, account.id) == 6


async def test_unchanged_objections_write_nothing(runtime: LocalRuntime) -> None:
    account = await create_verified_account(runtime)
    await set_objections(runtime, account, NONE, client=CLIENT, language="en")
    assert await count(runtime, CHOICES, account.id) == 0
    assert (
        await count(
            runtime, "SELECT COUNT(*) AS n FROM mail_queue WHERE subject LIKE ?", "%privacy%"
        )
        == 0
    )


async def test_too_many_changes_in_an_hour_are_refused_and_write_nothing(
    runtime: LocalRuntime, clock: ManualClock
) -> None:
    account = await create_verified_account(runtime)
    # Each toggle of all three purposes changes three: 10 toggles reach the limit exactly.
    for turn in range(MAX_CHANGES // 3):
        current = await _reloaded(runtime, account.id)
        await set_objections(
            runtime, current, ALL if turn % 2 == 0 else NONE, client=CLIENT, language="en"
        )
    current = await _reloaded(runtime, account.id)
    events = len(await list_events(runtime.db, account.id))
    with pytest.raises(TooManyRequests) as refused:
        await set_objections(runtime, current, ALL, client=CLIENT, language="en")
    assert refused.value.status == 429 and refused.value.code == "too_many_privacy_changes"
    assert await count(runtime, CHOICES, account.id) == MAX_CHANGES
    assert objections_of(await _reloaded(runtime, account.id)) == NONE
    assert len(await list_events(runtime.db, account.id)) == events
    clock.advance(3601)
    await set_objections(runtime, current, ALL, client=CLIENT, language="en")
    assert objections_of(await _reloaded(runtime, account.id)) == ALL


async def test_objecting_for_an_account_that_is_gone_writes_nothing(
    runtime: LocalRuntime,
) -> None:
    account = await create_verified_account(runtime)
    await runtime.db.prepare("DELETE FROM accounts WHERE id = ?").bind(account.id).run()
    with pytest.raises(NotFound):
        await set_objections(runtime, account, ALL, client=CLIENT, language="en")
    assert await count(runtime, CHOICES, account.id) == 0
    assert (
        await count(
            runtime,
            # The sign-up's verification link aside.
            "SELECT COUNT(*) AS n FROM mail_queue WHERE recipient = ? AND kind <> 'verify'",
            account.email,
        )
        == 0
    )


async def _reloaded(runtime: LocalRuntime, account_id: str) -> Account:
    return await get_account(runtime.db, account_id)
