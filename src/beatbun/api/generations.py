"""`/api/v1/generations`: submit (scope `generate`), follow, list and cancel jobs."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Header, Query, Request, Response

from beatbun.api.deps import CurrentApiCaller, RuntimeDep
from beatbun.billing.credits import list_entries, open_wallet
from beatbun.errors import InvalidInput
from beatbun.generation.models import GenerationRequest
from beatbun.generation.pricing import (
    FORMULA,
    LYRICS_MULTIPLIER,
    SECONDS_PER_CREDIT,
    price_in_credits,
)
from beatbun.generation.service import (
    cancel_generation,
    get_generation,
    list_generations,
    submit_generation,
)

router = APIRouter(prefix="/api/v1")


@router.post("/generations", status_code=201)
async def create_generation(
    request: Request,
    response: Response,
    caller: CurrentApiCaller,
    runtime: RuntimeDep,
    idempotency_key: str | None = Header(default=None),
) -> dict[str, Any]:
    """Charge and queue a track. Send `Idempotency-Key` so a retry never charges twice."""
    caller.require("generate")
    body = GenerationRequest.parse(await _json_body(request))
    submission = await submit_generation(
        runtime, account_id=caller.account.id, request=body, idempotency_key=idempotency_key
    )
    if not submission.created:
        response.status_code = 200
    response.headers["location"] = f"/api/v1/generations/{submission.job.id}"
    return submission.job.to_public()


@router.get("/generations/{job_id}")
async def read_generation(
    job_id: str, caller: CurrentApiCaller, runtime: RuntimeDep
) -> dict[str, Any]:
    caller.require("read")
    job = await get_generation(runtime, account_id=caller.account.id, job_id=job_id)
    return job.to_public()


@router.get("/generations")
async def read_generations(
    caller: CurrentApiCaller,
    runtime: RuntimeDep,
    limit: int = Query(default=20, ge=1, le=100),
    before: int | None = Query(default=None, ge=0, description="created_at of the last job seen"),
) -> dict[str, Any]:
    caller.require("read")
    jobs = await list_generations(runtime, account_id=caller.account.id, limit=limit, before=before)
    return {"data": [job.to_public() for job in jobs], "has_more": len(jobs) == limit}


@router.post("/generations/{job_id}/cancel")
async def cancel(job_id: str, caller: CurrentApiCaller, runtime: RuntimeDep) -> dict[str, Any]:
    caller.require("generate")
    job = await cancel_generation(runtime, account_id=caller.account.id, job_id=job_id)
    return job.to_public()


@router.get("/pricing")
async def pricing() -> dict[str, Any]:
    """The published formula, with worked examples."""
    examples = [(30, False), (60, False), (120, True), (300, False)]
    return {
        "formula": FORMULA,
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


@router.get("/credits")
async def credits(caller: CurrentApiCaller, runtime: RuntimeDep) -> dict[str, Any]:
    caller.require("read")
    wallet = await open_wallet(runtime.db, caller.account.id, now=runtime.clock.now())
    entries = await list_entries(runtime.db, caller.account.id)
    return {
        "plan": wallet.plan,
        "balance": wallet.balance,
        "ledger": [vars(entry) for entry in entries],
    }


async def _json_body(request: Request) -> Any:
    try:
        return await request.json()
    except ValueError:
        raise InvalidInput("The request body must be JSON.", code="invalid_json") from None
