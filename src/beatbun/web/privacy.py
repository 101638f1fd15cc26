"""The account's "Privacy & data" page: what we hold, and the rights people use themselves.

One page, `/account/privacy`, shows the data map, the latest export, the objections in force,
the restriction, the scheduled deletion, the cookie choices of this browser and the history of
requests; each right is its own form posting to a route below it, answered with 303 back to
the page (a notice under the section's heading) or the page again with the error next to its
field. A locked account (deletion scheduled) is sent here from every other page, so nothing
here assumes more than a signed-in owner. Exporting and downloading an export need the password
confirmed within `reauth.WINDOW`; past it, their forms carry the password field themselves, and
one POST confirms it (`reauth.confirm_password`) and goes on.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.background import BackgroundTasks

from beatbun.accounts import reauth
from beatbun.accounts.models import Account, Client, Session
from beatbun.api.audio import BlobResponse
from beatbun.api.deps import CurrentAccount, CurrentSession, RuntimeDep
from beatbun.consent.models import CATEGORIES as COOKIE_CATEGORIES
from beatbun.consent.registry import CATEGORY_TITLES
from beatbun.errors import AppError, InvalidInput, ReauthenticationRequired
from beatbun.i18n import N_, translate
from beatbun.mail import drain
from beatbun.privacy import erasure, export, objections, restriction
from beatbun.privacy.inventory import CATEGORIES
from beatbun.privacy.models import PrivacyRequest, RequestKind, RequestStatus
from beatbun.privacy.notices import PRIVACY_PAGE
from beatbun.privacy.requests import list_requests
from beatbun.runtime.base import Runtime
from beatbun.web.choices import choices_of, language_of
from beatbun.web.forms import Text, client_of, form_values, render_form, see_other

router = APIRouter(prefix=PRIVACY_PAGE)

TEMPLATE = "account/privacy.html"
# The password field of the export forms, while the last confirmation is older than the window.
REAUTH_FIELD = "export_password"
# Fields the forms have; an error naming another field is shown in its section instead.
FIELDS = frozenset({"reason", "current_password", "code", REAUTH_FIELD})
# An export form sent without it: the field is shown now if it was not (the window has passed).
PASSWORD_NEEDED = N_("Type your password here to go on.")
# What a 303 back to the page says, under the heading of the section it names.
NOTICES = {
    "export_requested": ("export", N_("Export requested. We email you too when it is ready.")),
    # What `export_requested` becomes when the build finished before the page was asked for.
    "export_ready": ("export", N_("Request received, and your export is already built.")),
    "objections_saved": ("objections", N_("Your choices are saved and apply from now on.")),
    "restricted": (
        "restriction",
        N_("We emailed you a confirmation. You can end this at any time with the button below."),
    ),
    "restriction_lifted": ("restriction", N_("The restriction is lifted.")),
    "erasure_requested": (
        "erasure",
        N_("We emailed you a confirmation with a link that cancels the deletion."),
    ),
    "erasure_cancelled": ("erasure", N_("Deletion cancelled. Your account is unlocked.")),
}
KIND_LABELS = {
    "export": N_("Data export"),
    "erasure": N_("Account deletion"),
    "restriction": N_("Restriction of processing"),
}
STATUS_LABELS = {
    "pending": N_("Waiting to be built"),
    "building": N_("Being built"),
    "ready": N_("Ready to download"),
    "expired": N_("Expired and deleted"),
    "failed": N_("Failed"),
    "scheduled": N_("Scheduled"),
    "cancelled": N_("Cancelled"),
    "done": N_("Done"),
    "active": N_("In force"),
    "lifted": N_("Lifted"),
}
# Sizes as the reader's language writes them ("Mo" in French).
SIZE_UNITS = (N_("%(size)s KB"), N_("%(size)s MB"), N_("%(size)s GB"))


@router.get("", response_class=HTMLResponse)
async def privacy_page(
    request: Request,
    runtime: RuntimeDep,
    account: CurrentAccount,
    session: CurrentSession,
    done: str = "",
) -> HTMLResponse:
    return await _render(request, runtime, account, session, notice=done)


@router.post("/export", response_model=None)
async def request_export(
    request: Request,
    runtime: RuntimeDep,
    account: CurrentAccount,
    session: CurrentSession,
    export_password: Text = "",
) -> Response:
    client, language = client_of(request), language_of(request)
    try:
        session = await _confirmed(runtime, account, session, export_password, client=client)
    except AppError as exc:
        return await _render(request, runtime, account, session, error=exc, section="export")
    asked = export.request_export(runtime, account, session, client=client, language=language)
    # Built right after this answer, so it is usually ready by the time the page asks again;
    # the cron builds whatever this misses.
    return await _carry_out(
        request,
        runtime,
        account,
        session,
        asked,
        done="export_requested",
        then=export.build_pending_exports,
    )


@router.get("/exports/{request_id}", response_model=None)
async def download_export(
    request_id: str,
    request: Request,
    runtime: RuntimeDep,
    account: CurrentAccount,
    session: CurrentSession,
) -> Response:
    """The zip, streamed from the bucket as it is read; never whole in memory."""
    try:
        stream = await export.open_export(
            runtime, account, session, request_id, client=client_of(request)
        )
    except ReauthenticationRequired:
        # A link kept from earlier: the page's download form asks for the password.
        return see_other(f"{PRIVACY_PAGE}#export")
    except AppError as exc:
        return await _render(request, runtime, account, session, error=exc, section="export")
    day = stream.object.uploaded.astimezone(UTC).strftime("%Y-%m-%d")
    headers = {
        "content-disposition": f'attachment; filename="beatbun-data-{day}.zip"',
        "content-length": str(stream.object.size),
        "cache-control": "private, no-store",
    }
    return BlobResponse(stream, status_code=200, headers=headers, media_type="application/zip")


@router.post("/exports/{request_id}", response_model=None)
async def confirm_and_download_export(
    request_id: str,
    request: Request,
    runtime: RuntimeDep,
    account: CurrentAccount,
    session: CurrentSession,
    export_password: Text = "",
) -> Response:
    """The download form past the window: the password confirmed, then on to the zip."""
    try:
        await _confirmed(runtime, account, session, export_password, client=client_of(request))
    except AppError as exc:
        return await _render(request, runtime, account, session, error=exc, section="export")
    return see_other(f"{PRIVACY_PAGE}/exports/{quote(request_id, safe='')}")


@router.post("/objections", response_model=None)
async def save_objections(
    request: Request, runtime: RuntimeDep, account: CurrentAccount, session: CurrentSession
) -> Response:
    form = form_values(await request.form())
    chosen = objections.Objections(
        analytics=form.get("analytics") == "on",
        marketing=form.get("marketing") == "on",
        prompt_use=form.get("prompt_use") == "on",
    )
    saved = objections.set_objections(
        runtime,
        account,
        chosen,
        client=client_of(request),
        language=language_of(request),
    )
    return await _carry_out(
        request, runtime, account, session, saved, done="objections_saved", values=form
    )


@router.post("/restriction", response_model=None)
async def restrict(
    request: Request,
    runtime: RuntimeDep,
    account: CurrentAccount,
    session: CurrentSession,
    reason: Text = "",
) -> Response:
    client, language = client_of(request), language_of(request)
    restricted = restriction.restrict(
        runtime, account, reason=reason, client=client, language=language
    )
    return await _carry_out(
        request, runtime, account, session, restricted, done="restricted", values={"reason": reason}
    )


@router.post("/restriction/lift", response_model=None)
async def lift_restriction(
    request: Request, runtime: RuntimeDep, account: CurrentAccount, session: CurrentSession
) -> Response:
    client, language = client_of(request), language_of(request)
    lifted = restriction.lift_restriction(runtime, account, client=client, language=language)
    return await _carry_out(request, runtime, account, session, lifted, done="restriction_lifted")


@router.post("/erasure", response_model=None)
async def request_erasure(
    request: Request,
    runtime: RuntimeDep,
    account: CurrentAccount,
    session: CurrentSession,
    current_password: Text = "",
    code: Text = "",
) -> Response:
    scheduled = erasure.request_erasure(
        runtime,
        account,
        session,
        password=current_password,
        code=code,
        client=client_of(request),
        language=language_of(request),
    )
    return await _carry_out(request, runtime, account, session, scheduled, done="erasure_requested")


@router.post("/erasure/cancel", response_model=None)
async def cancel_erasure(
    request: Request, runtime: RuntimeDep, account: CurrentAccount, session: CurrentSession
) -> Response:
    client, language = client_of(request), language_of(request)
    cancelled = erasure.cancel_erasure(runtime, account.id, client=client, language=language)
    return await _carry_out(request, runtime, account, session, cancelled, done="erasure_cancelled")


async def _carry_out(
    request: Request,
    runtime: Runtime,
    account: Account,
    session: Session,
    action: Awaitable[object],
    *,
    done: str,
    values: dict[str, str] | None = None,
    then: Callable[[Runtime], Awaitable[object]] | None = None,
) -> Response:
    """Await the right's `action`: 303 back to its section with the `done` notice, or the page
    again with the error in that section. The confirmation email, queued by the action, goes
    out right after the answer, as every account mail does; `then` runs after it."""
    section = NOTICES[done][0]
    try:
        await action
    except AppError as exc:
        return await _render(
            request, runtime, account, session, error=exc, section=section, values=values
        )
    redirect = see_other(f"{PRIVACY_PAGE}?done={done}#{section}")
    tasks = BackgroundTasks()
    tasks.add_task(drain.send_queued_mail, runtime)
    if then is not None:
        tasks.add_task(then, runtime)
        tasks.add_task(drain.send_queued_mail, runtime)
    redirect.background = tasks
    return redirect


async def _render(
    request: Request,
    runtime: Runtime,
    account: Account,
    session: Session,
    *,
    error: AppError | None = None,
    section: str = "",
    values: dict[str, str] | None = None,
    notice: str = "",
) -> HTMLResponse:
    language = language_of(request)
    history = await list_requests(runtime.db, account.id)
    latest_export = _first(history, "export")
    shown_notice = NOTICES.get(_export_notice(notice, latest_export))
    consent = choices_of(request).consent
    context: dict[str, Any] = {
        "account": account,
        "categories": CATEGORIES,
        "latest_export": latest_export,
        "export_size": _size(latest_export.size, language) if latest_export else "",
        "export_days": export.EXPORT_DAYS,
        "objections": objections.objections_of(account),
        "restriction": _first(history, "restriction", status="active"),
        "max_reason": restriction.MAX_REASON_CHARS,
        "erasure": _first(history, "erasure", status="scheduled"),
        "grace_days": erasure.GRACE_SECONDS // 86400,
        "cookie_choices": [
            (CATEGORY_TITLES[category], consent.allows(category))
            for category in COOKIE_CATEGORIES
            if category != "necessary"
        ],
        "history": history,
        "kind_labels": KIND_LABELS,
        "status_labels": STATUS_LABELS,
        "recent_password": reauth.has_recent_password(session, now=runtime.clock.now()),
        "reauth_minutes": reauth.WINDOW // 60,
        "reauth_field": REAUTH_FIELD,
        "fields": FIELDS,
        "error_section": section if error else "",
        "notice_section": shown_notice[0] if shown_notice else "",
        "notice": shown_notice[1] if shown_notice else "",
        # Also when a refused form is shown again at its own address.
        "nav_path": PRIVACY_PAGE,
    }
    return render_form(request, TEMPLATE, error=error, values=values, context=context)


def _size(size: int | None, language: str) -> str:
    """`size` bytes in KB, MB or GB (powers of 1000, as file managers show them), one decimal."""
    if size is None:
        return ""
    value, unit = size / 1000, 0
    while value >= 1000 and unit < len(SIZE_UNITS) - 1:
        value, unit = value / 1000, unit + 1
    number = f"{value:.1f}"
    if language != "en":
        number = number.replace(".", ",")
    return translate(language, SIZE_UNITS[unit], {"size": number})


def _first(
    history: list[PrivacyRequest], kind: RequestKind, *, status: RequestStatus | None = None
) -> PrivacyRequest | None:
    """The newest request of `kind` (in `status`, if given): `history` is newest first."""
    return next(
        (r for r in history if r.kind == kind and (status is None or r.status == status)), None
    )


def _export_notice(notice: str, latest: PrivacyRequest | None) -> str:
    """The export's notice as things stand now: one just asked for may already be built (or
    have failed, which its status line says), and then "being built" would be untrue."""
    if notice != "export_requested" or latest is None or latest.status in ("pending", "building"):
        return notice
    return "export_ready" if latest.status == "ready" else ""


async def _confirmed(
    runtime: Runtime,
    account: Account,
    session: Session,
    password: str,
    *,
    client: Client,
) -> Session:
    """`session`, its password confirmed: as it is within `reauth.WINDOW` of the last
    confirmation, else by `password` (the confirmation page's throttle and security-log event).

    Raises InvalidInput on the export password field when none came or it is wrong, and what
    `reauth.confirm_password` raises while the login form's throttle holds.
    """
    if reauth.has_recent_password(session, now=runtime.clock.now()):
        return session
    if not password:
        raise InvalidInput(PASSWORD_NEEDED, code="reauthentication_required", field=REAUTH_FIELD)
    try:
        return await reauth.confirm_password(
            runtime, account, session, password=password, client=client
        )
    except InvalidInput as exc:
        raise InvalidInput(
            exc.template, code=exc.code, field=REAUTH_FIELD, params=exc.params
        ) from exc
