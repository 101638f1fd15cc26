"""The studio: the prompt form, the queue of the user's jobs with live progress, the player.

Every action works as a plain form post (303 back to the studio); `static/js/studio.js`
enhances it with fetch, live events and the waveform player. The live channel is in
`web/progress.py`.
"""

from __future__ import annotations

import math
import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from beatbun.accounts.models import Account
from beatbun.accounts.service import require_spending_allowed
from beatbun.api.deps import CurrentAccount, RuntimeDep
from beatbun.billing.pricing import LYRICS_MULTIPLIER, SECONDS_PER_CREDIT, price_in_credits
from beatbun.errors import AppError
from beatbun.generation.composer.provider import Composer
from beatbun.generation.composer.styles import GENRES
from beatbun.generation.lifecycle import DEADLINE_EXCEEDED
from beatbun.generation.models import GenerationRequest
from beatbun.generation.provider import (
    DEFAULT_DURATION_SECONDS,
    MAX_DURATION_SECONDS,
    MIN_DURATION_SECONDS,
    TONICS,
)
from beatbun.generation.providers.elevenlabs import provider_name
from beatbun.generation.service import (
    cancel_generation,
    list_generations,
    queue_snapshot,
    submit_generation,
)
from beatbun.i18n import N_, translate
from beatbun.runtime.base import Runtime
from beatbun.tracks.service import tracks_of
from beatbun.web.choices import language_of
from beatbun.web.forms import see_other
from beatbun.web.i18n import error_text
from beatbun.web.templates import templates

router = APIRouter()

# What the form sends -> what it shows.
MOODS = {
    "chill": N_("Chill"),
    "happy": N_("Happy"),
    "sad": N_("Sad"),
    "dark": N_("Dark"),
    "epic": N_("Epic"),
    "dreamy": N_("Dreamy"),
    "energetic": N_("Energetic"),
    "romantic": N_("Romantic"),
}
INSTRUMENTS = {
    "piano": N_("Piano"),
    "guitar": N_("Guitar"),
    "strings": N_("Strings"),
    "synth": N_("Synth"),
    "pads": N_("Pads"),
    "bass": N_("Bass"),
    "brass": N_("Brass"),
    "drums": N_("Drums"),
}
# Why a track failed, by the job's error code, for the person who asked for it. The stored
# message is the API's: it may name the provider, its limits, or settings only we can change.
PROVIDER_BUSY = N_("The music service is busy or unavailable right now. Please try again.")
TOO_SLOW = N_("Making the track took too long.")
FAILURE_REASONS = {
    "prompt_refused": N_(
        "The music service refused this prompt: it names a copyrighted work or artist."
    ),
    "provider_busy": PROVIDER_BUSY,
    "provider_overloaded": PROVIDER_BUSY,
    "provider_unavailable": PROVIDER_BUSY,
    "provider_unreachable": PROVIDER_BUSY,
    "queue_unavailable": PROVIDER_BUSY,
    "provider_timeout": TOO_SLOW,
    DEADLINE_EXCEEDED: TOO_SLOW,
    "interrupted": N_("Making the track was interrupted."),
}
UNKNOWN_FAILURE = N_("The track could not be made.")


@router.get("/studio", response_class=HTMLResponse)
async def studio(request: Request, account: CurrentAccount, runtime: RuntimeDep) -> HTMLResponse:
    # A track page's "Use these settings" links here with the form's fields in the query.
    prefill = {
        name: value
        for name, value in request.query_params.items()
        if name in GenerationRequest.model_fields
    }
    return await _render(request, runtime, account, values=prefill)


@router.post("/studio", response_model=None)
async def generate(request: Request, account: CurrentAccount, runtime: RuntimeDep) -> Response:
    form = await request.form()
    values = {name: str(value) for name, value in form.items() if isinstance(value, str)}
    data = _request_data(form.getlist("genres"), form.getlist("instruments"), values)
    wants_json = "application/json" in request.headers.get("accept", "")
    try:
        require_spending_allowed(account)
        submission = await submit_generation(
            runtime,
            account_id=account.id,
            request=GenerationRequest.parse(data),
            idempotency_key=values.get("request_token") or None,
        )
    except AppError as exc:
        if wants_json:
            raise
        return await _render(request, runtime, account, error=exc, values=values)
    if wants_json:
        return JSONResponse(
            submission.job.to_public(), status_code=201 if submission.created else 200
        )
    return see_other(f"/studio?job={submission.job.id}")


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
    error: AppError | None = None,
    values: dict[str, str] | None = None,
) -> HTMLResponse:
    snapshot = await queue_snapshot(runtime, account_id=account.id)
    jobs = await list_generations(runtime, account_id=account.id, limit=10)
    tracks = await tracks_of(runtime, account_id=account.id, limit=1)
    language = language_of(request)
    errors = {}
    if error is not None:
        errors[getattr(error, "field", None) or "form"] = error_text(error, language)
    status = error.status if error is not None else 200
    page: HTMLResponse = templates.TemplateResponse(
        request,
        "studio/studio.html",
        {
            "jobs": jobs,
            "positions": {job["job_id"]: job["position"] for job in snapshot["jobs"]},
            "last_seq": snapshot["seq"],
            "latest_track": tracks[0] if tracks else None,
            "values": values or {},
            "errors": errors,
            # "Not enough credits" comes with a way to get more.
            "error_code": error.code if error is not None else None,
            "genres": GENRES,
            "moods": MOODS,
            "instruments": INSTRUMENTS,
            "tonics": TONICS,
            "request_token": uuid.uuid4().hex,
            "cost": price_in_credits(duration_seconds=_duration_of(values or {}), has_lyrics=False),
            "seconds_per_credit": SECONDS_PER_CREDIT,
            "lyrics_multiplier": LYRICS_MULTIPLIER,
            "supports_lyrics": provider_name(runtime.settings) != Composer.name,
            "can_spend": account.can_spend_credits,
            "failure_reason": lambda job: failure_reason(job.error_code, language),
            # Live events carry a failure's code; the page explains it in the reader's language.
            "failure_reasons": {
                code: failure_reason(code, language) for code in ("", *FAILURE_REASONS)
            },
        },
        status_code=status,
    )
    return page


def failure_reason(code: str | None, language: str) -> str:
    return translate(language, FAILURE_REASONS.get(code or "", UNKNOWN_FAILURE))


def _duration_of(values: dict[str, str]) -> float:
    """The typed length within the allowed range, for the price beside the form.

    The form may come back with an error about this very field ("abc", "nan", "900"): those
    price as the default or the nearest limit rather than failing the page.
    """
    try:
        duration = float(values.get("duration_seconds") or DEFAULT_DURATION_SECONDS)
    except ValueError:
        return DEFAULT_DURATION_SECONDS
    if math.isnan(duration):
        return DEFAULT_DURATION_SECONDS
    return min(max(duration, MIN_DURATION_SECONDS), MAX_DURATION_SECONDS)


def _request_data(
    genres: list[Any], instruments: list[Any], values: dict[str, str]
) -> dict[str, Any]:
    """The form as the API's JSON body: blanks mean 'not given', checkboxes become lists."""
    data: dict[str, Any] = {
        name: value.strip()
        for name, value in values.items()
        if name in GenerationRequest.model_fields and value.strip() != ""
    }
    data["genres"] = [str(genre) for genre in genres]
    data["instruments"] = [str(instrument) for instrument in instruments]
    data["instrumental"] = not data.get("lyrics")
    return data
