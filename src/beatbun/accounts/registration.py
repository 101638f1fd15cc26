"""Sign-up and the address confirmation that ends it (and logs the person in).

Unknown emails are answered exactly like known ones: an address that already has an account
gets a notice by mail, and the form answers the same. Nobody under 13 gets an account, and
nothing they typed is kept. From 13 to 17 the account is created inactive and the parent is
mailed a link through which only they can consent (`privacy.guardians`).
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

from beatbun.accounts import devices, links, mail, passwords, sessions, throttle
from beatbun.accounts.models import Client
from beatbun.accounts.security_log import event_statement, record_event
from beatbun.accounts.store import (
    find_account_by_email,
    get_account,
    insert_account,
    update_account,
)
from beatbun.accounts.tokens import hash_token, new_id
from beatbun.accounts.validation import (
    age_from_birth_date,
    check_display_name,
    normalize_email,
)
from beatbun.errors import InvalidFields, InvalidInput, TooYoung
from beatbun.i18n import DEFAULT_LANGUAGE, N_
from beatbun.mail import mailqueue
from beatbun.privacy import guardians
from beatbun.runtime.base import Runtime

ADULT_AGE = 18
MINIMUM_AGE = 13
ALREADY_REGISTERED_INTERVAL = 3600
T = TypeVar("T")


@dataclass(frozen=True)
class SignUpForm:
    email: str
    password: str
    display_name: str
    birth_date: str
    parent_email: str = ""


async def sign_up(
    runtime: Runtime,
    form: SignUpForm,
    *,
    client: Client,
    language: str = DEFAULT_LANGUAGE,
    then: str = "",
    browser: str = "",
) -> None:
    """Create an unverified account and mail the verification link, in `language`.

    Raises TooYoung before looking at anything else, so an under-13 visitor leaves no trace,
    and InvalidFields naming every wrong field at once, then TooManySignUps, writing nothing,
    while the client address has signed up too often (`throttle.sign_up_subjects`). An email
    that already has an account gets a notice instead (at most one an hour), and the caller
    sees the same outcome. Between 13 and 17 the account
    stays inactive and the parent is mailed their consent link. Every mail is queued: the
    caller flushes the queue after answering (`mail.drain.send_queued_mail`). The link leads on
    to `then` (a path on this site) once the address is confirmed. `browser` is the secret of
    the browser signing up (its CSRF cookie): only that browser is logged in by the link.
    """
    now = runtime.clock.now()
    problems: list[InvalidInput] = []
    birth_problems: list[InvalidInput] = []
    today = datetime.fromtimestamp(now, UTC).date()
    age = _checked(birth_problems, lambda: age_from_birth_date(form.birth_date, today=today))
    if age is not None and age < MINIMUM_AGE:
        # Neutral on purpose: the refusal names no age to come back with.
        raise TooYoung(
            N_("You cannot create a %(site)s account."),
            params={"site": runtime.settings.site_name},
        )
    # Problems are listed in the form's order, so the summary reads top to bottom.
    email = _checked(problems, lambda: normalize_email(form.email))
    display_name = _checked(problems, lambda: check_display_name(form.display_name))
    problems += birth_problems
    password = _checked(
        problems, lambda: _check_new_password(form.password, context=(email, display_name))
    )
    parent_email = None
    if age is not None and age < ADULT_AGE:
        parent_email = _checked(problems, lambda: _check_parent_email(form, own_email=email))
    if problems or email is None or display_name is None or password is None:
        raise InvalidFields(problems)
    # Every sign-up counts against its client address, so a script cannot flood the mail queue.
    subjects = throttle.sign_up_subjects(ip=client.ip)
    await throttle.check_attempt_allowed(
        runtime.db,
        subjects,
        now=now,
        free={"signup": runtime.settings.sign_ups_per_address},
        refusal=throttle.TooManySignUps,
    )
    password_hash = await passwords.hash_password(
        password, kdf=runtime.kdf, pepper=runtime.settings.password_pepper
    )
    site, base = runtime.settings.site_name, runtime.settings.public_url
    existing = await find_account_by_email(runtime.db, email)
    if existing is not None:
        # At most one notice an hour per address, however often someone signs up with it.
        hour = int(now // ALREADY_REGISTERED_INTERVAL)
        notice = mailqueue.enqueue_statement(
            runtime.db,
            message_id=new_id(),
            key=f"already_registered:{existing.id}:{hour}",
            message=mail.ALREADY_REGISTERED.compose(
                to=email, language=language, site=site, link=f"{base}/login"
            ),
            now=now,
            kind="already_registered",
            account_id=existing.id,
        )
        await throttle.record_failure(runtime.db, subjects, now=now, then=[notice])
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
            "parent_named_at": int(now) if parent_email else None,
            "password_hash": password_hash,
            "created_at": int(now),
        },
    )
    await throttle.record_failure(
        runtime.db,
        subjects,
        now=now,
        then=[
            event_statement(
                runtime.db, account_id=account_id, kind="signed_up", client=client, now=now
            ),
            links.link_statement(
                runtime,
                account_id=account_id,
                purpose="verify",
                email=email,
                language=language,
                then=then,
                browser_hash=hash_token(browser) if browser else None,
            ),
        ],
    )
    if parent_email:
        await guardians.send_parent_link(
            runtime,
            await get_account(runtime.db, account_id),
            language=language,
            unless_sent_within=0,
        )


async def verify_email(
    runtime: Runtime,
    token: str,
    *,
    client: Client,
    previous_token: str | None = None,
    browser: str = "",
    language: str = DEFAULT_LANGUAGE,
) -> str | None:
    """Mark the address verified and log this browser in; returns the new session's token.

    The link proves the mailbox, which a password reset would accept as proof too, so it
    logs in an account that has no second factor, in the browser that signed up (`browser`,
    its secret as given to `sign_up`). Anywhere else it returns None and the person logs in
    as usual: whoever signed up with someone else's address knows the password, and the
    owner must not be handed an account in that state (they reset the password instead).
    With a second factor it returns None too: that person logs in with the code. Any session
    the browser held before is revoked, as at a login. Raises InvalidInput for a bad, used or
    expired link.
    """
    now = runtime.clock.now()
    target = await links.consume_link_token(runtime.db, token, purpose="verify", now=now)
    account = await get_account(runtime.db, target.account_id)
    if account.email != target.email:
        raise InvalidInput(N_("This link is for an address the account no longer uses."))
    await update_account(runtime.db, account.id, values={"email_verified_at": int(now)})
    await record_event(
        runtime.db, account_id=account.id, kind="email_verified", client=client, now=now
    )
    same_browser = (
        target.browser_hash is not None
        and bool(browser)
        and hmac.compare_digest(hash_token(browser), target.browser_hash)
    )
    # A minor's account opens only with the parent's consent (`privacy.guardians`).
    if account.has_totp or not same_browser or not account.is_active:
        return None
    if previous_token:
        await sessions.revoke_token(runtime.db, previous_token, now=now)
    session, session_token = await sessions.create_session(
        runtime.db, account_id=account.id, stage="full", client=client, now=now
    )
    await devices.record_sign_in(
        runtime, account, session_id=session.id, client=client, language=language
    )
    return session_token


def _checked(problems: list[InvalidInput], check: Callable[[], T]) -> T | None:
    """`check()`'s value, or None with its error added to `problems` (a form checked whole)."""
    try:
        return check()
    except InvalidInput as exc:
        problems.append(exc)
        return None


def _check_new_password(password: str, *, context: tuple[str | None, str | None]) -> str:
    """The sign-up password; its messages never mention a second factor nobody has yet."""
    if not password:
        raise InvalidInput(N_("Choose a password."), code="password_missing", field="password")
    try:
        return passwords.check_password(
            password, has_second_factor=False, context=[word for word in context if word]
        )
    except InvalidInput as exc:
        if exc.code != "password_too_short":
            raise
        raise InvalidInput(
            N_("Use at least %(minimum)s characters; a few unrelated words work well."),
            code=exc.code,
            field="password",
            params={"minimum": passwords.MIN_LENGTH_SINGLE_FACTOR},
        ) from None


def _check_parent_email(form: SignUpForm, *, own_email: str | None) -> str:
    if not form.parent_email.strip():
        raise InvalidInput(
            N_("You are under 18: enter the email address of a parent or guardian."),
            field="parent_email",
        )
    try:
        parent_email = normalize_email(form.parent_email, field="parent_email")
    except InvalidInput:
        raise InvalidInput(
            N_("Enter your parent's or guardian's email address like name@example.com."),
            field="parent_email",
        ) from None
    if parent_email == own_email:
        raise InvalidInput(
            N_("Enter your parent's or guardian's address, not your own."), field="parent_email"
        )
    return parent_email
