"""Support tickets: opened by an account from the dashboard (replies and closing:
`support.replies`).

Each change is one D1 batch: the ticket or message row, the ticket's status and the email
that tells the customer, so nothing is written half. A ticket's number comes from a counter
(`support_ticket_counter`), read in the ticket's INSERT and moved on in the same batch, so a
number is never given twice, even after the ticket that had it was erased; the confirmation
email, composed before the batch, gets the number in the same batch. Limits are counted in
SQL over the account's own recent rows: `MAX_TICKETS` tickets and `MAX_MESSAGES` messages an
hour. Privacy requests are due `PRIVACY_DAYS` days after opening (GDPR Art. 12(3): within
one month).
"""

from __future__ import annotations

from dataclasses import replace

from beatbun.accounts.models import Account
from beatbun.accounts.store import get_account
from beatbun.accounts.tokens import new_id
from beatbun.errors import InvalidFields, InvalidInput, TooManyRequests
from beatbun.i18n import N_
from beatbun.mail import mailqueue
from beatbun.mail.compose import AccountMail, email_date
from beatbun.runtime.base import Runtime, SqlValue, Statement
from beatbun.support.mail import PRIVACY_REQUEST_RECEIVED, TICKET_RECEIVED
from beatbun.support.models import CATEGORIES, DAY, Category, Reference, Ticket
from beatbun.support.store import find_reference

HELP_PATH = "/help"
MAX_SUBJECT_CHARS = 150
MAX_BODY_CHARS = 5000
MAX_TICKETS = 5
MAX_MESSAGES = 30
LIMIT_WINDOW_SECONDS = 3600.0
PRIVACY_DAYS = 30
# Stands for the ticket's number in a confirmation composed before the number exists.
NUMBER_MARK = "@@ticket-number@@"
MAIL_KIND = "support"
TOO_MANY_TICKETS = N_("You can open at most %(limit)s tickets an hour. Try again later.")
TOO_MANY_MESSAGES = N_("You can send at most %(limit)s messages an hour. Try again later.")
# The account's customer messages within the window, for the guards of every new message.
RECENT_MESSAGES_SQL = (
    "(SELECT COUNT(*) FROM support_messages m JOIN support_tickets s ON s.id = m.ticket_id"
    " WHERE s.account_id = ? AND m.author = 'customer' AND m.created_at > ?)"
)


async def open_ticket(
    runtime: Runtime,
    account: Account,
    *,
    category: str,
    subject: str,
    body: str,
    reference: str,
    language: str,
) -> Ticket:
    """Open a ticket with its first message and queue the confirmation with its number.

    Raises InvalidFields (one problem per field: `category`, `subject`, `message`,
    `reference`), TooManyRequests (`too_many_tickets`, `too_many_messages`) or NotFound (the
    account is gone); each writes nothing.
    """
    db, now = runtime.db, runtime.clock.now()
    chosen = await _check_ticket(runtime, account, category, subject, body, reference)
    checked_category, text, message, ref = chosen
    ticket = Ticket(
        id=new_id(),
        number=0,
        account_id=account.id,
        category=checked_category,
        subject=text,
        status="open",
        language=language,
        created_at=now,
        updated_at=now,
        job_id=ref.id if ref and ref.kind == "job" else None,
        track_id=ref.id if ref and ref.kind == "track" else None,
        due_at=int(now) + PRIVACY_DAYS * DAY if checked_category == "privacy" else None,
    )
    since = now - LIMIT_WINDOW_SECONDS
    insert = db.prepare(
        "INSERT INTO support_tickets (id, number, account_id, category, subject, status,"  # noqa: S608 (constant SQL)
        " job_id, track_id, language, due_at, created_at, updated_at)"
        " SELECT ?, (SELECT last_number + 1 FROM support_ticket_counter), ?, ?, ?,"
        " 'open', ?, ?, ?, ?, ?, ?"
        " WHERE EXISTS (SELECT 1 FROM accounts WHERE id = ?)"
        " AND (SELECT COUNT(*) FROM support_tickets WHERE account_id = ? AND created_at > ?) < ?"
        f" AND {RECENT_MESSAGES_SQL} < ?"
        # The reference is the account's own, still (it was checked before the batch).
        " AND (? IS NULL OR EXISTS (SELECT 1 FROM jobs WHERE id = ? AND account_id = ?))"
        " AND (? IS NULL OR EXISTS (SELECT 1 FROM tracks WHERE id = ? AND account_id = ?"
        " AND deleted_at IS NULL))"
    ).bind(
        ticket.id,
        account.id,
        ticket.category,
        ticket.subject,
        ticket.job_id,
        ticket.track_id,
        language,
        ticket.due_at,
        now,
        now,
        account.id,
        account.id,
        since,
        MAX_TICKETS,
        account.id,
        since,
        MAX_MESSAGES,
        ticket.job_id,
        ticket.job_id,
        account.id,
        ticket.track_id,
        ticket.track_id,
        account.id,
    )
    counted = db.prepare(
        "UPDATE support_ticket_counter SET last_number = last_number + 1"
        " WHERE EXISTS (SELECT 1 FROM support_tickets WHERE id = ?)"
    ).bind(ticket.id)
    first = db.prepare(
        "INSERT INTO support_messages (id, ticket_id, author, body, created_at)"
        " SELECT ?, ?, 'customer', ?, ? WHERE EXISTS (SELECT 1 FROM support_tickets WHERE id = ?)"
    ).bind(new_id(), ticket.id, message, now, ticket.id)
    mail = PRIVACY_REQUEST_RECEIVED if ticket.is_privacy_request else TICKET_RECEIVED
    confirm = mail_statements(
        runtime,
        ticket,
        email=account.email,
        mail=mail,
        key=f"support-opened:{ticket.id}",
        only_if="EXISTS (SELECT 1 FROM support_tickets WHERE id = ?)",
        only_if_params=(ticket.id,),
        number=NUMBER_MARK,
        params={"date": email_date(ticket.due_at)} if ticket.due_at is not None else None,
    )
    # The batch ends by reading the number its INSERT allocated.
    numbered = db.prepare("SELECT number FROM support_tickets WHERE id = ?").bind(ticket.id)
    results = await db.batch([insert, counted, first, *confirm, numbered])
    if results[0].meta.changes == 0:
        raise await _refusal(runtime, account, ref)
    return replace(ticket, number=int(results[-1].results[0]["number"] or 0))


def mail_statements(
    runtime: Runtime,
    ticket: Ticket,
    *,
    email: str,
    mail: AccountMail,
    key: str,
    only_if: str,
    only_if_params: tuple[SqlValue, ...],
    number: str = "",
    params: dict[str, str] | None = None,
) -> list[Statement]:
    """The email about `ticket` in its language, queued only when the constant SQL condition
    `only_if` holds (the batch's own write happened); with `number=NUMBER_MARK` a second
    statement writes the newly allocated number in."""
    db, settings = runtime.db, runtime.settings
    shown = number or str(ticket.number)
    composed = mail.compose(
        to=email,
        language=ticket.language,
        site=settings.site_name,
        subject=ticket.subject,
        number=shown,
        link=f"{settings.public_url}{HELP_PATH}/tickets/{shown}",
        **(params or {}),
    )
    message_id = new_id()
    statements = [
        mailqueue.enqueue_statement(
            db,
            message_id=message_id,
            key=key,
            message=composed,
            now=runtime.clock.now(),
            only_if=only_if,
            only_if_params=only_if_params,
            kind=MAIL_KIND,
            account_id=ticket.account_id,
        )
    ]
    if number == NUMBER_MARK:
        allocated = "(SELECT CAST(number AS TEXT) FROM support_tickets WHERE id = ?)"
        statements.append(
            db.prepare(
                f"UPDATE mail_queue SET subject = replace(subject, ?, {allocated}),"  # noqa: S608 (constant SQL)
                f" body = replace(body, ?, {allocated}), html = replace(html, ?, {allocated})"
                " WHERE id = ?"
            ).bind(
                NUMBER_MARK,
                ticket.id,
                NUMBER_MARK,
                ticket.id,
                NUMBER_MARK,
                ticket.id,
                message_id,
            )
        )
    return statements


async def _check_ticket(
    runtime: Runtime,
    account: Account,
    category: str,
    subject: str,
    body: str,
    reference: str,
) -> tuple[Category, str, str, Reference | None]:
    """The form's fields checked whole: InvalidFields names every wrong one."""
    problems: list[InvalidInput] = []
    checked: Category = "other"
    if category in CATEGORIES:
        checked = category
    else:
        problems.append(
            InvalidInput(
                N_("Choose what your request is about."), code="category_required", field="category"
            )
        )
    text = " ".join(subject.split())
    if not text:
        problems.append(
            InvalidInput(
                N_("Give your request a subject."), code="subject_required", field="subject"
            )
        )
    elif len(text) > MAX_SUBJECT_CHARS:
        problems.append(
            InvalidInput(
                N_("Keep the subject to %(limit)s characters; it has %(count)s."),
                code="subject_too_long",
                field="subject",
                params={"limit": MAX_SUBJECT_CHARS, "count": len(text)},
            )
        )
    message = ""
    try:
        message = check_body(body)
    except InvalidInput as exc:
        problems.append(exc)
    ref = None
    if reference:
        ref = await find_reference(runtime.db, account_id=account.id, value=reference)
        if ref is None:
            problems.append(_unknown_reference())
    if problems:
        raise InvalidFields(problems)
    return checked, text, message, ref


def check_body(body: str) -> str:
    text = body.strip()
    if not text:
        raise InvalidInput(N_("Write your message."), code="message_required", field="message")
    if len(text) > MAX_BODY_CHARS:
        raise InvalidInput(
            N_("Keep the message to %(limit)s characters; it has %(count)s."),
            code="message_too_long",
            field="message",
            params={"limit": MAX_BODY_CHARS, "count": len(text)},
        )
    return text


def _unknown_reference() -> InvalidInput:
    return InvalidInput(
        N_("Choose one of your own tracks or jobs, or none."),
        code="unknown_reference",
        field="reference",
    )


async def _refusal(runtime: Runtime, account: Account, ref: Reference | None) -> Exception:
    """Why the ticket's guarded INSERT wrote nothing, as the error to raise."""
    db, since = runtime.db, runtime.clock.now() - LIMIT_WINDOW_SECONDS
    await get_account(db, account.id)  # NotFound once the account is gone
    if ref is not None and await find_reference(db, account_id=account.id, value=ref.value) is None:
        return InvalidFields([_unknown_reference()])
    tickets = await (
        db.prepare(
            "SELECT COUNT(*) AS n FROM support_tickets WHERE account_id = ? AND created_at > ?"
        )
        .bind(account.id, since)
        .first("n")
    )
    if int(tickets or 0) >= MAX_TICKETS:
        return TooManyRequests(
            TOO_MANY_TICKETS, code="too_many_tickets", params={"limit": MAX_TICKETS}
        )
    return TooManyRequests(
        TOO_MANY_MESSAGES, code="too_many_messages", params={"limit": MAX_MESSAGES}
    )
