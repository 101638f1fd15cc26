"""Single-use, expiring email links (verify, reset, change of address); stored hashed."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from beatbun.accounts import mail
from beatbun.accounts.tokens import hash_token, new_token
from beatbun.errors import InvalidInput
from beatbun.i18n import N_
from beatbun.runtime.base import Database, Runtime

LIFETIMES = {"verify": 48 * 3600.0, "change_email": 24 * 3600.0, "reset": 3600.0}
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


async def send_link(
    runtime: Runtime,
    *,
    account_id: str,
    purpose: str,
    email: str,
    language: str,
    then: str = "",
    browser_hash: str | None = None,
) -> None:
    """Issue a `purpose` token for `email` and mail it its link, in `language`.

    `then`, a path on this site, rides along in the link as `next`: where its page leads on to.
    `browser_hash` is kept with the token (see `LinkTarget`).
    """
    token = await issue_link_token(
        runtime.db,
        account_id=account_id,
        purpose=purpose,
        email=email,
        now=runtime.clock.now(),
        browser_hash=browser_hash,
    )
    query = urlencode({"token": token} | ({"next": then} if then else {}))
    link = f"{runtime.settings.public_url}{PAGES[purpose]}?{query}"
    await runtime.mailer.send(
        MAILS[purpose].compose(
            to=email, language=language, site=runtime.settings.site_name, link=link
        )
    )


async def issue_link_token(
    db: Database,
    *,
    account_id: str,
    purpose: str,
    email: str,
    now: float,
    browser_hash: str | None = None,
) -> str:
    token = new_token()
    await (
        db.prepare(
            "INSERT INTO email_tokens"
            " (token_hash, account_id, purpose, email, created_at, expires_at, browser_hash)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)"
        )
        .bind(
            hash_token(token),
            account_id,
            purpose,
            email,
            now,
            now + LIFETIMES[purpose],
            browser_hash,
        )
        .run()
    )
    return token


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
