"""The landing page: prices from the plan rules, only promises we keep, demos rendered once."""

from __future__ import annotations

import dataclasses
import html
import re
import uuid
from pathlib import Path

import httpx
import pytest

from beatbun.billing.plans import CURRENCY, PLANS
from beatbun.billing.pricing import price_in_credits
from beatbun.generation.demos import DEMO_PREFIX, DEMOS
from beatbun.generation.queue import UserQueue
from beatbun.main import create_app
from beatbun.settings import Settings
from beatbun.web.money import format_count, format_money
from beatbun_local.migrations import apply_migrations
from beatbun_local.runtime import LocalRuntime
from tests.conftest import MIGRATIONS, LiveServer
from tests.fakes import ManualClock
from tests.visitors import signed_in

DEMO_AUDIO = re.compile(r'<audio[^>]+src="(/demos/[^"]+\.wav)"')


async def test_landing_prices_come_from_the_plan_rules(client: httpx.AsyncClient) -> None:
    page = html.unescape((await client.get("/")).text)
    sample = price_in_credits(duration_seconds=30, has_lyrics=False)
    assert f"30 seconds of music cost {sample} credits" in page
    for plan in PLANS.values():
        assert f"{format_count(plan.monthly_credits, 'en')} credits a month" in page
        assert f"About {plan.monthly_credits // sample} tracks of 30 seconds" in page
        assert f"{format_money(plan.monthly_price_cents, CURRENCY, 'en')} a month" in page


async def test_landing_shows_a_changed_plan_price(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    changed = dataclasses.replace(PLANS["creator"], monthly_price_cents=1234)
    monkeypatch.setitem(PLANS, "creator", changed)
    page = html.unescape((await client.get("/")).text)
    assert "€12.34 a month" in page and "€9.00 a month" not in page


async def test_landing_promises_neither_lyrics_nor_studio_quality_with_the_composer(
    client: httpx.AsyncClient,
) -> None:
    page = (await client.get("/")).text
    assert "lyrics" not in page.lower() and "studio-quality" not in page
    assert "instrumental track" in page


async def test_landing_offers_lyrics_where_a_provider_sings(
    tmp_path: Path, clock: ManualClock
) -> None:
    settings = Settings(environment="test", elevenlabs_api_key="sk-test")
    runtime = LocalRuntime.open(
        tmp_path / "state", settings=settings, user_queue=UserQueue, clock=clock
    )
    await apply_migrations(runtime.db, MIGRATIONS)
    try:
        async with _client(runtime) as client:
            page = (await client.get("/")).text
    finally:
        runtime.close()
    assert "lyrics if you like" in page
    doubled = price_in_credits(duration_seconds=30, has_lyrics=True)
    assert f"With lyrics, the same length costs {doubled} credits." in page


async def test_landing_signed_out_call_to_action_signs_up_into_the_studio(
    client: httpx.AsyncClient,
) -> None:
    page = (await client.get("/")).text
    assert 'href="/signup?next=%2Fstudio"' in page
    try_links = re.findall(r'class="demo__try" href="([^"]+)"', page)
    assert len(try_links) == len(DEMOS) >= 3
    assert all(link.startswith("/signup?next=%2Fstudio%3Fprompt%3D") for link in try_links)


async def test_demos_render_on_the_first_request_only(
    client: httpx.AsyncClient, runtime: LocalRuntime, clock: ManualClock
) -> None:
    assert (await client.get("/")).status_code == 200
    first = await runtime.blobs.list(prefix=DEMO_PREFIX)
    assert len(first.objects) == 2 * len(DEMOS)
    clock.advance(3600)
    page = (await client.get("/")).text
    again = await runtime.blobs.list(prefix=DEMO_PREFIX)
    # The local store stamps every write with the clock: an hour later, nothing was rewritten.
    assert [(o.key, o.uploaded) for o in again.objects] == [
        (o.key, o.uploaded) for o in first.objects
    ]
    assert len(DEMO_AUDIO.findall(page)) == len(DEMOS)
    assert page.count('class="wave demo__wave"') == len(DEMOS)


async def test_demo_audio_answers_a_range_with_206_and_riff(client: httpx.AsyncClient) -> None:
    url = DEMO_AUDIO.findall((await client.get("/")).text)[0]
    response = await client.get(url, headers={"range": "bytes=0-11"})
    assert response.status_code == 206
    assert response.content[:4] == b"RIFF" and response.content[8:12] == b"WAVE"
    assert response.headers["content-type"] == "audio/wav"
    assert response.headers["content-range"].startswith("bytes 0-11/")
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    etag = response.headers["etag"]
    assert (await client.get(url, headers={"if-none-match": etag})).status_code == 304
    head = await client.head(url)
    assert head.status_code == 200 and head.content == b""
    # 24 s of 44.1 kHz 16-bit stereo and a 44-byte header: short enough to render fast.
    assert int(head.headers["content-length"]) == 44 + 24 * 44100 * 4


async def test_demo_audio_renders_when_asked_before_the_landing_page(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get(f"/demos/{DEMOS[1].file_name}", headers={"range": "bytes=0-3"})
    assert response.status_code == 206 and response.content == b"RIFF"


@pytest.mark.parametrize(
    "name",
    [
        "rainy-window-000000000000.wav",  # an older render's name: never served again
        "no-such-demo.wav",
    ],
)
async def test_unknown_demo_is_not_found(client: httpx.AsyncClient, name: str) -> None:
    response = await client.get(f"/demos/{name}", headers={"accept": "application/json"})
    assert response.status_code == 404 and response.json()["error"] == "demo_not_found"


def test_landing_signed_in_leads_to_the_studio(shared_live_server: LiveServer) -> None:
    server = shared_live_server
    member = signed_in(server.url, server.state_dir, f"{uuid.uuid4().hex[:12]}@example.com")
    page = member.get("/").text
    assert '<a class="button button--large" href="/studio">Go to the studio</a>' in page
    assert "Start free" not in page
    try_links = re.findall(r'class="demo__try" href="([^"]+)"', page)
    assert try_links and all(link.startswith("/studio?prompt=") for link in try_links)


def _client(runtime: LocalRuntime) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=create_app(runtime=runtime))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")
