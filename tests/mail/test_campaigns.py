"""Operators' campaigns: drafts, the Markdown email, test sends, and the batches that queue it
only to accounts allowed marketing, once each, whatever crashes in between."""

from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import Sequence

import pytest

from beatbun.accounts.models import Account
from beatbun.errors import Conflict, InvalidFields, NotFound, TooManyRequests
from beatbun.mail import campaigns, campaignsend, drain, topics
from beatbun.mail.campaigns import CampaignText
from beatbun.mail.marketingrules import UNSUBSCRIBE_MARK, unsubscribe_url
from beatbun.runtime.base import Database, QueryResult, Statement
from beatbun_local.runtime import LocalRuntime
from tests.factories import create_verified_account, insert_accounts

ENGLISH = CampaignText("en", "Stems are here", "Hello!\n\nSplit any track into **stems**.")
GERMAN = CampaignText("de", "Stems sind da", "Hallo!\n\nZerlege jeden Track in **Stems**.")


async def _opted_in(runtime: LocalRuntime, email: str, *, language: str | None = None) -> Account:
    """A verified adult who confirmed marketing email (as the double opt-in leaves it)."""
    account = await create_verified_account(runtime, email=email)
    await (
        runtime.db.prepare("UPDATE accounts SET marketing_opt_in_at = 1 WHERE id = ?")
        .bind(account.id)
        .run()
    )
    if language is not None:
        await (
            runtime.db.prepare(
                "INSERT INTO account_preferences (account_id, theme, language, updated_at)"
                " VALUES (?, 'system', ?, 0)"
            )
            .bind(account.id, language)
            .run()
        )
    return account


async def _campaign(runtime: LocalRuntime, *texts: CampaignText) -> str:
    """A draft written by a new operator account (written directly: it never signs in)."""
    operator_id = uuid.uuid4().hex
    await (
        runtime.db.prepare(
            "INSERT INTO accounts (id, email, display_name, birth_date, age_group, password_hash,"
            " created_at, is_admin) VALUES (?, ?, 'Operator', '1980-01-01', 'adult', 'x', 1, 1)"
        )
        .bind(operator_id, f"{operator_id}@operators.example.com")
        .run()
    )
    return await campaigns.create_campaign(
        runtime, operator_id=operator_id, name="Launch", texts=texts or (ENGLISH,)
    )


async def _queued(runtime: LocalRuntime, topic: str) -> list[dict[str, object]]:
    rows = (
        await runtime.db.prepare(
            "SELECT q.* FROM mail_queue q JOIN accounts a"
            " ON a.id = q.account_id WHERE q.topic = ? ORDER BY a.email"
        )
        .bind(topic)
        .all()
    )
    return [dict(row) for row in rows.results]


async def _send_all(runtime: LocalRuntime, campaign_id: str) -> None:
    await campaigns.start_sending(runtime, campaign_id)
    while (await campaigns.get_campaign(runtime.db, campaign_id)).status == "sending":
        await campaignsend.queue_campaign_batches(runtime)


async def test_batches_queue_only_accounts_allowed_marketing(runtime: LocalRuntime) -> None:
    allowed = await _opted_in(runtime, "yes@example.com")
    await create_verified_account(runtime, email="never-asked@example.com")
    refused = {
        "objects@example.com": "objects_to_marketing = 1",
        "restricted@example.com": "restricted_at = 1",
        "leaving@example.com": "erasure_due_at = 1",
        "unverified@example.com": "email_verified_at = NULL",
        "teen@example.com": (
            "age_group = 'minor', parent_email = 'parent@example.com', parent_named_at = 1,"
            " parent_consented_at = 1"
        ),
    }
    for email, change in refused.items():
        account = await _opted_in(runtime, email)
        await (
            runtime.db.prepare(f"UPDATE accounts SET {change} WHERE id = ?").bind(account.id).run()
        )
    campaign_id = await _campaign(runtime)
    await _send_all(runtime, campaign_id)
    rows = await _queued(runtime, campaigns.topic_of(campaign_id))
    assert [row["recipient"] for row in rows] == ["yes@example.com"]
    row = rows[0]
    assert (row["kind"], row["priority"], row["account_id"]) == ("marketing", 1, allowed.id)
    assert row["idempotency_key"] == f"campaign:{campaign_id}:{allowed.id}"
    assert json.loads(str(row["headers"])) == {
        "List-Unsubscribe": f"<{UNSUBSCRIBE_MARK}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
    assert UNSUBSCRIBE_MARK in str(row["body"]) and UNSUBSCRIBE_MARK in str(row["html"])
    counts = await topics.topic_counts(runtime.db, campaigns.topic_of(campaign_id))
    assert counts.queued == 1
    finished = await campaigns.get_campaign(runtime.db, campaign_id)
    assert finished.status == "sent" and finished.send_finished_at is not None


async def test_each_reader_gets_their_language_or_english(runtime: LocalRuntime) -> None:
    for email, language in [
        ("de@example.com", "de"),
        ("fr@example.com", "fr"),  # no French text: English
        ("en@example.com", "en"),
        ("none@example.com", None),  # never chose a language: English
    ]:
        await _opted_in(runtime, email, language=language)
    campaign_id = await _campaign(runtime, ENGLISH, GERMAN)
    await _send_all(runtime, campaign_id)
    subjects = {
        row["recipient"]: row["subject"]
        for row in await _queued(runtime, campaigns.topic_of(campaign_id))
    }
    assert subjects == {
        "de@example.com": "Stems sind da",
        "en@example.com": "Stems are here",
        "fr@example.com": "Stems are here",
        "none@example.com": "Stems are here",
    }


class CrashAfterCommit:
    """A database whose `batch` commits, then fails to answer once: the Worker died between."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.crash_on = 2
        self.batches = 0

    def prepare(self, sql: str) -> Statement:
        return self.db.prepare(sql)

    async def batch(self, statements: Sequence[Statement]) -> list[QueryResult]:
        results = await self.db.batch(statements)
        self.batches += 1
        if self.batches == self.crash_on:
            raise RuntimeError("isolate killed")
        return results


async def _insert_opted_in(runtime: LocalRuntime, count: int) -> None:
    """`count` accounts allowed marketing, written directly (signing up hashes a password),
    with ids that sort before every generated one, so batches hold only them."""
    statements = [
        runtime.db.prepare(
            "INSERT INTO accounts (id, email, display_name, birth_date, age_group,"
            " email_verified_at, password_hash, created_at, marketing_opt_in_at)"
            " VALUES (?, ?, 'Reader', '1990-01-01', 'adult', 1, 'x', 1, 1)"
        ).bind(f"0000-{n:06d}", f"reader{n}@example.com")
        for n in range(count)
    ]
    await runtime.db.batch(statements)


async def test_batches_resume_after_a_crash_without_duplicates(runtime: LocalRuntime) -> None:
    await _insert_opted_in(runtime, 2 * campaignsend.BATCH_ACCOUNTS + 300)
    campaign_id = await _campaign(runtime)
    await campaigns.start_sending(runtime, campaign_id)
    crashing = CrashAfterCommit(runtime.db)
    runtime.db = crashing  # type: ignore[assignment]
    try:
        assert await campaignsend.queue_campaign_batches(runtime) == campaignsend.BATCH_ACCOUNTS
        with pytest.raises(RuntimeError, match="isolate killed"):
            await campaignsend.queue_campaign_batches(runtime)
        # The next run goes on after the batch the dead one committed.
        assert await campaignsend.queue_campaign_batches(runtime) == 300
        assert await campaignsend.queue_campaign_batches(runtime) == 0
    finally:
        runtime.db = crashing.db  # type: ignore[assignment]
    topic = campaigns.topic_of(campaign_id)
    rows = await _queued(runtime, topic)
    assert len(rows) == len({row["account_id"] for row in rows}) == 2 * 1000 + 300
    assert (await topics.topic_counts(runtime.db, topic)).queued == 2300
    assert (await campaigns.get_campaign(runtime.db, campaign_id)).status == "sent"


async def test_a_replayed_batch_queues_nobody_twice(runtime: LocalRuntime) -> None:
    await _insert_opted_in(runtime, 50)
    campaign_id = await _campaign(runtime)
    await _send_all(runtime, campaign_id)
    # As if the progress had been lost: the whole batch runs again.
    await (
        runtime.db.prepare(
            "UPDATE campaigns SET status = 'sending', queued_through = '' WHERE id = ?"
        )
        .bind(campaign_id)
        .run()
    )
    assert await campaignsend.queue_campaign_batches(runtime) == 0
    assert len(await _queued(runtime, campaigns.topic_of(campaign_id))) == 50


def test_markdown_is_rendered_and_typed_html_escaped(runtime: LocalRuntime) -> None:
    text = CampaignText(
        "en",
        "News",
        "<script>alert(1)</script> **New:** [stems](https://example.com/a?b=1&c=2)"
        "\n\n[bad](javascript:alert(1))",
    )
    message = campaigns.compose_campaign(text, settings=runtime.settings)
    assert (
        "<script>" not in message.html and "&lt;script&gt;alert(1)&lt;/script&gt;" in message.html
    )
    assert "<strong>New:</strong>" in message.html
    assert '<a href="https://example.com/a?b=1&amp;c=2">stems</a>' in message.html
    assert 'href="javascript' not in message.html
    # The text version is the Markdown as typed, then the footer.
    assert message.text.startswith(text.body_markdown + "\n\n-- \n")
    assert "turned on product updates and offers" in message.text
    assert f"Unsubscribe: {UNSUBSCRIBE_MARK}" in message.text
    assert f'href="{UNSUBSCRIBE_MARK}"' in message.html
    assert f"{runtime.settings.public_url}/account/email" in message.text


def test_the_footer_is_in_the_text_s_language(runtime: LocalRuntime) -> None:
    message = campaigns.compose_campaign(GERMAN, settings=runtime.settings)
    assert '<html lang="de">' in message.html and "<title>Stems sind da</title>" in message.html


@pytest.mark.parametrize(
    ("values", "fields"),
    [
        ({"name": "", "subject_en": "", "body_en": ""}, ["name", "subject_en", "body_en"]),
        # A language is optional, but half a text is a mistake.
        ({"name": "A", "subject_en": "S", "body_en": "B", "subject_de": "S"}, ["body_de"]),
        ({"name": "A", "subject_en": "S\nBcc: x", "body_en": "B"}, ["subject_en"]),
        ({"name": "A" * 121, "subject_en": "S", "body_en": "B" * 20_001}, ["name", "body_en"]),
    ],
)
def test_draft_with_wrong_fields_is_refused_field_by_field(
    values: dict[str, str], fields: list[str]
) -> None:
    with pytest.raises(InvalidFields) as refused:
        campaigns.parse_draft(values)
    assert [problem.field for problem in refused.value.problems] == fields


@pytest.mark.parametrize("line_break", ["\r", "\v", "\f", "\x1c", "\x85", "\u2028", "\u2029"])
def test_a_subject_with_any_line_break_is_refused(line_break: str) -> None:
    values = {"name": "A", "subject_en": f"News{line_break}Bcc: x@example.com", "body_en": "B"}
    with pytest.raises(InvalidFields) as refused:
        campaigns.parse_draft(values)
    assert [problem.field for problem in refused.value.problems] == ["subject_en"]


def test_draft_keeps_only_languages_with_a_text() -> None:
    name, texts = campaigns.parse_draft(
        {"name": " Launch ", "subject_en": "S", "body_en": "B", "subject_fr": "", "body_fr": ""}
    )
    assert name == "Launch" and texts == (CampaignText("en", "S", "B"),)


async def test_draft_can_be_edited_until_it_is_sent(runtime: LocalRuntime) -> None:
    campaign_id = await _campaign(runtime)
    await campaigns.update_campaign(runtime, campaign_id, name="Renamed", texts=(ENGLISH, GERMAN))
    campaign = await campaigns.get_campaign(runtime.db, campaign_id)
    assert campaign.name == "Renamed" and campaign.texts == (ENGLISH, GERMAN)
    await campaigns.start_sending(runtime, campaign_id)
    with pytest.raises(Conflict) as refused:
        await campaigns.update_campaign(runtime, campaign_id, name="Late", texts=(ENGLISH,))
    assert refused.value.code == "campaign_sent"
    assert (await campaigns.get_campaign(runtime.db, campaign_id)).texts == (ENGLISH, GERMAN)
    with pytest.raises(Conflict):
        await campaigns.start_sending(runtime, campaign_id)
    with pytest.raises(NotFound):
        await campaigns.update_campaign(runtime, "nope", name="X", texts=(ENGLISH,))


async def test_test_send_goes_to_the_operator_outside_the_counts(runtime: LocalRuntime) -> None:
    operator = await create_verified_account(runtime, email="operator@example.com")
    campaign = await campaigns.get_campaign(runtime.db, await _campaign(runtime, ENGLISH, GERMAN))
    await campaignsend.send_test(runtime, campaign, operator=operator, language="de")
    row = await runtime.db.prepare("SELECT * FROM mail_queue WHERE kind = 'campaign_test'").first()
    assert row is not None
    assert (row["recipient"], row["priority"], row["topic"]) == ("operator@example.com", 0, None)
    assert row["subject"] == "[Test] Stems sind da"
    assert unsubscribe_url(runtime.settings, operator.id) in str(row["body"])
    assert await topics.topic_counts(runtime.db, campaign.topic) == topics.TopicCounts()
    with pytest.raises(NotFound):
        await campaignsend.send_test(runtime, campaign, operator=operator, language="fr")


async def test_test_sends_are_limited_per_hour(runtime: LocalRuntime) -> None:
    operator = await create_verified_account(runtime, email="operator@example.com")
    campaign = await campaigns.get_campaign(runtime.db, await _campaign(runtime))
    for _ in range(campaignsend.TESTS_PER_HOUR):
        await campaignsend.send_test(runtime, campaign, operator=operator, language="en")
    with pytest.raises(TooManyRequests) as refused:
        await campaignsend.send_test(runtime, campaign, operator=operator, language="en")
    assert refused.value.code == "campaign_tests_limited"


async def test_sending_needs_the_english_text(runtime: LocalRuntime) -> None:
    campaign_id = await _campaign(runtime, GERMAN)
    with pytest.raises(Conflict) as refused:
        await campaigns.start_sending(runtime, campaign_id)
    assert refused.value.code == "campaign_incomplete"


async def test_queued_campaign_is_sent_with_each_reader_s_own_unsubscribe_link(
    runtime: LocalRuntime,
) -> None:
    reader = await _opted_in(runtime, "reader@example.com")
    leaver = await _opted_in(runtime, "leaver@example.com")
    campaign_id = await _campaign(runtime)
    await _send_all(runtime, campaign_id)
    # Consent withdrawn after queueing: the sender checks again and withholds it.
    await (
        runtime.db.prepare("UPDATE accounts SET marketing_opt_in_at = NULL WHERE id = ?")
        .bind(leaver.id)
        .run()
    )
    # The two sign-ups' verification links, and one campaign email.
    assert await drain.drain_mail(runtime, budget_seconds=5) == 3
    [message] = [m for m in runtime.mailer.messages() if m.subject == ENGLISH.subject]
    assert message.to == "reader@example.com"
    link = unsubscribe_url(runtime.settings, reader.id, campaign_id=campaign_id)
    assert dict(message.headers)["List-Unsubscribe"] == f"<{link}>"
    assert link in message.text and link in message.html and UNSUBSCRIBE_MARK not in message.html
    counts = await topics.topic_counts(runtime.db, campaigns.topic_of(campaign_id))
    assert (counts.queued, counts.sent, counts.withheld) == (2, 1, 1)


async def test_counting_recipients_reads_only_opted_in_accounts(runtime: LocalRuntime) -> None:
    await insert_accounts(runtime, count=2000, created_at=1, prefix="plain")
    await _opted_in(runtime, "reader@example.com")
    steps = Counter[str]()

    def count_step() -> int:
        steps["vm"] += 1
        return 0

    # SQLite's own count of the work a query does, every 100 virtual machine instructions.
    connection = runtime.db._connection  # the local D1's SQLite, for its counter
    connection.set_progress_handler(count_step, 100)
    try:
        assert await campaigns.count_recipients(runtime.db) == 1
    finally:
        connection.set_progress_handler(None, 100)
    # Reading 2,000 accounts takes thousands of steps; the one opted in, a handful.
    assert steps["vm"] < 5


async def test_every_campaign_s_counts_come_in_one_query(
    runtime: LocalRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _opted_in(runtime, "reader@example.com")
    first, second, draft = [await _campaign(runtime) for _ in range(3)]
    for campaign_id in (first, second):
        await _send_all(runtime, campaign_id)
    await runtime.db.prepare(
        "INSERT INTO mail_topics (topic, queued) VALUES ('policy:terms-2.0', 9)"
    ).run()
    queries: list[str] = []
    prepare = runtime.db.prepare

    def counted(sql: str) -> Statement:
        queries.append(sql)
        return prepare(sql)

    monkeypatch.setattr(runtime.db, "prepare", counted)
    counts = await campaigns.sent_counts(runtime.db)
    assert len(queries) == 1
    assert counts == {
        first: topics.TopicCounts(queued=1),
        second: topics.TopicCounts(queued=1),
    }
    assert draft not in counts
