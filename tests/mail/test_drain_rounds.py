"""The drain's rounds: D1 calls, current addresses, claims that guard results, failures."""

from __future__ import annotations

import ast
from typing import Any

import pytest
from bench.counting import CountingDatabase

from beatbun.mail.drain import drain_mail, send_queued_mail
from beatbun.mail.mailqueue import BULK, MAX_ATTEMPTS
from beatbun.mail.marketingrules import MARKETING_KIND
from beatbun.mail.topics import TopicCounts, topic_counts
from beatbun.runtime.base import MailMessage
from beatbun_local.runtime import LocalRuntime
from tests.fakes import ManualClock
from tests.mail.queueing import opted_in_account, queue_mail, queue_many, queue_marketing
from tests.processes import PROJECT_ROOT

SOURCES = PROJECT_ROOT / "src" / "beatbun"


@pytest.fixture
def counted(runtime: LocalRuntime) -> Any:
    local, counting = runtime.db, CountingDatabase(runtime.db)
    runtime.db = counting  # type: ignore[assignment]
    yield counting
    runtime.db = local


async def _unrecorded(runtime: LocalRuntime) -> int:
    """Rows a sender claimed and left without a result."""
    return int(
        await runtime.db.prepare(
            "SELECT COUNT(*) AS n FROM mail_queue WHERE claimed_at IS NOT NULL"
            " AND sent_at IS NULL AND failed_at IS NULL"
        ).first("n")
    )


async def test_the_drain_stops_within_its_budget_of_d1_calls(
    runtime: LocalRuntime, counted: CountingDatabase
) -> None:
    await queue_many(runtime, 1000)
    counted.calls = 0
    sent = await drain_mail(runtime, budget_calls=20)
    assert counted.calls <= 20 and 0 < sent < 1000
    assert len(runtime.mailer.messages()) == sent
    assert await _unrecorded(runtime) == 0  # every round it began is recorded


async def test_a_round_costs_three_d1_calls_for_many_emails(
    runtime: LocalRuntime, counted: CountingDatabase
) -> None:
    await queue_many(runtime, 200)
    counted.calls = 0
    assert await drain_mail(runtime) == 200
    # Four rounds of 50 (claim, reservation, record), the empty claim, the tidy.
    assert counted.calls == 4 * 3 + 1 + 1


def _bulk_kinds() -> list[tuple[str, str]]:
    """(module, kind argument) of every call in the source that queues into the BULK lane."""
    found = []
    for path in SOURCES.rglob("*.py"):
        if path == SOURCES / "mail" / "drain.py":
            continue  # the sender, which reads the lanes
        tree = ast.parse(path.read_text())
        constants = {
            target.id: node.value.value
            for node in tree.body
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant)
            for target in node.targets
            if isinstance(target, ast.Name)
        }
        for call in ast.walk(tree):
            if not isinstance(call, ast.Call):
                continue
            values = [*call.args, *(keyword.value for keyword in call.keywords)]
            if not any(ast.unparse(value).endswith("BULK") for value in values):
                continue
            kinds = [
                name
                for value in values
                if isinstance(value, ast.Name)
                and (value.id == "MARKETING_KIND" or value.id in constants)
                for name in [value.id if value.id == "MARKETING_KIND" else constants[value.id]]
            ]
            found.append((path.name, kinds[0] if len(kinds) == 1 else repr(kinds)))
    return found


def test_every_bulk_kind_but_policy_is_the_marketing_kind() -> None:
    kinds = _bulk_kinds()
    assert {module for module, _ in kinds} >= {"campaignsend.py", "announcements.py"}
    for module, kind in kinds:
        assert kind in {"MARKETING_KIND", "policy"}, (module, kind)
    assert MARKETING_KIND == "marketing"


async def test_bulk_mail_goes_to_the_accounts_current_address(runtime: LocalRuntime) -> None:
    account_id = await opted_in_account(runtime)
    await queue_marketing(runtime, account_id)  # queued to bulk000001@example.com
    await queue_mail(runtime, "bulk000001@example.com", account_id=account_id)  # a notice
    await (
        runtime.db.prepare("UPDATE accounts SET email = 'new@example.com' WHERE id = ?")
        .bind(account_id)
        .run()
    )
    assert await drain_mail(runtime) == 2
    sent = {(message.text, message.to) for message in runtime.mailer.messages()}
    # The notice keeps its address (so the email-change notice reaches the old one).
    assert sent == {("News.\n", "new@example.com"), ("Hello.\n", "bulk000001@example.com")}


async def test_bulk_mail_of_an_account_that_is_gone_is_withheld(runtime: LocalRuntime) -> None:
    await queue_mail(runtime, "gone@example.com", account_id="gone", priority=BULK, topic="t:1")
    assert await drain_mail(runtime) == 0
    assert runtime.mailer.messages() == []
    assert await topic_counts(runtime.db, "t:1") == TopicCounts(withheld=1)


async def test_a_flush_never_sends_bulk_mail(runtime: LocalRuntime) -> None:
    await queue_mail(runtime, "bulk@example.com", priority=BULK)
    assert await send_queued_mail(runtime) == 0
    assert await drain_mail(runtime) == 1


class OvertakenSender:
    """Takes long enough for its claim to expire: another sender sends the message meanwhile."""

    def __init__(self, runtime: LocalRuntime, clock: ManualClock) -> None:
        self.runtime, self.clock, self.outbox = runtime, clock, runtime.mailer
        self.overtaken = False

    async def send(self, message: MailMessage) -> str:
        if not self.overtaken:
            self.overtaken = True
            self.clock.advance(self.runtime.settings.mail_claim_seconds)
            assert await drain_mail(self.runtime) == 1  # the other sender
        return await self.outbox.send(message)  # type: ignore[no-any-return]


async def test_a_sender_whose_claim_expired_records_and_counts_nothing(
    runtime: LocalRuntime, clock: ManualClock
) -> None:
    message_id = await queue_mail(runtime, "a@example.com", priority=BULK, topic="policy:x:1")
    outbox = runtime.mailer
    runtime.mailer = OvertakenSender(runtime, clock)  # type: ignore[assignment]
    try:
        await drain_mail(runtime)
    finally:
        runtime.mailer = outbox
    assert (await topic_counts(runtime.db, "policy:x:1")).sent == 1
    row = (
        await runtime.db.prepare("SELECT attempts FROM mail_queue WHERE id = ?")
        .bind(message_id)
        .first()
    )
    assert row == {"attempts": 2} and len(outbox.messages()) == 1


class BrokenOnce:
    """Raises something other than a MailError for the first message, then sends."""

    def __init__(self, outbox: Any) -> None:
        self.outbox, self.raised = outbox, False

    async def send(self, message: MailMessage) -> str:
        if not self.raised:
            self.raised = True
            raise ValueError("the provider's answer could not be read")
        return await self.outbox.send(message)  # type: ignore[no-any-return]


async def test_any_exception_is_a_failed_attempt_and_the_round_is_recorded(
    runtime: LocalRuntime,
) -> None:
    first = await queue_mail(runtime, "a@example.com")
    await queue_mail(runtime, "b@example.com")
    outbox = runtime.mailer
    runtime.mailer = BrokenOnce(outbox)  # type: ignore[assignment]
    try:
        assert await drain_mail(runtime) == 1
    finally:
        runtime.mailer = outbox
    row = (
        await runtime.db.prepare(
            "SELECT attempts, last_error, claimed_at FROM mail_queue WHERE id = ?"
        )
        .bind(first)
        .first()
    )
    assert row == {
        "attempts": 1,
        "last_error": "the provider's answer could not be read",
        "claimed_at": None,
    }
    assert await _unrecorded(runtime) == 0


async def test_tidying_counts_abandoned_rows_per_topic_in_one_statement(
    runtime: LocalRuntime, counted: CountingDatabase
) -> None:
    for topic in ("t:1", "t:1", "t:2"):
        await queue_mail(runtime, "a@example.com", priority=BULK, topic=topic)
    await runtime.db.prepare("UPDATE mail_queue SET attempts = ?").bind(MAX_ATTEMPTS).run()
    counted.calls = 0
    await drain_mail(runtime)
    assert counted.calls == 2  # the claim finding nothing due, then one batch to tidy
    assert (await topic_counts(runtime.db, "t:1")).failed == 2
    assert (await topic_counts(runtime.db, "t:2")).failed == 1
