"""The Stripe SDK's transport is the fetch port: our User-Agent, one deadline, our errors."""

from __future__ import annotations

import httpx
import pytest

from beatbun.billing.gateway import stripe_client
from beatbun.billing.stripe_http import FetcherHTTPClient
from beatbun.errors import PaymentProviderError
from beatbun.runtime.fetchrules import USER_AGENT
from beatbun.settings import Settings
from beatbun_local.fetch import HttpxFetcher

SETTINGS = Settings(
    environment="test", stripe_secret_key="sk_test_123", stripe_api_base="https://stripe.test"
)


async def test_stripe_call_goes_through_the_port_with_our_user_agent() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        body = {"id": "cus_1", "object": "customer"}
        return httpx.Response(200, json=body, headers={"Request-Id": "req_1"})

    transport = httpx.MockTransport(handler)
    async with (
        httpx.AsyncClient(transport=transport) as http,
        stripe_client(SETTINGS, HttpxFetcher(http)) as client,
    ):
        customer = await client.v1.customers.retrieve_async("cus_1")

    assert customer.id == "cus_1"
    assert str(seen[0].url) == "https://stripe.test/v1/customers/cus_1"
    assert seen[0].headers["authorization"] == "Bearer sk_test_123"
    assert seen[0].headers["user-agent"].startswith(f"{USER_AGENT} Stripe/v1 PythonBindings/")


async def test_stripe_post_sends_the_form_body() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"id": "cus_2", "object": "customer"})

    transport = httpx.MockTransport(handler)
    async with (
        httpx.AsyncClient(transport=transport) as http,
        stripe_client(SETTINGS, HttpxFetcher(http)) as client,
    ):
        await client.v1.customers.create_async(params={"email": "a@example.com"})

    assert seen[0].method == "POST"
    assert seen[0].content == b"email=a%40example.com"


async def test_stripe_unreachable_is_a_payment_provider_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        with pytest.raises(PaymentProviderError) as caught:
            async with stripe_client(SETTINGS, HttpxFetcher(http)) as client:
                await client.v1.customers.retrieve_async("cus_1")

    assert caught.value.code == "payment_provider_error"


def test_stripe_called_synchronously_says_how_to_fix_it() -> None:
    client = FetcherHTTPClient(HttpxFetcher(), timeout_seconds=5)
    with pytest.raises(RuntimeError, match="_async"):
        client.request("get", "https://api.stripe.com/v1/customers", headers={})
