"""Teens' accounts made before parents consented themselves wait with no parent's link: the
cron mails one to each, once, and so starts their `CONSENT_DAYS` (real SQLite and outbox)."""

from __future__ import annotations

from beatbun.accounts.models import Account
from beatbun.accounts.store import find_account
from beatbun.mail.drain import send_queued_mail
from beatbun.privacy import guardians, unconsented
from beatbun.scheduled import MAIL_CRON, run_scheduled
from beatbun_local.runtime import LocalRuntime
from tests.factories import create_verified_account
from tests.fakes import ManualClock
from tests.privacy.members import count
from tests.privacy.teens import PARENT, mails_to, parent_token, sign_up_teen

GUARDIANS = "SELECT COUNT(*) AS n FROM guardians WHERE account_id = ?"


async def _teen_from_before(runtime: LocalRuntime, *, email: str = "teen@example.com") -> Account:
    """A waiting teen's account as the parent-consent change found it: no `guardians` row."""
    account = await sign_up_teen(runtime, email=email)
    await runtime.db.prepare("DELETE FROM guardians WHERE account_id = ?").bind(account.id).run()
    return account


async def test_each_waiting_teen_without_a_link_gets_one_once(
    runtime: LocalRuntime, clock: ManualClock
) -> None:
    first = await _teen_from_before(runtime)
    second = await _teen_from_before(runtime, email="other-teen@example.com")
    await create_verified_account(runtime)
    before = len(mails_to(runtime, PARENT))
    assert await unconsented.send_missing_parent_links(runtime) == 2
    await send_queued_mail(runtime)
    assert len(mails_to(runtime, PARENT)) == before + 2
    token = parent_token(runtime)
    assert (await guardians.guardian_for_token(runtime, token)).account_id in {first.id, second.id}
    clock.advance(guardians.REFRESH_SECONDS * 3)
    assert await unconsented.send_missing_parent_links(runtime) == 0
    await send_queued_mail(runtime)
    assert len(mails_to(runtime, PARENT)) == before + 2
    for account in (first, second):
        assert await count(runtime, GUARDIANS, account.id) == 1


async def test_the_link_starts_the_thirty_days_after_which_the_sign_up_goes(
    runtime: LocalRuntime, clock: ManualClock
) -> None:
    account = await _teen_from_before(runtime)
    before = len(mails_to(runtime, PARENT))
    clock.advance(90 * 86400)  # however long it waited before, the days start now
    await run_scheduled(runtime, cron="0 * * * *", scheduled_time=clock.now())
    await run_scheduled(runtime, cron=MAIL_CRON, scheduled_time=clock.now())  # also at :00
    assert len(mails_to(runtime, PARENT)) == before + 1
    assert "/parent/" in mails_to(runtime, PARENT)[0].text
    clock.advance(guardians.CONSENT_SECONDS - 60)
    assert await unconsented.erase_unconsented_sign_ups(runtime) == 0
    assert await find_account(runtime.db, account.id) is not None
    clock.advance(60)
    assert await unconsented.erase_unconsented_sign_ups(runtime) == 1
    assert await find_account(runtime.db, account.id) is None


async def test_a_consented_teen_or_one_being_erased_gets_no_link(
    runtime: LocalRuntime,
) -> None:
    consented = await _teen_from_before(runtime)
    erasing = await _teen_from_before(runtime, email="other-teen@example.com")
    db = runtime.db
    await (
        db.prepare("UPDATE accounts SET parent_consented_at = 1 WHERE id = ?")
        .bind(consented.id)
        .run()
    )
    await db.prepare("UPDATE accounts SET erasure_due_at = 0 WHERE id = ?").bind(erasing.id).run()
    before = len(mails_to(runtime, PARENT))
    assert await unconsented.send_missing_parent_links(runtime) == 0
    await send_queued_mail(runtime)
    assert len(mails_to(runtime, PARENT)) == before
