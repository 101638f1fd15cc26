"""Objections and restriction stop analytics and marketing through the app, whatever the
browser's cookie consent: no analytics rows, no analytics script, no marketing tag."""

from __future__ import annotations

import httpx
import pytest

from beatbun.privacy.objections import Objections, set_objections
from beatbun.privacy.restriction import lift_restriction, restrict
from beatbun.settings import Settings
from beatbun.web.choices import ANALYTICS_SCRIPT
from beatbun_local.runtime import LocalRuntime
from tests.factories import CLIENT
from tests.privacy.members import Member, account_of, count, csrf, member

TAG = "https://tags.example.com/tag.js"
NONE = Objections(analytics=False, marketing=False, prompt_use=False)
ANALYTICS = Objections(analytics=True, marketing=False, prompt_use=False)
MARKETING = Objections(analytics=False, marketing=True, prompt_use=False)
ROWS = (
    "SELECT (SELECT coalesce(sum(events), 0) FROM analytics_counts)"
    " + (SELECT coalesce(sum(events), 0) FROM analytics_measurements)"
    " + (SELECT COUNT(*) FROM analytics_visitors) AS n"
)


@pytest.fixture
def settings() -> Settings:
    return Settings(environment="test", marketing_tag_url=TAG)


@pytest.fixture
async def who(runtime: LocalRuntime) -> Member:
    return await member(runtime)


async def _measure(client: httpx.AsyncClient, who: Member) -> None:
    """One page view and one player measurement, as analytics.js sends them."""
    headers = {**who.headers, "x-csrf-token": await csrf(client, who)}
    view = await client.post(
        "/analytics/events", json={"kind": "page_view", "label": "/tracks"}, headers=headers
    )
    batch = {"measurements": [{"name": "player_start_ms", "value": 120, "label": "first"}]}
    measured = await client.post("/analytics/measurements", json=batch, headers=headers)
    assert (view.status_code, measured.status_code) == (204, 204)


async def _object(runtime: LocalRuntime, who: Member, objections: Objections) -> None:
    account = await account_of(runtime, who)
    await set_objections(runtime, account, objections, client=CLIENT, language="en")


async def test_an_analytics_objection_stops_page_views_and_measurements_until_withdrawn(
    client: httpx.AsyncClient, runtime: LocalRuntime, who: Member
) -> None:
    await _measure(client, who)
    counted = await count(runtime, ROWS)
    assert counted == 3  # a view, a measurement, today's visitor
    await _object(runtime, who, ANALYTICS)
    await _measure(client, who)
    assert await count(runtime, ROWS) == counted
    await _object(runtime, who, NONE)
    await _measure(client, who)
    assert await count(runtime, ROWS) == counted + 2  # the visitor was counted today already


async def test_a_restriction_stops_analytics_until_lifted(
    client: httpx.AsyncClient, runtime: LocalRuntime, who: Member
) -> None:
    account = await account_of(runtime, who)
    await restrict(runtime, account, reason="Checking my data.", client=CLIENT, language="en")
    await _measure(client, who)
    assert await count(runtime, ROWS) == 0
    await lift_restriction(runtime, account, client=CLIENT, language="en")
    await _measure(client, who)
    assert await count(runtime, ROWS) == 3


async def test_an_other_purpose_objection_leaves_analytics_counting(
    client: httpx.AsyncClient, runtime: LocalRuntime, who: Member
) -> None:
    await _object(runtime, who, Objections(analytics=False, marketing=True, prompt_use=True))
    await _measure(client, who)
    assert await count(runtime, ROWS) == 3


async def test_pages_leave_the_analytics_script_out_for_an_objecting_account(
    client: httpx.AsyncClient, runtime: LocalRuntime, who: Member
) -> None:
    script = f'data-category="performance" data-src="{ANALYTICS_SCRIPT}"'
    assert script in (await client.get("/", headers=who.headers)).text
    await _object(runtime, who, ANALYTICS)
    assert script not in (await client.get("/", headers=who.headers)).text


@pytest.mark.parametrize("stop", ["objection", "restriction"])
async def test_marketing_tag_is_removed_despite_marketing_consent(
    client: httpx.AsyncClient, runtime: LocalRuntime, who: Member, stop: str
) -> None:
    tag = f'data-category="marketing" data-src="{TAG}"'
    before = await client.get("/", headers=who.headers)
    assert tag in before.text
    assert "https://tags.example.com" in before.headers["content-security-policy"]
    if stop == "objection":
        await _object(runtime, who, MARKETING)
    else:
        account = await account_of(runtime, who)
        await restrict(runtime, account, reason="Checking my data.", client=CLIENT, language="en")
    after = await client.get("/", headers=who.headers)
    assert after.status_code == 200
    assert TAG not in after.text
    assert "tags.example.com" not in after.headers["content-security-policy"]
    # The browser's consent is untouched: the objection is the account's, not the cookie's.
    assert '"marketing"' in after.text.split('id="consent-state">')[1].split("</script>")[0]


async def test_withdrawing_the_marketing_objection_brings_the_tag_back(
    client: httpx.AsyncClient, runtime: LocalRuntime, who: Member
) -> None:
    await _object(runtime, who, MARKETING)
    await _object(runtime, who, NONE)
    assert f'data-src="{TAG}"' in (await client.get("/", headers=who.headers)).text


async def test_visitors_who_are_not_logged_in_follow_their_consent_alone(
    client: httpx.AsyncClient,
) -> None:
    page = (await client.get("/")).text
    assert f'data-src="{TAG}"' in page and f'data-src="{ANALYTICS_SCRIPT}"' in page
