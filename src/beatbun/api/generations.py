"""`/api/v1/generations`: submit (scope `generate`), follow, list and cancel jobs; extend a
track or make a variation of it, each a new job."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Header, Query, Request, Response
from pydantic import BaseModel, ConfigDict, ValidationError

from beatbun.api.deps import CurrentApiCaller, RuntimeDep
from beatbun.billing.credits import list_entries, open_wallet
from beatbun.billing.pricing import (
    EXPORT_FORMULA,
    EXTEND_FORMULA,
    FORMULA,
    LYRICS_MULTIPLIER,
    SECONDS_PER_CREDIT,
    VARIATION_FORMULA,
    ExportKind,
    export_price_in_credits,
    price_in_credits,
)
from beatbun.errors import InvalidInput
from beatbun.generation.derived import extend_track, vary_track
from beatbun.generation.models import GenerationRequest
from beatbun.generation.preview import PlanPreview, preview_plan
from beatbun.generation.service import (
    Submission,
    cancel_generation,
    get_generation,
    list_generations,
    submit_as,
)
from beatbun.i18n import N_

router = APIRouter(prefix="/api/v1")
EXPORT_EXAMPLES: tuple[tuple[ExportKind, int], ...] = (
    ("flac", 120),
    ("midi", 120),
    ("stems", 30),
    ("stems", 120),
)


@router.post(
    "/generations",
    status_code=201,
    summary=N_("Make a track"),
    description=N_(
        "Charge for a track and queue it. Send an Idempotency-Key header so a retry never "
        "charges twice. Needs the generate scope."
    ),
)
async def create_generation(
    request: Request,
    response: Response,
    caller: CurrentApiCaller,
    runtime: RuntimeDep,
    idempotency_key: str | None = Header(default=None),
) -> dict[str, Any]:
    caller.require("generate")
    body = GenerationRequest.parse(await _json_body(request))
    submission = await submit_as(
        runtime, account=caller.account, request=body, idempotency_key=idempotency_key
    )
    return _accepted(submission, response)


class ExtendBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    seconds: float


@router.post(
    "/tracks/{track_id}/extend",
    status_code=202,
    summary=N_("Extend a track"),
    description=N_(
        "Continue a finished track of the built-in composer by 15 to 120 seconds (at most "
        "300 in all): a new track that plays the same music up to the join, then new "
        "sections. Charged for the added seconds. Send an Idempotency-Key header so a retry "
        "never charges twice. Needs the generate scope."
    ),
)
async def extend(
    track_id: str,
    request: Request,
    response: Response,
    caller: CurrentApiCaller,
    runtime: RuntimeDep,
    idempotency_key: str | None = Header(default=None),
) -> dict[str, Any]:
    caller.require("generate")
    try:
        body = ExtendBody.model_validate(await _json_body(request))
    except ValidationError:
        raise InvalidInput(
            N_('Send the seconds to add as a number, as in {"seconds": 30}.'),
            code="invalid_seconds",
            field="seconds",
        ) from None
    submission = await extend_track(
        runtime,
        account=caller.account,
        track_id=track_id,
        seconds=body.seconds,
        idempotency_key=idempotency_key,
    )
    return _accepted(submission, response)


@router.post(
    "/tracks/{track_id}/variations",
    status_code=202,
    summary=N_("Make a variation of a track"),
    description=N_(
        "The same settings and plan with a new seed: a new track, charged as one of its "
        "length. Send an Idempotency-Key header so a retry never charges twice. Needs the "
        "generate scope."
    ),
)
async def variation(
    track_id: str,
    response: Response,
    caller: CurrentApiCaller,
    runtime: RuntimeDep,
    idempotency_key: str | None = Header(default=None),
) -> dict[str, Any]:
    caller.require("generate")
    submission = await vary_track(
        runtime, account=caller.account, track_id=track_id, idempotency_key=idempotency_key
    )
    return _accepted(submission, response)


@router.post(
    "/plans",
    summary=N_("Preview a plan"),
    description=N_(
        "What a generation request would make, without making it: the same body as "
        "POST /api/v1/generations answers the resolved plan (genre, tempo, key, form, "
        "instruments), the words understood and not understood, the rule that chose the "
        "genre when none was named, and the price. Costs nothing. Needs the read scope."
    ),
)
async def create_plan_preview(
    request: Request, caller: CurrentApiCaller, runtime: RuntimeDep
) -> PlanPreview:
    caller.require("read")
    return await preview_plan(runtime, GenerationRequest.parse(await _json_body(request)))


@router.get(
    "/generations/{job_id}",
    summary=N_("Read a generation"),
    description=N_(
        "One job: its status, its cost, what was understood of the request, and its track "
        "once it is ready. Needs the read scope."
    ),
)
async def read_generation(
    job_id: str, caller: CurrentApiCaller, runtime: RuntimeDep
) -> dict[str, Any]:
    caller.require("read")
    job = await get_generation(runtime, account_id=caller.account.id, job_id=job_id)
    return job.to_public()


@router.get(
    "/generations",
    summary=N_("List generations"),
    description=N_(
        "Your jobs, newest first. For the next page, send before: the created_at of the last "
        "job you have. Needs the read scope."
    ),
)
async def read_generations(
    caller: CurrentApiCaller,
    runtime: RuntimeDep,
    limit: int = Query(default=20, ge=1, le=100),
    before: int | None = Query(default=None, ge=0, description="created_at of the last job seen"),
) -> dict[str, Any]:
    caller.require("read")
    jobs = await list_generations(runtime, account_id=caller.account.id, limit=limit, before=before)
    return {"data": [job.to_public() for job in jobs], "has_more": len(jobs) == limit}


@router.post(
    "/generations/{job_id}/cancel",
    summary=N_("Cancel a generation"),
    description=N_(
        "Cancel a job that has not started; its credits are refunded in full. A job already "
        "being made cannot be canceled. Needs the generate scope."
    ),
)
async def cancel(job_id: str, caller: CurrentApiCaller, runtime: RuntimeDep) -> dict[str, Any]:
    caller.require("generate")
    job = await cancel_generation(runtime, account_id=caller.account.id, job_id=job_id)
    return job.to_public()


@router.get(
    "/pricing",
    summary=N_("Pricing"),
    description=N_("The published price formula, with worked examples. Needs no API key."),
)
async def pricing() -> dict[str, Any]:
    examples = [(30, False), (60, False), (120, True), (300, False)]
    return {
        "formula": FORMULA,
        "extend_formula": EXTEND_FORMULA,
        "variation_formula": VARIATION_FORMULA,
        # Exports of a finished track, bought once (`/api/v1/tracks/{id}/exports`).
        "export_formula": EXPORT_FORMULA,
        "export_examples": [
            {
                "kind": kind,
                "duration_seconds": seconds,
                "credits": export_price_in_credits(kind, duration_seconds=seconds),
            }
            for kind, seconds in EXPORT_EXAMPLES
        ],
        "seconds_per_credit": SECONDS_PER_CREDIT,
        "lyrics_multiplier": LYRICS_MULTIPLIER,
        "examples": [
            {
                "duration_seconds": seconds,
                "lyrics": lyrics,
                "credits": price_in_credits(duration_seconds=seconds, has_lyrics=lyrics),
            }
            for seconds, lyrics in examples
        ],
    }


@router.get(
    "/credits",
    summary=N_("Credits"),
    description=N_(
        "Your plan, your balance, and every grant, charge and refund in your ledger. Needs "
        "the read scope."
    ),
)
async def credits(caller: CurrentApiCaller, runtime: RuntimeDep) -> dict[str, Any]:
    caller.require("read")
    wallet = await open_wallet(runtime.db, caller.account.id, now=runtime.clock.now())
    entries = await list_entries(runtime.db, caller.account.id)
    return {
        "plan": wallet.plan,
        "balance": wallet.balance,
        "ledger": [vars(entry) for entry in entries],
    }


def _accepted(submission: Submission, response: Response) -> dict[str, Any]:
    """The new job, or with status 200 the earlier one its Idempotency-Key replays."""
    if not submission.created:
        response.status_code = 200
    response.headers["location"] = f"/api/v1/generations/{submission.job.id}"
    return submission.job.to_public()


async def _json_body(request: Request) -> Any:
    try:
        return await request.json()
    except ValueError:
        raise InvalidInput(N_("The request body must be JSON."), code="invalid_json") from None
