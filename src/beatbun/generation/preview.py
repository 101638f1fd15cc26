"""What a generation request resolves to, before anyone pays: `POST /api/v1/plans`.

The preview is the built-in composer's plan for the request (genre, tempo, key, form,
instruments, what the prompt's words set and which it did not understand, and the rule that
chose the genre when none was named), with the price submitting it would cost. Reading it
charges nothing and needs no credits.
"""

from __future__ import annotations

from pydantic import BaseModel

from beatbun.generation.composer.prompt import resolve_plan
from beatbun.generation.composer.provider import SAMPLE_RATE
from beatbun.generation.models import GenerationRequest
from beatbun.generation.service import quote
from beatbun.generation.understanding import understand
from beatbun.runtime.base import Runtime


class PlannedSection(BaseModel):
    name: str
    start_seconds: float
    bars: int
    energy: float


class PlanPreview(BaseModel):
    """The resolved plan, as a finished job reports it (`key` is "D minor"). `sources` says
    for genre, mood, bpm and key whether a field, the prompt's words or the genre's defaults
    decided it; `understood` lists each phrase with what it set ("ballad -> genre piano"),
    `unknown` the words nothing understood, and `genre_rule` how the genre was chosen when
    none was named ("instrument:piano", "mood:chill", "tempo:174" or "default"; null when one
    was named). `cost` is the price in credits of submitting the same request."""

    genre: str
    genre_label: str
    form: str
    mood: str
    bpm: float
    key: str
    time_signature: str
    duration_seconds: float
    seed: int
    progression: list[str]
    sections: list[PlannedSection]
    instruments: dict[str, str]
    drums: list[str]
    sources: dict[str, str]
    understood: list[str]
    unknown: list[str]
    genre_rule: str | None
    cost: int


async def preview_plan(runtime: Runtime, request: GenerationRequest) -> PlanPreview:
    """The plan and price of `request`; raises what submitting it would raise before charging.

    Read as submitting reads it: where Workers AI is bound, its reading fills the empty fields.
    """
    cost = quote(runtime, request)
    request = await understand(runtime, request)
    plan = resolve_plan(request.to_music_request(), sample_rate=SAMPLE_RATE)
    return PlanPreview.model_validate({**plan.to_dict(), "cost": cost})
