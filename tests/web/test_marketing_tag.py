"""The configured third-party marketing tag is inert markup until marketing is allowed."""

from __future__ import annotations

import httpx
import pytest

from beatbun.consent.models import Choice
from beatbun.consent.service import record_choice
from beatbun.settings import Settings
from beatbun_local.runtime import LocalRuntime
from tests.fakes import ManualClock

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
    await record_choice(
        runtime.db,
        subject=DEVICE,
        choice=Choice(marketing=marketing),
        source="banner",
        gpc=False,
        now=clock.now(),
    )
    response = await client.get("/", headers={"Cookie": f"__Host-consent={DEVICE}"})
    page = response.text
    assert ('"marketing"' in page.split('id="consent-state">')[1].split("</script>")[0]) is allowed
    # Once it may run, the tag may also report to its host; never before.
    policy = response.headers["content-security-policy"]
    reports = "connect-src 'self' https://tags.example.com;" in policy
    assert (reports and "img-src 'self' data: https://tags.example.com;" in policy) is allowed
