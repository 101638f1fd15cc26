"""Erasure deletes the account's Stripe customer, through the official client, against the
local Stripe sandbox in its own process."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from beatbun.billing.gateway import stripe_client
from beatbun.billing.store import insert_customer_statement
from beatbun.privacy.erasure import erase_account
from beatbun.settings import Settings
from beatbun_local.runtime import LocalRuntime
from tests.privacy.erasure_setup import leaver
from tests.privacy.traces import Erased, traces
from tests.stripe_sandbox.server import API_KEY, WEBHOOK_SECRET, RunningSandbox, running_sandbox


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[RunningSandbox]:
    yield from running_sandbox(tmp_path, extra_args=("--no-legacy-fields",))


@pytest.fixture
def settings(sandbox: RunningSandbox) -> Settings:
    return Settings(
        environment="test",
        stripe_secret_key=API_KEY,
        stripe_webhook_secret=WEBHOOK_SECRET,
        stripe_api_base=sandbox.url,
    )


async def test_erasure_deletes_the_stripe_customer(
    runtime: LocalRuntime, sandbox: RunningSandbox
) -> None:
    who = await leaver(runtime, tracks=0)
    async with stripe_client(runtime.settings, runtime.fetcher) as client:
        customer = await client.v1.customers.create_async(
            params={"email": who.account.email, "metadata": {"account_id": who.account.id}}
        )
    await insert_customer_statement(
        runtime.db, account_id=who.account.id, customer_id=customer.id, now=runtime.clock.now()
    ).run()
    await erase_account(runtime, who.account.id)
    async with stripe_client(runtime.settings, runtime.fetcher) as client:
        gone = await client.v1.customers.retrieve_async(customer.id)
        events = await client.v1.events.list_async(params={"type": "customer.deleted"})
    assert gone.to_dict() == {"id": customer.id, "object": "customer", "deleted": True}
    assert [event.data.object["id"] for event in events.data] == [customer.id]
    assert await traces(runtime, Erased(account_id=who.account.id, email=who.account.email)) == []
    # Erasing again finds no customer left to delete, and changes nothing.
    await erase_account(runtime, who.account.id)
