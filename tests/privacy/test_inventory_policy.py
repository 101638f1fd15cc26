"""The privacy policy's table of what we keep is the data map, in the reader's language."""

from __future__ import annotations

import re

import httpx
import pytest

from beatbun.analytics.prompts import MIN_ACCOUNTS, PANEL_DAYS
from beatbun.billing.plans import FREE_RETENTION_SECONDS
from beatbun.consent.registry import AGE_REFUSED_MAX_AGE
from beatbun.i18n import translate
from beatbun.privacy.erasure import GRACE_SECONDS
from beatbun.privacy.export import EXPORT_DAYS, EXPORTS_PER_DAY
from beatbun.privacy.guardians import CONSENT_DAYS
from beatbun.privacy.inventory import CATEGORIES
from beatbun.privacy.removal import KEEP_PAYMENTS_YEARS
from beatbun.web.policies import PRIVACY_CONTACT

DAY = 86400


def _rows(page: str) -> dict[str, str]:
    return dict(re.findall(r'<tr data-category="([a-z_]+)">(.*?)</tr>', page, flags=re.S))


@pytest.mark.parametrize("language", ["en", "de", "fr"])
async def test_privacy_policy_retention_table_is_the_inventory(
    client: httpx.AsyncClient, language: str
) -> None:
    response = await client.get("/privacy", headers={"Accept-Language": language})

    assert response.status_code == 200
    rows = _rows(response.text)
    assert list(rows) == [category.key for category in CATEGORIES]
    for category in CATEGORIES:
        texts = [category.label, category.what, category.kept]
        texts += [category.legal_hold] if category.legal_hold else []
        for text in texts:
            assert translate(language, text) in rows[category.key], category.key


async def test_privacy_policy_names_the_legal_holds_and_the_contact(
    client: httpx.AsyncClient,
) -> None:
    page = (await client.get("/privacy")).text

    assert page.count("Kept by law:") == sum(1 for c in CATEGORIES if c.legal_hold)
    assert f'href="mailto:{PRIVACY_CONTACT}"' in page
    assert "within one month" in page
    assert 'href="/account/privacy"' in page


@pytest.mark.parametrize(
    ("value", "stated_value", "stated"),
    [
        (GRACE_SECONDS, 7 * DAY, "Deletion takes effect 7 days after you ask for it."),
        (EXPORT_DAYS, 7, "You can download it for 7 days"),
        (EXPORTS_PER_DAY, 1, "You can ask for one export a day."),
        (FREE_RETENTION_SECONDS, 14 * DAY, "deleted 14 days after it is created"),
        (KEEP_PAYMENTS_YEARS, 10, "for 10 years from the end of the year"),
        (PANEL_DAYS, 30, "the prompts of the last 30 days"),
        (MIN_ACCOUNTS, 3, "at least 3 different accounts"),
        (AGE_REFUSED_MAX_AGE, DAY, "sign-up is not possible, for one day"),
        (CONSENT_DAYS, 30, "If no one agrees within 30 days of our first link"),
    ],
)
async def test_privacy_policy_period_is_the_codes(
    client: httpx.AsyncClient, value: int, stated_value: int, stated: str
) -> None:
    page = (await client.get("/privacy")).text

    assert stated in page
    assert value == stated_value
