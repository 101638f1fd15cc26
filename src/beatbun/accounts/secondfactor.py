"""Turning the TOTP second factor on and off, and checking a code wherever one is asked for."""

from __future__ import annotations

from beatbun.accounts import passwords, sessions, totp
from beatbun.accounts.models import Account, Client, Session
from beatbun.accounts.security_log import record_event
from beatbun.accounts.store import update_account
from beatbun.errors import Conflict, InvalidInput
from beatbun.i18n import N_
from beatbun.runtime.base import Runtime

WRONG_CODE = N_("That code is not valid. Use the current code from your app, or a recovery code.")


async def check_second_factor(
    runtime: Runtime, account: Account, *, code: str, client: Client
) -> None:
    """Accept a fresh TOTP code (recording its step) or an unused recovery code.

    Raises InvalidInput(field="code") otherwise, and logs the failure.
    """
    now = runtime.clock.now()
    if account.totp_secret is None:
        raise Conflict(N_("Two-step verification is not on for this account."))
    step = totp.accepted_step(account.totp_secret, code, now=now, last_step=account.totp_last_step)
    if step is not None:
        await update_account(runtime.db, account.id, values={"totp_last_step": step})
        return
    if await totp.use_recovery_code(runtime.db, account_id=account.id, code=code, now=now):
        await record_event(
            runtime.db, account_id=account.id, kind="recovery_code_used", client=client, now=now
        )
        return
    await record_event(
        runtime.db, account_id=account.id, kind="second_factor_failed", client=client, now=now
    )
    raise InvalidInput(WRONG_CODE, code="invalid_code", field="code")


async def require_fresh_code(
    runtime: Runtime, account: Account, *, code: str, client: Client
) -> None:
    """For sensitive changes: a code is required when the account has a second factor."""
    if account.has_totp:
        await check_second_factor(runtime, account, code=code, client=client)


async def start_totp_enrollment(runtime: Runtime, account: Account) -> str:
    """The pending secret to show (made once, kept until confirmed)."""
    if account.has_totp:
        raise Conflict(N_("Two-step verification is already on."))
    if account.totp_pending_secret:
        return account.totp_pending_secret
    secret = totp.new_secret()
    await update_account(runtime.db, account.id, values={"totp_pending_secret": secret})
    return secret


async def confirm_totp(
    runtime: Runtime, account: Account, session: Session, *, code: str, client: Client
) -> tuple[list[str], str]:
    """Switch TOTP on after one valid code; returns the recovery codes and a new session token."""
    now = runtime.clock.now()
    secret = account.totp_pending_secret
    if account.has_totp or secret is None:
        raise Conflict(N_("Start setting up two-step verification again."))
    step = totp.accepted_step(secret, code, now=now, last_step=None)
    if step is None:
        raise InvalidInput(
            N_("That code is not valid. Check the time on your device and try the current code."),
            code="invalid_code",
            field="code",
        )
    await update_account(
        runtime.db,
        account.id,
        values={
            "totp_secret": secret,
            "totp_pending_secret": None,
            "totp_enabled_at": int(now),
            "totp_last_step": step,
        },
    )
    codes = totp.new_recovery_codes()
    await totp.store_recovery_codes(runtime.db, account_id=account.id, codes=codes)
    await record_event(
        runtime.db, account_id=account.id, kind="totp_enabled", client=client, now=now
    )
    token = await sessions.rotate_session(runtime.db, session, stage="full")
    return codes, token


async def disable_totp(
    runtime: Runtime,
    account: Account,
    session: Session,
    *,
    password: str,
    code: str,
    client: Client,
) -> str:
    """Switch TOTP off given the password and a fresh code; returns a new session token.

    The password must meet the single-factor length (15), since it will stand alone.
    """
    now = runtime.clock.now()
    await passwords.check_current_password(
        runtime, account, password, message=N_("Your password is not correct.")
    )
    await check_second_factor(runtime, account, code=code, client=client)
    if len(passwords.normalize(password)) < passwords.MIN_LENGTH_SINGLE_FACTOR:
        raise InvalidInput(
            N_(
                "Your password is shorter than %(minimum)s characters."
                " Change it first: without a second factor it must be longer."
            ),
            field="current_password",
            params={"minimum": passwords.MIN_LENGTH_SINGLE_FACTOR},
        )
    await update_account(
        runtime.db,
        account.id,
        values={"totp_secret": None, "totp_enabled_at": None, "totp_last_step": None},
    )
    await totp.store_recovery_codes(runtime.db, account_id=account.id, codes=[])
    await record_event(
        runtime.db, account_id=account.id, kind="totp_disabled", client=client, now=now
    )
    return await sessions.rotate_session(runtime.db, session, stage="full")
