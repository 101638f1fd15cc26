"""Forgotten-password requests: same work for every address, queued mail, rate limits (#12)."""

from __future__ import annotations

import copy
import re
from collections.abc import Sequence

from beatbun.accounts.models import Account, Client
from beatbun.accounts.profile import (
    RESET_MAIL_INTERVAL,
    RESET_REQUESTS_PER_IP,
    request_password_reset,
    reset_password,
)
from beatbun.mail import mailqueue, sending
from beatbun.mail.drain import send_queued_mail
from beatbun.runtime.base import Database, MailError, MailMessage, QueryResult, Runtime, Statement
from beatbun.scheduled import MAIL_CRON, run_scheduled
from beatbun_local.runtime import LocalRuntime
from tests.factories import CLIENT, create_account
from tests.fakes import ManualClock

UNKNOWN = "nobody-here@example.com"


class RecordingDatabase:
    """Passes everything through, noting each SQL text prepared and each batch's size."""

    def __init__(self, inner: Database) -> None:
        self.inner = inner
        self.log: list[str] = []

    def prepare(self, sql: str) -> Statement:
        self.log.append(sql)
        return self.inner.prepare(sql)

    async def batch(self, statements: Sequence[Statement]) -> list[QueryResult]:
        self.log.append(f"batch of {len(statements)}")
        return await self.inner.batch(statements)


class RefusingMailer:
    async def send(self, message: MailMessage) -> None:
        raise MailError("refused for the test")


def _recording(runtime: LocalRuntime) -> tuple[LocalRuntime, RecordingDatabase]:
    db = RecordingDatabase(runtime.db)
    clone = copy.copy(runtime)
    clone.db = db  # type: ignore[assignment]
    return clone, db


def _resets(runtime: LocalRuntime, to: str) -> list[str]:
    return [
        m.text for m in runtime.mailer.messages() if m.to == to and "reset" in m.subject.lower()
    ]


async def _account(runtime: LocalRuntime, *, email: str = "person@example.com") -> Account:
    """A signed-up account whose verification link went out, as the sign-up's flush sends it."""
    account = await create_account(runtime, email=email)
    assert await send_queued_mail(runtime) == 1
    return account


async def _ask(runtime: Runtime, email: str, *, ip: str = CLIENT.ip) -> None:
    client = Client(ip=ip, user_agent=CLIENT.user_agent)
    await request_password_reset(runtime, email=email, client=client, language="en")


async def test_known_and_unknown_addresses_run_the_same_sql(runtime: LocalRuntime) -> None:
    account = await _account(runtime)
    recording, db = _recording(runtime)
    await _ask(recording, account.email, ip="192.0.2.1")
    known = list(db.log)
    db.log.clear()
    await _ask(recording, UNKNOWN, ip="192.0.2.2")
    assert db.log == known
    assert known[-1] == "batch of 3" and sum(sql.startswith("batch") for sql in known) == 1
    # The choice happened inside D1: one row each, only the known address has mail waiting.
    queued = await runtime.db.prepare(
        "SELECT recipient, sent_at IS NULL AS waiting FROM mail_queue WHERE kind = 'reset'"
        " ORDER BY rowid"
    ).all()
    assert queued.results == [
        {"recipient": account.email, "waiting": 1},
        {"recipient": "", "waiting": 0},
    ]


async def test_the_request_sends_nothing_and_the_flush_sends_a_working_link(
    runtime: LocalRuntime,
) -> None:
    account = await _account(runtime)
    await _ask(runtime, account.email)
    assert _resets(runtime, account.email) == []
    assert await send_queued_mail(runtime) == 1
    (text,) = _resets(runtime, account.email)
    token = re.findall(r"/reset-password\?token=(\S+)", text)[0]
    new = "a brand new passphrase for reset"
    await reset_password(runtime, token=token, new_password=new, code="", client=CLIENT)
    # Only the notice that the password changed: the link was sent once, never again.
    assert await send_queued_mail(runtime) == 1
    assert len(_resets(runtime, account.email)) == 1
    assert await send_queued_mail(runtime) == 0


async def test_no_usable_link_is_stored_and_sent_bodies_are_blanked(
    runtime: LocalRuntime,
) -> None:
    account = await _account(runtime)
    await _ask(runtime, account.email)
    row = await runtime.db.prepare("SELECT id, body FROM mail_queue WHERE kind = 'reset'").first()
    assert mailqueue.LINK_TOKEN_MARK in row["body"]
    assert mailqueue.link_token(runtime.settings.app_secret, row["id"]) not in row["body"]
    tokens = runtime.db.prepare("SELECT COUNT(*) AS n FROM email_tokens WHERE purpose = 'reset'")
    assert await tokens.first("n") == 0  # issued by the sender, not by the request
    await send_queued_mail(runtime)
    assert await tokens.first("n") == 1
    reset = runtime.db.prepare("SELECT body FROM mail_queue WHERE kind = 'reset'")
    assert await reset.first("body") == ""


async def test_reset_requests_keep_no_address(runtime: LocalRuntime) -> None:
    await _ask(runtime, UNKNOWN)
    rows = await runtime.db.prepare("SELECT * FROM reset_requests").all()
    assert len(rows.results) == 1 and UNKNOWN not in repr(rows.results)
    assert rows.results[0]["mailed"] == 0
    queued = await runtime.db.prepare("SELECT * FROM mail_queue").all()
    assert len(queued.results) == 1 and UNKNOWN not in repr(queued.results)


async def test_asking_again_within_minutes_sends_no_second_mail(
    runtime: LocalRuntime, clock: ManualClock
) -> None:
    account = await _account(runtime)
    for number in range(20):
        await _ask(runtime, account.email, ip=f"198.51.100.{number}")
    await send_queued_mail(runtime)
    assert len(_resets(runtime, account.email)) == 1
    clock.advance(RESET_MAIL_INTERVAL + 1)
    await _ask(runtime, account.email)
    await send_queued_mail(runtime)
    assert len(_resets(runtime, account.email)) == 2


async def test_one_address_gets_at_most_its_hourly_requests(
    runtime: LocalRuntime, clock: ManualClock
) -> None:
    emails = [f"person{number}@example.com" for number in range(RESET_REQUESTS_PER_IP + 2)]
    for email in emails:
        await _account(runtime, email=email)
    for email in emails:
        await _ask(runtime, email, ip="203.0.113.9")
    while await send_queued_mail(runtime):
        pass
    mailed = [email for email in emails if _resets(runtime, email)]
    assert mailed == emails[:RESET_REQUESTS_PER_IP]
    await _ask(runtime, emails[-1], ip="203.0.113.10")  # another address is not held back
    clock.advance(3601)
    await _ask(runtime, emails[-2], ip="203.0.113.9")  # nor this one an hour later
    await send_queued_mail(runtime)
    assert _resets(runtime, emails[-1]) and _resets(runtime, emails[-2])


async def test_a_refused_mail_stays_queued_and_is_retried(
    runtime: LocalRuntime, clock: ManualClock
) -> None:
    account = await _account(runtime)
    await _ask(runtime, account.email)
    refusing, _ = _recording(runtime)
    refusing.mailer = RefusingMailer()  # type: ignore[assignment]
    assert await send_queued_mail(refusing) == 0
    row = await runtime.db.prepare(
        "SELECT attempts, last_error FROM mail_queue WHERE kind = 'reset'"
    ).first()
    assert row == {"attempts": 1, "last_error": "refused for the test"}
    assert await send_queued_mail(runtime) == 0  # waiting out its backoff
    clock.advance(sending.backoff_seconds(1))
    assert await send_queued_mail(runtime) == 1
    assert len(_resets(runtime, account.email)) == 1


async def test_the_cron_sends_what_is_queued(runtime: LocalRuntime) -> None:
    account = await _account(runtime)
    await _ask(runtime, account.email)
    await run_scheduled(runtime, cron=MAIL_CRON, scheduled_time=runtime.clock.now())
    assert len(_resets(runtime, account.email)) == 1
