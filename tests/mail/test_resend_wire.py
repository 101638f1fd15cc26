"""The Resend mailer and the queue's drain against a fake Resend served over real HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from beatbun.generation.queue import UserQueue
from beatbun.mail.drain import drain_mail
from beatbun.mail.ratelimit import next_utc_day, reserve
from beatbun.runtime.base import MailError, MailMessage, MailRateLimited
from beatbun.runtime.clock import SystemClock
from beatbun.runtime.fetchrules import USER_AGENT
from beatbun.runtime.resend import ResendMailer
from beatbun.settings import Settings
from beatbun_local.fetch import HttpxFetcher
from beatbun_local.migrations import apply_migrations
from beatbun_local.runtime import LocalRuntime
from tests.conftest import MIGRATIONS
from tests.mail.queueing import queue_mail
from tests.mail.resend_fake import API_KEY, FakeResend
from tests.stripe_sandbox.server import ServedApp, serving

SENDER = "Beat Bun <no-reply@beatbun.example.com>"
MESSAGE = MailMessage(
    to="a@example.com",
    subject="Your export is ready",
    text="Download it here.\n",
    html="<p>Download it here.</p>",
    headers=(("List-Unsubscribe", "<https://x.example/u>"), ("X-Entity-Ref-ID", "r1")),
    key="01HZX3",
)


@dataclass
class Provider:
    fake: FakeResend
    mailer: ResendMailer
    wrong_key: ResendMailer


@pytest.fixture
async def provider() -> AsyncIterator[Provider]:
    fake = FakeResend(limit=2)
    served = ServedApp(fake.app)
    async with serving(served), httpx.AsyncClient() as client:
        url = f"{served.url}/emails"
        yield Provider(
            fake,
            ResendMailer(HttpxFetcher(client), api_key=API_KEY, sender=SENDER, url=url),
            ResendMailer(HttpxFetcher(client), api_key="re_wrong", sender=SENDER, url=url),
        )


async def test_the_request_carries_text_html_headers_and_the_key(provider: Provider) -> None:
    email_id = await provider.mailer.send(MESSAGE)
    (delivered,) = provider.fake.delivered
    assert delivered == {
        "id": email_id,
        "from": SENDER,
        "to": ["a@example.com"],
        "subject": "Your export is ready",
        "text": "Download it here.\n",
        "html": "<p>Download it here.</p>",
        "headers": {"List-Unsubscribe": "<https://x.example/u>", "X-Entity-Ref-ID": "r1"},
    }
    (request,) = provider.fake.requests
    assert request["idempotency-key"] == "01HZX3" and request["user-agent"] == USER_AGENT


async def test_the_same_key_twice_is_delivered_once_with_one_id(provider: Provider) -> None:
    first = await provider.mailer.send(MESSAGE)
    again = await provider.mailer.send(MESSAGE)
    assert first == again and len(provider.fake.delivered) == 1


async def test_a_429_says_how_long_to_wait(provider: Provider) -> None:
    provider.fake.limit = 0
    with pytest.raises(MailRateLimited) as refused:
        await provider.mailer.send(MESSAGE)
    assert refused.value.retry_after == 1.0 and "rate_limit_exceeded" in refused.value.message
    assert provider.fake.delivered == []


async def test_a_wrong_key_is_a_mail_error(provider: Provider) -> None:
    with pytest.raises(MailError, match="missing_api_key"):
        await provider.wrong_key.send(MESSAGE)
    assert provider.fake.delivered == []


async def _paced_runtime(state: Path, mailer: ResendMailer, *, rate: float) -> LocalRuntime:
    settings = Settings(environment="test", mail_rate_per_second=rate)
    runtime = LocalRuntime.open(state, settings=settings, user_queue=UserQueue, clock=SystemClock())
    await apply_migrations(runtime.db, MIGRATIONS)
    runtime.mailer = mailer  # type: ignore[assignment]
    return runtime


async def test_the_drain_stays_within_resends_rate(provider: Provider, tmp_path: Path) -> None:
    runtime = await _paced_runtime(tmp_path / "state", provider.mailer, rate=2)
    try:
        for n in range(7):
            await queue_mail(runtime, f"p{n}@example.com")
        assert await drain_mail(runtime, budget_seconds=20) == 7
    finally:
        runtime.close()
    assert provider.fake.refused_for_rate == 0
    assert sorted(email["to"][0] for email in provider.fake.delivered) == [
        f"p{n}@example.com" for n in range(7)
    ]


async def test_after_a_429_the_message_goes_later_and_once(
    provider: Provider, tmp_path: Path
) -> None:
    # Our rate says 4 a second, the provider allows 1: it answers 429 and the drain stops.
    # (With 2 allowed, four sends 0.25 s apart can straddle two clock seconds and pass.)
    provider.fake.limit = 1
    runtime = await _paced_runtime(tmp_path / "state", provider.mailer, rate=4)
    try:
        for n in range(4):
            await queue_mail(runtime, f"p{n}@example.com")
        first = await drain_mail(runtime, budget_seconds=20)
        assert first < 4 and provider.fake.refused_for_rate == 1
        # Every sender is held off for the Retry-After, then the rest goes.
        now = runtime.clock.now()
        held = await reserve(runtime.db, per_second=4, wanted=1, now=now, until=now + 0.5)
        assert held.count == 0
        provider.fake.limit = 4  # the provider's limit is raised: what was refused goes now
        rest = await drain_mail(runtime, budget_seconds=20)
    finally:
        runtime.close()
    assert first + rest == 4
    recipients = sorted(email["to"][0] for email in provider.fake.delivered)
    assert recipients == [f"p{n}@example.com" for n in range(4)]


@pytest.mark.parametrize("quota", ["daily", "monthly"])
async def test_a_used_up_quota_holds_every_sender_off_for_hours(
    provider: Provider, tmp_path: Path, quota: str, caplog: pytest.LogCaptureFixture
) -> None:
    provider.fake.quota = quota
    runtime = await _paced_runtime(tmp_path / "state", provider.mailer, rate=2)
    try:
        await queue_mail(runtime, "p0@example.com")
        await queue_mail(runtime, "p1@example.com")
        assert await drain_mail(runtime, budget_seconds=5) == 0
        now = runtime.clock.now()
        held = await reserve(runtime.db, per_second=2, wanted=1, now=now, until=now + 3600)
        attempts = await runtime.db.prepare("SELECT SUM(attempts) AS n FROM mail_queue").first("n")
    finally:
        runtime.close()
    assert provider.fake.refused_for_rate == 1 and attempts == 0  # one try, given back
    until = next_utc_day(now) if quota == "daily" else now + 6 * 3600
    assert held.count == 0 and abs(held.next_free_at - until) < 5
    assert [r.levelname for r in caplog.records if "quota" in r.getMessage()] == ["ERROR"]


async def test_plain_429s_in_a_row_back_off_exponentially(
    provider: Provider, tmp_path: Path
) -> None:
    provider.fake.limit = 0  # every request is over the rate; retry-after says 1 s
    runtime = await _paced_runtime(tmp_path / "state", provider.mailer, rate=2)
    waits = []
    try:
        await queue_mail(runtime, "p0@example.com")
        for _ in range(4):
            await drain_mail(runtime, budget_seconds=0.5)
            now = runtime.clock.now()
            row = await runtime.db.prepare("SELECT next_free_at FROM mail_rate").first()
            assert row is not None
            waits.append(round(float(row["next_free_at"]) - now))
            await runtime.db.prepare("UPDATE mail_rate SET next_free_at = 0").run()
    finally:
        runtime.close()
    assert waits == [1, 2, 4, 8]
