"""Two-step changes need a recent password and mail the owner; TOTP keys are sealed at rest."""

from __future__ import annotations

import re

import pyotp
import pytest

from beatbun.accounts import reauth, secondfactor, sessions, throttle
from beatbun.accounts.models import Account, Session
from beatbun.accounts.sealing import key_ring, open_text, seal_text
from beatbun.accounts.store import get_account
from beatbun.errors import InvalidInput, ReauthenticationRequired, SealedDataError
from beatbun.mail import drain
from beatbun.scheduled import TASKS
from beatbun.settings import Settings
from beatbun_local.runtime import LocalRuntime
from tests.factories import CLIENT, PASSWORD, create_verified_account
from tests.fakes import ManualClock

BASE32 = re.compile(r"^[A-Z2-7]+=*$")


async def _signed_in(runtime: LocalRuntime) -> tuple[Account, Session]:
    account = await create_verified_account(runtime)
    await drain.send_queued_mail(runtime)  # the sign-up's link, as its answer's flush does
    session, _ = await sessions.create_session(
        runtime.db, account_id=account.id, stage="full", client=CLIENT, now=runtime.clock.now()
    )
    return account, session


async def _fresh(runtime: LocalRuntime, account: Account, session: Session) -> Session:
    """The session after its owner confirmed the password, as the route would load it."""
    await reauth.confirm_password(runtime, account, session, password=PASSWORD, client=CLIENT)
    return Session(**{**session.__dict__, "reauthenticated_at": runtime.clock.now()})


async def _enrolled(runtime: LocalRuntime) -> tuple[Account, Session, str]:
    account, session = await _signed_in(runtime)
    session = await _fresh(runtime, account, session)
    await secondfactor.start_totp_enrollment(runtime, account, session)
    account = await get_account(runtime.db, account.id)
    secret = await secondfactor.pending_totp_secret(runtime, account)
    assert secret is not None
    return account, session, secret


async def _stored(runtime: LocalRuntime, account_id: str) -> tuple[str | None, str | None]:
    row = (
        await runtime.db.prepare(
            "SELECT totp_secret, totp_pending_secret FROM accounts WHERE id = ?"
        )
        .bind(account_id)
        .first()
    )
    return row["totp_secret"], row["totp_pending_secret"]


async def test_sealed_value_names_version_and_key_and_opens(runtime: LocalRuntime) -> None:
    sealed = await seal_text(runtime.cipher, runtime.settings, "JBSWY3DP", context="totp:a")
    version, key_id, body = sealed.split(":")
    assert (version, key_id) == ("v1", key_ring(runtime.settings)[0].id) and body
    assert "JBSWY3DP" not in sealed
    opened = await open_text(runtime.cipher, runtime.settings, sealed, context="totp:a")
    assert opened == "JBSWY3DP"


async def test_sealing_twice_uses_a_fresh_nonce(runtime: LocalRuntime) -> None:
    first = await seal_text(runtime.cipher, runtime.settings, "JBSWY3DP", context="totp:a")
    second = await seal_text(runtime.cipher, runtime.settings, "JBSWY3DP", context="totp:a")
    assert first != second


async def test_sealed_value_does_not_open_for_another_account(runtime: LocalRuntime) -> None:
    sealed = await seal_text(runtime.cipher, runtime.settings, "JBSWY3DP", context="totp:a")
    with pytest.raises(SealedDataError):
        await open_text(runtime.cipher, runtime.settings, sealed, context="totp:b")


async def test_rotated_ring_opens_old_values_and_seals_with_the_new_key(
    runtime: LocalRuntime,
) -> None:
    old = Settings(environment="test", data_keys="old-key-" + "o" * 32)
    rotated = Settings(environment="test", data_keys="new-key-" + "n" * 32 + " " + old.data_keys)
    sealed = await seal_text(runtime.cipher, old, "JBSWY3DP", context="totp:a")
    assert await open_text(runtime.cipher, rotated, sealed, context="totp:a") == "JBSWY3DP"
    resealed = await seal_text(runtime.cipher, rotated, "JBSWY3DP", context="totp:a")
    assert resealed.split(":")[1] == key_ring(rotated)[0].id != sealed.split(":")[1]


async def test_value_under_a_dropped_key_raises_sealed_data_error(runtime: LocalRuntime) -> None:
    old = Settings(environment="test", data_keys="old-key-" + "o" * 32)
    sealed = await seal_text(runtime.cipher, old, "JBSWY3DP", context="totp:a")
    with pytest.raises(SealedDataError, match="not in DATA_KEYS"):
        await open_text(runtime.cipher, runtime.settings, sealed, context="totp:a")


@pytest.mark.parametrize(
    "data_keys",
    [
        "dev-only-data-key-change-me",
        "",
        "a-real-key-" + "r" * 32 + " dev-only-data-key-change-me",  # placeholder left in the ring
    ],
)
def test_production_refuses_placeholder_data_keys(data_keys: str) -> None:
    env = {
        "ENVIRONMENT": "production",
        "APP_SECRET": "x" * 40,
        "PASSWORD_PEPPER": "y" * 40,
        "MAIL_API_KEY": "re_live",
        "STRIPE_SECRET_KEY": "sk_live_x",
        "STRIPE_WEBHOOK_SECRET": "whsec_live",
        "DATA_KEYS": data_keys,
    }
    with pytest.raises(ValueError, match="DATA_KEYS"):
        Settings.from_env(env)


async def test_enrolment_without_a_recent_password_is_refused(runtime: LocalRuntime) -> None:
    account, session = await _signed_in(runtime)
    with pytest.raises(ReauthenticationRequired):
        await secondfactor.start_totp_enrollment(runtime, account, session)
    assert await _stored(runtime, account.id) == (None, None)


async def test_password_confirmation_lasts_five_minutes(
    runtime: LocalRuntime, clock: ManualClock
) -> None:
    account, session = await _signed_in(runtime)
    session = await _fresh(runtime, account, session)
    clock.advance(reauth.WINDOW)
    assert reauth.has_recent_password(session, now=clock.now())
    clock.advance(1)
    with pytest.raises(ReauthenticationRequired):
        await secondfactor.start_totp_enrollment(runtime, account, session)


async def test_password_confirmation_shares_the_login_throttle(runtime: LocalRuntime) -> None:
    account, session = await _signed_in(runtime)
    for _ in range(throttle.FREE_FAILURES["account"]):
        with pytest.raises(InvalidInput):
            await reauth.confirm_password(
                runtime, account, session, password="wrong guess here", client=CLIENT
            )
    with pytest.raises(throttle.TooManyAttempts):
        await reauth.confirm_password(runtime, account, session, password=PASSWORD, client=CLIENT)


async def test_confirmation_is_stored_on_the_session(runtime: LocalRuntime) -> None:
    account, session = await _signed_in(runtime)
    token = await sessions.rotate_session(runtime.db, session, stage="full")
    await reauth.confirm_password(runtime, account, session, password=PASSWORD, client=CLIENT)
    found = await sessions.find_session_and_account(runtime.db, token, now=runtime.clock.now())
    assert found is not None and found[0].reauthenticated_at == runtime.clock.now()


async def test_pending_secret_is_stored_sealed_and_opens_to_the_shown_secret(
    runtime: LocalRuntime,
) -> None:
    account, _, secret = await _enrolled(runtime)
    _, pending = await _stored(runtime, account.id)
    assert BASE32.match(secret)
    assert pending is not None and pending.startswith("v1:") and secret not in pending
    opened = await open_text(
        runtime.cipher, runtime.settings, pending, context=f"totp:{account.id}"
    )
    assert opened == secret


async def test_turning_on_keeps_the_secret_sealed_and_mails_the_owner(
    runtime: LocalRuntime,
) -> None:
    account, session, secret = await _enrolled(runtime)
    codes, _ = await secondfactor.confirm_totp(
        runtime,
        account,
        session,
        code=pyotp.TOTP(secret).at(runtime.clock.now()),
        client=CLIENT,
        language="en",
    )
    assert len(codes) == 10
    active, pending = await _stored(runtime, account.id)
    assert pending is None and active is not None and active.startswith("v1:")
    # Queued with the change, sent after the answer.
    assert not any("Two-step" in m.subject for m in runtime.mailer.messages())
    assert await drain.send_queued_mail(runtime) == 1
    [mail] = [m for m in runtime.mailer.messages() if "Two-step verification is on" in m.subject]
    assert mail.to == account.email


async def test_turning_on_without_a_recent_password_is_refused(
    runtime: LocalRuntime, clock: ManualClock
) -> None:
    account, session, secret = await _enrolled(runtime)
    clock.advance(reauth.WINDOW + 1)
    with pytest.raises(ReauthenticationRequired):
        await secondfactor.confirm_totp(
            runtime,
            account,
            session,
            code=pyotp.TOTP(secret).at(clock.now()),
            client=CLIENT,
            language="en",
        )
    assert (await _stored(runtime, account.id))[0] is None


async def _with_totp(runtime: LocalRuntime) -> tuple[Account, Session, str]:
    account, session, secret = await _enrolled(runtime)
    await secondfactor.confirm_totp(
        runtime,
        account,
        session,
        code=pyotp.TOTP(secret).at(runtime.clock.now()),
        client=CLIENT,
        language="en",
    )
    return await get_account(runtime.db, account.id), session, secret


async def test_new_recovery_codes_need_a_recent_password_and_replace_the_old(
    runtime: LocalRuntime, clock: ManualClock
) -> None:
    account, session, _ = await _with_totp(runtime)
    clock.advance(reauth.WINDOW + 1)
    with pytest.raises(ReauthenticationRequired):
        await secondfactor.regenerate_recovery_codes(
            runtime, account, session, client=CLIENT, language="en"
        )
    session = await _fresh(runtime, account, session)
    codes = await secondfactor.regenerate_recovery_codes(
        runtime, account, session, client=CLIENT, language="en"
    )
    assert len(set(codes)) == 10
    await drain.send_queued_mail(runtime)
    assert "New recovery codes" in runtime.mailer.messages()[0].subject
    logged = (
        await runtime.db.prepare(
            "SELECT kind FROM security_events WHERE account_id = ? ORDER BY id"
        )
        .bind(account.id)
        .all()
    )
    kinds = [row["kind"] for row in logged.results]
    assert kinds[-2:] == ["password_confirmed", "recovery_codes_replaced"]


async def test_legacy_plaintext_secret_still_works_and_is_resealed_by_the_next_code(
    runtime: LocalRuntime, clock: ManualClock
) -> None:
    account, _, secret = await _with_totp(runtime)
    await _store_plaintext(runtime, account.id, secret)
    account = await get_account(runtime.db, account.id)
    clock.advance(30)
    await secondfactor.check_second_factor(
        runtime, account, code=pyotp.TOTP(secret).at(clock.now()), client=CLIENT
    )
    active, _ = await _stored(runtime, account.id)
    assert active is not None and active.startswith("v1:")
    assert await secondfactor.open_totp_secret(runtime, account.id, active) == secret


async def test_cron_reseals_plaintext_and_old_key_secrets(runtime: LocalRuntime) -> None:
    plain, _, plain_secret = await _with_totp(runtime)
    await _store_plaintext(runtime, plain.id, plain_secret)
    old_keys = Settings(environment="test", data_keys="old-key-" + "o" * 32)
    other = await create_verified_account(runtime, email="other@example.com")
    old_sealed = await seal_text(
        runtime.cipher, old_keys, "JBSWY3DPEHPK3PXP", context=f"totp:{other.id}"
    )
    await (
        runtime.db.prepare("UPDATE accounts SET totp_pending_secret = ? WHERE id = ?")
        .bind(old_sealed, other.id)
        .run()
    )
    runtime.settings = Settings(
        environment="test", data_keys=f"{runtime.settings.data_keys} {old_keys.data_keys}"
    )
    assert secondfactor.reseal_totp_secrets in TASKS
    assert await secondfactor.reseal_totp_secrets(runtime) == 2
    current = key_ring(runtime.settings)[0].id
    active, _ = await _stored(runtime, plain.id)
    _, pending = await _stored(runtime, other.id)
    assert active is not None and active.startswith(f"v1:{current}:")
    assert pending is not None and pending.startswith(f"v1:{current}:")
    assert await secondfactor.open_totp_secret(runtime, plain.id, active) == plain_secret
    assert await secondfactor.open_totp_secret(runtime, other.id, pending) == "JBSWY3DPEHPK3PXP"
    # Nothing left: a second run changes nothing.
    assert await secondfactor.reseal_totp_secrets(runtime) == 0


async def _store_plaintext(runtime: LocalRuntime, account_id: str, secret: str) -> None:
    """What a row written before migration 0032 holds."""
    await (
        runtime.db.prepare("UPDATE accounts SET totp_secret = ? WHERE id = ?")
        .bind(secret, account_id)
        .run()
    )


async def test_wrong_codes_when_turning_off_count_towards_the_stop(
    runtime: LocalRuntime, clock: ManualClock
) -> None:
    account, session, _ = await _with_totp(runtime)
    for _ in range(6):
        with pytest.raises((InvalidInput, throttle.TooManyAttempts)):
            await secondfactor.disable_totp(
                runtime,
                account,
                session,
                password=PASSWORD,
                code="000000",
                client=CLIENT,
                language="en",
            )
    counted = (
        await runtime.db.prepare("SELECT failures FROM login_failures WHERE subject = ?")
        .bind(throttle.code_subjects(account_id=account.id, ip=CLIENT.ip)[0])
        .first("failures")
    )
    assert counted is not None and counted >= 5


async def test_mail_outage_does_not_undo_or_hide_turning_two_step_on(
    runtime: LocalRuntime,
) -> None:
    account, _, _ = await _with_totp(runtime)
    # _with_totp turned it on: the notice waits in the queue, whatever the provider does.
    queued = (
        await runtime.db.prepare(
            "SELECT count(*) AS n FROM mail_queue WHERE recipient = ? AND sent_at IS NULL"
        )
        .bind(account.email)
        .first("n")
    )
    assert queued == 1
    assert account.has_totp
