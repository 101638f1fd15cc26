"""The account rules routes call: sign-up, verification, login and its second step.

Unknown emails are answered exactly like known ones, in the same time (a dummy hash), on
sign-up, login and password reset alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from beatbun.accounts import links, lockout, mail, passwords, sessions, throttle
from beatbun.accounts.models import Account, Client, Session
from beatbun.accounts.secondfactor import WRONG_CODE, check_second_factor
from beatbun.accounts.security_log import event_statement, record_event
from beatbun.accounts.store import (
    find_account_by_email,
    get_account,
    insert_account,
    update_account,
)
from beatbun.accounts.tokens import new_id
from beatbun.accounts.validation import (
    age_from_birth_date,
    check_display_name,
    normalize_email,
)
from beatbun.errors import InvalidInput, PermissionDenied, Unauthenticated
from beatbun.i18n import DEFAULT_LANGUAGE, N_
from beatbun.runtime.base import Runtime

ADULT_AGE = 18
MINIMUM_AGE = 13
WRONG_CREDENTIALS = N_("The email or password is incorrect.")


class TooYoung(PermissionDenied):
    """The person is under 13; nothing about them is kept."""

    default_code = "too_young"


class InvalidCredentials(Unauthenticated):
    """Email and password do not match an account (which of the two is never said)."""

    default_code = "invalid_credentials"


@dataclass(frozen=True)
class SignUpForm:
    email: str
    password: str
    display_name: str
    birth_date: str
    parent_email: str = ""
    parental_consent: bool = False


@dataclass(frozen=True)
class LoginOutcome:
    token: str
    needs_second_factor: bool


async def sign_up(
    runtime: Runtime, form: SignUpForm, *, client: Client, language: str = DEFAULT_LANGUAGE
) -> None:
    """Create an unverified account and mail the verification link, in `language`.

    Raises TooYoung before looking at anything else, so an under-13 visitor leaves no trace,
    and InvalidInput naming the field. An email that already has an account gets a notice
    instead, and the caller sees the same outcome.
    """
    now = runtime.clock.now()
    age = age_from_birth_date(form.birth_date, today=datetime.fromtimestamp(now, UTC).date())
    if age < MINIMUM_AGE:
        raise TooYoung(
            N_("You must be %(age)s or older to use %(site)s."),
            params={"age": MINIMUM_AGE, "site": runtime.settings.site_name},
        )
    email = normalize_email(form.email)
    display_name = check_display_name(form.display_name)
    password = passwords.check_password(
        form.password, has_second_factor=False, context=(email, display_name)
    )
    parent_email = None
    if age < ADULT_AGE:
        parent_email = _check_parent(form, own_email=email)
    password_hash = await passwords.hash_password(
        password, kdf=runtime.kdf, pepper=runtime.settings.password_pepper
    )
    site, base = runtime.settings.site_name, runtime.settings.public_url
    if await find_account_by_email(runtime.db, email) is not None:
        await runtime.mailer.send(
            mail.ALREADY_REGISTERED.compose(
                to=email, language=language, site=site, link=f"{base}/login"
            )
        )
        return
    account_id = new_id()
    await insert_account(
        runtime.db,
        values={
            "id": account_id,
            "email": email,
            "display_name": display_name,
            "birth_date": form.birth_date.strip(),
            "age_group": "minor" if parent_email else "adult",
            "parent_email": parent_email,
            "parental_consent_at": int(now) if parent_email else None,
            "password_hash": password_hash,
            "created_at": int(now),
        },
    )
    await record_event(runtime.db, account_id=account_id, kind="signed_up", client=client, now=now)
    await links.send_link(
        runtime, account_id=account_id, purpose="verify", email=email, language=language
    )
    if parent_email:
        await runtime.mailer.send(
            mail.PARENTAL_NOTICE.compose(
                to=parent_email, language=language, site=site, child=display_name
            )
        )


async def verify_email(runtime: Runtime, token: str, *, client: Client) -> None:
    """Mark the address verified; raises InvalidInput for a bad, used or expired link."""
    now = runtime.clock.now()
    target = await links.consume_link_token(runtime.db, token, purpose="verify", now=now)
    account = await get_account(runtime.db, target.account_id)
    if account.email != target.email:
        raise InvalidInput(N_("This link is for an address the account no longer uses."))
    await update_account(runtime.db, account.id, values={"email_verified_at": int(now)})
    await record_event(
        runtime.db, account_id=account.id, kind="email_verified", client=client, now=now
    )


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
    dummy hash keeps its time the same). Any session token the browser held before is
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
    if previous_token:
        await sessions.revoke_token(runtime.db, previous_token, now=now)
    stage = "mfa" if account.has_totp else "full"
    _, token = await sessions.create_session(
        runtime.db, account_id=account.id, stage=stage, client=client, now=now
    )
    if stage == "full":
        await record_event(
            runtime.db, account_id=account.id, kind="logged_in", client=client, now=now
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
    await record_event(runtime.db, account_id=account.id, kind="logged_in", client=client, now=now)
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


def _check_parent(form: SignUpForm, *, own_email: str) -> str:
    parent_email = normalize_email(form.parent_email, field="parent_email")
    if parent_email == own_email:
        raise InvalidInput(
            N_("Enter your parent's or guardian's address, not your own."), field="parent_email"
        )
    if not form.parental_consent:
        raise InvalidInput(
            N_("Under 18, a parent or guardian must agree: tick the box to confirm they do."),
            field="parental_consent",
        )
    return parent_email
