"""The hard stop after 100 failed logins, and separate password and code counters (#12)."""

from __future__ import annotations

import re

import pyotp
import pytest

from beatbun.accounts import passwords, throttle
from beatbun.accounts.lockout import HARD_STOP_FAILURES, is_locked
from beatbun.accounts.models import Account
from beatbun.accounts.profile import request_password_reset, reset_password
from beatbun.accounts.service import InvalidCredentials, complete_login, log_in
from beatbun.accounts.sessions import find_session_and_account
from beatbun.accounts.store import update_account
from beatbun.errors import InvalidInput
from beatbun.mail.drain import send_queued_mail
from beatbun_local.runtime import LocalRuntime
from tests.factories import CLIENT, PASSWORD, create_account
from tests.fakes import ManualClock

WRONG = "not the right password at all"
NEW_PASSWORD = "a brand new passphrase for reset"


async def _fail_until_locked(runtime: LocalRuntime, clock: ManualClock, email: str) -> None:
    """Fail `HARD_STOP_FAILURES` times in a row, each after the throttle's delay has passed."""
    for _ in range(HARD_STOP_FAILURES):
        clock.advance(throttle.MAX_DELAY + 1)
        with pytest.raises(InvalidCredentials):
            await _log_in(runtime, email, WRONG)


async def _seed_failures(runtime: LocalRuntime, subject: str, count: int) -> None:
    """`count` failures already behind `subject`, the last one long enough ago to try again."""
    await (
        runtime.db.prepare(
            "INSERT INTO login_failures (subject, failures, last_failure_at) VALUES (?, ?, ?)"
        )
        .bind(subject, count, runtime.clock.now() - throttle.MAX_DELAY - 1)
        .run()
    )


async def _locked_quickly(runtime: LocalRuntime, email: str) -> None:
    """Locked by one real failure after 99 seeded ones (the full run has its own test)."""
    subject = throttle.login_subjects(email=email, ip=CLIENT.ip)[0]
    await _seed_failures(runtime, subject, HARD_STOP_FAILURES - 1)
    with pytest.raises(InvalidCredentials):
        await _log_in(runtime, email, WRONG)


async def _log_in(runtime: LocalRuntime, email: str, password: str) -> bool:
    """True when the password step passed and a code is wanted."""
    outcome = await log_in(
        runtime, email=email, password=password, client=CLIENT, previous_token=None
    )
    return outcome.needs_second_factor


def _mails(runtime: LocalRuntime, to: str, word: str) -> list[str]:
    return [m.text for m in runtime.mailer.messages() if m.to == to and word in m.subject]


async def test_the_hundredth_failure_locks_password_login(
    runtime: LocalRuntime, clock: ManualClock
) -> None:
    account = await create_account(runtime)
    await _fail_until_locked(runtime, clock, account.email)
    assert await is_locked(runtime.db, account.id)
    clock.advance(throttle.MAX_DELAY + 1)
    with pytest.raises(InvalidCredentials) as refused:
        await _log_in(runtime, account.email, PASSWORD)
    assert refused.value.code == "invalid_credentials"


async def test_one_failure_short_of_the_stop_still_checks_the_password(
    runtime: LocalRuntime, clock: ManualClock
) -> None:
    account = await create_account(runtime)
    subject = throttle.login_subjects(email=account.email, ip=CLIENT.ip)[0]
    await _seed_failures(runtime, subject, HARD_STOP_FAILURES - 2)
    with pytest.raises(InvalidCredentials):
        await _log_in(runtime, account.email, WRONG)
    clock.advance(throttle.MAX_DELAY + 1)
    assert await _log_in(runtime, account.email, PASSWORD) is False
    assert not await is_locked(runtime.db, account.id)


async def test_a_locked_login_does_not_check_the_password(
    runtime: LocalRuntime, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    account = await create_account(runtime)
    await _locked_quickly(runtime, account.email)

    async def must_not_run(*args: object, **kwargs: object) -> bool:
        raise AssertionError("a locked login checked the password")

    monkeypatch.setattr(passwords, "verify_password", must_not_run)
    clock.advance(throttle.MAX_DELAY + 1)
    with pytest.raises(InvalidCredentials):
        await _log_in(runtime, account.email, PASSWORD)


async def test_the_owner_is_mailed_once_when_the_login_locks(
    runtime: LocalRuntime, clock: ManualClock
) -> None:
    account = await create_account(runtime)
    await _locked_quickly(runtime, account.email)
    for _ in range(3):
        clock.advance(throttle.MAX_DELAY + 1)
        with pytest.raises(InvalidCredentials):
            await _log_in(runtime, account.email, WRONG)
    await send_queued_mail(runtime)
    (notice,) = _mails(runtime, account.email, "blocked")
    assert "/forgot-password" in notice


async def test_a_password_reset_unlocks(runtime: LocalRuntime, clock: ManualClock) -> None:
    account = await create_account(runtime)
    await _locked_quickly(runtime, account.email)
    await request_password_reset(runtime, email=account.email, client=CLIENT, language="en")
    await send_queued_mail(runtime)
    (text,) = _mails(runtime, account.email, "Reset")
    token = re.findall(r"/reset-password\?token=(\S+)", text)[0]
    await reset_password(runtime, token=token, new_password=NEW_PASSWORD, code="", client=CLIENT)
    assert not await is_locked(runtime.db, account.id)
    clock.advance(throttle.MAX_DELAY + 1)  # the address's own counter still has its delay
    assert await _log_in(runtime, account.email, NEW_PASSWORD) is False


async def _with_totp(runtime: LocalRuntime, account: Account) -> pyotp.TOTP:
    secret = pyotp.random_base32()
    await update_account(runtime.db, account.id, values={"totp_secret": secret})
    return pyotp.TOTP(secret)


async def _code_step(runtime: LocalRuntime, email: str, code: str) -> str:
    outcome = await log_in(
        runtime, email=email, password=PASSWORD, client=CLIENT, previous_token=None
    )
    found = await find_session_and_account(runtime.db, outcome.token, now=runtime.clock.now())
    assert found is not None
    session, account = found
    return await complete_login(runtime, session, account, code=code, client=CLIENT)


async def test_a_right_password_does_not_reset_the_code_counter(
    runtime: LocalRuntime, clock: ManualClock
) -> None:
    account = await create_account(runtime)
    await _with_totp(runtime, account)
    for _ in range(throttle.FREE_FAILURES["code"]):
        with pytest.raises(InvalidInput):
            await _code_step(runtime, account.email, "000000")
    # The password is right every time; the code counter still holds the next guess back.
    with pytest.raises(throttle.TooManyAttempts):
        await _code_step(runtime, account.email, "000000")


async def test_a_hundred_wrong_codes_lock_password_login(
    runtime: LocalRuntime, clock: ManualClock
) -> None:
    account = await create_account(runtime)
    totp = await _with_totp(runtime, account)
    counter = throttle.code_subjects(account_id=account.id, ip=CLIENT.ip)[0]
    await _seed_failures(runtime, counter, HARD_STOP_FAILURES - 1)
    with pytest.raises(InvalidInput):
        await _code_step(runtime, account.email, "000000")
    assert await is_locked(runtime.db, account.id)
    clock.advance(throttle.MAX_DELAY + 1)
    with pytest.raises(InvalidCredentials):
        await _code_step(runtime, account.email, totp.at(clock.now()))
