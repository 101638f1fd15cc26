"""Changing what an account is: display name, email address, password, and resetting it."""

from __future__ import annotations

from dataclasses import replace

from beatbun.accounts import links, lockout, passwords, sessions, throttle
from beatbun.accounts.models import Account, Client, Session
from beatbun.accounts.notify import security_notice
from beatbun.accounts.secondfactor import require_fresh_code
from beatbun.accounts.security_log import event_statement, record_event
from beatbun.accounts.store import find_account_by_email, get_account, update_account
from beatbun.accounts.tokens import hash_token, new_id
from beatbun.accounts.validation import check_display_name, normalize_email
from beatbun.errors import Conflict, InvalidInput
from beatbun.i18n import DEFAULT_LANGUAGE, N_
from beatbun.mail import catalogue, mailqueue
from beatbun.mail.notices import account_language
from beatbun.runtime.base import Runtime

# A forgotten-password mail at most every 5 minutes per address, and at most 10 requests an
# hour per client address; past either, the same page and no mail (issue #12).
RESET_MAIL_INTERVAL = 5 * 60.0
RESET_REQUESTS_PER_IP = 10
RESET_REQUESTS_KEPT = 86400.0


async def change_display_name(
    runtime: Runtime, account: Account, *, display_name: str, client: Client
) -> None:
    name = check_display_name(display_name)
    await update_account(runtime.db, account.id, values={"display_name": name})
    await record_event(
        runtime.db,
        account_id=account.id,
        kind="display_name_changed",
        client=client,
        now=runtime.clock.now(),
    )


async def request_email_change(
    runtime: Runtime,
    account: Account,
    *,
    new_email: str,
    password: str,
    code: str,
    client: Client,
    language: str,
) -> None:
    """Queue a confirmation link to the new address, in `language`; the old one stays till then.

    The caller flushes the queue after answering (`mail.drain.send_queued_mail`).
    """
    email = normalize_email(new_email, field="new_email")
    if email == account.email:
        raise InvalidInput(N_("That is already your address."), field="new_email")
    await passwords.check_current_password(runtime, account, password)
    await require_fresh_code(runtime, account, code=code, client=client)
    statements = [
        event_statement(
            runtime.db,
            account_id=account.id,
            kind="email_change_requested",
            client=client,
            now=runtime.clock.now(),
        )
    ]
    # An address owned by someone else gets no link; the requester sees the same result.
    if await find_account_by_email(runtime.db, email) is None:
        statements.append(
            links.link_statement(
                runtime,
                account_id=account.id,
                purpose="change_email",
                email=email,
                language=language,
            )
        )
    await runtime.db.batch(statements)


async def confirm_email_change(
    runtime: Runtime, token: str, *, client: Client, language: str = DEFAULT_LANGUAGE
) -> None:
    """Switch to the new, now verified, address; raises InvalidInput for a bad link.

    Both addresses are told, the old one so its owner hears of a change they did not make.
    """
    now = runtime.clock.now()
    target = await links.consume_link_token(runtime.db, token, purpose="change_email", now=now)
    if await find_account_by_email(runtime.db, target.email) is not None:
        raise Conflict(N_("That address now belongs to another account."))
    account = await get_account(runtime.db, target.account_id)
    await update_account(
        runtime.db,
        target.account_id,
        values={"email": target.email, "email_verified_at": int(now)},
    )
    language = await account_language(runtime.db, account.id, language)
    event = hash_token(token)
    told = [
        security_notice(
            runtime,
            catalogue.EMAIL_CHANGED,
            replace(account, email=address),
            event=f"{event}:{side}",
            language=language,
            old_email=account.email,
            new_email=target.email,
            link=f"{runtime.settings.public_url}/login",
        )
        for side, address in (("old", account.email), ("new", target.email))
    ]
    logged = event_statement(
        runtime.db, account_id=target.account_id, kind="email_changed", client=client, now=now
    )
    await runtime.db.batch([logged, *told])


async def change_password(
    runtime: Runtime,
    account: Account,
    session: Session,
    *,
    current_password: str,
    new_password: str,
    code: str,
    client: Client,
    language: str = DEFAULT_LANGUAGE,
) -> str:
    """Set a new password, end every other session and return this session's new token."""
    await passwords.check_current_password(runtime, account, current_password)
    await require_fresh_code(runtime, account, code=code, client=client)
    await _set_password(runtime, account.id, _check_new_password(account, new_password))
    now = runtime.clock.now()
    await sessions.revoke_other_sessions(
        runtime.db, account_id=account.id, keep_id=session.id, now=now
    )
    await _log_password_change(
        runtime, account, kind="password_changed", client=client, language=language
    )
    return await sessions.rotate_session(runtime.db, session, stage="full")


async def request_password_reset(
    runtime: Runtime, *, email: str, client: Client, language: str
) -> None:
    """Queue a reset link, in `language`, when the address has an account and may have one.

    Known and unknown addresses take the same path: one D1 batch of the same statements,
    writing the same rows, and the choice (is there an account? did this address get a mail
    in the last `RESET_MAIL_INTERVAL`? did this client ask `RESET_REQUESTS_PER_IP` times this
    hour?) happens inside D1, in `INSERT ... SELECT`. Nothing is sent and no token is made
    here: the caller flushes the mail queue after answering (`mail.drain.send_queued_mail`).
    Raises InvalidInput only for a malformed address, which says nothing about accounts.
    """
    address = normalize_email(email)
    now = runtime.clock.now()
    email_hash = hash_token(address)
    message = links.link_message(runtime, purpose="reset", email=address, language=language)
    db = runtime.db
    message_id = new_id()
    # The queue row names the account only when there is one that may be mailed now.
    queue_mail = mailqueue.enqueue_link_statement(
        db,
        message_id=message_id,
        message=message,
        purpose="reset",
        account_sql="SELECT id FROM accounts WHERE email = ?"
        " AND NOT EXISTS (SELECT 1 FROM reset_requests"
        "  WHERE email_hash = ? AND mailed = 1 AND at > ?)"
        " AND (SELECT COUNT(*) FROM reset_requests WHERE ip = ? AND at > ?) < ?",
        account_params=(
            address,
            email_hash,
            now - RESET_MAIL_INTERVAL,
            client.ip,
            now - 3600.0,
            RESET_REQUESTS_PER_IP,
        ),
        now=now,
    )
    record_request = db.prepare(
        "INSERT INTO reset_requests (email_hash, ip, at, mailed)"
        " SELECT ?, ?, ?, link_account_id IS NOT NULL FROM mail_queue WHERE id = ?"
    ).bind(email_hash, client.ip, now, message_id)
    forget_old = db.prepare("DELETE FROM reset_requests WHERE at < ?").bind(
        now - RESET_REQUESTS_KEPT
    )
    await db.batch([queue_mail, record_request, forget_old])


async def reset_password(
    runtime: Runtime,
    *,
    token: str,
    new_password: str,
    code: str,
    client: Client,
    language: str = DEFAULT_LANGUAGE,
) -> str:
    """Use the emailed token to set a new password and end every session; returns the account id.

    With a second factor on, the code is needed too, so a stolen mailbox alone is not enough.
    The password is checked before the token is spent, so a rejected one can be retried.
    """
    now = runtime.clock.now()
    target = await check_reset_link(runtime, token)
    account = await get_account(runtime.db, target.account_id)
    normalized = _check_new_password(account, new_password)
    await require_fresh_code(runtime, account, code=code, client=client)
    await links.mark_link_used(runtime.db, token, now=now)
    await _set_password(runtime, account.id, normalized)
    # The owner proved their mailbox (and their code, with a second factor on): lift the hard
    # stop and start both counts afresh.
    forget = runtime.db.prepare("DELETE FROM login_failures WHERE subject IN (?, ?)").bind(
        throttle.login_subjects(email=account.email, ip=client.ip)[0],
        throttle.code_subjects(account_id=account.id, ip=client.ip)[0],
    )
    await runtime.db.batch([lockout.unlock_statement(runtime.db, account_id=account.id), forget])
    await sessions.revoke_other_sessions(runtime.db, account_id=account.id, keep_id=None, now=now)
    await _log_password_change(
        runtime, account, kind="password_reset", client=client, language=language
    )
    return account.id


async def check_reset_link(runtime: Runtime, token: str) -> links.LinkTarget:
    """Where a reset link points, without using it up; raises InvalidInput if dead."""
    return await links.peek_link_token(runtime.db, token, purpose="reset", now=runtime.clock.now())


def _check_new_password(account: Account, password: str) -> str:
    """The normalized new password, or InvalidInput(field="new_password") saying what is wrong."""
    return passwords.check_password(
        password,
        has_second_factor=account.has_totp,
        context=(account.email, account.display_name),
        field="new_password",
    )


async def _set_password(runtime: Runtime, account_id: str, normalized: str) -> None:
    """Store a password `_check_new_password` already accepted."""
    password_hash = await passwords.hash_password(
        normalized, kdf=runtime.kdf, pepper=runtime.settings.password_pepper
    )
    await update_account(runtime.db, account_id, values={"password_hash": password_hash})


async def _log_password_change(
    runtime: Runtime, account: Account, *, kind: str, client: Client, language: str
) -> None:
    """Log the change and tell the owner, in one batch: each change is its own event."""
    language = await account_language(runtime.db, account.id, language)
    await runtime.db.batch(
        [
            event_statement(
                runtime.db, account_id=account.id, kind=kind, client=client, now=runtime.clock.now()
            ),
            security_notice(
                runtime, catalogue.PASSWORD_CHANGED, account, event=new_id(), language=language
            ),
        ]
    )
