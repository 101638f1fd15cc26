"""The outgoing mail queue in D1: requests queue mail, senders deliver it later (`mail.drain`).

A request never waits for the mail provider, so its answer takes the same time whether or not
it caused a mail: it adds a row to `mail_queue` in the batch of the change that caused it.

Two lanes: `SERVICE` mail a person waits for (links, notices) always goes before `BULK` (policy
notices, campaigns), which only the cron sends. Bulk sends count what became of their emails
per topic (`mail.topics`).

Link tokens are not stored before they are needed: a queued body that carries a link holds
`LINK_TOKEN_MARK`, and the sender issues the token (`link_token(secret, message_id)`, an HMAC
only APP_SECRET can recompute; `email_tokens` keeps its SHA-256 digest as for any other link)
right before sending, so the request that queued the mail wrote no token row. The link's
lifetime runs from then. Marketing rows hold `UNSUBSCRIBE_MARK` likewise, replaced with the
account's unsubscribe link in the text, the HTML and the headers.
"""

from __future__ import annotations

import json

from beatbun.accounts.tokens import keyed_token
from beatbun.runtime.base import Database, MailMessage, SqlValue, Statement

LINK_TOKEN_MARK = "@@link-token@@"  # noqa: S105 (a placeholder, not a secret)
# Tries of one message before it is given up on.
MAX_ATTEMPTS = 5
# Sent rows are kept this long: service notices' frequency caps are counted over them.
KEEP_SENT_SECONDS = 7 * 86400.0
# Lanes: mail a person waits for goes before bulk sends.
SERVICE = 0
BULK = 1


def link_token(secret: str, message_id: str) -> str:
    """The single-use link token carried by queued message `message_id` (256 bits)."""
    return keyed_token(secret, "mail-link", message_id)


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
    browser_hash: str | None = None,
) -> Statement:
    """An INSERT that always writes one queue row: a mail with a `purpose` link, or nothing.

    `account_sql` is a constant SQL expression (never input) giving the account to mail, or
    NULL. With an account the row is a message of kind `purpose` whose link the sender issues
    (with `browser_hash`, the SHA-256 of the asking browser's CSRF secret, kept with its token);
    without one the row is born sent with no recipient, so both outcomes write the same row to
    the same table and indexes, and the statement costs the same either way.
    """
    text = "CASE WHEN account_id IS NULL THEN '' ELSE ? END"
    return db.prepare(
        "INSERT INTO mail_queue (id, idempotency_key, recipient, subject, body, html, headers,"  # noqa: S608 (account_sql is the caller's constant SQL)
        " kind, account_id, link_account_id, link_purpose, link_browser_hash, created_at,"
        " sent_at)"
        f" SELECT ?, ?, {text}, {text}, {text}, {text},"
        " CASE WHEN account_id IS NULL THEN '{}' ELSE ? END, ?, account_id, account_id, ?,"
        " CASE WHEN account_id IS NOT NULL THEN ? END, ?, CASE WHEN account_id IS NULL THEN ? END"
        f" FROM (SELECT ({account_sql}) AS account_id)"
    ).bind(
        message_id,
        f"{purpose}:{message_id}",
        message.to,
        message.subject,
        message.text,
        message.html,
        json.dumps(dict(message.headers)),
        purpose,
        purpose,
        browser_hash,
        now,
        now,
        *account_params,
    )
