"""The mail queue's senders: lanes, backoff, giving up, idempotent resends, the shared rate."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from beatbun.generation.queue import UserQueue
from beatbun.mail.drain import CLAIM_BATCH, drain_mail, send_queued_mail
from beatbun.mail.mailqueue import BULK, MAX_ATTEMPTS
from beatbun.mail.marketingrules import UNSUBSCRIBE_MARK, list_unsubscribe_headers, unsubscribe_url
from beatbun.mail.ratelimit import reserve
from beatbun.mail.sending import backoff_seconds
from beatbun.mail.topics import TopicCounts, recount_queued_statement, topic_counts
from beatbun.runtime.base import MailError, MailMessage, MailRateLimited
from beatbun.runtime.clock import SystemClock
from beatbun.settings import Settings
from beatbun_local.migrations import apply_migrations
from beatbun_local.runtime import LocalRuntime
from tests.conftest import MIGRATIONS
from tests.fakes import ManualClock
from tests.mail.queueing import (
    opted_in_account,
    queue_mail,
    queue_many,
    queue_marketing,
    sends_per_second,
)


async def _open(state: Path, *, rate: float, clock: ManualClock | SystemClock) -> LocalRuntime:
    settings = Settings(environment="test", mail_rate_per_second=rate)
    runtime = LocalRuntime.open(state, settings=settings, user_queue=UserQueue, clock=clock)
    await apply_migrations(runtime.db, MIGRATIONS)
    return runtime


@pytest.fixture
async def paced(tmp_path: Path, clock: ManualClock) -> AsyncIterator[LocalRuntime]:
    """A runtime held to 2 sends a second (Resend's default), on the manual clock."""
    runtime = await _open(tmp_path / "state", rate=2, clock=clock)
    yield runtime
    runtime.close()


class FailingMailer:
    """A provider that refuses every message (`MailError`), or asks to slow down (429)."""

    def __init__(self, *, retry_after: float | None = None) -> None:
        self.retry_after = retry_after
        self.tries = 0

    async def send(self, message: MailMessage) -> str:
        self.tries += 1
        if self.retry_after is not None:
            raise MailRateLimited("HTTP 429 rate_limit_exceeded", retry_after=self.retry_after)
        raise MailError("HTTP 500 internal_server_error")


@pytest.fixture
def restore_mailer(runtime: LocalRuntime) -> Iterator[None]:
    original = runtime.mailer
    yield
    runtime.mailer = original


def _recipients(runtime: LocalRuntime) -> list[str]:
    return [message.to for message in reversed(runtime.mailer.messages())]


async def _row(runtime: LocalRuntime, message_id: str) -> dict[str, object]:
    row = await runtime.db.prepare("SELECT * FROM mail_queue WHERE id = ?").bind(message_id).first()
    assert row is not None
    return dict(row)


async def test_a_flush_sends_service_mail_only(paced: LocalRuntime) -> None:
    for n in range(3):
        await queue_mail(paced, f"bulk{n}@example.com", priority=BULK)
    await queue_mail(paced, "reset@example.com")
    await queue_mail(paced, "notice@example.com")
    assert await send_queued_mail(paced) == 2  # bulk mail is the cron's
    assert sorted(_recipients(paced)) == ["notice@example.com", "reset@example.com"]


async def test_an_accounts_flush_sends_only_its_service_mail(runtime: LocalRuntime) -> None:
    await queue_mail(runtime, "mine@example.com", account_id="a1")
    await queue_mail(runtime, "mine-bulk@example.com", account_id="a1", priority=BULK)
    await queue_mail(runtime, "theirs@example.com", account_id="a2")
    assert await send_queued_mail(runtime, account_id="a1") == 1
    assert _recipients(runtime) == ["mine@example.com"]


async def test_the_cron_drain_sends_both_lanes(runtime: LocalRuntime) -> None:
    await queue_mail(runtime, "bulk@example.com", priority=BULK)
    await queue_mail(runtime, "service@example.com")
    assert await drain_mail(runtime) == 2
    assert _recipients(runtime) == ["service@example.com", "bulk@example.com"]


@pytest.mark.usefixtures("restore_mailer")
async def test_a_refused_message_waits_out_a_growing_backoff(
    runtime: LocalRuntime, clock: ManualClock
) -> None:
    message_id = await queue_mail(runtime, "a@example.com")
    failing = FailingMailer()
    runtime.mailer = failing  # type: ignore[assignment]
    for attempt in range(1, 4):
        assert await send_queued_mail(runtime) == 0
        row = await _row(runtime, message_id)
        assert (row["attempts"], row["last_error"]) == (attempt, "HTTP 500 internal_server_error")
        assert row["next_attempt_at"] == clock.now() + backoff_seconds(attempt)
        clock.advance(backoff_seconds(attempt) - 1)
        assert await send_queued_mail(runtime) == 0  # not yet due: no try
        assert failing.tries == attempt
        clock.advance(1)
    assert [backoff_seconds(n) for n in range(1, 7)] == [30, 120, 480, 1920, 7680, 21600]


@pytest.mark.usefixtures("restore_mailer")
async def test_a_message_is_given_up_after_max_attempts_and_counted_failed(
    runtime: LocalRuntime, clock: ManualClock
) -> None:
    message_id = await queue_mail(runtime, "a@example.com", priority=BULK, topic="policy:terms:2")
    await recount_queued_statement(runtime.db, "policy:terms:2").run()
    runtime.mailer = FailingMailer()  # type: ignore[assignment]
    for attempt in range(1, MAX_ATTEMPTS + 1):
        await drain_mail(runtime)
        clock.advance(backoff_seconds(attempt))
    row = await _row(runtime, message_id)
    assert row["attempts"] == MAX_ATTEMPTS and row["failed_at"] is not None
    assert await topic_counts(runtime.db, "policy:terms:2") == TopicCounts(queued=1, failed=1)
    clock.advance(86400)
    assert await drain_mail(runtime) == 0  # never tried again
    assert (await _row(runtime, message_id))["attempts"] == MAX_ATTEMPTS


class CrashAfterSending:
    """Hands the message to the real mailer, then dies before the queue can record it."""

    def __init__(self, mailer: object) -> None:
        self.mailer = mailer

    async def send(self, message: MailMessage) -> str:
        await self.mailer.send(message)  # type: ignore[attr-defined]
        raise SystemExit("killed between sending and recording")


@pytest.mark.usefixtures("restore_mailer")
async def test_a_resend_after_a_crash_carries_the_same_key_and_delivers_once(
    runtime: LocalRuntime, clock: ManualClock
) -> None:
    message_id = await queue_mail(runtime, "a@example.com")
    outbox = runtime.mailer
    runtime.mailer = CrashAfterSending(outbox)  # type: ignore[assignment]
    with pytest.raises(SystemExit):
        await send_queued_mail(runtime)
    runtime.mailer = outbox
    assert await send_queued_mail(runtime) == 0  # still claimed by the dead sender
    clock.advance(runtime.settings.mail_claim_seconds)
    assert await send_queued_mail(runtime) == 1
    assert _recipients(runtime) == ["a@example.com"]
    row = await _row(runtime, message_id)
    message_ids = dict(outbox.messages()[0].headers)["Message-ID"]
    assert row["attempts"] == 2 and f"<{row['provider_id']}@outbox.localhost>" == message_ids


async def test_a_sent_message_keeps_only_its_provider_id(runtime: LocalRuntime) -> None:
    message_id = await queue_mail(
        runtime, "a@example.com", html="<p>Hello.</p>", headers=(("X-Entity-Ref-ID", "r1"),)
    )
    await send_queued_mail(runtime)
    row = await _row(runtime, message_id)
    assert (row["body"], row["html"], row["headers"]) == ("", "", "{}")
    assert row["sent_at"] == runtime.clock.now() and isinstance(row["provider_id"], str)
    (message,) = runtime.mailer.messages()
    assert message.html.strip() == "<p>Hello.</p>"
    assert ("X-Entity-Ref-ID", "r1") in message.headers


async def test_marketing_gets_the_accounts_unsubscribe_link_everywhere(
    runtime: LocalRuntime,
) -> None:
    account_id = await opted_in_account(runtime)
    message_id = await queue_marketing(
        runtime,
        account_id,
        text=f"News.\n\nUnsubscribe: {UNSUBSCRIBE_MARK}\n",
        html=f'<a href="{UNSUBSCRIBE_MARK}">Unsubscribe</a>',
        headers=list_unsubscribe_headers(UNSUBSCRIBE_MARK),
    )
    assert await drain_mail(runtime) == 1
    url = unsubscribe_url(runtime.settings, account_id, campaign_id="c1")
    (message,) = runtime.mailer.messages()
    assert f"Unsubscribe: {url}" in message.text and f'href="{url}"' in message.html
    assert ("List-Unsubscribe", f"<{url}>") in message.headers
    assert ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click") in message.headers
    assert UNSUBSCRIBE_MARK not in json.dumps([message.text, message.html, message.headers])
    assert (await _row(runtime, message_id))["sent_at"] is not None
    assert (await topic_counts(runtime.db, "campaign:c1")).sent == 1


@pytest.mark.parametrize(
    "withdrawal",
    [
        "UPDATE accounts SET marketing_opt_in_at = NULL",  # unsubscribed before its turn
        "UPDATE accounts SET objects_to_marketing = 1",  # objected on the privacy page
        "UPDATE accounts SET restricted_at = 1",  # restricted processing
    ],
)
async def test_marketing_whose_consent_went_before_its_turn_is_withheld(
    runtime: LocalRuntime, withdrawal: str
) -> None:
    account_id = await opted_in_account(runtime)
    message_id = await queue_marketing(runtime, account_id)
    await recount_queued_statement(runtime.db, "campaign:c1").run()
    await runtime.db.prepare(withdrawal).run()
    assert await drain_mail(runtime) == 0
    assert runtime.mailer.messages() == []
    row = await _row(runtime, message_id)
    assert row["last_error"] == "withheld" and row["failed_at"] is not None
    assert row["body"] == ""
    assert await topic_counts(runtime.db, "campaign:c1") == TopicCounts(queued=1, withheld=1)


async def test_a_topic_nothing_was_queued_under_counts_zero(runtime: LocalRuntime) -> None:
    assert await topic_counts(runtime.db, "campaign:none") == TopicCounts()


async def test_recount_sets_queued_to_the_rows_of_the_topic(runtime: LocalRuntime) -> None:
    for n in range(3):
        await queue_mail(runtime, f"p{n}@example.com", priority=BULK, topic="campaign:c2")
        await recount_queued_statement(runtime.db, "campaign:c2").run()
    assert (await topic_counts(runtime.db, "campaign:c2")).queued == 3


async def test_reservations_are_shared_and_paced(paced: LocalRuntime, clock: ManualClock) -> None:
    now = clock.now()
    first = await reserve(paced.db, per_second=2, wanted=3, now=now, until=now + 60)
    second = await reserve(paced.db, per_second=2, wanted=5, now=now, until=now + 60)
    assert (first.start, first.count) == (now, 3)
    assert [first.send_at(i) - now for i in range(3)] == [0, 0.5, 1.0]
    # After the first's three sends and its gap; no send of the two closer than 0.5 s.
    assert second.start == now + 1.5 + first.lateness and second.count == 5
    late = await reserve(paced.db, per_second=2, wanted=5, now=now, until=now + 3)
    assert late.count == 0 and late.next_free_at == second.next_free_at


@pytest.mark.usefixtures("restore_mailer")
async def test_a_429_holds_every_sender_off_until_retry_after(
    runtime: LocalRuntime, clock: ManualClock
) -> None:
    message_id = await queue_mail(runtime, "a@example.com")
    await queue_mail(runtime, "b@example.com")
    limited = FailingMailer(retry_after=3)
    runtime.mailer = limited  # type: ignore[assignment]
    assert await drain_mail(runtime) == 0
    assert limited.tries == 1  # the drain stopped at the 429
    row = await _row(runtime, message_id)
    # Not the message's fault: no try counted, nothing failed, ready to go again.
    assert (row["attempts"], row["failed_at"], row["claimed_at"]) == (0, None, None)
    per_second = runtime.settings.mail_rate_per_second
    held = await reserve(
        runtime.db, per_second=per_second, wanted=1, now=clock.now(), until=clock.now() + 2.5
    )
    assert held.count == 0 and held.next_free_at == clock.now() + 3
    after = await reserve(
        runtime.db, per_second=per_second, wanted=1, now=clock.now() + 3, until=clock.now() + 9
    )
    assert after.count == 1


async def test_no_second_has_more_sends_than_the_rate(tmp_path: Path) -> None:
    runtime = await _open(tmp_path / "state", rate=20, clock=SystemClock())
    try:
        await queue_many(runtime, 70)
        assert await drain_mail(runtime, budget_seconds=30) == 70
    finally:
        runtime.close()
    counts = sends_per_second(tmp_path / "state" / "outbox")
    assert sum(counts.values()) == 70 and max(counts.values()) <= 20


async def test_concurrent_drains_share_one_rate(tmp_path: Path) -> None:
    clock = SystemClock()
    first = await _open(tmp_path / "state", rate=40, clock=clock)
    second = LocalRuntime.open(
        tmp_path / "state", settings=first.settings, user_queue=UserQueue, clock=clock
    )
    try:
        await queue_many(first, 3 * CLAIM_BATCH)  # more than one round's claim
        sent = await asyncio.gather(
            drain_mail(first, budget_seconds=30), drain_mail(second, budget_seconds=30)
        )
    finally:
        first.close()
        second.close()
    assert sum(sent) == 3 * CLAIM_BATCH and min(sent) > 0  # both sent, neither alone
    counts = sends_per_second(tmp_path / "state" / "outbox")
    assert sum(counts.values()) == 3 * CLAIM_BATCH and max(counts.values()) <= 40


async def test_a_flush_waits_for_the_rate_at_most_its_budget(paced: LocalRuntime) -> None:
    await queue_many(paced, 15)
    # 2 a second for FLUSH_SECONDS: the sends due at 0, 0.5, ... 5 s; the rest stays queued.
    assert await send_queued_mail(paced) == 11
    waiting = await paced.db.prepare(
        "SELECT COUNT(*) AS n FROM mail_queue WHERE sent_at IS NULL AND claimed_at IS NULL"
    ).first("n")
    assert waiting == 4  # released untried, for the next sender
