"""The account rules routes call: login, its second step, logout (sign-up is in `registration`).

Unknown emails are answered exactly like known ones, in the same time (a dummy hash), on
sign-up, login and password reset alike.
"""

from __future__ import annotations

from dataclasses import dataclass

from beatbun.accounts import devices, lockout, passwords, sessions, throttle
from beatbun.accounts.models import Account, Client, Session
from beatbun.accounts.secondfactor import WRONG_CODE, check_second_factor
from beatbun.accounts.security_log import event_statement, record_event
from beatbun.accounts.store import (
    find_account_by_email,
    update_account,
)
from beatbun.errors import AccountInactive, InvalidInput, PermissionDenied, Unauthenticated
from beatbun.i18n import DEFAULT_LANGUAGE, N_
from beatbun.privacy import guardians
from beatbun.runtime.base import Runtime

WRONG_CREDENTIALS = N_("The email or password is incorrect.")
WAITING_FOR_PARENT = N_(
    "Your account opens once your parent or guardian agrees, through the link we mailed them."
)


class InvalidCredentials(Unauthenticated):
    """Email and password do not match an account (which of the two is never said)."""

    default_code = "invalid_credentials"


@dataclass(frozen=True)
class LoginOutcome:
    token: str
    needs_second_factor: bool


async def log_in(
    runtime: Runtime,
    *,
    email: str,
    password: str,
    client: Client,
    previous_token: str | None,
    language: str = DEFAULT_LANGUAGE,
) -> LoginOutcome:
    """Check the password and start a session (full, or waiting for the second factor).

    Raises TooManyAttempts while throttled and InvalidCredentials for an unknown email, a
    wrong password or a locked password login alike (a locked one is not checked at all; the
    dummy hash keeps its time the same). A right password for a minor's account that waits for
    the parent's consent raises AccountInactive and starts no session. Any session token the browser held before is
    revoked: the login always hands out a new one. The failure that reaches
    `lockout.HARD_STOP_FAILURES` locks the login and queues a mail to the owner, in `language`.
    """
    now = runtime.clock.now()
    email = email.strip().lower()
    subjects = throttle.login_subjects(email=email, ip=client.ip)
    locked = await throttle.check_login_allowed(runtime.db, subjects, email=email, now=now)
    account = await find_account_by_email(runtime.db, email) if email else None
    pepper, kdf = runtime.settings.password_pepper, runtime.kdf
    if account is None:
        await passwords.burn_dummy_hash(password, kdf=kdf, pepper=pepper)
        # The same batch as for an account: its lock and log statements match no row here.
        no_account = [
            *lockout.lock_statements(
                runtime, account_id="", email=email, counter=subjects[0], language=language, now=now
            ),
            event_statement(runtime.db, account_id="", kind="login_failed", client=client, now=now),
        ]
        await throttle.record_failure(runtime.db, subjects, now=now, then=no_account)
        raise InvalidCredentials(WRONG_CREDENTIALS)
    if locked:
        await passwords.burn_dummy_hash(password, kdf=kdf, pepper=pepper)
        is_right = False
    else:
        is_right = await passwords.verify_password(
            password, account.password_hash, kdf=kdf, pepper=pepper
        )
    if not is_right:
        logged = event_statement(
            runtime.db, account_id=account.id, kind="login_failed", client=client, now=now
        )
        await lockout.count_failure(
            runtime, subjects, account=account, language=language, now=now, also=[logged]
        )
        raise InvalidCredentials(WRONG_CREDENTIALS)
    # Only the password counter: the second-factor counter is never cleared by a password.
    await throttle.clear_failures(runtime.db, subjects[0])
    if passwords.needs_rehash(account.password_hash):
        rehashed = await passwords.hash_password(password, kdf=kdf, pepper=pepper)
        await update_account(runtime.db, account.id, values={"password_hash": rehashed})
    if not account.is_active:
        # No session before the parent's consent; their link goes out again when it is missing
        # or a day old (accounts made before parents consented themselves have none yet).
        sent = await guardians.send_parent_link(
            runtime, account, language=language, unless_sent_within=guardians.REFRESH_SECONDS
        )
        raise AccountInactive(WAITING_FOR_PARENT, account_id=account.id, link_sent=sent)
    if previous_token:
        await sessions.revoke_token(runtime.db, previous_token, now=now)
    stage = "mfa" if account.has_totp else "full"
    session, token = await sessions.create_session(
        runtime.db, account_id=account.id, stage=stage, client=client, now=now
    )
    if stage == "full":
        await devices.record_sign_in(
            runtime, account, session_id=session.id, client=client, language=language
        )
    return LoginOutcome(token=token, needs_second_factor=stage == "mfa")


async def complete_login(
    runtime: Runtime,
    session: Session,
    account: Account,
    *,
    code: str,
    client: Client,
    language: str = DEFAULT_LANGUAGE,
) -> str:
    """Second login step: check the TOTP or recovery code and return the full session's token.

    `account` is the session's own, as the request already loaded it. Wrong codes count on
    the account's own code counter (and the address's), which a right password never clears;
    its 100th failure in a row locks password login as in `log_in`. While the login is
    locked every code is refused as wrong without being checked.
    """
    now = runtime.clock.now()
    if account.id != session.account_id:
        raise ValueError("complete_login() needs the session's own account.")
    subjects = throttle.code_subjects(account_id=account.id, ip=client.ip)
    locked = await throttle.check_login_allowed(runtime.db, subjects, email=account.email, now=now)
    try:
        if locked:
            raise InvalidInput(WRONG_CODE, code="invalid_code", field="code")
        await check_second_factor(runtime, account, code=code, client=client)
    except InvalidInput:
        await lockout.count_failure(runtime, subjects, account=account, language=language, now=now)
        raise
    await throttle.clear_failures(runtime.db, subjects[0])
    token = await sessions.rotate_session(runtime.db, session, stage="full")
    await devices.record_sign_in(
        runtime, account, session_id=session.id, client=client, language=language
    )
    return token


async def log_out(runtime: Runtime, session: Session, *, client: Client) -> None:
    now = runtime.clock.now()
    await sessions.revoke_session(runtime.db, session.id, account_id=session.account_id, now=now)
    await record_event(
        runtime.db, account_id=session.account_id, kind="logged_out", client=client, now=now
    )


def require_spending_allowed(account: Account) -> None:
    """Raise PermissionDenied unless the account may spend credits (a verified address)."""
    if not account.can_spend_credits:
        raise PermissionDenied(
            N_("Verify your email address before spending credits."), code="email_unverified"
        )
