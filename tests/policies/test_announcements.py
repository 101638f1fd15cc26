"""Emailing every existing account about a significant policy change, in batches."""

from __future__ import annotations

from datetime import UTC, datetime

from beatbun.mail.mailqueue import BULK, send_queued_mail, topic_counts
from beatbun.policies.announcements import BATCH_ACCOUNTS, announce_policy_changes
from beatbun.policies.versions import History, PolicyVersion
from beatbun.runtime.base import Row
from beatbun_local.runtime import LocalRuntime
from tests.factories import create_verified_account, insert_accounts
from tests.fakes import ManualClock

EFFECTIVE = "2027-01-10"
BEFORE = datetime(2027, 1, 1, tzinfo=UTC).timestamp()
AFTER = datetime(2027, 1, 12, tzinfo=UTC).timestamp()
TERMS_2 = PolicyVersion(
    version="2.0", effective=EFFECTIVE, summary="Tracks are kept longer.", significant=True
)
MINOR = PolicyVersion(
    version="1.1", effective="2027-01-05", summary="Clearer wording.", significant=False
)
FIRST = PolicyVersion(version="1.0", effective="2026-01-01", summary="First.", significant=False)
# Only the terms change significantly; the other documents have nothing to announce.
HISTORY: History = {"privacy": (FIRST,), "cookies": (FIRST,), "terms": (TERMS_2, MINOR, FIRST)}
TOPIC = "policy:terms:2.0"


async def _queued(runtime: LocalRuntime) -> list[Row]:
    return (
        await runtime.db.prepare(
            "SELECT account_id, recipient, subject, body, html, kind, priority, topic"
            " FROM mail_queue WHERE topic = ? ORDER BY account_id"
        )
        .bind(TOPIC)
        .all()
    ).results


async def _notified(runtime: LocalRuntime) -> list[str]:
    rows = (
        await runtime.db.prepare(
            "SELECT account_id FROM policy_notices WHERE document = 'terms' AND version = '2.0'"
            " AND notified_at IS NOT NULL ORDER BY account_id"
        ).all()
    ).results
    return [str(row["account_id"]) for row in rows]


async def test_one_email_per_account_across_batches(
    runtime: LocalRuntime, clock: ManualClock
) -> None:
    accounts = await insert_accounts(runtime, count=1_203, created_at=BEFORE)
    clock.advance(AFTER - clock.now())

    counts = [await announce_policy_changes(runtime, history=HISTORY) for _ in range(4)]

    assert counts == [BATCH_ACCOUNTS, BATCH_ACCOUNTS, 203, 0]
    rows = await _queued(runtime)
    assert [row["account_id"] for row in rows] == accounts
    assert {row["recipient"] for row in rows} == {f"{a}@example.com" for a in accounts}
    assert {(row["kind"], row["priority"]) for row in rows} == {("policy", BULK)}
    assert await _notified(runtime) == accounts
    assert (await topic_counts(runtime.db, TOPIC)).queued == 1_203


async def test_accounts_created_after_the_effective_date_are_skipped(
    runtime: LocalRuntime, clock: ManualClock
) -> None:
    old = await insert_accounts(runtime, count=3, created_at=BEFORE, prefix="old")
    await insert_accounts(runtime, count=3, created_at=AFTER, prefix="new")
    clock.advance(AFTER + 60 - clock.now())

    assert await announce_policy_changes(runtime, history=HISTORY) == 3
    assert [row["account_id"] for row in await _queued(runtime)] == old


async def test_a_second_run_queues_nothing_more(runtime: LocalRuntime, clock: ManualClock) -> None:
    await insert_accounts(runtime, count=5, created_at=BEFORE)
    clock.advance(AFTER - clock.now())
    await announce_policy_changes(runtime, history=HISTORY)
    await send_queued_mail(runtime)  # sent rows stay in the queue, blanked

    assert await announce_policy_changes(runtime, history=HISTORY) == 0
    assert len(await _queued(runtime)) == 5


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


async def test_only_the_newest_significant_version_is_announced(
    runtime: LocalRuntime, clock: ManualClock
) -> None:
    await insert_accounts(runtime, count=2, created_at=BEFORE)
    newer = PolicyVersion(version="3.0", effective="2027-01-11", summary="New.", significant=True)
    history: History = {**HISTORY, "terms": (newer, TERMS_2, MINOR, FIRST)}
    clock.advance(AFTER - clock.now())

    assert await announce_policy_changes(runtime, history=history) == 2
    assert await _queued(runtime) == []  # nothing for 2.0, which 3.0 replaced


async def test_the_email_is_in_the_account_language_with_summary_and_link(
    runtime: LocalRuntime, clock: ManualClock
) -> None:
    clock.advance(BEFORE - clock.now())
    account = await create_verified_account(runtime, email="reader@example.com")
    clock.advance(AFTER - clock.now())

    await announce_policy_changes(runtime, history=HISTORY)
    await send_queued_mail(runtime)

    mails = runtime.mailer.messages()
    (message,) = [m for m in mails if m.subject == "Beat Bun: terms of service update"]
    assert message.to == account.email
    assert "Terms of service, version 2.0, effective 2027-01-10" in message.text
    assert "Tracks are kept longer." in message.text
    assert f"{runtime.settings.public_url}/terms" in message.text
    assert "Tracks are kept longer." in message.html and "<html" in message.html
