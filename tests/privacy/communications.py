"""An account's emails, consent to news and offers, policy notices, sign-in devices and support
requests, written straight into the tables of migration 0041, for the export and erasure tests."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from beatbun.mail.mailqueue import BULK, MAX_ATTEMPTS
from beatbun.privacy.exportdata import WITHHELD
from beatbun.runtime.base import Runtime, Statement

FORMER_ADDRESS = "before@example.com"
DEVICE = "Firefox on Windows"
CONSENT_IP = "198.51.100.7"
CONSENT_AGENT = "Mozilla/5.0 (Windows NT 10.0; rv:133.0) Gecko/20100101 Firefox/133.0"
# A customer message with what a page must escape and lines it must keep.
QUESTION = "My track <b>stops</b> halfway.\nCan you look?"
ANSWER = "We found the cause and made it again for you."


@dataclass(frozen=True)
class Communications:
    ticket_id: str
    number: int
    campaign_id: str


def _id() -> str:
    return uuid.uuid4().hex


async def fill_communications(
    runtime: Runtime,
    *,
    account_id: str,
    email: str,
    operator_id: str | None = None,
    unsent: bool = True,
) -> Communications:
    """One row or more in each table of the account's communications.

    The support ticket has the customer's question and an operator's answer (by
    `operator_id`); the campaign whose unsubscribe link the account used is written by
    `operator_id` too. Without `unsent`, the emails are only those no sender would take.
    """
    db, now = runtime.db, runtime.clock.now()
    ticket_id, campaign_id = _id(), _id()
    statements = [
        db.prepare(
            "INSERT INTO campaigns (id, name, created_by, status, created_at, updated_at)"
            " VALUES (?, 'Autumn news', ?, 'sent', ?, ?)"
        ).bind(campaign_id, operator_id, now - 3000, now - 3000),
        db.prepare(
            "INSERT INTO campaign_texts (campaign_id, language, subject, body_markdown)"
            " VALUES (?, 'en', 'New genres this autumn', 'Try **lo-fi**.')"
        ).bind(campaign_id),
        db.prepare("UPDATE accounts SET marketing_opt_in_at = ? WHERE id = ?").bind(
            int(now - 5000), account_id
        ),
        *(
            db.prepare(
                "INSERT INTO marketing_consents (id, account_id, email, action, source,"
                " wording_version, campaign_id, ip, user_agent, recorded_at)"
                " VALUES (?, ?, ?, ?, ?, '1', ?, ?, ?, ?)"
            ).bind(_id(), account_id, email, action, source, campaign, CONSENT_IP, agent, at)
            for action, source, campaign, agent, at in (
                ("requested", "email_settings", None, CONSENT_AGENT, now - 6000),
                ("confirmed", "confirmation_link", None, CONSENT_AGENT, now - 5000),
                ("withdrawn", "one_click", campaign_id, "", now - 1000),
                ("requested", "email_settings", None, CONSENT_AGENT, now - 900),
                ("confirmed", "confirmation_link", None, CONSENT_AGENT, now - 800),
            )
        ),
        db.prepare(
            "INSERT INTO policy_notices (document, version, account_id, notified_at,"
            " acknowledged_at) VALUES ('privacy', '2026-11', ?, ?, ?)"
        ).bind(account_id, now - 4000, now - 2000),
        db.prepare(
            "INSERT INTO sign_in_devices (account_id, device, first_seen_at, last_seen_at)"
            " VALUES (?, ?, ?, ?)"
        ).bind(account_id, DEVICE, now - 7000, now - 100),
        db.prepare(
            "INSERT INTO support_tickets (id, number, account_id, category, subject, status,"
            " language, due_at, created_at, updated_at) SELECT ?,"
            " (SELECT COALESCE(MAX(number), 1000) + 1 FROM support_tickets), ?, 'privacy',"
            " 'Which data do you hold?', 'answered', 'en', ?, ?, ?"
        ).bind(ticket_id, account_id, int(now) + 30 * 86400, now - 600, now - 300),
        db.prepare(
            "INSERT INTO support_messages (id, ticket_id, author, body, created_at)"
            " VALUES (?, ?, 'customer', ?, ?)"
        ).bind(_id(), ticket_id, QUESTION, now - 600),
        db.prepare(
            "INSERT INTO support_messages (id, ticket_id, author, operator_id, body, created_at)"
            " VALUES (?, ?, 'operator', ?, ?, ?)"
        ).bind(_id(), ticket_id, operator_id, ANSWER, now - 300),
        *_emails(
            runtime, account_id=account_id, email=email, campaign_id=campaign_id, unsent=unsent
        ),
    ]
    await db.batch(statements)
    number = await (
        db.prepare("SELECT number FROM support_tickets WHERE id = ?")
        .bind(ticket_id)
        .first("number")
    )
    return Communications(ticket_id=ticket_id, number=int(str(number)), campaign_id=campaign_id)


def _emails(
    runtime: Runtime, *, account_id: str, email: str, campaign_id: str, unsent: bool
) -> list[Statement]:
    """An email in each state the queue knows, one of them sent to a former address."""
    db, now = runtime.db, runtime.clock.now()
    insert = (
        "INSERT INTO mail_queue (id, idempotency_key, recipient, subject, body, created_at,"
        " attempts, sent_at, failed_at, bounced_at, last_error, kind, account_id, priority,"
        " topic) VALUES (?, ?, ?, ?, '', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    )
    topic = f"campaign:{campaign_id}"
    rows = (
        # recipient, subject, attempts, sent, failed, bounced, error, kind, priority, topic
        (FORMER_ADDRESS, "Your email address changed", 1, now - 500, None, None, None,
         "email_changed", 0, None),
        (email, "New genres this autumn", 1, now - 400, None, now - 390, None, "marketing",
         BULK, topic),
        (email, "Last week's news", 0, None, now - 350, None, WITHHELD, "marketing", BULK, topic),
        (email, "Credits running low", MAX_ATTEMPTS, None, now - 200, None, "refused",
         "credits_low", 0, None),
        (email, "Your track will be deleted in 3 days", 0, None, None, None, None,
         "track_expiring_3d", 0, None),
    )  # fmt: skip
    if not unsent:
        rows = tuple(row for row in rows if row[3] is not None or row[2] >= MAX_ATTEMPTS)
    return [
        db.prepare(insert).bind(
            _id(),
            f"test:{_id()}",
            to,
            subject,
            now - 700,
            attempts,
            sent,
            failed,
            bounced,
            error,
            kind,
            account_id,
            priority,
            topic,
        )
        for to, subject, attempts, sent, failed, bounced, error, kind, priority, topic in rows
    ]
