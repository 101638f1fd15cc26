"""Support tickets in D1: reads for the owner (their own tickets only) and for operators."""

from __future__ import annotations

from typing import cast

from beatbun.errors import NotFound
from beatbun.generation.models import Job
from beatbun.generation.store import get_job, list_jobs
from beatbun.i18n import N_
from beatbun.runtime.base import Database, Row
from beatbun.support.models import (
    Author,
    Category,
    InboxRow,
    Message,
    Reference,
    Status,
    Thread,
    Ticket,
)
from beatbun.tracks.store import get_track, list_tracks

# The ticket form offers this many of the account's newest jobs and tracks to refer to.
REFERENCE_JOBS = 20
REFERENCE_TRACKS = 30
# The Help page lists this many of the account's tickets.
HISTORY_SHOWN = 100
# The inbox lists this many tickets: open ones first, then answered, then closed.
INBOX_SIZE = 200
TICKET_NOT_FOUND = N_("Ticket %(number)s not found.")
_TICKET_COLUMNS = (
    "t.id, t.number, t.account_id, t.category, t.subject, t.status, t.language, t.created_at,"
    " t.updated_at, t.job_id, t.track_id, t.due_at, t.closed_at"
)


def ticket_not_found(number: int | str) -> NotFound:
    return NotFound(TICKET_NOT_FOUND, code="ticket_not_found", params={"number": number})


async def list_account_tickets(db: Database, account_id: str) -> list[Ticket]:
    """The account's tickets (up to `HISTORY_SHOWN`), the most recently active first."""
    rows = (
        await db.prepare(
            f"SELECT {_TICKET_COLUMNS} FROM support_tickets t WHERE t.account_id = ?"
            " ORDER BY t.updated_at DESC, t.number DESC LIMIT ?"
        )
        .bind(account_id, HISTORY_SHOWN)
        .all()
    ).results
    return [_ticket(row) for row in rows]


async def get_account_thread(db: Database, *, account_id: str, number: int) -> Thread:
    """The account's ticket `number` with its messages; anyone else's is NotFound."""
    row = (
        await db.prepare(
            f"SELECT {_TICKET_COLUMNS} FROM support_tickets t WHERE t.number = ? AND t.account_id = ?"
        )
        .bind(number, account_id)
        .first()
    )
    if row is None:
        raise ticket_not_found(number)
    return await _thread(db, _ticket(row))


# A ticket with whose it is, as operators see it.
_INBOX_SELECT = (
    f"SELECT {_TICKET_COLUMNS}, a.email, a.display_name FROM support_tickets t"
    " JOIN accounts a ON a.id = t.account_id"
)


async def list_inbox(db: Database) -> list[InboxRow]:
    """Every ticket for operators: open first (privacy deadlines soonest first), then
    answered, then closed, each the most recently active first."""
    rows = (
        await db.prepare(
            f"{_INBOX_SELECT} ORDER BY CASE t.status WHEN 'open' THEN 0 WHEN 'answered' THEN 1 ELSE 2 END,"
            " t.due_at IS NULL, t.due_at, t.updated_at DESC LIMIT ?"
        )
        .bind(INBOX_SIZE)
        .all()
    ).results
    return [_inbox_row(row) for row in rows]


async def get_inbox_thread(db: Database, number: int) -> tuple[InboxRow, Thread]:
    """Ticket `number` for an operator, with whose it is and what it refers to."""
    row = await db.prepare(f"{_INBOX_SELECT} WHERE t.number = ?").bind(number).first()
    if row is None:
        raise ticket_not_found(number)
    entry = _inbox_row(row)
    return entry, await _thread(db, entry.ticket)


async def reference_choices(db: Database, account_id: str) -> list[Reference]:
    """The account's newest jobs that made no track (failed, cancelled or under way) and its
    newest tracks, as the ticket form offers them."""
    jobs = await list_jobs(db, account_id=account_id, limit=REFERENCE_JOBS)
    tracks = await list_tracks(db, account_id=account_id, limit=REFERENCE_TRACKS)
    return [_job_reference(j) for j in jobs if j.status != "succeeded"] + [
        Reference(kind="track", id=t.id, label=t.title) for t in tracks
    ]


async def find_reference(db: Database, *, account_id: str, value: str) -> Reference | None:
    """The account's own job or track named by `value` (`job:<id>` or `track:<id>`); None
    for anything else, someone else's included."""
    kind, _, item_id = value.partition(":")
    if not item_id:
        return None
    try:
        if kind == "job":
            return _job_reference(await get_job(db, account_id=account_id, job_id=item_id))
        if kind == "track":
            track = await get_track(db, account_id=account_id, track_id=item_id)
            return Reference(kind="track", id=track.id, label=track.title)
    except NotFound:
        return None
    return None


async def _thread(db: Database, ticket: Ticket) -> Thread:
    rows = (
        await db.prepare(
            "SELECT id, ticket_id, author, operator_id, body, created_at FROM support_messages"
            " WHERE ticket_id = ? ORDER BY created_at, rowid"
        )
        .bind(ticket.id)
        .all()
    ).results
    messages = [
        Message(
            id=str(row["id"]),
            ticket_id=str(row["ticket_id"]),
            author=cast(Author, row["author"]),
            body=str(row["body"]),
            created_at=float(row["created_at"] or 0),
            operator_id=None if row["operator_id"] is None else str(row["operator_id"]),
        )
        for row in rows
    ]
    value = (
        f"job:{ticket.job_id}"
        if ticket.job_id
        else f"track:{ticket.track_id}"
        if ticket.track_id
        else ""
    )
    reference = await find_reference(db, account_id=ticket.account_id, value=value)
    return Thread(ticket=ticket, messages=messages, reference=reference)


def _job_reference(job: Job) -> Reference:
    detail = job.status + (f" ({job.error_code})" if job.error_code else "")
    return Reference(kind="job", id=job.id, label=str(job.request.get("prompt", "")), detail=detail)


def _inbox_row(row: Row) -> InboxRow:
    return InboxRow(
        ticket=_ticket(row), email=str(row["email"]), display_name=str(row["display_name"])
    )


def _ticket(row: Row) -> Ticket:
    return Ticket(
        id=str(row["id"]),
        number=int(row["number"] or 0),
        account_id=str(row["account_id"]),
        category=cast(Category, row["category"]),
        subject=str(row["subject"]),
        status=cast(Status, row["status"]),
        language=str(row["language"]),
        created_at=float(row["created_at"] or 0),
        updated_at=float(row["updated_at"] or 0),
        job_id=None if row["job_id"] is None else str(row["job_id"]),
        track_id=None if row["track_id"] is None else str(row["track_id"]),
        due_at=None if row["due_at"] is None else int(row["due_at"]),
        closed_at=None if row["closed_at"] is None else float(row["closed_at"]),
    )
