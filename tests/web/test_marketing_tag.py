"""The configured third-party marketing tag is inert markup until marketing is allowed."""

from __future__ import annotations

import httpx
import pytest

from beatbun.consent.models import Choice
from beatbun.consent.service import record_choice
from beatbun.settings import Settings
from beatbun.web.choices import ANALYTICS_SCRIPT
from beatbun_local.runtime import LocalRuntime
from tests.fakes import ManualClock
from tests.privacy.teens import parent_token, sign_up_teen

TAG = "https://tags.example.com/tag.js"
DEVICE = "device:marketing-test"


@pytest.fixture
def settings() -> Settings:
    return Settings(environment="test", marketing_tag_url=TAG)


async def test_marketing_tag_is_never_a_live_script_in_the_page(
    client: httpx.AsyncClient,
) -> None:
    page = (await client.get("/")).text
    assert f'<script type="text/plain" data-category="marketing" data-src="{TAG}">' in page
    assert f' src="{TAG}"' not in page  # only data-src, which no browser fetches


@pytest.mark.parametrize(("marketing", "allowed"), [(False, False), (True, True)])
async def test_marketing_is_allowed_for_the_page_script_only_with_consent(
    runtime: LocalRuntime,
    clock: ManualClock,
    client: httpx.AsyncClient,
    marketing: bool,
    allowed: bool,
) -> None:
    response = await client.get("/", headers=await _browser(runtime, clock, marketing=marketing))
    page = response.text
    assert ('"marketing"' in page.split('id="consent-state">')[1].split("</script>")[0]) is allowed
    # Once it may run, the tag may also report to its host; never before.
    policy = response.headers["content-security-policy"]
    reports = "connect-src 'self' https://tags.example.com;" in policy
    assert (reports and "img-src 'self' data: https://tags.example.com;" in policy) is allowed


@pytest.mark.parametrize("page", ["consent", "declined", "unknown", "share"])
async def test_secret_paths_carry_no_gated_script_even_with_everything_allowed(
    runtime: LocalRuntime, clock: ManualClock, client: httpx.AsyncClient, page: str
) -> None:
    await sign_up_teen(runtime)
    path = {
        "consent": f"/parent/{parent_token(runtime)}",
        "declined": "/parent/declined",
        "unknown": "/parent/" + "A" * 43,
        "share": "/s/" + "B" * 43,
    }[page]
    cookie = await _browser(runtime, clock, performance=True, marketing=True)
    home = await client.get("/", headers=cookie)
    assert ANALYTICS_SCRIPT in home.text and TAG in home.text  # the same browser elsewhere

    response = await client.get(path, headers=cookie)
    if page in ("consent", "declined"):
        assert response.headers["referrer-policy"] == "no-referrer"
    assert 'id="consent-state"' in response.text
    assert "data-category=" not in response.text
    assert ANALYTICS_SCRIPT not in response.text and TAG not in response.text
    assert "tags.example.com" not in response.headers["content-security-policy"]


async def _browser(runtime: LocalRuntime, clock: ManualClock, **choice: bool) -> dict[str, str]:
    """The Cookie header of a browser whose banner choice allowed `choice`."""
    await record_choice(
        runtime.db,
        subject=DEVICE,
        choice=Choice(**choice),
        source="banner",
        gpc=False,
        now=clock.now(),
    )
    return {"Cookie": f"__Host-consent={DEVICE}"}
