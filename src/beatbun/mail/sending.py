"""One round's messages: the claim, each send, and the statements that record what became of it.

A sender claims due messages with a guarded UPDATE … RETURNING (two racing senders never share
one), sends each with its queue row's id as the provider's idempotency key, and adds its result
to the round's batch (`Round`). Every result is guarded by the sender's own claim (`claimed_at`)
and `sent_at IS NULL`, and a topic's count is placed before the change it counts under the same
condition: a sender whose claim expired meanwhile records nothing and counts nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from beatbun.accounts.tokens import LINK_LIFETIMES, hash_token
from beatbun.mail.mailqueue import BULK, LINK_TOKEN_MARK, MAX_ATTEMPTS, link_token
from beatbun.mail.marketingrules import (
    MARKETING_ALLOWED_SQL,
    MARKETING_KIND,
    UNSUBSCRIBE_MARK,
    unsubscribe_url,
)
from beatbun.mail.topics import campaign_of, count_rows_statement
from beatbun.runtime.base import (
    Database,
    MailMessage,
    MailRateLimited,
    Row,
    Runtime,
    SqlValue,
    Statement,
)

# Retries wait 30 s, then four times longer each time, never more than 6 hours.
RETRY_BASE_SECONDS = 30.0
RETRY_MAX_SECONDS = 6 * 3600.0


@dataclass
class Round:
    """What one round of sending did, recorded in one batch at its end."""

    claimed_at: float
    statements: list[Statement] = field(default_factory=list)
    sent: int = 0
    unsent: list[str] = field(default_factory=list)
    refused: MailRateLimited | None = None
    sending_seconds: float = 0.0  # how long its sends took


def backoff_seconds(attempts: int) -> float:
    """How long a message waits after its `attempts`-th failed try: 30 s, 2 min, 8 min, ..."""
    return min(RETRY_BASE_SECONDS * float(4 ** max(attempts - 1, 0)), RETRY_MAX_SECONDS)


async def claim_due(
    runtime: Runtime, *, wanted: int, account_id: str | None, lane: int, now: float
) -> list[Row]:
    """Take up to `wanted` due messages of lanes up to `lane` for this sender; two racing
    senders never share one.

    Bulk rows of an account come with the account's current address, and say whether they may
    be sent (`allowed`): marketing only while its account allows it, checked in the same
    statement that takes it.
    """
    expired = now - runtime.settings.mail_claim_seconds
    only = " AND account_id = ?8" if account_id is not None else ""
    only_params: tuple[SqlValue, ...] = (account_id,) if account_id is not None else ()
    due = "sent_at IS NULL AND failed_at IS NULL AND (claimed_at IS NULL OR claimed_at <= ?2)"
    account_email = "(SELECT email FROM accounts WHERE id = mail_queue.account_id)"
    result = await (
        runtime.db.prepare(
            "UPDATE mail_queue SET claimed_at = ?1, attempts = attempts + 1"  # noqa: S608 (constant SQL)
            " WHERE id IN (SELECT id FROM mail_queue"
            f" WHERE {due} AND next_attempt_at <= ?1 AND attempts < ?3 AND priority <= ?4{only}"
            " ORDER BY priority, next_attempt_at, created_at LIMIT ?5)"
            f" AND {due}"
            " RETURNING id, subject, body, html, headers, kind, account_id, topic, priority,"
            " created_at, link_account_id, link_purpose, link_browser_hash, attempts,"
            " CASE WHEN priority = ?6 AND account_id IS NOT NULL"
            f" THEN {account_email} ELSE recipient END AS recipient,"
            f" (kind <> ?7 OR EXISTS (SELECT 1 FROM accounts a"
            f" WHERE a.id = mail_queue.account_id AND {MARKETING_ALLOWED_SQL}))"
            f" AND (priority <> ?6 OR account_id IS NULL OR {account_email} IS NOT NULL)"
            " AS allowed"
        )
        .bind(now, expired, MAX_ATTEMPTS, lane, wanted, BULK, MARKETING_KIND, *only_params)
        .all()
    )
    # RETURNING gives rows in no promised order: the lanes' order is restored here.
    return sorted(
        result.results, key=lambda row: (_number(row["priority"]), _number(row["created_at"]))
    )


async def _issue_link_token(db: Database, row: Row, *, token: str, now: float) -> None:
    """Store the link's token for the queued row; a resend after a crash finds it there."""
    purpose = str(row["link_purpose"])
    await (
        db.prepare(
            "INSERT OR IGNORE INTO email_tokens"
            " (token_hash, account_id, purpose, email, created_at, expires_at, browser_hash)"
            " SELECT ?, id, ?, ?, ?, ?, ? FROM accounts WHERE id = ?"
        )
        .bind(
            hash_token(token),
            purpose,
            str(row["recipient"]),
            now,
            now + LINK_LIFETIMES[purpose],
            row["link_browser_hash"],
            str(row["link_account_id"]),
        )
        .run()
    )


# A claimed row still this sender's and not sent: what every result of a round is guarded by.
_MINE = "id = ? AND claimed_at = ? AND sent_at IS NULL"


async def send_one(runtime: Runtime, row: Row, round_: Round) -> int:
    """Send one claimed message and add what became of it to the round's batch; returns the D1
    calls it made. Any exception but a 429 is a failed attempt."""
    db = runtime.db
    message_id = str(row["id"])
    calls = 0
    mine: tuple[SqlValue, ...] = (message_id, round_.claimed_at)
    try:
        replacements: dict[str, str] = {}
        if row["link_account_id"] is not None:
            token = link_token(runtime.settings.app_secret, message_id)
            calls += 1
            await _issue_link_token(db, row, token=token, now=runtime.clock.now())
            replacements[LINK_TOKEN_MARK] = token
        if row["account_id"] is not None:
            replacements[UNSUBSCRIBE_MARK] = unsubscribe_url(
                runtime.settings, str(row["account_id"]), campaign_id=campaign_of(row["topic"])
            )
        provider_id = await runtime.mailer.send(_message_of(row, replacements))
    except MailRateLimited as exc:
        # Not this message's fault: its try is given back and it goes in a later round.
        round_.refused = exc
        round_.unsent.append(message_id)
        return calls
    except Exception as exc:
        # Kept for the next attempt and for operators; given up on after MAX_ATTEMPTS.
        now = runtime.clock.now()
        attempts = int(str(row["attempts"]))
        gives_up = attempts >= MAX_ATTEMPTS
        if gives_up and row["topic"] is not None:
            round_.statements.append(count_rows_statement(db, "failed", where=_MINE, params=mine))
        round_.statements.append(
            db.prepare(
                "UPDATE mail_queue SET last_error = ?, claimed_at = NULL, next_attempt_at = ?,"  # noqa: S608 (constant SQL)
                f" failed_at = ? WHERE {_MINE}"
            ).bind(
                (str(exc) or type(exc).__name__)[:500],
                now + backoff_seconds(attempts),
                now if gives_up else None,
                *mine,
            )
        )
        return calls
    if row["topic"] is not None:
        round_.statements.append(count_rows_statement(db, "sent", where=_MINE, params=mine))
    round_.statements.append(
        db.prepare(
            "UPDATE mail_queue SET sent_at = ?, provider_id = ?, body = '', html = '',"  # noqa: S608 (constant SQL)
            " headers = '{}', last_error = NULL,"
            " recipient = CASE forget_recipient WHEN 1 THEN '' ELSE recipient END,"
            f" subject = CASE forget_recipient WHEN 1 THEN '' ELSE subject END WHERE {_MINE}"
        ).bind(runtime.clock.now(), provider_id or None, *mine)
    )
    round_.sent += 1
    return calls


def withhold(runtime: Runtime, row: Row, round_: Round) -> None:
    """Bulk mail whose account withdrew its consent (or objected, or is gone) before its turn."""
    db = runtime.db
    mine: tuple[SqlValue, ...] = (str(row["id"]), round_.claimed_at)
    if row["topic"] is not None:
        round_.statements.append(count_rows_statement(db, "withheld", where=_MINE, params=mine))
    round_.statements.append(
        db.prepare(
            "UPDATE mail_queue SET failed_at = ?, last_error = 'withheld', body = '', html = '',"  # noqa: S608 (constant SQL)
            f" headers = '{{}}' WHERE {_MINE}"
        ).bind(runtime.clock.now(), *mine)
    )


def release_statement(db: Database, message_ids: list[str], claimed_at: float) -> Statement:
    """Give claimed messages back untried (no slot was left for them), their try not counted."""
    marks = ", ".join("?" for _ in message_ids)
    return db.prepare(
        "UPDATE mail_queue SET claimed_at = NULL, attempts = attempts - 1"  # noqa: S608 (placeholders only)
        f" WHERE id IN ({marks}) AND claimed_at = ? AND sent_at IS NULL"
    ).bind(*message_ids, claimed_at)


def _message_of(row: Row, replacements: dict[str, str]) -> MailMessage:
    def filled(value: str) -> str:
        for mark, replacement in replacements.items():
            value = value.replace(mark, replacement)
        return value

    headers = json.loads(str(row["headers"] or "{}"))
    return MailMessage(
        to=str(row["recipient"]),
        subject=str(row["subject"]),
        text=filled(str(row["body"])),
        html=filled(str(row["html"] or "")),
        headers=tuple((str(name), filled(str(value))) for name, value in headers.items()),
        key=str(row["id"]),
    )


def _number(value: SqlValue) -> float:
    return float(value) if isinstance(value, int | float) else 0.0
