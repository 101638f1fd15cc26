"""Submitting where Workers AI is bound: the model's reading becomes the job's request, the
price does not change, and a failing model leaves the composer's rules to read the prompt."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from beatbun.billing.credits import get_wallet
from beatbun.billing.plans import FREE_PLAN
from beatbun.generation.models import GenerationRequest
from beatbun.generation.preview import preview_plan
from beatbun.generation.service import get_generation, submit_generation
from tests.factories import create_verified_account
from tests.fakes import FakeTextModel
from tests.generation.conftest import drain

PROMPT = "something for my grandmother's birthday, she loves the accordion and dancing"
READING = {
    "genre": "folk",
    "mood": "happy",
    "bpm": None,
    "key": "G",
    "mode": "major",
    "instruments": ["acoustic_guitar"],
}


async def _submit(runtime: Any, model: FakeTextModel) -> tuple[str, Any]:
    runtime = dataclasses.replace(runtime, text_model=model)
    account = await create_verified_account(runtime)
    request = GenerationRequest.parse({"prompt": PROMPT, "duration_seconds": 10, "seed": 3})
    submission = await submit_generation(
        runtime, account_id=account.id, request=request, idempotency_key="same-key"
    )
    await drain(runtime)
    job = await get_generation(runtime, account_id=account.id, job_id=submission.job.id)
    return account.id, job


async def test_the_reading_is_what_the_job_renders(open_runtime: Callable[..., Any]) -> None:
    async with open_runtime() as runtime:
        account_id, job = await _submit(runtime, FakeTextModel(READING))
        assert job.status == "succeeded"
        assert job.request["genres"] == ["folk"]
        assert (job.request["key"], job.request["mode"]) == ("G", "major")
        assert job.request["bpm"] is None  # the model said nothing about tempo
        assert job.plan is not None and job.plan["genre"] == "folk"
        assert job.plan["key"] == "G major"
        # The same price as without a model: 1 credit per started 10 s.
        assert job.cost == 1
        balance = (await get_wallet(runtime.db, account_id)).balance
        assert balance == FREE_PLAN.monthly_credits - 1


async def test_a_failing_model_changes_nothing_and_costs_nothing_more(
    open_runtime: Callable[..., Any],
) -> None:
    async with open_runtime() as runtime:
        failing = FakeTextModel(error="AiError: 3040: Capacity temporarily exceeded")
        account_id, job = await _submit(runtime, failing)
        assert len(failing.calls) == 1
        assert job.status == "succeeded" and job.cost == 1
        assert job.request["genres"] == [] and job.request["key"] is None
        assert (await get_wallet(runtime.db, account_id)).balance == FREE_PLAN.monthly_credits - 1


async def test_the_free_preview_reads_the_prompt_as_submitting_does(
    open_runtime: Callable[..., Any],
) -> None:
    async with open_runtime() as runtime:
        model = FakeTextModel(READING)
        request = GenerationRequest.parse({"prompt": PROMPT, "duration_seconds": 10, "seed": 3})
        preview = await preview_plan(dataclasses.replace(runtime, text_model=model), request)
        assert (preview.genre, preview.key, preview.cost) == ("folk", "G major", 1)
        # The rules alone hear only "birthday" (a happy mood) and choose pop.
        without = await preview_plan(runtime, request)
        assert (without.genre, without.genre_rule) == ("pop", "mood:happy")


async def test_a_variation_keeps_its_source_settings_unread(
    open_runtime: Callable[..., Any],
) -> None:
    async with open_runtime() as runtime:
        model = FakeTextModel(READING)
        runtime = dataclasses.replace(runtime, text_model=model)
        account = await create_verified_account(runtime)
        request = GenerationRequest.parse({"prompt": PROMPT, "duration_seconds": 10, "seed": 4})
        variation = request.model_copy(update={"source_track_id": "t"})
        submission = await submit_generation(
            runtime, account_id=account.id, request=variation, idempotency_key=None
        )
        # A new reading could change the plan the variation (or an extension) keeps.
        assert model.calls == []
        assert submission.job.request["genres"] == [] and submission.job.request["key"] is None
