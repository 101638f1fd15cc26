"""Support tickets after opening: the owner's replies, operators' answers and closing.

Each is one D1 batch with the ticket's new status and, for operators' actions, the email that
tells the customer. A customer's reply opens a closed or answered ticket again and counts
towards the account's hourly `MAX_MESSAGES`; operators' answers do not.
"""

from __future__ import annotations

from beatbun.accounts.models import Account
from beatbun.accounts.tokens import new_id
from beatbun.errors import Conflict, TooManyRequests
from beatbun.i18n import N_
from beatbun.runtime.base import Runtime
from beatbun.support.mail import OPERATOR_REPLIED, TICKET_CLOSED
from beatbun.support.models import Message
from beatbun.support.store import get_inbox_thread, ticket_not_found
from beatbun.support.tickets import (
    LIMIT_WINDOW_SECONDS,
    MAX_MESSAGES,
    RECENT_MESSAGES_SQL,
    TOO_MANY_MESSAGES,
    check_body,
    mail_statements,
)

ALREADY_CLOSED = N_("Ticket %(number)s is already closed.")
PRIVACY_UNANSWERED = N_(
    "Ticket %(number)s is a privacy request: answer it before you close it, so the customer"
    " has our reply in writing."
)
# A privacy request closes only once an operator answered it (the answer is the record that
# the request was dealt with within its month).
_CLOSABLE_SQL = (
    "status != 'closed' AND (category != 'privacy' OR EXISTS (SELECT 1 FROM support_messages m"
    " WHERE m.ticket_id = support_tickets.id AND m.author = 'operator'))"
)


async def reply_as_customer(runtime: Runtime, account: Account, *, number: int, body: str) -> None:
    """Add the owner's message to ticket `number`; a closed or answered ticket opens again.

    Raises InvalidInput (`message_required`, `message_too_long`), NotFound (not the
    account's ticket) or TooManyRequests (`too_many_messages`); each writes nothing.
    """
    text = check_body(body)
    db, now = runtime.db, runtime.clock.now()
    message_id = new_id()
    insert = db.prepare(
        "INSERT INTO support_messages (id, ticket_id, author, body, created_at)"  # noqa: S608 (constant SQL)
        " SELECT ?, id, 'customer', ?, ? FROM support_tickets WHERE number = ? AND account_id = ?"
        f" AND {RECENT_MESSAGES_SQL} < ?"
    ).bind(
        message_id,
        text,
        now,
        number,
        account.id,
        account.id,
        now - LIMIT_WINDOW_SECONDS,
        MAX_MESSAGES,
    )
    reopen = db.prepare(
        "UPDATE support_tickets SET status = 'open', closed_at = NULL, updated_at = ?"
        " WHERE id = (SELECT ticket_id FROM support_messages WHERE id = ?)"
    ).bind(now, message_id)
    results = await db.batch([insert, reopen])
    if results[0].meta.changes == 0:
        owned = await (
            db.prepare("SELECT 1 AS n FROM support_tickets WHERE number = ? AND account_id = ?")
            .bind(number, account.id)
            .first("n")
        )
        if owned is None:
            raise ticket_not_found(number)
        raise TooManyRequests(
            TOO_MANY_MESSAGES, code="too_many_messages", params={"limit": MAX_MESSAGES}
        )


async def reply_as_operator(
    runtime: Runtime, operator: Account, *, number: int, body: str
) -> Message:
    """Answer ticket `number`: the message, the status `answered` and the email to the
    customer (with the answer's text), in one batch.

    Raises InvalidInput (`message_required`, `message_too_long`) or NotFound.
    """
    text = check_body(body)
    db, now = runtime.db, runtime.clock.now()
    entry, _ = await get_inbox_thread(db, number)
    message = Message(
        id=new_id(),
        ticket_id=entry.ticket.id,
        author="operator",
        body=text,
        created_at=now,
        operator_id=operator.id,
    )
    insert = db.prepare(
        "INSERT INTO support_messages (id, ticket_id, author, operator_id, body, created_at)"
        " SELECT ?, ?, 'operator', ?, ?, ? WHERE EXISTS (SELECT 1 FROM support_tickets WHERE id = ?)"
    ).bind(message.id, entry.ticket.id, operator.id, text, now, entry.ticket.id)
    answered = db.prepare(
        "UPDATE support_tickets SET status = 'answered', closed_at = NULL, updated_at = ?"
        " WHERE id = ? AND EXISTS (SELECT 1 FROM support_messages WHERE id = ?)"
    ).bind(now, entry.ticket.id, message.id)
    tell = mail_statements(
        runtime,
        entry.ticket,
        email=entry.email,
        mail=OPERATOR_REPLIED,
        key=f"support-reply:{message.id}",
        only_if="EXISTS (SELECT 1 FROM support_messages WHERE id = ?)",
        only_if_params=(message.id,),
        params={"reply": text},
    )
    results = await db.batch([insert, answered, *tell])
    if results[0].meta.changes == 0:  # the account and its tickets were erased meanwhile
        raise ticket_not_found(number)
    return message


async def close_ticket(runtime: Runtime, *, number: int) -> None:
    """Close ticket `number` and tell the customer. Raises NotFound, or Conflict when it is
    closed already (`ticket_closed`) or is a privacy request no operator answered yet
    (`privacy_unanswered`)."""
    db, now = runtime.db, runtime.clock.now()
    entry, thread = await get_inbox_thread(db, number)
    close = db.prepare(
        "UPDATE support_tickets SET status = 'closed', closed_at = ?, updated_at = ?"  # noqa: S608 (constant SQL)
        f" WHERE id = ? AND {_CLOSABLE_SQL}"
    ).bind(now, now, entry.ticket.id)
    tell = mail_statements(
        runtime,
        entry.ticket,
        email=entry.email,
        mail=TICKET_CLOSED,
        key=f"support-closed:{entry.ticket.id}:{now}",
        only_if="EXISTS (SELECT 1 FROM support_tickets WHERE id = ? AND closed_at = ?)",
        only_if_params=(entry.ticket.id, now),
    )
    results = await db.batch([close, *tell])
    if results[0].meta.changes == 0:
        answered = any(message.author == "operator" for message in thread.messages)
        if entry.ticket.status != "closed" and entry.ticket.category == "privacy" and not answered:
            raise Conflict(PRIVACY_UNANSWERED, code="privacy_unanswered", params={"number": number})
        raise Conflict(ALREADY_CLOSED, code="ticket_closed", params={"number": number})
