"""Public pages: the landing page, with its demo tracks and what making music costs.

Every number on the landing page comes from the plan rules (`billing.plans`) and the price
rule (`billing.pricing`), and lyrics are offered only where the configured provider sings.
The demos' audio is served by the same rules as a track's (ranges, ETag, HEAD), cached for
good: its URL changes whenever its audio could.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from beatbun.api.audio import ranged_response
from beatbun.api.deps import CurrentVisitor, RuntimeDep
from beatbun.billing.plans import CURRENCY, LICENCES, PLANS, Plan
from beatbun.billing.pricing import SECONDS_PER_CREDIT, price_in_credits
from beatbun.generation.catalogue import GENRES
from beatbun.generation.demos import (
    MEDIA_TYPE,
    RenderedDemo,
    demo_audio_info,
    find_demo,
    open_demo_audio,
    rendered_demos,
)
from beatbun.generation.registry import provider_capabilities
from beatbun.i18n import translate
from beatbun.runtime.base import BlobStream, ByteRange
from beatbun.tracks.service import AudioRange
from beatbun.web.choices import language_of
from beatbun.web.money import format_count, format_money
from beatbun.web.templates import templates
from beatbun.web.tracks import waveform_path

router = APIRouter()

# What "a track" means in the landing page's prices: a 30-second instrumental, as on /pricing.
SAMPLE_SECONDS = 30
WAVE_BARS = 64
DAY = 86400
# The URL names the exact audio (`Demo.file_name`), so browsers and caches may keep it a year.
DEMO_CACHE = "public, max-age=31536000, immutable"


@dataclass(frozen=True)
class DemoCard:
    title: str
    genre: str
    bpm: int
    key: str
    prompt: str
    audio_url: str
    wave: str
    try_url: str


@dataclass(frozen=True)
class PlanLine:
    plan: Plan
    price: str
    credits: str
    tracks: str
    retention_days: int | None
    licence: str


@router.get("/", response_class=HTMLResponse)
async def landing(request: Request, runtime: RuntimeDep, visitor: CurrentVisitor) -> HTMLResponse:
    language = language_of(request)
    signed_in = visitor.full_account is not None
    demos = await rendered_demos(runtime.blobs)
    sample_cost = price_in_credits(duration_seconds=SAMPLE_SECONDS, has_lyrics=False)
    page: HTMLResponse = templates.TemplateResponse(
        request,
        "landing.html",
        {
            "demos": [_demo_card(rendered, language, signed_in=signed_in) for rendered in demos],
            "plans": [_plan_line(plan, language, sample_cost) for plan in PLANS.values()],
            "free_credits": format_count(PLANS["free"].monthly_credits, language),
            "seconds_per_credit": SECONDS_PER_CREDIT,
            "sample_seconds": SAMPLE_SECONDS,
            "sample_cost": sample_cost,
            "lyrics_cost": price_in_credits(duration_seconds=SAMPLE_SECONDS, has_lyrics=True),
            "sings": provider_capabilities(runtime.settings).supports_lyrics,
            "wave_bars": WAVE_BARS,
        },
    )
    return page


@router.get("/demos/{file_name}")
@router.head("/demos/{file_name}", include_in_schema=False)
async def demo_audio(file_name: str, request: Request, runtime: RuntimeDep) -> Response:
    """A demo's audio, rendered on its first request if the landing page has not done so."""
    demo = find_demo(file_name)
    stored = await demo_audio_info(runtime.blobs, demo)

    async def opened(requested: AudioRange | None) -> BlobStream:
        range_ = (
            None
            if requested is None
            else ByteRange(offset=requested.start, length=requested.length)
        )
        return await open_demo_audio(runtime.blobs, demo, range_=range_)

    return await ranged_response(
        request,
        stored,
        opened,
        media_type=MEDIA_TYPE,
        disposition=f'inline; filename="{demo.file_name}"',
        cache_control=DEMO_CACHE,
    )


def _demo_card(rendered: RenderedDemo, language: str, *, signed_in: bool) -> DemoCard:
    demo = rendered.demo
    studio = "/studio?" + urlencode({"prompt": demo.prompt, "genres": demo.genre, "bpm": demo.bpm})
    return DemoCard(
        title=translate(language, demo.title),
        genre=translate(language, GENRES[demo.genre].label),
        bpm=demo.bpm,
        key=f"{demo.key} {translate(language, demo.mode)}",
        prompt=demo.prompt,
        audio_url=f"/demos/{demo.file_name}",
        wave=waveform_path(rendered.peaks, bars=WAVE_BARS),
        try_url=studio if signed_in else "/signup?" + urlencode({"next": studio}),
    )


def _plan_line(plan: Plan, language: str, sample_cost: int) -> PlanLine:
    retention = plan.retention_seconds
    return PlanLine(
        plan=plan,
        price=format_money(plan.monthly_price_cents, CURRENCY, language),
        credits=format_count(plan.monthly_credits, language),
        tracks=format_count(plan.monthly_credits // sample_cost, language),
        retention_days=None if retention is None else retention // DAY,
        licence=translate(language, LICENCES[plan.licence].name),
    )
