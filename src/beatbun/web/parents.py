"""The parent's page, reached only through the link we mailed them (`privacy.guardians`).

Before consent it asks for their name and a declaration, or lets them say no, which deletes
the sign-up at once; afterwards it shows the child's data and lets them delete the account (and
cancel that within the grace period). The token is in
the path, so every answer keeps it out of Referer and caches.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.background import BackgroundTask

from beatbun.accounts.security_log import EVENT_LABELS
from beatbun.api.deps import RuntimeDep
from beatbun.errors import InvalidInput
from beatbun.mail import drain
from beatbun.privacy import erasure, guardians, unconsented
from beatbun.runtime.base import Runtime
from beatbun.web.choices import language_of
from beatbun.web.forms import NO_REFERRER, Text, render_form, see_other
from beatbun.web.privacy import KIND_LABELS, STATUS_LABELS

router = APIRouter()


# The page a parent who said no lands on: it names nobody, the sign-up is gone.
DECLINED_PAGE = "/parent/declined"


@router.get(DECLINED_PAGE, response_class=HTMLResponse)
async def declined_page(request: Request) -> HTMLResponse:
    page = render_form(request, "parents/declined.html")
    page.headers.update(NO_REFERRER)
    return page


@router.get("/parent/{token}", response_class=HTMLResponse)
async def parent_page(request: Request, runtime: RuntimeDep, token: str) -> HTMLResponse:
    guardian = await guardians.guardian_for_token(runtime, token)
    if not guardian.has_consented:
        return await _consent_page(request, runtime, guardian, token=token)
    child = await guardians.child_data(runtime, guardian)
    page = render_form(
        request,
        "parents/child.html",
        context={
            "token": token,
            "guardian": guardian,
            "child": child,
            "labels": EVENT_LABELS,
            "kind_labels": KIND_LABELS,
            "status_labels": STATUS_LABELS,
            "grace_days": erasure.GRACE_SECONDS // 86400,
        },
    )
    page.headers.update(NO_REFERRER)
    return page


@router.post("/parent/{token}", response_model=None)
async def give_consent(
    request: Request,
    runtime: RuntimeDep,
    token: str,
    name: Text = "",
    declaration: Text = "",
) -> Response:
    try:
        await guardians.consent_as_parent(
            runtime,
            token,
            name=name,
            declaration=declaration == "yes",
            language=language_of(request),
        )
    except InvalidInput as exc:
        guardian = await guardians.guardian_for_token(runtime, token)
        return await _consent_page(
            request,
            runtime,
            guardian,
            token=token,
            error=exc,
            values={"name": name},
            ticked=declaration == "yes",
        )
    return _go_to(f"/parent/{token}", runtime)


@router.post("/parent/{token}/decline", response_model=None)
async def decline(request: Request, runtime: RuntimeDep, token: str) -> Response:
    """The parent does not agree: the sign-up is deleted now and the teen told by mail."""
    await unconsented.decline_as_parent(runtime, token, language=language_of(request))
    return _go_to(DECLINED_PAGE, runtime)


@router.post("/parent/{token}/erasure", response_model=None)
async def delete_child_account(request: Request, runtime: RuntimeDep, token: str) -> Response:
    return await _change_erasure(request, runtime, token, cancel=False)


@router.post("/parent/{token}/erasure/cancel", response_model=None)
async def cancel_child_deletion(request: Request, runtime: RuntimeDep, token: str) -> Response:
    return await _change_erasure(request, runtime, token, cancel=True)


async def _change_erasure(
    request: Request, runtime: Runtime, token: str, *, cancel: bool
) -> Response:
    """Schedule or cancel the child's erasure; only a parent who consented has these buttons."""
    guardian = await guardians.guardian_for_token(runtime, token)
    language = language_of(request)
    if guardian.has_consented and cancel:
        await erasure.cancel_erasure(
            runtime, guardian.account_id, client=None, language=language, by="parent"
        )
    elif guardian.has_consented:
        await erasure.request_erasure_by_parent(runtime, guardian.account_id, language=language)
    return _go_to(f"/parent/{token}", runtime)


async def _consent_page(
    request: Request,
    runtime: Runtime,
    guardian: guardians.Guardian,
    *,
    token: str,
    error: InvalidInput | None = None,
    values: dict[str, str] | None = None,
    ticked: bool = False,
) -> HTMLResponse:
    child = await guardians.child_account(runtime, guardian)
    page = render_form(
        request,
        "parents/consent.html",
        error=error,
        values=values,
        context={
            "token": token,
            "child": child,
            "ticked": ticked,
            "consent_days": guardians.CONSENT_DAYS,
        },
    )
    page.headers.update(NO_REFERRER)
    return page


def _go_to(path: str, runtime: Runtime) -> Response:
    """After a change: `path`, with the mail the change queued sent after answering."""
    redirect = see_other(path)
    redirect.headers.update(NO_REFERRER)
    redirect.background = BackgroundTask(drain.send_queued_mail, runtime)
    return redirect
