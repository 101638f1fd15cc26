"""Emailing every existing account about significant policy changes: one email per account."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest

from beatbun.mail.drain import drain_mail
from beatbun.mail.mailqueue import BULK
from beatbun.mail.topics import topic_counts
from beatbun.policies.announcements import BATCH_ACCOUNTS, announce_policy_changes
from beatbun.policies.versions import History, PolicyVersion
from beatbun.runtime.base import MailMessage, Row
from beatbun_local.runtime import LocalRuntime
from tests.factories import create_verified_account, insert_accounts
from tests.fakes import ManualClock


def _at(day: str) -> float:
    return datetime.fromisoformat(day).replace(tzinfo=UTC).timestamp()


BEFORE = _at("2027-01-01")
BETWEEN = _at("2027-01-09")  # after the privacy and cookie changes, before the terms'
AFTER = _at("2027-01-12")
PRIVACY_3 = PolicyVersion(
    version="3.0", effective="2027-01-05", summary="Emails are described.", significant=True
)
COOKIES_2 = PolicyVersion(
    version="c2", effective="2027-01-08", summary="Stripe's cookies.", significant=True
)
TERMS_2 = PolicyVersion(
    version="2.0", effective="2027-01-10", summary="Tracks are kept longer.", significant=True
)
MINOR = PolicyVersion(
    version="1.1", effective="2027-01-03", summary="Clearer wording.", significant=False
)
FIRST = PolicyVersion(version="1.0", effective="2026-01-01", summary="First.", significant=False)
HISTORY: History = {
    "privacy": (PRIVACY_3, FIRST),
    "cookies": (COOKIES_2, FIRST),
    "terms": (TERMS_2, MINOR, FIRST),
}
ALL_THREE = "policy:cookies-c2+privacy-3.0+terms-2.0"
# Only the terms change significantly.
TERMS_ONLY: History = {"privacy": (FIRST,), "cookies": (FIRST,), "terms": (TERMS_2, MINOR, FIRST)}


async def _queued(runtime: LocalRuntime) -> list[Row]:
    return (
        await runtime.db.prepare(
            "SELECT account_id, recipient, topic, kind, priority, html FROM mail_queue"
            " WHERE kind = 'policy' ORDER BY account_id"
        ).all()
    ).results


async def _notified(runtime: LocalRuntime) -> dict[str, list[str]]:
    """The accounts told about each `<document>:<version>`, in id order."""
    rows = (
        await runtime.db.prepare(
            "SELECT document, version, account_id FROM policy_notices"
            " WHERE notified_at IS NOT NULL ORDER BY document, version, account_id"
        ).all()
    ).results
    told: dict[str, list[str]] = {}
    for row in rows:
        told.setdefault(f"{row['document']}:{row['version']}", []).append(str(row["account_id"]))
    return told


async def _policy_mails(runtime: LocalRuntime, to: str) -> list[MailMessage]:
    """The policy notices sent to `to` (not its sign-up mail)."""
    await drain_mail(runtime)
    return [m for m in runtime.mailer.messages() if m.to == to and "Read the whole" in m.text]


async def _reader_told(
    runtime: LocalRuntime, clock: ManualClock, history: History
) -> tuple[MailMessage, str]:
    """The one policy notice sent to an account made before the changes, and the site's URL."""
    clock.advance(BEFORE - clock.now())
    account = await create_verified_account(runtime, email="reader@example.com")
    clock.advance(AFTER - clock.now())
    await announce_policy_changes(runtime, history=history)
    (message,) = await _policy_mails(runtime, account.email)
    return message, runtime.settings.public_url


async def test_every_account_gets_one_email_listing_all_changes_across_batches(
    runtime: LocalRuntime, clock: ManualClock
) -> None:
    accounts = await insert_accounts(runtime, count=1_203, created_at=BEFORE)
    clock.advance(AFTER - clock.now())

    counts = [await announce_policy_changes(runtime, history=HISTORY) for _ in range(4)]

    assert counts == [BATCH_ACCOUNTS, BATCH_ACCOUNTS, 203, 0]
    rows = await _queued(runtime)
    assert [row["account_id"] for row in rows] == accounts
    assert {row["recipient"] for row in rows} == {f"{a}@example.com" for a in accounts}
    assert {(row["topic"], row["kind"], row["priority"]) for row in rows} == {
        (ALL_THREE, "policy", BULK)
    }
    assert await _notified(runtime) == {
        "cookies:c2": accounts,
        "privacy:3.0": accounts,
        "terms:2.0": accounts,
    }
    assert (await topic_counts(runtime.db, ALL_THREE)).queued == 1_203


async def test_an_account_is_told_only_about_changes_after_it_was_created(
    runtime: LocalRuntime, clock: ManualClock
) -> None:
    old = await insert_accounts(runtime, count=2, created_at=BEFORE, prefix="old")
    between = await insert_accounts(runtime, count=2, created_at=BETWEEN, prefix="mid")
    await insert_accounts(runtime, count=2, created_at=AFTER, prefix="new")
    clock.advance(AFTER + 60 - clock.now())

    assert await announce_policy_changes(runtime, history=HISTORY) == 4

    topics = {str(row["account_id"]): row["topic"] for row in await _queued(runtime)}
    assert topics == {
        **dict.fromkeys(between, "policy:terms-2.0"),
        **dict.fromkeys(old, ALL_THREE),
    }
    assert await _notified(runtime) == {
        "cookies:c2": old,
        "privacy:3.0": old,
        "terms:2.0": between + old,
    }
    assert (await topic_counts(runtime.db, "policy:terms-2.0")).queued == 2
    assert (await topic_counts(runtime.db, ALL_THREE)).queued == 2


async def test_a_second_run_queues_nothing_more(runtime: LocalRuntime, clock: ManualClock) -> None:
    await insert_accounts(runtime, count=5, created_at=BEFORE)
    clock.advance(AFTER - clock.now())
    await announce_policy_changes(runtime, history=HISTORY)
    await drain_mail(runtime)  # sent rows stay in the queue, blanked

    assert await announce_policy_changes(runtime, history=HISTORY) == 0
    assert len(await _queued(runtime)) == 5


async def test_the_same_changes_are_never_queued_twice_for_an_account(
    runtime: LocalRuntime, clock: ManualClock
) -> None:
    accounts = await insert_accounts(runtime, count=5, created_at=BEFORE)
    clock.advance(AFTER - clock.now())
    await announce_policy_changes(runtime, history=HISTORY)
    # As if the record of who was told were lost: the idempotency keys still hold.
    await runtime.db.prepare("DELETE FROM policy_notices").run()

    assert await announce_policy_changes(runtime, history=HISTORY) == 0
    assert [row["account_id"] for row in await _queued(runtime)] == accounts
    assert (await _notified(runtime))["terms:2.0"] == accounts


async def test_each_run_is_one_read_and_one_batch(
    runtime: LocalRuntime, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    await insert_accounts(runtime, count=3, created_at=BEFORE, prefix="old")
    await insert_accounts(runtime, count=3, created_at=BETWEEN, prefix="mid")
    await runtime.db.prepare(
        "INSERT INTO account_preferences (account_id, theme, language, updated_at)"
        " VALUES ('old000001', 'system', 'de', 0), ('mid000001', 'system', 'fr', 0)"
    ).run()
    clock.advance(AFTER - clock.now())
    counting = _CountingDatabase(runtime.db)
    monkeypatch.setattr(runtime, "db", counting)

    assert await announce_policy_changes(runtime, history=HISTORY) == 6
    assert counting.calls == Counter({"all": 1, "batch": 1})
    assert await announce_policy_changes(runtime, history=HISTORY) == 0
    assert counting.calls == Counter({"all": 2, "batch": 1})


async def test_unverified_and_erasure_scheduled_accounts_are_not_mailed(
    runtime: LocalRuntime, clock: ManualClock
) -> None:
    unverified, leaving, kept = await insert_accounts(runtime, count=3, created_at=BEFORE)
    await runtime.db.batch(
        [
            runtime.db.prepare("UPDATE accounts SET email_verified_at = NULL WHERE id = ?").bind(
                unverified
            ),
            runtime.db.prepare("UPDATE accounts SET erasure_due_at = ? WHERE id = ?").bind(
                int(AFTER), leaving
            ),
        ]
    )
    clock.advance(AFTER - clock.now())

    assert await announce_policy_changes(runtime, history=HISTORY) == 1
    assert [row["account_id"] for row in await _queued(runtime)] == [kept]
    told = await _notified(runtime)
    assert told == {key: [kept] for key in ("cookies:c2", "privacy:3.0", "terms:2.0")}


async def test_only_the_newest_significant_version_is_announced(
    runtime: LocalRuntime, clock: ManualClock
) -> None:
    await insert_accounts(runtime, count=2, created_at=BEFORE)
    newer = PolicyVersion(version="3.0", effective="2027-01-11", summary="New.", significant=True)
    history: History = {**TERMS_ONLY, "terms": (newer, TERMS_2, MINOR, FIRST)}
    clock.advance(AFTER - clock.now())

    assert await announce_policy_changes(runtime, history=history) == 2
    assert {row["topic"] for row in await _queued(runtime)} == {"policy:terms-3.0"}


async def test_the_email_lists_every_pending_change_in_the_account_language(
    runtime: LocalRuntime, clock: ManualClock
) -> None:
    message, url = await _reader_told(runtime, clock, HISTORY)

    assert message.subject == "Beat Bun: updates to our policies"
    for entry in (
        "Privacy policy, version 3.0, effective 2027-01-05\nWhat changes: Emails are described."
        f"\nRead the whole document: {url}/privacy",
        "Cookie policy, version c2, effective 2027-01-08\nWhat changes: Stripe's cookies."
        f"\nRead the whole document: {url}/cookies",
        "Terms of service, version 2.0, effective 2027-01-10\nWhat changes: Tracks are kept"
        f" longer.\nRead the whole document: {url}/terms",
    ):
        assert entry in message.text
    assert 'lang="en"' in message.html and "<html" in message.html
    for text in ("Emails are described.", "Stripe&#39;s cookies.", "Tracks are kept longer."):
        assert text in message.html


async def test_one_change_keeps_the_document_subject(
    runtime: LocalRuntime, clock: ManualClock
) -> None:
    message, _ = await _reader_told(runtime, clock, TERMS_ONLY)

    assert message.subject == "Beat Bun: terms of service update"
    assert "Terms of service, version 2.0, effective 2027-01-10" in message.text
    assert "Privacy policy" not in message.text


async def test_accounts_are_grouped_by_language(runtime: LocalRuntime, clock: ManualClock) -> None:
    english, german = await insert_accounts(runtime, count=2, created_at=BEFORE)
    await (
        runtime.db.prepare(
            "INSERT INTO account_preferences (account_id, theme, language, updated_at)"
            " VALUES (?, 'system', 'de', 0)"
        )
        .bind(german)
        .run()
    )
    clock.advance(AFTER - clock.now())

    assert await announce_policy_changes(runtime, history=HISTORY) == 2

    html = {str(row["account_id"]): str(row["html"]) for row in await _queued(runtime)}
    assert '<html lang="en">' in html[english]
    assert '<html lang="de">' in html[german]


class _CountingDatabase:
    """Counts D1 round trips by kind: each `batch` and each statement's `all`/`first`/`run`."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.calls: Counter[str] = Counter()

    def prepare(self, sql: str) -> _CountingStatement:
        return _CountingStatement(self, self.inner.prepare(sql))

    async def batch(self, statements: list[_CountingStatement]) -> Any:
        self.calls["batch"] += 1
        return await self.inner.batch([statement.inner for statement in statements])


class _CountingStatement:
    def __init__(self, database: _CountingDatabase, inner: Any) -> None:
        self.database, self.inner = database, inner

    def bind(self, *params: Any) -> _CountingStatement:
        return _CountingStatement(self.database, self.inner.bind(*params))

    async def all(self) -> Any:
        self.database.calls["all"] += 1
        return await self.inner.all()

    async def first(self) -> Any:
        self.database.calls["first"] += 1
        return await self.inner.first()

    async def run(self) -> Any:
        self.database.calls["run"] += 1
        return await self.inner.run()


async def test_a_run_with_no_account_older_than_the_changes_reads_almost_nothing(
    runtime: LocalRuntime, clock: ManualClock
) -> None:
    # Every account came after the changes, so nobody is ever told and nothing marks progress.
    await insert_accounts(runtime, count=2000, created_at=AFTER, prefix="new")
    clock.advance(AFTER + 60 - clock.now())
    steps = Counter[str]()

    def count_step() -> int:
        steps["vm"] += 1
        return 0

    # SQLite's own count of the work a query does, every 100 virtual machine instructions.
    connection = runtime.db._connection
    connection.set_progress_handler(count_step, 100)
    try:
        assert await announce_policy_changes(runtime, history=HISTORY) == 0
    finally:
        connection.set_progress_handler(None, 100)
    # Reading 2,000 accounts takes thousands of steps; the oldest account alone, a handful.
    assert steps["vm"] < 5
