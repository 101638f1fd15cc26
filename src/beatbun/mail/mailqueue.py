"""The outgoing mail queue in D1: requests queue mail, senders deliver it later.

A request never waits for the mail provider, so its answer takes the same time whether or not
it caused a mail. The queue is flushed after the response by a Starlette `BackgroundTask` (under
uvicorn it runs once the response is sent; the Workers ASGI bridge also answers first and keeps
the app task alive with `waitUntil` until background tasks finish, see
shared/cloudflare-python-workers.md, "Responses and background tasks"), and by the hourly cron
as a fallback for anything a background flush did not get to.

Delivery is idempotent per message: a sender claims a message with a guarded UPDATE, sends it,
then marks it sent (and blanks its body). A crash between sending and marking leaves the claim
to expire after `CLAIM_SECONDS`, and the next flush sends that message once more: at least once,
never lost, and in the common case exactly once.

Link tokens are not stored before they are needed: a queued body that carries a link holds
`LINK_TOKEN_MARK`, and the sender issues the token (`link_token(secret, message_id)`, an HMAC
only APP_SECRET can recompute; `email_tokens` keeps its SHA-256 digest as for any other link)
right before sending, so the request that queued the mail wrote no token row. The link's
lifetime runs from then.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

from beatbun.accounts.links import LIFETIMES
from beatbun.accounts.tokens import hash_token
from beatbun.runtime.base import (
    Database,
    MailError,
    MailMessage,
    Row,
    Runtime,
    SqlValue,
    Statement,
)

LINK_TOKEN_MARK = "@@link-token@@"  # noqa: S105 (a placeholder, not a secret)
CLAIM_SECONDS = 10 * 60.0
MAX_ATTEMPTS = 5
BATCH_SIZE = 20
KEEP_SENT_SECONDS = 7 * 86400.0
# Lanes: mail a person waits for goes before bulk sends.
SERVICE = 0
BULK = 1


def link_token(secret: str, message_id: str) -> str:
    """The single-use link token carried by queued message `message_id` (256 bits)."""
    digest = hmac.new(secret.encode(), f"mail-link:{message_id}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(digest.digest()).rstrip(b"=").decode()


def enqueue_statement(
    db: Database,
    *,
    message_id: str,
    key: str,
    message: MailMessage,
    now: float,
    only_if: str = "1",
    only_if_params: tuple[SqlValue, ...] = (),
    forget_recipient: bool = False,
    kind: str = "account",
    account_id: str | None = None,
    priority: int = SERVICE,
    topic: str | None = None,
) -> Statement:
    """An INSERT that queues `message` when the SQL condition `only_if` holds, for a batch.

    `only_if` is a constant SQL expression written by the caller (never input), so the choice
    happens inside D1. A `key` already queued is ignored. With `forget_recipient` the sender
    blanks the address and subject too once the message is sent. `kind` names the message
    (a notice type, 'marketing', 'policy', 'support'), `account_id` whose it is, `priority`
    its lane (`SERVICE` or `BULK`) and `topic` the bulk send whose counts it feeds.
    """
    return db.prepare(
        # `only_if` is the caller's constant SQL, never input.
        "INSERT OR IGNORE INTO mail_queue"
        " (id, idempotency_key, recipient, subject, body, html, headers, created_at,"
        " forget_recipient, kind, account_id, priority, topic)"
        f" SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ? WHERE {only_if}"
    ).bind(
        message_id,
        key,
        message.to,
        message.subject,
        message.text,
        message.html,
        json.dumps(dict(message.headers)),
        now,
        int(forget_recipient),
        kind,
        account_id,
        priority,
        topic,
        *only_if_params,
    )


def enqueue_link_statement(
    db: Database,
    *,
    message_id: str,
    message: MailMessage,
    purpose: str,
    account_sql: str,
    account_params: tuple[SqlValue, ...],
    now: float,
) -> Statement:
    """An INSERT that always writes one queue row: a mail with a `purpose` link, or nothing.

    `account_sql` is a constant SQL expression (never input) giving the account to mail, or
    NULL. With an account the row is a message whose link the sender issues; without one the
    row is born sent with no recipient, so both outcomes write the same row to the same table
    and indexes, and the statement costs the same either way.
    """
    return db.prepare(
        "INSERT INTO mail_queue (id, idempotency_key, recipient, subject, body,"  # noqa: S608 (account_sql is the caller's constant SQL)
        " link_account_id, link_purpose, created_at, sent_at)"
        " SELECT ?, ?, CASE WHEN account_id IS NULL THEN '' ELSE ? END,"
        " CASE WHEN account_id IS NULL THEN '' ELSE ? END,"
        " CASE WHEN account_id IS NULL THEN '' ELSE ? END,"
        " account_id, ?, ?, CASE WHEN account_id IS NULL THEN ? END"
        f" FROM (SELECT ({account_sql}) AS account_id)"
    ).bind(
        message_id,
        f"{purpose}:{message_id}",
        message.to,
        message.subject,
        message.text,
        purpose,
        now,
        now,
        *account_params,
    )


async def send_queued_mail(runtime: Runtime) -> int:
    """Send what is due (up to `BATCH_SIZE` messages) and return how many went out.

    A message the provider refuses keeps its error in `last_error` and is tried again after
    its claim expires, up to `MAX_ATTEMPTS` times; the others are sent regardless.
    """
    db, now = runtime.db, runtime.clock.now()
    rows = (
        await db.prepare(
            "SELECT id, recipient, subject, body, link_account_id, link_purpose FROM mail_queue"
            " WHERE sent_at IS NULL AND attempts < ? AND (claimed_at IS NULL OR claimed_at <= ?)"
            " ORDER BY created_at LIMIT ?"
        )
        .bind(MAX_ATTEMPTS, now - CLAIM_SECONDS, BATCH_SIZE)
        .all()
    ).results
    sent = 0
    for row in rows:
        message_id = str(row["id"])
        if not await _claim(db, message_id, now=now):
            continue  # another sender took it
        text = str(row["body"])
        if row["link_account_id"] is not None:
            token = link_token(runtime.settings.app_secret, message_id)
            await _issue_link_token(db, row, token=token, now=now)
            text = text.replace(LINK_TOKEN_MARK, token)
        message = MailMessage(to=str(row["recipient"]), subject=str(row["subject"]), text=text)
        try:
            await runtime.mailer.send(message)
        except MailError as exc:
            # Kept for the next attempt and for operators; the message is not dropped.
            await (
                db.prepare("UPDATE mail_queue SET last_error = ? WHERE id = ?")
                .bind(str(exc)[:500], message_id)
                .run()
            )
            continue
        await (
            db.prepare(
                "UPDATE mail_queue SET sent_at = ?, body = '', last_error = NULL,"
                " recipient = CASE forget_recipient WHEN 1 THEN '' ELSE recipient END,"
                " subject = CASE forget_recipient WHEN 1 THEN '' ELSE subject END WHERE id = ?"
            )
            .bind(runtime.clock.now(), message_id)
            .run()
        )
        sent += 1
    # Sent rows, the rows of requests that mailed nothing, and messages given up on all go
    # after a week: the queue keeps no address or text longer than it needs them.
    await (
        db.prepare(
            "DELETE FROM mail_queue WHERE created_at < ? AND (sent_at IS NOT NULL OR attempts >= ?)"
        )
        .bind(now - KEEP_SENT_SECONDS, MAX_ATTEMPTS)
        .run()
    )
    return sent


async def _issue_link_token(db: Database, row: Row, *, token: str, now: float) -> None:
    """Store the link's token for the queued row; a resend after a crash finds it there."""
    purpose = str(row["link_purpose"])
    await (
        db.prepare(
            "INSERT OR IGNORE INTO email_tokens"
            " (token_hash, account_id, purpose, email, created_at, expires_at)"
            " SELECT ?, id, ?, ?, ?, ? FROM accounts WHERE id = ?"
        )
        .bind(
            hash_token(token),
            purpose,
            str(row["recipient"]),
            now,
            now + LIFETIMES[purpose],
            str(row["link_account_id"]),
        )
        .run()
    )


async def _claim(db: Database, message_id: str, *, now: float) -> bool:
    """Take `message_id` for this sender; two racing senders produce one winner."""
    result = (
        await db.prepare(
            "UPDATE mail_queue SET claimed_at = ?, attempts = attempts + 1"
            " WHERE id = ? AND sent_at IS NULL AND (claimed_at IS NULL OR claimed_at <= ?)"
        )
        .bind(now, message_id, now - CLAIM_SECONDS)
        .run()
    )
    return result.meta.changes == 1
