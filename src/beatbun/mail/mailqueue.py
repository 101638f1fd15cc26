"""The outgoing mail queue in D1: requests queue mail, senders deliver it later.

A request never waits for the mail provider, so its answer takes the same time whether or not
it caused a mail. The queue is flushed after the response by a Starlette `BackgroundTask` (under
uvicorn it runs once the response is sent; the Workers ASGI bridge also answers first and keeps
the app task alive with `waitUntil` until background tasks finish, see
shared/cloudflare-python-workers.md, "Responses and background tasks"), by the user's Durable
Object after its alarm's work (that account's service mail), and by the cron, which drains both
lanes at the provider's rate (`drain_mail`).

Two lanes: `SERVICE` mail a person waits for (links, notices) always goes before `BULK` (policy
notices, campaigns). Every sender shares the provider's rate through `mail.ratelimit`.

Delivery is idempotent per message: a sender claims messages with a guarded UPDATE, sends each
with the queue row's id as the provider's idempotency key, then records the round in one batch
(sent, with the provider's id, its body, HTML and headers blanked; or failed, to be tried again
after a backoff, and given up on after `MAX_ATTEMPTS`). A crash between sending and recording
leaves the claim to expire after `mail_claim_seconds`; the next sender sends again with the same
key, and the provider (Resend keeps keys 24 hours; the local outbox for good) delivers once.
Bulk sends count what became of their emails per topic (`mail_topics`): sent, failed, and
marketing withheld because its account withdrew consent before its turn (checked in the claim).

Link tokens are not stored before they are needed: a queued body that carries a link holds
`LINK_TOKEN_MARK`, and the sender issues the token (`link_token(secret, message_id)`, an HMAC
only APP_SECRET can recompute; `email_tokens` keeps its SHA-256 digest as for any other link)
right before sending, so the request that queued the mail wrote no token row. The link's
lifetime runs from then. Marketing rows hold `UNSUBSCRIBE_MARK` likewise, replaced with the
account's unsubscribe link in the text, the HTML and the headers.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
from dataclasses import dataclass, field

from beatbun.accounts.links import LIFETIMES
from beatbun.accounts.tokens import hash_token
from beatbun.mail.marketingrules import MARKETING_ALLOWED_SQL, UNSUBSCRIBE_MARK, unsubscribe_url
from beatbun.mail.ratelimit import SendRate, hold_off, take_slots
from beatbun.runtime.base import (
    Database,
    MailError,
    MailMessage,
    MailRateLimited,
    Row,
    Runtime,
    SqlValue,
    Statement,
)

LINK_TOKEN_MARK = "@@link-token@@"  # noqa: S105 (a placeholder, not a secret)
MAX_ATTEMPTS = 5
BATCH_SIZE = 20
# Messages one sender claims at once (fewer when the rate allows fewer).
CLAIM_BATCH = 50
# Sent rows are kept this long: service notices' frequency caps are counted over them.
KEEP_SENT_SECONDS = 7 * 86400.0
# Retries wait 30 s, then four times longer each time, never more than 6 hours.
RETRY_BASE_SECONDS = 30.0
RETRY_MAX_SECONDS = 6 * 3600.0
# The longest a flush after a response waits for the shared rate; the cron's drain budget.
FLUSH_SECONDS = 5.0
CRON_DRAIN_SECONDS = 240.0
CAMPAIGN_TOPIC_PREFIX = "campaign:"
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


async def send_queued_mail(
    runtime: Runtime, *, account_id: str | None = None, limit: int = BATCH_SIZE
) -> int:
    """Send what is due now, service mail first, and return how many went out (at most `limit`).

    For the moments after a response and a Durable Object's alarm: it waits for the shared
    rate at most `FLUSH_SECONDS` and leaves the rest to the cron. With `account_id`, only
    that account's service mail is sent.
    """
    return await _drain(runtime, account_id=account_id, limit=limit, budget_seconds=FLUSH_SECONDS)


async def drain_mail(runtime: Runtime, *, budget_seconds: float = CRON_DRAIN_SECONDS) -> int:
    """Send everything due, both lanes, paced by the shared rate, for up to `budget_seconds`.

    Stops early when the queue is empty or the provider asks to slow down (429); then forgets
    what the queue no longer needs. Returns how many emails went out.
    """
    sent = await _drain(runtime, account_id=None, limit=None, budget_seconds=budget_seconds)
    await _tidy(runtime)
    return sent


@dataclass(frozen=True)
class TopicCounts:
    """What became of a bulk send's emails (`mail_topics`)."""

    queued: int = 0
    sent: int = 0
    failed: int = 0
    bounced: int = 0
    withheld: int = 0
    unsubscribed: int = 0


def recount_queued_statement(db: Database, topic: str) -> Statement:
    """Set the topic's `queued` to the number of its queue rows, for the batch that queued them.

    Run it while the rows are there: sent rows are deleted after `KEEP_SENT_SECONDS`.
    """
    return db.prepare(
        "INSERT INTO mail_topics (topic, queued)"
        " VALUES (?, (SELECT COUNT(*) FROM mail_queue WHERE topic = ?))"
        " ON CONFLICT (topic) DO UPDATE SET queued = excluded.queued"
    ).bind(topic, topic)


async def topic_counts(db: Database, topic: str) -> TopicCounts:
    """The topic's counts; all zero for a topic nothing was queued under."""
    row = await (
        db.prepare(
            "SELECT queued, sent, failed, bounced, withheld, unsubscribed FROM mail_topics"
            " WHERE topic = ?"
        )
        .bind(topic)
        .first()
    )
    if row is None:
        return TopicCounts()
    return TopicCounts(**{name: int(value) for name, value in row.items()})


def count_statement(db: Database, topic: str, column: str, by: int = 1) -> Statement:
    """Add `by` to one of the topic's counters (a `TopicCounts` field name), for a batch."""
    if column not in TopicCounts.__dataclass_fields__:
        raise ValueError(f"{column!r} is not a topic counter; use a TopicCounts field name.")
    return db.prepare(
        f"INSERT INTO mail_topics (topic, {column}) VALUES (?, ?)"  # noqa: S608 (a field name checked above)
        f" ON CONFLICT (topic) DO UPDATE SET {column} = {column} + excluded.{column}"
    ).bind(topic, by)


def backoff_seconds(attempts: int) -> float:
    """How long a message waits after its `attempts`-th failed try: 30 s, 2 min, 8 min, ..."""
    return min(RETRY_BASE_SECONDS * float(4 ** max(attempts - 1, 0)), RETRY_MAX_SECONDS)


@dataclass
class _Round:
    """What one round of sending did, recorded in one batch at its end."""

    statements: list[Statement] = field(default_factory=list)
    sent: int = 0
    unsent: list[str] = field(default_factory=list)
    retry_after: float | None = None


async def _drain(
    runtime: Runtime, *, account_id: str | None, limit: int | None, budget_seconds: float
) -> int:
    db, clock = runtime.db, runtime.clock
    rate = SendRate.of(runtime.settings.mail_rate_per_second)
    deadline = clock.now() + budget_seconds
    sent = 0
    while limit is None or sent < limit:
        wanted = min(
            rate.per_window, CLAIM_BATCH, limit - sent if limit is not None else CLAIM_BATCH
        )
        rows = await _claim_due(runtime, wanted=wanted, account_id=account_id)
        if not rows:
            break
        allowed = [row for row in rows if row["allowed"]]
        slots = (
            await take_slots(db, rate, wanted=len(allowed), now=clock.now()) if allowed else None
        )
        granted = slots.granted if slots is not None else 0
        round_ = _Round()
        for row in rows:
            if not row["allowed"]:
                _withhold(runtime, row, round_)
        for index, row in enumerate(allowed):
            if (
                index >= granted
                or round_.retry_after is not None
                or (slots is not None and clock.now() >= slots.usable_until)
            ):
                round_.unsent.append(str(row["id"]))
                continue
            await _send_one(runtime, row, round_)
        if round_.unsent:
            round_.statements.append(_release_statement(db, round_.unsent))
        if round_.statements:
            await db.batch(round_.statements)
        sent += round_.sent
        if round_.retry_after is not None:
            await hold_off(db, rate, until=clock.now() + round_.retry_after)
            break
        if len(rows) < wanted and not round_.unsent:
            break  # that was all that is due
        if slots is not None and (round_.unsent or slots.left == 0):
            # The window is spent: wait for the next one, within the budget.
            if slots.retry_at > deadline:
                break
            before = clock.now()
            await asyncio.sleep(max(slots.retry_at - before, 0))
            if clock.now() == before:
                break  # a clock that does not move (tests) would have this wait forever
    return sent


async def _claim_due(runtime: Runtime, *, wanted: int, account_id: str | None) -> list[Row]:
    """Take up to `wanted` due messages for this sender; two racing senders never share one.

    Marketing email says whether its account still allows it (`allowed`), checked here, in
    the same statement that takes it.
    """
    now = runtime.clock.now()
    expired = now - runtime.settings.mail_claim_seconds
    only = " AND account_id = ? AND priority = ?" if account_id is not None else ""
    only_params: tuple[SqlValue, ...] = (account_id, SERVICE) if account_id is not None else ()
    due = "sent_at IS NULL AND failed_at IS NULL AND (claimed_at IS NULL OR claimed_at <= ?)"
    result = await (
        runtime.db.prepare(
            "UPDATE mail_queue SET claimed_at = ?, attempts = attempts + 1"  # noqa: S608 (constant SQL)
            " WHERE id IN (SELECT id FROM mail_queue"
            f" WHERE {due} AND next_attempt_at <= ? AND attempts < ?{only}"
            " ORDER BY priority, next_attempt_at, created_at LIMIT ?)"
            f" AND {due}"
            " RETURNING id, recipient, subject, body, html, headers, kind, account_id, topic,"
            " priority, created_at,"
            " link_account_id, link_purpose, attempts,"
            " (kind <> 'marketing' OR EXISTS (SELECT 1 FROM accounts a"
            f" WHERE a.id = mail_queue.account_id AND {MARKETING_ALLOWED_SQL})) AS allowed"
        )
        .bind(now, expired, now, MAX_ATTEMPTS, *only_params, wanted, expired)
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


async def _send_one(runtime: Runtime, row: Row, round_: _Round) -> None:
    """Send one claimed message and add what became of it to the round's batch."""
    db, now = runtime.db, runtime.clock.now()
    message_id = str(row["id"])
    replacements: dict[str, str] = {}
    if row["link_account_id"] is not None:
        token = link_token(runtime.settings.app_secret, message_id)
        await _issue_link_token(db, row, token=token, now=now)
        replacements[LINK_TOKEN_MARK] = token
    if row["account_id"] is not None:
        replacements[UNSUBSCRIBE_MARK] = unsubscribe_url(
            runtime.settings, str(row["account_id"]), campaign_id=campaign_of(row["topic"])
        )
    message = _message_of(row, replacements)
    topic = row["topic"]
    try:
        provider_id = await runtime.mailer.send(message)
    except MailRateLimited as exc:
        # Not this message's fault: its try is given back and it goes in a later window.
        round_.retry_after = exc.retry_after
        round_.unsent.append(message_id)
        return
    except MailError as exc:
        # Kept for the next attempt and for operators; given up on after MAX_ATTEMPTS.
        attempts = int(str(row["attempts"]))
        gives_up = attempts >= MAX_ATTEMPTS
        round_.statements.append(
            db.prepare(
                "UPDATE mail_queue SET last_error = ?, claimed_at = NULL, next_attempt_at = ?,"
                " failed_at = ? WHERE id = ?"
            ).bind(
                str(exc)[:500],
                now + backoff_seconds(attempts),
                now if gives_up else None,
                message_id,
            )
        )
        if gives_up and topic is not None:
            round_.statements.append(count_statement(db, str(topic), "failed"))
        return
    round_.statements.append(
        db.prepare(
            "UPDATE mail_queue SET sent_at = ?, provider_id = ?, body = '', html = '',"
            " headers = '{}', last_error = NULL,"
            " recipient = CASE forget_recipient WHEN 1 THEN '' ELSE recipient END,"
            " subject = CASE forget_recipient WHEN 1 THEN '' ELSE subject END WHERE id = ?"
        ).bind(runtime.clock.now(), provider_id or None, message_id)
    )
    if topic is not None:
        round_.statements.append(count_statement(db, str(topic), "sent"))
    round_.sent += 1


def _withhold(runtime: Runtime, row: Row, round_: _Round) -> None:
    """A marketing email whose account withdrew its consent (or objected) before its turn."""
    db = runtime.db
    round_.statements.append(
        db.prepare(
            "UPDATE mail_queue SET failed_at = ?, last_error = 'withheld', body = '', html = '',"
            " headers = '{}' WHERE id = ?"
        ).bind(runtime.clock.now(), str(row["id"]))
    )
    if row["topic"] is not None:
        round_.statements.append(count_statement(db, str(row["topic"]), "withheld"))


def _release_statement(db: Database, message_ids: list[str]) -> Statement:
    """Give claimed messages back untried (no slot was left for them), their try not counted."""
    marks = ", ".join("?" for _ in message_ids)
    return db.prepare(
        "UPDATE mail_queue SET claimed_at = NULL, attempts = attempts - 1"  # noqa: S608 (placeholders only)
        f" WHERE id IN ({marks}) AND sent_at IS NULL"
    ).bind(*message_ids)


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


def campaign_of(topic: SqlValue) -> str | None:
    """The campaign a queue row's topic names (`campaign:<id>`), if it names one."""
    if isinstance(topic, str) and topic.startswith(CAMPAIGN_TOPIC_PREFIX):
        return topic[len(CAMPAIGN_TOPIC_PREFIX) :]
    return None


def _number(value: SqlValue) -> float:
    return float(value) if isinstance(value, int | float) else 0.0


async def _tidy(runtime: Runtime) -> None:
    """Fail what crashed senders left past its attempts; forget what the queue no longer needs.

    Sent rows, the rows of requests that mailed nothing, and messages given up on all go after
    `KEEP_SENT_SECONDS`: the queue keeps no address or text longer than it needs them.
    """
    db, now = runtime.db, runtime.clock.now()
    abandoned = await (
        db.prepare(
            "UPDATE mail_queue SET failed_at = ?, last_error = COALESCE(last_error, 'interrupted')"
            " WHERE sent_at IS NULL AND failed_at IS NULL AND attempts >= ?"
            " AND (claimed_at IS NULL OR claimed_at <= ?) RETURNING topic"
        )
        .bind(now, MAX_ATTEMPTS, now - runtime.settings.mail_claim_seconds)
        .all()
    )
    statements = [
        count_statement(db, str(row["topic"]), "failed")
        for row in abandoned.results
        if row["topic"] is not None
    ]
    statements.append(
        db.prepare(
            "DELETE FROM mail_queue WHERE created_at < ?"
            " AND (sent_at IS NOT NULL OR failed_at IS NOT NULL OR attempts >= ?)"
        ).bind(now - KEEP_SENT_SECONDS, MAX_ATTEMPTS)
    )
    await db.batch(statements)
