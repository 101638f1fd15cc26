"""Stripe's cookies in the registry: declared for the policy, never expected from our server."""

from __future__ import annotations

import httpx
import pytest

from beatbun.consent.registry import ITEMS, find_item

STRIPE_COOKIES = {"__stripe_mid": "1 year", "__stripe_sid": "30 minutes", "m": "2 years"}


@pytest.mark.parametrize(("name", "lifetime"), STRIPE_COOKIES.items())
def test_stripes_cookies_are_declared_as_strictly_necessary_third_party_items(
    name: str, lifetime: str
) -> None:
    item = next(item for item in ITEMS if item.name == name and item.kind == "cookie")
    assert (item.category, item.party, item.lifetime) == ("necessary", "third", lifetime)
    assert "stripe.com" in item.domain


@pytest.mark.parametrize("name", STRIPE_COOKIES)
def test_a_stripe_cookie_on_our_own_site_is_not_taken_for_a_declared_one(name: str) -> None:
    # Our pages never set them: under these names here, they would be someone else's.
    assert find_item(name, kind="cookie") is None


async def test_cookie_policy_lists_stripes_cookies_and_where_they_are_set(
    client: httpx.AsyncClient,
) -> None:
    page = (await client.get("/cookies", headers={"Accept-Language": "de"})).text
    for name in STRIPE_COOKIES:
        assert f'data-registry-item="{name}" data-category="necessary"' in page
    assert "checkout.stripe.com" in page and "m.stripe.com" in page
    assert 'href="https://stripe.com/cookies-policy/legal"' in page


async def test_no_page_of_ours_sets_a_stripe_cookie(client: httpx.AsyncClient) -> None:
    for path in ("/", "/pricing", "/cookies"):
        names = {
            header.split("=", 1)[0]
            for header in (await client.get(path)).headers.get_list("set-cookie")
        }
        assert names.isdisjoint(STRIPE_COOKIES), path
