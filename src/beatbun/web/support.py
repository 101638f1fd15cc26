"""Support from the dashboard: the customer's Help pages and the operators' inbox.

`/help` lists the account's tickets above the form that opens one; `?job=<id>` or
`?track=<id>` (the studio's "Get help" on a failed job) pre-selects that reference when it is
the account's own. `/help/tickets/<number>` is the thread with a reply form. Operators read,
answer and close tickets at `/admin/support`, a 404 to everyone else. Every form answers 303
to the page it belongs to, or that page again with the error next to its field and what was
typed kept; the email the change queued goes out right after the answer.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from starlette.background import BackgroundTask

from beatbun.accounts.models import Account
from beatbun.api.deps import CurrentAccount, RuntimeDep
from beatbun.errors import AppError
from beatbun.i18n import LANGUAGES, N_
from beatbun.mail import drain
from beatbun.runtime.base import Runtime
from beatbun.support import replies, tickets
from beatbun.support.models import CATEGORIES, STATUSES, Reference, Thread, Ticket
from beatbun.support.store import (
    find_reference,
    get_account_thread,
    get_inbox_thread,
    list_account_tickets,
    list_inbox,
    reference_choices,
    ticket_not_found,
)
from beatbun.web.choices import language_of
from beatbun.web.forms import Text, render_form, see_other
from beatbun.web.operators import Operator, operator_only

router = APIRouter()
ADMIN_PATH = "/admin/support"
# What a 303 back to a page says.
NOTICES = {
    "opened": N_("Your request is sent. We emailed you a confirmation with its number."),
    "replied": N_("Your message is sent."),
    "answered": N_("Your answer is sent and emailed to the customer."),
    "closed": N_("The ticket is closed and the customer told."),
}
FIELDS = frozenset({"category", "subject", "message", "reference"})


@router.get(tickets.HELP_PATH, response_class=HTMLResponse)
async def help_page(
    request: Request,
    runtime: RuntimeDep,
    account: CurrentAccount,
    job: str = "",
    track: str = "",
) -> HTMLResponse:
    asked = f"job:{job}" if job else f"track:{track}" if track else ""
    # Someone else's job or track is simply not offered: its id says nothing here.
    chosen = await find_reference(runtime.db, account_id=account.id, value=asked)
    values = {"reference": chosen.value, "category": "track"} if chosen else {}
    return await _help(request, runtime, account, values=values, extra=chosen)


@router.post(f"{tickets.HELP_PATH}/tickets", response_model=None)
async def open_ticket(
    request: Request,
    runtime: RuntimeDep,
    account: CurrentAccount,
    category: Text = "",
    subject: Text = "",
    message: Text = "",
    reference: Text = "",
) -> Response:
    values = {"category": category, "subject": subject, "message": message, "reference": reference}
    try:
        ticket = await tickets.open_ticket(
            runtime,
            account,
            category=category,
            subject=subject,
            body=message,
            reference=reference,
            language=language_of(request),
        )
    except AppError as exc:
        return await _help(request, runtime, account, values=values, error=exc)
    return _sent(runtime, f"{tickets.HELP_PATH}/tickets/{ticket.number}?done=opened")


@router.get(f"{tickets.HELP_PATH}/tickets/{{number}}", response_class=HTMLResponse)
async def ticket_page(
    number: str, request: Request, runtime: RuntimeDep, account: CurrentAccount, done: str = ""
) -> HTMLResponse:
    thread = await get_account_thread(runtime.db, account_id=account.id, number=_number(number))
    return _thread_page(request, runtime, "support/ticket.html", thread, notice=done)


@router.post(f"{tickets.HELP_PATH}/tickets/{{number}}/reply", response_model=None)
async def reply(
    number: str,
    request: Request,
    runtime: RuntimeDep,
    account: CurrentAccount,
    message: Text = "",
) -> Response:
    wanted = _number(number)
    try:
        await replies.reply_as_customer(runtime, account, number=wanted, body=message)
    except AppError as exc:
        thread = await get_account_thread(runtime.db, account_id=account.id, number=wanted)
        return _thread_page(
            request, runtime, "support/ticket.html", thread, error=exc, values={"message": message}
        )
    return _sent(runtime, f"{tickets.HELP_PATH}/tickets/{wanted}?done=replied#reply")


@router.get(
    ADMIN_PATH,
    response_class=HTMLResponse,
    dependencies=[Depends(operator_only)],
    include_in_schema=False,
)
async def inbox(request: Request, runtime: RuntimeDep) -> HTMLResponse:
    now = runtime.clock.now()
    rows = await list_inbox(runtime.db)
    return render_form(
        request,
        "admin/support.html",
        context={
            "rows": rows,
            "days_left": {row.ticket.number: row.ticket.days_left(now) for row in rows},
            **_labels(),
        },
    )


@router.get(
    f"{ADMIN_PATH}/{{number}}",
    response_class=HTMLResponse,
    dependencies=[Depends(operator_only)],
    include_in_schema=False,
)
async def inbox_ticket(
    number: str, request: Request, runtime: RuntimeDep, done: str = ""
) -> HTMLResponse:
    return await _admin_ticket(request, runtime, _number(number), notice=done)


@router.post(f"{ADMIN_PATH}/{{number}}/reply", response_model=None, include_in_schema=False)
async def answer(
    number: str, request: Request, runtime: RuntimeDep, operator: Operator, message: Text = ""
) -> Response:
    wanted = _number(number)
    try:
        await replies.reply_as_operator(runtime, operator, number=wanted, body=message)
    except AppError as exc:
        return await _admin_ticket(request, runtime, wanted, error=exc, values={"message": message})
    return _sent(runtime, f"{ADMIN_PATH}/{wanted}?done=answered")


@router.post(f"{ADMIN_PATH}/{{number}}/close", response_model=None, include_in_schema=False)
async def close(number: str, request: Request, runtime: RuntimeDep, operator: Operator) -> Response:
    del operator  # the gate: only operators close tickets
    wanted = _number(number)
    try:
        await replies.close_ticket(runtime, number=wanted)
    except AppError as exc:
        return await _admin_ticket(request, runtime, wanted, error=exc)
    return _sent(runtime, f"{ADMIN_PATH}/{wanted}?done=closed")


async def _help(
    request: Request,
    runtime: Runtime,
    account: Account,
    *,
    values: dict[str, str],
    error: AppError | None = None,
    extra: Reference | None = None,
) -> HTMLResponse:
    """The Help page: the account's tickets and the form, with `values` typed so far."""
    now = runtime.clock.now()
    mine = await list_account_tickets(runtime.db, account.id)
    choices = await reference_choices(runtime.db, account.id)
    if extra is not None and extra.value not in {c.value for c in choices}:
        choices.insert(0, extra)
    return render_form(
        request,
        "support/help.html",
        error=error,
        values=values,
        context={
            "tickets": mine,
            "days_left": {t.number: t.days_left(now) for t in mine},
            "choices": choices,
            "fields": FIELDS,
            "limits": {
                "subject": tickets.MAX_SUBJECT_CHARS,
                "message": tickets.MAX_BODY_CHARS,
                "privacy_days": tickets.PRIVACY_DAYS,
            },
            **_labels(),
        },
    )


async def _admin_ticket(
    request: Request,
    runtime: Runtime,
    number: int,
    *,
    error: AppError | None = None,
    values: dict[str, str] | None = None,
    notice: str = "",
) -> HTMLResponse:
    entry, thread = await get_inbox_thread(runtime.db, number)
    return _thread_page(
        request,
        runtime,
        "admin/support_ticket.html",
        thread,
        error=error,
        values=values,
        notice=notice,
        context={"customer": entry, "languages": LANGUAGES},
    )


def _thread_page(
    request: Request,
    runtime: Runtime,
    template: str,
    thread: Thread,
    *,
    error: AppError | None = None,
    values: dict[str, str] | None = None,
    notice: str = "",
    context: dict[str, Any] | None = None,
) -> HTMLResponse:
    ticket: Ticket = thread.ticket
    return render_form(
        request,
        template,
        error=error,
        values=values,
        context={
            "thread": thread,
            "ticket": ticket,
            "days_left": ticket.days_left(runtime.clock.now()),
            "notice": NOTICES.get(notice, ""),
            "limits": {"message": tickets.MAX_BODY_CHARS},
            **_labels(),
            **(context or {}),
        },
    )


def _labels() -> dict[str, Any]:
    return {"categories": CATEGORIES, "statuses": STATUSES}


def _number(text: str) -> int:
    """A ticket number from the path; anything else is a ticket that does not exist."""
    if not (text.isascii() and text.isdigit()) or len(text) > 12:
        raise ticket_not_found(text)
    return int(text)


def _sent(runtime: Runtime, path: str) -> Response:
    """303 to `path`; the email the change queued goes out after the answer."""
    redirect = see_other(path)
    redirect.background = BackgroundTask(drain.send_queued_mail, runtime)
    return redirect
