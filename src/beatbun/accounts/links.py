"""Single-use, expiring email links (verify, reset, change of address); stored hashed.

A link is mailed through the queue (`mail.mailqueue`): the request queues the mail with
`LINK_TOKEN_MARK` where the token goes, and the sender issues the token right before sending,
so a provider that is down or busy never fails the request or loses the link.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from beatbun.accounts import mail
from beatbun.accounts.tokens import hash_token, new_id
from beatbun.errors import InvalidInput
from beatbun.i18n import N_
from beatbun.mail.mailqueue import LINK_TOKEN_MARK, enqueue_link_statement
from beatbun.runtime.base import Database, MailMessage, Runtime, Statement

# Where each link leads, and the email that carries it.
PAGES = {
    "verify": "/verify-email",
    "change_email": "/account/email/confirm",
    "reset": "/reset-password",
}
MAILS = {
    "verify": mail.VERIFICATION,
    "change_email": mail.EMAIL_CHANGE,
    "reset": mail.PASSWORD_RESET,
}
ALREADY_USED = N_("This link was already used. Ask for a new one.")


@dataclass(frozen=True)
class LinkTarget:
    account_id: str
    email: str
    # The SHA-256 of the CSRF secret of the browser that asked for the link, when known.
    browser_hash: str | None = None


def link_statement(
    runtime: Runtime,
    *,
    account_id: str,
    purpose: str,
    email: str,
    language: str,
    then: str = "",
    browser_hash: str | None = None,
) -> Statement:
    """The INSERT queueing `email` the account's `purpose` link, in `language`, for a batch.

    `then`, a path on this site, rides along in the link as `next`: where its page leads on to.
    `browser_hash` is kept with the token (see `LinkTarget`). The caller flushes the queue
    after answering (`mail.drain.send_queued_mail`).
    """
    return enqueue_link_statement(
        runtime.db,
        message_id=new_id(),
        message=link_message(runtime, purpose=purpose, email=email, language=language, then=then),
        purpose=purpose,
        account_sql="?",  # the account is known
        account_params=(account_id,),
        now=runtime.clock.now(),
        browser_hash=browser_hash,
    )


def link_message(
    runtime: Runtime, *, purpose: str, email: str, language: str, then: str = ""
) -> MailMessage:
    """The `purpose` mail to `email` in `language`, its token left as `LINK_TOKEN_MARK`."""
    query = f"token={LINK_TOKEN_MARK}" + (f"&{urlencode({'next': then})}" if then else "")
    link = f"{runtime.settings.public_url}{PAGES[purpose]}?{query}"
    return MAILS[purpose].compose(
        to=email, language=language, site=runtime.settings.site_name, link=link
    )


async def peek_link_token(db: Database, token: str, *, purpose: str, now: float) -> LinkTarget:
    """Where a live token points, leaving it unused; raises InvalidInput like consume."""
    row = (
        await db.prepare(
            "SELECT account_id, email, expires_at, used_at, browser_hash FROM email_tokens"
            " WHERE token_hash = ? AND purpose = ?"
        )
        .bind(hash_token(token), purpose)
        .first()
    )
    if not row:
        raise InvalidInput(N_("This link is not valid. Ask for a new one."), code="invalid_link")
    if row["used_at"] is not None:
        raise InvalidInput(ALREADY_USED, code="used_link")
    if float(row["expires_at"]) < now:
        raise InvalidInput(N_("This link has expired. Ask for a new one."), code="expired_link")
    browser_hash = row["browser_hash"]
    return LinkTarget(
        account_id=str(row["account_id"]),
        email=str(row["email"]),
        browser_hash=None if browser_hash is None else str(browser_hash),
    )


async def consume_link_token(db: Database, token: str, *, purpose: str, now: float) -> LinkTarget:
    """Use the token up; raises InvalidInput when it is unknown, used or expired."""
    target = await peek_link_token(db, token, purpose=purpose, now=now)
    await mark_link_used(db, token, now=now)
    return target


async def mark_link_used(db: Database, token: str, *, now: float) -> None:
    """Use up a token already found live by `peek_link_token`; raises InvalidInput if it lost.

    The `used_at IS NULL` guard makes two racing uses produce one winner.
    """
    result = (
        await db.prepare(
            "UPDATE email_tokens SET used_at = ? WHERE token_hash = ? AND used_at IS NULL"
        )
        .bind(now, hash_token(token))
        .run()
    )
    if result.meta.changes != 1:
        raise InvalidInput(ALREADY_USED, code="used_link")
