"""A teen's sign-up no parent agrees to is deleted: at once when the parent says no, after
`CONSENT_DAYS` when nobody answers (real SQLite, bucket and outbox; a manual clock)."""

from __future__ import annotations

import pytest

from beatbun.accounts.models import Account
from beatbun.accounts.store import find_account
from beatbun.errors import Conflict, NotFound
from beatbun.mail.drain import send_queued_mail
from beatbun.privacy import erasure, guardians, mail, unconsented
from beatbun_local.runtime import LocalRuntime
from tests.fakes import ManualClock
from tests.privacy.teens import PARENT, mails_to, parent_token, sign_up_teen
from tests.privacy.traces import Erased, in_ledger, traces, traces_in_database

DAY = 86400


async def _assert_erased(runtime: LocalRuntime, account: Account) -> None:
    """Nothing of the account anywhere (nor the parent's address), and the ledger has it."""
    await send_queued_mail(runtime)
    assert await find_account(runtime.db, account.id) is None
    assert await traces(runtime, Erased(account_id=account.id, email=account.email)) == []
    assert await traces_in_database(runtime, [PARENT]) == []
    keys = {listed.key for listed in (await runtime.blobs.list(prefix="erasures/")).objects}
    assert in_ledger(keys, account.id)


async def test_parent_who_does_not_agree_deletes_the_sign_up_at_once(
    runtime: LocalRuntime, clock: ManualClock
) -> None:
    account = await sign_up_teen(runtime)
    # A second link replaced the first: neither may keep the parent's address.
    clock.advance(guardians.RESEND_SECONDS)
    await guardians.send_parent_link(runtime, account, language="en", unless_sent_within=0)
    await send_queued_mail(runtime)
    token = parent_token(runtime)

    await unconsented.decline_as_parent(runtime, token, language="de")

    await _assert_erased(runtime, account)
    notice = mails_to(runtime, account.email)[0]  # newest first
    expected = mail.PARENT_DECLINED.compose(
        to=account.email, language="de", site=runtime.settings.site_name
    )
    assert (notice.subject, notice.text.replace("\r\n", "\n")) == (
        expected.subject,
        expected.text,
    )
    # The link is dead: the page, a second click and a late consent all find nothing.
    with pytest.raises(NotFound):
        await guardians.guardian_for_token(runtime, token)
    with pytest.raises(NotFound):
        await unconsented.decline_as_parent(runtime, token)
    with pytest.raises(NotFound):
        await guardians.consent_as_parent(runtime, token, name="Alex", declaration=True)


async def test_declining_after_consenting_is_refused_and_keeps_the_account(
    runtime: LocalRuntime,
) -> None:
    account = await sign_up_teen(runtime)
    token = parent_token(runtime)
    await guardians.consent_as_parent(runtime, token, name="Alex Parent", declaration=True)

    with pytest.raises(Conflict) as refused:
        await unconsented.decline_as_parent(runtime, token)

    assert refused.value.code == "parent_consent_given"
    kept = await find_account(runtime.db, account.id)
    assert kept is not None and kept.is_active and kept.erasure_due_at is None


async def test_consent_cannot_land_on_a_sign_up_being_deleted(runtime: LocalRuntime) -> None:
    account = await sign_up_teen(runtime)
    token = parent_token(runtime)
    # The state between the decline's claim and its erasure (or a crash there).
    await erasure.claim_account(runtime, account.id)

    await guardians.consent_as_parent(runtime, token, name="Alex Parent", declaration=True)

    assert not (await guardians.guardian_for_token(runtime, token)).has_consented
    claimed = await find_account(runtime.db, account.id)
    assert claimed is not None and not claimed.is_active
    # The erasure cron finishes it.
    await erasure.erase_due_accounts(runtime)
    await _assert_erased(runtime, account)


async def test_sign_up_nobody_agrees_to_is_erased_after_30_days(
    runtime: LocalRuntime, clock: ManualClock
) -> None:
    account = await sign_up_teen(runtime)
    token = parent_token(runtime)
    assert guardians.CONSENT_DAYS == 30
    # A new link on day 20 does not move the date.
    clock.advance(20 * DAY)
    assert await guardians.send_parent_link(
        runtime, account, language="en", unless_sent_within=guardians.RESEND_SECONDS
    )

    clock.advance(9 * DAY)
    assert await unconsented.erase_unconsented_sign_ups(runtime) == 0
    assert await find_account(runtime.db, account.id) is not None

    clock.advance(2 * DAY)
    assert await unconsented.erase_unconsented_sign_ups(runtime) == 1
    await _assert_erased(runtime, account)
    assert await unconsented.erase_unconsented_sign_ups(runtime) == 0
    with pytest.raises(NotFound):
        await guardians.guardian_for_token(runtime, token)


async def test_consented_sign_up_is_kept_past_30_days(
    runtime: LocalRuntime, clock: ManualClock
) -> None:
    account = await sign_up_teen(runtime)
    clock.advance(29 * DAY)
    await guardians.consent_as_parent(
        runtime, parent_token(runtime), name="Alex Parent", declaration=True
    )

    clock.advance(2 * DAY)

    assert await unconsented.erase_unconsented_sign_ups(runtime) == 0
    kept = await find_account(runtime.db, account.id)
    assert kept is not None and kept.is_active


async def test_expired_sign_ups_go_in_batches(
    runtime: LocalRuntime, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(erasure, "ERASE_BATCH", 2)
    teens = [await sign_up_teen(runtime, email=f"teen{n}@example.com") for n in range(3)]
    clock.advance(guardians.CONSENT_SECONDS)

    runs = [await unconsented.erase_unconsented_sign_ups(runtime) for _ in range(3)]

    assert runs == [2, 1, 0]
    for teen in teens:
        assert await find_account(runtime.db, teen.id) is None
