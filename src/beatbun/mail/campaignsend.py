"""Sending campaigns: a test to the operator's own address, and the batches to readers.

Sending queues, on each cron run, the next `BATCH_ACCOUNTS` accounts in id order past the
campaign's `queued_through`: one INSERT…SELECT per language that picks only accounts allowed
marketing, the campaign's progress and its `queued` count moving in the same D1 batch. A run
that dies before the batch commits leaves nothing; one that dies after it finds the batch done;
and the idempotency key `campaign:<id>:<account>` keeps even a replayed batch from mailing
anyone twice. The sender checks each reader's consent once more (`mail.drain`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from beatbun.accounts.models import Account
from beatbun.accounts.tokens import new_id
from beatbun.errors import NotFound, TooManyRequests
from beatbun.i18n import DEFAULT_LANGUAGE, N_, translate
from beatbun.mail import mailqueue, topics
from beatbun.mail.campaigns import Campaign, CampaignText, compose_campaign, get_campaign
from beatbun.mail.marketingrules import MARKETING_ALLOWED_SQL, MARKETING_KIND, unsubscribe_url
from beatbun.runtime.base import MailMessage, Runtime, SqlValue, Statement

BATCH_ACCOUNTS = 1000
TEST_KIND = "campaign_test"
# Test sends per operator per hour: enough to check every language a few times.
TESTS_PER_HOUR = 20


async def send_test(
    runtime: Runtime, campaign: Campaign, *, operator: Account, language: str
) -> None:
    """Queue the campaign's `language` email to the operator's own address, in the service
    lane and outside the campaign's counts. NotFound for a language the campaign lacks;
    TooManyRequests past `TESTS_PER_HOUR`."""
    text = campaign.text_for(language)
    if text is None:
        raise NotFound(
            N_("Campaign '%(id)s' has no text in '%(language)s'."),
            params={"id": campaign.id, "language": language},
        )
    now = runtime.clock.now()
    message = compose_campaign(
        text, settings=runtime.settings, unsubscribe=unsubscribe_url(runtime.settings, operator.id)
    )
    message_id = new_id()
    result = await mailqueue.enqueue_statement(
        runtime.db,
        message_id=message_id,
        key=f"{TEST_KIND}:{campaign.id}:{message_id}",
        message=MailMessage(
            to=operator.email,
            subject=translate(language, N_("[Test] %(subject)s"), {"subject": text.subject}),
            text=message.text,
            html=message.html,
            headers=message.headers,
        ),
        now=now,
        only_if=(
            "(SELECT COUNT(*) FROM mail_queue WHERE account_id = ? AND kind = ?"
            " AND created_at > ?) < ?"
        ),
        only_if_params=(operator.id, TEST_KIND, now - 3600.0, TESTS_PER_HOUR),
        kind=TEST_KIND,
        account_id=operator.id,
    ).run()
    if result.meta.changes == 0:
        raise TooManyRequests(
            N_("You sent %(count)s test emails within the hour. Try again later."),
            code="campaign_tests_limited",
            params={"count": TESTS_PER_HOUR},
        )


async def queue_campaign_batches(runtime: Runtime) -> int:
    """Queue the next batch of every campaign being sent; how many emails were queued."""
    rows = (
        await runtime.db.prepare(
            "SELECT id FROM campaigns WHERE status = 'sending' ORDER BY send_started_at"
        ).all()
    ).results
    queued = 0
    for row in rows:
        queued += await _queue_batch(runtime, await get_campaign(runtime.db, str(row["id"])))
    return queued


async def _queue_batch(runtime: Runtime, campaign: Campaign) -> int:
    db, now = runtime.db, runtime.clock.now()
    # The batch's last account, or None when fewer than a batch are left: the final batch.
    bound = await (
        db.prepare("SELECT id FROM accounts WHERE id > ? ORDER BY id LIMIT 1 OFFSET ?")
        .bind(campaign.queued_through, BATCH_ACCOUNTS - 1)
        .first("id")
    )
    upper = None if bound is None else str(bound)
    others = [text.language for text in campaign.texts if text.language != DEFAULT_LANGUAGE]
    statements = [
        _insert_statement(runtime, campaign, text, upper=upper, others=others, now=now)
        for text in campaign.texts
    ]
    results = await db.batch(
        [
            *statements,
            db.prepare(
                "UPDATE campaigns SET updated_at = ?,"
                " queued_through = COALESCE(?, (SELECT MAX(id) FROM accounts), queued_through),"
                " status = CASE WHEN ? IS NULL THEN 'sent' ELSE status END,"
                " send_finished_at = CASE WHEN ? IS NULL THEN ? END"
                " WHERE id = ? AND status = 'sending' AND queued_through = ?"
            ).bind(now, upper, upper, upper, now, campaign.id, campaign.queued_through),
            topics.recount_queued_statement(db, campaign.topic),
        ]
    )
    return sum(result.meta.changes for result in results[: len(statements)])


def _insert_statement(
    runtime: Runtime,
    campaign: Campaign,
    text: CampaignText,
    *,
    upper: str | None,
    others: Sequence[str],
    now: float,
) -> Statement:
    """One language's INSERT…SELECT for the batch of accounts after `queued_through` up to
    `upper`: readers whose language is `text`'s, or (English) any without a text of its own."""
    message = compose_campaign(text, settings=runtime.settings)
    language_params: tuple[SqlValue, ...] = ()
    if text.language == DEFAULT_LANGUAGE:
        marks = ", ".join("?" for _ in others)
        language_sql = f"COALESCE(p.language, ?) NOT IN ({marks})" if others else "1"
        language_params = (DEFAULT_LANGUAGE, *others) if others else ()
    else:
        language_sql = "COALESCE(p.language, ?) = ?"
        language_params = (DEFAULT_LANGUAGE, text.language)
    return runtime.db.prepare(
        "INSERT OR IGNORE INTO mail_queue (id, idempotency_key, recipient, subject, body, html,"  # noqa: S608 (constant SQL)
        " headers, created_at, kind, account_id, priority, topic)"
        " SELECT lower(hex(randomblob(16))), ? || a.id, a.email, ?, ?, ?, ?, ?, ?, a.id, ?, ?"
        " FROM accounts a LEFT JOIN account_preferences p ON p.account_id = a.id"
        f" WHERE a.id > ? AND (? IS NULL OR a.id <= ?) AND {MARKETING_ALLOWED_SQL}"
        f" AND {language_sql} AND EXISTS (SELECT 1 FROM campaigns"
        " WHERE id = ? AND status = 'sending' AND queued_through = ?)"
    ).bind(
        f"{campaign.topic}:",
        message.subject,
        message.text,
        message.html,
        json.dumps(dict(message.headers)),
        now,
        MARKETING_KIND,
        mailqueue.BULK,
        campaign.topic,
        campaign.queued_through,
        upper,
        upper,
        *language_params,
        campaign.id,
        campaign.queued_through,
    )
