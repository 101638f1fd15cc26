"""Email settings: the service notices everyone gets, and marketing email by double opt-in.

`/account/email` lists the service notices (always on) and the marketing choice with its
record. Turning marketing on mails a confirmation link (`/email/confirm-marketing`), whose page
confirms with one button; turning it off takes effect at once. Every marketing email carries an
unsubscribe link (`/email/unsubscribe/<account>/<token>`): a GET shows one button and changes
nothing (mail scanners open links), and a POST, from that button or from a mail app's RFC 8058
one-click (`List-Unsubscribe=One-Click`), unsubscribes without a session or CSRF token.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from starlette.background import BackgroundTask

from beatbun.accounts.models import Account
from beatbun.api.deps import CurrentAccount, CurrentVisitor, RuntimeDep
from beatbun.errors import AppError, InvalidInput, NotFound
from beatbun.i18n import N_
from beatbun.mail import drain
from beatbun.mail.catalogue import NOTICES
from beatbun.mail.marketing import (
    CONFIRM_PATH,
    confirm_marketing,
    request_marketing,
    withdraw_marketing,
)
from beatbun.mail.marketingrules import (
    EMAIL_SETTINGS_PATH,
    UNSUBSCRIBE_PATH,
    is_unsubscribe_token,
)
from beatbun.mail.marketingstatus import WORDING, ineligibility, marketing_history, marketing_status
from beatbun.runtime.base import Runtime
from beatbun.web.choices import language_of
from beatbun.web.forms import NO_REFERRER, Text, client_of, render_form, see_other
from beatbun.web.i18n import error_text

router = APIRouter()

PAGE = EMAIL_SETTINGS_PATH
TEMPLATE = "account/email.html"
# What a 303 back to the page says.
NOTICES_AFTER = {
    "confirm_sent": N_("We emailed you a link. Open it within 48 hours to turn these emails on."),
    "marketing_on": N_("Confirmed: product updates and offers are on."),
    "marketing_off": N_("Product updates and offers are off, from now on."),
}
ACTION_LABELS = {
    "requested": N_("Asked for (confirmation link sent)"),
    "confirmed": N_("Turned on (link confirmed)"),
    "withdrawn": N_("Turned off"),
}
SOURCE_LABELS = {
    "email_settings": N_("Email settings"),
    "confirmation_link": N_("Confirmation link"),
    "unsubscribe_page": N_("Unsubscribe link"),
    "one_click": N_("One-click unsubscribe in your mail app"),
    "complaint": N_("Reported as spam in your mail app"),
    "objection": N_("Objection on the Privacy & data page"),
}
OneClick = Annotated[str, Form(alias="List-Unsubscribe")]


@router.get(PAGE, response_class=HTMLResponse)
async def email_settings_page(
    request: Request, runtime: RuntimeDep, account: CurrentAccount, done: str = ""
) -> HTMLResponse:
    return await _render(request, runtime, account, notice=done)


@router.post(f"{PAGE}/marketing", response_model=None)
async def change_marketing(
    request: Request, runtime: RuntimeDep, account: CurrentAccount, choice: Text = ""
) -> Response:
    """`choice` on: send the confirmation link (again); off: withdraw at once."""
    client = client_of(request)
    if choice == "off":
        await withdraw_marketing(
            runtime,
            account.id,
            source="email_settings",
            ip=client.ip,
            user_agent=client.user_agent,
        )
        return see_other(f"{PAGE}?done=marketing_off#marketing")
    if choice != "on":
        error = InvalidInput(N_("Choose on or off."), code="invalid_choice", field="choice")
        return await _render(request, runtime, account, error=error)
    try:
        sent = await request_marketing(
            runtime,
            account,
            language=language_of(request),
            ip=client.ip,
            user_agent=client.user_agent,
        )
    except AppError as exc:
        return await _render(request, runtime, account, error=exc)
    if not sent:  # on already: no link was needed
        return see_other(f"{PAGE}?done=marketing_on#marketing")
    redirect = see_other(f"{PAGE}?done=confirm_sent#marketing")
    redirect.background = BackgroundTask(drain.send_queued_mail, runtime)
    return redirect


@router.get(CONFIRM_PATH, response_class=HTMLResponse)
async def confirm_marketing_page(request: Request, token: str = "") -> HTMLResponse:
    return _confirm_page(request, token=token)


@router.post(CONFIRM_PATH, response_model=None)
async def confirm_marketing_link(
    request: Request, runtime: RuntimeDep, visitor: CurrentVisitor, token: Text = ""
) -> Response:
    client = client_of(request)
    try:
        account_id = await confirm_marketing(
            runtime, token, ip=client.ip, user_agent=client.user_agent
        )
    except AppError as exc:
        return _confirm_page(request, token="", error=exc)
    owner = visitor.full_account
    if owner is not None and owner.id == account_id:
        return see_other(f"{PAGE}?done=marketing_on#marketing")
    return _confirm_page(request, token="", confirmed=True)


@router.get(f"{UNSUBSCRIBE_PATH}/{{account_id}}/{{token}}", response_class=HTMLResponse)
async def unsubscribe_page(
    request: Request, runtime: RuntimeDep, account_id: str, token: str, c: str = ""
) -> HTMLResponse:
    """The visible link's page: one button, and nothing changes until it is pressed."""
    _check_unsubscribe(runtime, account_id, token)
    return _unsubscribe_page(request, action=request.url.path, campaign=c, done=False)


@router.post(f"{UNSUBSCRIBE_PATH}/{{account_id}}/{{token}}", response_class=HTMLResponse)
async def unsubscribe(
    request: Request,
    runtime: RuntimeDep,
    account_id: str,
    token: str,
    c: str = "",
    one_click: OneClick = "",
) -> HTMLResponse:
    """Unsubscribe at once: a mail app's one-click POST or the page's button."""
    _check_unsubscribe(runtime, account_id, token)
    client = client_of(request)
    await withdraw_marketing(
        runtime,
        account_id,
        source="one_click" if one_click == "One-Click" else "unsubscribe_page",
        campaign_id=c or None,
        ip=client.ip,
        user_agent=client.user_agent,
    )
    return _unsubscribe_page(request, action=request.url.path, campaign=c, done=True)


def _check_unsubscribe(runtime: Runtime, account_id: str, token: str) -> None:
    if not is_unsubscribe_token(runtime.settings.app_secret, account_id, token):
        raise NotFound(N_("This unsubscribe link is not valid."), code="invalid_link")


def _unsubscribe_page(request: Request, *, action: str, campaign: str, done: bool) -> HTMLResponse:
    page = render_form(
        request,
        "mail/unsubscribe.html",
        context={"action": action, "campaign": campaign, "done": done, "settings_page": PAGE},
    )
    page.headers.update(NO_REFERRER)
    return page


def _confirm_page(
    request: Request, *, token: str, error: AppError | None = None, confirmed: bool = False
) -> HTMLResponse:
    page = render_form(
        request,
        "mail/confirm_marketing.html",
        error=error,
        values={"token": token},
        context={"confirmed": confirmed, "settings_page": PAGE, "action": CONFIRM_PATH},
    )
    page.headers.update(NO_REFERRER)
    return page


async def _render(
    request: Request,
    runtime: Runtime,
    account: Account,
    *,
    notice: str = "",
    error: AppError | None = None,
) -> HTMLResponse:
    history = await marketing_history(runtime.db, account.id)
    refusal = ineligibility(account)
    context: dict[str, Any] = {
        "blocked": error_text(refusal, language_of(request)) if refusal else "",
        "notices": NOTICES,
        "status": marketing_status(account, history, now=runtime.clock.now()),
        "history": history,
        "account": account,
        "wording": WORDING,
        "notice": NOTICES_AFTER.get(notice, ""),
        "action_labels": ACTION_LABELS,
        "source_labels": SOURCE_LABELS,
    }
    return render_form(request, TEMPLATE, error=error, context=context)
