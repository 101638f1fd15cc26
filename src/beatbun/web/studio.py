"""The studio's routes: the page, submitting, cancelling, and reading a prompt before paying.

Every action works as a plain form post (303 back to the studio); `static/js/studio.js`
enhances it with fetch, the prompt's reading as it is typed, and live events. The page model
and the form's reading are `generation/studio.py`; the live channel is `web/progress.py`.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.datastructures import FormData, ImmutableMultiDict

from beatbun.accounts.models import Account
from beatbun.api.deps import CurrentAccount, RuntimeDep
from beatbun.errors import AppError
from beatbun.generation.catalogue import GENRES, MOODS, chip_instruments
from beatbun.generation.models import GenerationRequest
from beatbun.generation.provider import TONICS
from beatbun.generation.service import cancel_generation, submit_as
from beatbun.generation.studio import (
    Resolution,
    request_from_form,
    resolve_request,
    studio_page,
)
from beatbun.generation.understanding import understand
from beatbun.runtime.base import Runtime
from beatbun.web.choices import language_of
from beatbun.web.forms import form_values, see_other
from beatbun.web.i18n import FAILURE_REASONS, error_text, failure_reason
from beatbun.web.templates import templates

router = APIRouter()
# Errors about money go beside the button that spends it, with a way to get more.
MONEY_ERRORS = frozenset({"insufficient_credits", "email_unverified"})
TAG_FIELDS = ("genres", "instruments")


@router.get("/studio", response_class=HTMLResponse)
async def studio(request: Request, account: CurrentAccount, runtime: RuntimeDep) -> HTMLResponse:
    # A track page's "Use these settings" links here with the form's fields in the query.
    prefill = {
        name: value
        for name, value in request.query_params.items()
        if name in GenerationRequest.model_fields
    }
    return await _render(request, runtime, account, values=prefill, lists=request.query_params)


@router.post("/studio", response_model=None)
async def generate(request: Request, account: CurrentAccount, runtime: RuntimeDep) -> Response:
    form = await request.form()
    values = form_values(form)
    wants_json = "application/json" in request.headers.get("accept", "")
    try:
        submission = await submit_as(
            runtime,
            account=account,
            request=GenerationRequest.parse(_request_data(form)),
            idempotency_key=values.get("request_token") or None,
        )
    except AppError as exc:
        if wants_json:
            raise
        return await _render(request, runtime, account, error=exc, values=values, lists=form)
    if wants_json:
        return JSONResponse(
            submission.job.to_public(), status_code=201 if submission.created else 200
        )
    return see_other(f"/studio?job={submission.job.id}")


@router.post("/studio/resolve", response_model=None)
async def resolve(request: Request, account: CurrentAccount, runtime: RuntimeDep) -> Response:
    """What the studio form would make, in the reader's language; nothing is charged.

    Scripts get the `Resolution` as JSON as the prompt is typed (InvalidInput: 422 with the
    field); without scripts, the form's "Check what we understood" button shows the studio
    again with it, or with the error next to its field.
    """
    form = await request.form()
    values = form_values(form)
    language = language_of(request)
    try:
        # Read as submitting reads it: Workers AI's reading where it is bound.
        understood = await understand(runtime, GenerationRequest.parse(_request_data(form)))
        resolution = resolve_request(understood, language=language)
    except AppError as exc:
        if "application/json" in request.headers.get("accept", ""):
            raise
        return await _render(request, runtime, account, error=exc, values=values, lists=form)
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse(resolution.model_dump())
    return await _render(
        request, runtime, account, values=values, lists=form, resolution=resolution
    )


@router.post("/studio/jobs/{job_id}/cancel", response_model=None)
async def cancel(
    job_id: str, request: Request, account: CurrentAccount, runtime: RuntimeDep
) -> Response:
    job = await cancel_generation(runtime, account_id=account.id, job_id=job_id)
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse(job.to_public())
    return see_other("/studio")


async def _render(
    request: Request,
    runtime: Runtime,
    account: Account,
    *,
    values: dict[str, str],
    error: AppError | None = None,
    lists: ImmutableMultiDict[str, Any],
    resolution: Resolution | None = None,
) -> HTMLResponse:
    page = await studio_page(runtime, account=account, values=values)
    language = language_of(request)
    field: str | None = getattr(error, "field", None)
    errors = {} if error is None else {field or "form": error_text(error, language)}
    if error is not None and error.code in MONEY_ERRORS:
        errors = {"money": error_text(error, language)}
    response: HTMLResponse = templates.TemplateResponse(
        request,
        "studio/studio.html",
        {
            "page": page,
            "resolution": resolution,
            "rules": page.rules,
            "values": values,
            # Checked tags, kept across an error or carried in from a track's settings.
            "checked": {name: [str(v) for v in lists.getlist(name)] for name in TAG_FIELDS},
            "request_token": uuid.uuid4().hex,
            "errors": errors,
            "error_code": error.code if error is not None else None,
            "genres": GENRES,
            "moods": MOODS,
            "instruments": chip_instruments(),
            "tonics": TONICS,
            "failure_reason": lambda job: failure_reason(job.error_code, language),
            # Live events carry a failure's code; the page explains it in the reader's language.
            "failure_reasons": {
                code: failure_reason(code, language) for code in ("", *FAILURE_REASONS)
            },
        },
        status_code=error.status if error is not None else 200,
    )
    return response


def _request_data(form: FormData) -> dict[str, object]:
    return request_from_form(
        form_values(form), genres=form.getlist("genres"), instruments=form.getlist("instruments")
    )
