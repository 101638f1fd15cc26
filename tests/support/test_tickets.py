"""Support tickets as a service: numbers, the thread, limits, references and deadlines."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest

from beatbun.accounts.models import Account
from beatbun.errors import Conflict, InvalidFields, NotFound, TooManyRequests
from beatbun.generation.queue import UserQueue
from beatbun.privacy.erasure import erase_account
from beatbun.runtime.base import Runtime
from beatbun.settings import Settings
from beatbun.support import replies, tickets
from beatbun.support.models import DAY
from beatbun.support.store import get_account_thread, get_inbox_thread, list_inbox
from beatbun_local.runtime import LocalRuntime
from tests.factories import create_verified_account
from tests.fakes import ManualClock
from tests.support.conftest import failed_job
from tests.tracks.conftest import make_tracks

HOUR = 3600.0


async def _open(
    runtime: Runtime,
    account: Account,
    *,
    category: str = "other",
    subject: str = "A question",
    body: str = "How do I keep my tracks?",
    reference: str = "",
) -> tickets.Ticket:
    return await tickets.open_ticket(
        runtime,
        account,
        category=category,
        subject=subject,
        body=body,
        reference=reference,
        language="en",
    )


async def _count(runtime: Runtime, table: str) -> int:
    value = await runtime.db.prepare(f"SELECT COUNT(*) AS n FROM {table}").first("n")
    return int(value or 0)


async def _mails(runtime: Runtime) -> list[dict[str, object]]:
    rows = await runtime.db.prepare(
        "SELECT recipient, subject, body, html, kind, account_id, priority FROM mail_queue"
        " WHERE kind = 'support' ORDER BY created_at, rowid"
    ).all()
    return [dict(row) for row in rows.results]


async def test_open_ticket_numbers_from_1001_with_the_first_message_and_the_mail(
    runtime: LocalRuntime,
) -> None:
    account = await create_verified_account(runtime)
    first = await _open(runtime, account, subject="Where is my invoice?")
    second = await _open(runtime, account)
    assert (first.number, second.number) == (1001, 1002)
    thread = await get_account_thread(runtime.db, account_id=account.id, number=1001)
    assert thread.ticket.status == "open" and thread.ticket.subject == "Where is my invoice?"
    assert [(m.author, m.body) for m in thread.messages] == [
        ("customer", "How do I keep my tracks?")
    ]
    mail = (await _mails(runtime))[0]
    assert mail["recipient"] == account.email and mail["account_id"] == account.id
    assert mail["priority"] == 0  # the service lane: a person waits for it
    assert mail["subject"] == "We received your request (ticket 1001)"
    for part in ("body", "html"):
        assert "ticket 1001" in str(mail[part]) and "/help/tickets/1001" in str(mail[part])
        assert tickets.NUMBER_MARK not in str(mail[part])


def test_ticket_numbers_are_unique_when_runtimes_open_tickets_at_once(
    runtime: LocalRuntime, tmp_path: Path, settings: Settings
) -> None:
    """Four runtimes (four SQLite connections, as four Workers to one D1) race to open twenty."""
    accounts = [
        asyncio.run(create_verified_account(runtime, email=f"racer{n}@example.com"))
        for n in range(4)
    ]
    start = threading.Barrier(len(accounts))
    numbers: list[int] = []
    errors: list[BaseException] = []

    def racer(account: Account) -> None:
        local = LocalRuntime.open(
            tmp_path / "state", settings=settings, user_queue=UserQueue, clock=ManualClock()
        )
        try:
            start.wait()
            for _ in range(tickets.MAX_TICKETS):
                numbers.append(asyncio.run(_open(local, account)).number)
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)
        finally:
            local.close()

    threads = [threading.Thread(target=racer, args=(a,)) for a in accounts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert sorted(numbers) == list(range(1001, 1001 + 4 * tickets.MAX_TICKETS))


async def test_a_number_is_never_given_again_after_its_ticket_was_erased(
    runtime: LocalRuntime,
) -> None:
    ana = await create_verified_account(runtime, email="ana@example.com")
    bo = await create_verified_account(runtime, email="bo@example.com")
    assert (await _open(runtime, ana)).number == 1001
    assert (await _open(runtime, bo)).number == 1002
    # Bo's account goes, with the ticket that had the highest number.
    await erase_account(runtime, bo.id)
    assert await _count(runtime, "support_tickets") == 1

    assert (await _open(runtime, ana)).number == 1003


async def test_sixth_ticket_within_an_hour_is_refused_and_writes_nothing(
    runtime: LocalRuntime, clock: ManualClock
) -> None:
    account = await create_verified_account(runtime)
    for _ in range(tickets.MAX_TICKETS):
        await _open(runtime, account)
    before = [
        await _count(runtime, t) for t in ("support_tickets", "support_messages", "mail_queue")
    ]
    with pytest.raises(TooManyRequests) as refused:
        await _open(runtime, account)
    assert refused.value.code == "too_many_tickets"
    assert "at most 5 tickets an hour" in refused.value.message
    after = [
        await _count(runtime, t) for t in ("support_tickets", "support_messages", "mail_queue")
    ]
    assert after == before
    clock.advance(HOUR + 1)
    assert (await _open(runtime, account)).number == 1001 + tickets.MAX_TICKETS


async def test_messages_past_the_hourly_limit_are_refused(
    runtime: LocalRuntime, clock: ManualClock
) -> None:
    account = await create_verified_account(runtime)
    ticket = await _open(runtime, account)  # its first message counts
    for n in range(tickets.MAX_MESSAGES - 1):
        await replies.reply_as_customer(runtime, account, number=ticket.number, body=f"more {n}")
    with pytest.raises(TooManyRequests) as refused:
        await replies.reply_as_customer(runtime, account, number=ticket.number, body="one more")
    assert refused.value.code == "too_many_messages"
    # A new ticket would carry a message too.
    with pytest.raises(TooManyRequests) as refused_ticket:
        await _open(runtime, account)
    assert refused_ticket.value.code == "too_many_messages"
    assert await _count(runtime, "support_messages") == tickets.MAX_MESSAGES
    assert await _count(runtime, "support_tickets") == 1
    clock.advance(HOUR + 1)
    await replies.reply_as_customer(runtime, account, number=ticket.number, body="later")


async def test_operator_answers_do_not_count_towards_the_customer_limit(
    runtime: LocalRuntime,
) -> None:
    account = await create_verified_account(runtime)
    operator = await create_verified_account(runtime, email="operator@example.com")
    ticket = await _open(runtime, account)
    for n in range(tickets.MAX_MESSAGES):
        await replies.reply_as_operator(runtime, operator, number=ticket.number, body=f"a{n}")
    await replies.reply_as_customer(runtime, account, number=ticket.number, body="thanks")
    written = await (
        runtime.db.prepare("SELECT COUNT(*) AS n FROM support_messages WHERE ticket_id = ?")
        .bind(ticket.id)
        .first("n")
    )
    assert written == tickets.MAX_MESSAGES + 2  # the first message, the answers, the thanks


async def test_reference_to_own_job_and_track_is_kept(runtime: LocalRuntime) -> None:
    account = await create_verified_account(runtime)
    (track,) = await make_tracks(runtime, account_id=account.id, count=1)
    job_id = await failed_job(runtime, account.id)
    about_job = await _open(runtime, account, category="track", reference=f"job:{job_id}")
    about_track = await _open(runtime, account, category="track", reference=f"track:{track.id}")
    assert (about_job.job_id, about_job.track_id) == (job_id, None)
    assert (about_track.job_id, about_track.track_id) == (None, track.id)
    _, thread = await get_inbox_thread(runtime.db, about_job.number)
    assert thread.reference is not None
    assert thread.reference.label == "stormy synthwave"
    assert thread.reference.detail == "failed (provider_unavailable)"


@pytest.mark.parametrize(
    "kind",
    [
        "job",
        "track",
        "invoice",  # not a kind of reference at all
    ],
)
async def test_reference_to_someone_elses_job_or_track_is_refused(
    runtime: LocalRuntime, kind: str
) -> None:
    owner = await create_verified_account(runtime, email="owner@example.com")
    (track,) = await make_tracks(runtime, account_id=owner.id, count=1)
    other = await create_verified_account(runtime, email="other@example.com")
    item = {"job": track.job_id, "track": track.id, "invoice": track.id}[kind]
    with pytest.raises(InvalidFields) as refused:
        await _open(runtime, other, reference=f"{kind}:{item}")
    assert refused.value.field == "reference" and refused.value.code == "unknown_reference"
    assert await _count(runtime, "support_tickets") == 0


async def test_bad_fields_are_all_named_and_nothing_is_written(runtime: LocalRuntime) -> None:
    account = await create_verified_account(runtime)
    with pytest.raises(InvalidFields) as refused:
        await _open(runtime, account, category="complaint", subject="   ", body="x" * 5001)
    assert [(p.field, p.code) for p in refused.value.problems] == [
        ("category", "category_required"),
        ("subject", "subject_required"),
        ("message", "message_too_long"),
    ]
    assert await _count(runtime, "support_tickets") == 0
    assert await _mails(runtime) == []


async def test_subject_is_one_line(runtime: LocalRuntime) -> None:
    account = await create_verified_account(runtime)
    ticket = await _open(runtime, account, subject="Two\r\nBcc: lines\n")
    assert ticket.subject == "Two Bcc: lines"


async def test_privacy_request_is_due_thirty_days_after_opening(
    runtime: LocalRuntime, clock: ManualClock
) -> None:
    account = await create_verified_account(runtime)
    opened = clock.now()
    ticket = await _open(runtime, account, category="privacy", subject="Delete my prompts")
    assert ticket.due_at == int(opened) + 30 * DAY
    assert ticket.days_left(clock.now()) == 30
    assert ticket.days_left(opened + 29.5 * DAY) == 1
    assert ticket.days_left(opened + 31 * DAY) == -1
    mail = (await _mails(runtime))[0]
    assert mail["subject"] == "We received your privacy request (ticket 1001)"
    assert "by 2027-02-14 (UTC)" in str(mail["body"])
    other = await _open(runtime, account, category="billing")
    assert other.due_at is None and other.days_left(clock.now()) is None


async def test_inbox_lists_open_first_with_the_nearest_deadline_on_top(
    runtime: LocalRuntime, clock: ManualClock
) -> None:
    account = await create_verified_account(runtime)
    operator = await create_verified_account(runtime, email="operator@example.com")
    answered = await _open(runtime, account, category="billing")
    await replies.reply_as_operator(runtime, operator, number=answered.number, body="Done.")
    plain = await _open(runtime, account)
    clock.advance(60)
    late_privacy = await _open(runtime, account, category="privacy")
    closed = await _open(runtime, account)
    await replies.close_ticket(runtime, number=closed.number)
    order = [row.ticket.number for row in await list_inbox(runtime.db)]
    assert order == [late_privacy.number, plain.number, answered.number, closed.number]


async def test_customer_reply_opens_a_closed_ticket_again(runtime: LocalRuntime) -> None:
    account = await create_verified_account(runtime)
    ticket = await _open(runtime, account)
    await replies.close_ticket(runtime, number=ticket.number)
    with pytest.raises(Conflict) as again:
        await replies.close_ticket(runtime, number=ticket.number)
    assert again.value.code == "ticket_closed"
    await replies.reply_as_customer(runtime, account, number=ticket.number, body="Still broken.")
    thread = await get_account_thread(runtime.db, account_id=account.id, number=ticket.number)
    assert thread.ticket.status == "open" and thread.ticket.closed_at is None
    subjects = [m["subject"] for m in await _mails(runtime)]
    assert subjects == [
        "We received your request (ticket 1001)",
        "Your request is closed (ticket 1001)",
    ]


async def test_someone_elses_ticket_is_not_found(runtime: LocalRuntime) -> None:
    owner = await create_verified_account(runtime, email="owner@example.com")
    other = await create_verified_account(runtime, email="other@example.com")
    ticket = await _open(runtime, owner)
    with pytest.raises(NotFound):
        await get_account_thread(runtime.db, account_id=other.id, number=ticket.number)
    with pytest.raises(NotFound):
        await replies.reply_as_customer(runtime, other, number=ticket.number, body="Mine now")
    assert await _count(runtime, "support_messages") == 1


async def test_operator_answer_is_mailed_with_its_text(runtime: LocalRuntime) -> None:
    account = await create_verified_account(runtime)
    operator = await create_verified_account(runtime, email="operator@example.com")
    ticket = await _open(runtime, account)
    await replies.reply_as_operator(
        runtime, operator, number=ticket.number, body="Upgrade to keep them <for good>."
    )
    _, thread = await get_inbox_thread(runtime.db, ticket.number)
    assert thread.ticket.status == "answered"
    assert [m.author for m in thread.messages] == ["customer", "operator"]
    assert thread.messages[1].operator_id == operator.id
    mail = (await _mails(runtime))[-1]
    assert mail["recipient"] == account.email
    assert mail["subject"] == "Our answer to your request (ticket 1001)"
    assert "Upgrade to keep them <for good>." in str(mail["body"])
    assert "&lt;for good&gt;" in str(mail["html"]) and "<for good>" not in str(mail["html"])


async def test_a_privacy_request_closes_only_once_an_operator_answered(
    runtime: LocalRuntime,
) -> None:
    account = await create_verified_account(runtime)
    operator = await create_verified_account(runtime, email="operator@example.com")
    ticket = await _open(runtime, account, category="privacy", subject="My data")
    await replies.reply_as_customer(runtime, account, number=ticket.number, body="Any news?")
    with pytest.raises(Conflict) as refused:
        await replies.close_ticket(runtime, number=ticket.number)
    assert refused.value.status == 409 and refused.value.code == "privacy_unanswered"
    entry, _ = await get_inbox_thread(runtime.db, ticket.number)
    assert entry.ticket.status == "open" and entry.ticket.closed_at is None
    assert [m["subject"] for m in await _mails(runtime)] == [
        "We received your privacy request (ticket 1001)"
    ]

    await replies.reply_as_operator(runtime, operator, number=ticket.number, body="Attached.")
    await replies.close_ticket(runtime, number=ticket.number)
    entry, _ = await get_inbox_thread(runtime.db, ticket.number)
    assert entry.ticket.status == "closed"
