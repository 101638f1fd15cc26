"""Changing what an account is: display name, email address, password, and resetting it."""

from __future__ import annotations

from beatbun.accounts import links, mail, passwords, sessions
from beatbun.accounts.models import Account, Client, Session
from beatbun.accounts.secondfactor import require_fresh_code
from beatbun.accounts.security_log import record_event
from beatbun.accounts.store import find_account_by_email, get_account, update_account
from beatbun.accounts.validation import check_display_name, normalize_email
from beatbun.errors import Conflict, InvalidInput
from beatbun.i18n import N_
from beatbun.runtime.base import Runtime


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
    """Mail a confirmation link to the new address, in `language`; the old one stays till then."""
    email = normalize_email(new_email, field="new_email")
    if email == account.email:
        raise InvalidInput(N_("That is already your address."), field="new_email")
    await _check_current_password(runtime, account, password)
    await require_fresh_code(runtime, account, code=code, client=client)
    now = runtime.clock.now()
    # An address owned by someone else gets no link; the requester sees the same result.
    if await find_account_by_email(runtime.db, email) is None:
        token = await links.issue_link_token(
            runtime.db, account_id=account.id, purpose="change_email", email=email, now=now
        )
        link = f"{runtime.settings.public_url}/account/email/confirm?token={token}"
        await runtime.mailer.send(
            mail.EMAIL_CHANGE.compose(
                to=email, language=language, site=runtime.settings.site_name, link=link
            )
        )
    await record_event(
        runtime.db, account_id=account.id, kind="email_change_requested", client=client, now=now
    )


async def confirm_email_change(runtime: Runtime, token: str, *, client: Client) -> None:
    """Switch to the new, now verified, address; raises InvalidInput for a bad link."""
    now = runtime.clock.now()
    target = await links.consume_link_token(runtime.db, token, purpose="change_email", now=now)
    if await find_account_by_email(runtime.db, target.email) is not None:
        raise Conflict(N_("That address now belongs to another account."))
    await update_account(
        runtime.db,
        target.account_id,
        values={"email": target.email, "email_verified_at": int(now)},
    )
    await record_event(
        runtime.db, account_id=target.account_id, kind="email_changed", client=client, now=now
    )


async def change_password(
    runtime: Runtime,
    account: Account,
    session: Session,
    *,
    current_password: str,
    new_password: str,
    code: str,
    client: Client,
) -> str:
    """Set a new password, end every other session and return this session's new token."""
    await _check_current_password(runtime, account, current_password)
    await require_fresh_code(runtime, account, code=code, client=client)
    await _set_password(runtime, account, new_password, field="new_password")
    now = runtime.clock.now()
    await sessions.revoke_other_sessions(
        runtime.db, account_id=account.id, keep_id=session.id, now=now
    )
    await record_event(
        runtime.db, account_id=account.id, kind="password_changed", client=client, now=now
    )
    return await sessions.rotate_session(runtime.db, session, stage="full")


async def request_password_reset(runtime: Runtime, *, email: str, language: str) -> None:
    """Mail a reset link, in `language`, when the address has an account; silent otherwise."""
    address = normalize_email(email)
    account = await find_account_by_email(runtime.db, address)
    if account is None:
        return
    token = await links.issue_link_token(
        runtime.db,
        account_id=account.id,
        purpose="reset",
        email=address,
        now=runtime.clock.now(),
    )
    link = f"{runtime.settings.public_url}/reset-password?token={token}"
    await runtime.mailer.send(
        mail.PASSWORD_RESET.compose(
            to=address, language=language, site=runtime.settings.site_name, link=link
        )
    )


async def reset_password(
    runtime: Runtime, *, token: str, new_password: str, code: str, client: Client
) -> None:
    """Use the emailed token to set a new password and end every session.

    With a second factor on, the code is needed too, so a stolen mailbox alone is not enough.
    The password is checked before the token is spent, so a rejected one can be retried.
    """
    now = runtime.clock.now()
    account = await find_reset_account(runtime, token)
    passwords.check_password(
        new_password,
        has_second_factor=account.has_totp,
        context=(account.email, account.display_name),
        field="new_password",
    )
    await require_fresh_code(runtime, account, code=code, client=client)
    target = await links.consume_link_token(runtime.db, token, purpose="reset", now=now)
    await _set_password(runtime, account, new_password, field="new_password")
    await sessions.revoke_other_sessions(
        runtime.db, account_id=target.account_id, keep_id=None, now=now
    )
    await record_event(
        runtime.db, account_id=target.account_id, kind="password_reset", client=client, now=now
    )


async def find_reset_account(runtime: Runtime, token: str) -> Account:
    """The account a reset link is for, without using it up; raises InvalidInput if dead."""
    target = await links.peek_link_token(
        runtime.db, token, purpose="reset", now=runtime.clock.now()
    )
    return await get_account(runtime.db, target.account_id)


async def _check_current_password(runtime: Runtime, account: Account, password: str) -> None:
    if not await passwords.verify_password(
        password, account.password_hash, kdf=runtime.kdf, pepper=runtime.settings.password_pepper
    ):
        raise InvalidInput(N_("Your current password is not correct."), field="current_password")


async def _set_password(runtime: Runtime, account: Account, password: str, *, field: str) -> None:
    normalized = passwords.check_password(
        password,
        has_second_factor=account.has_totp,
        context=(account.email, account.display_name),
        field=field,
    )
    password_hash = await passwords.hash_password(
        normalized, kdf=runtime.kdf, pepper=runtime.settings.password_pepper
    )
    await update_account(runtime.db, account.id, values={"password_hash": password_hash})
