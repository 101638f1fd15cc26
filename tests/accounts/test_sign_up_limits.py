"""Sign-up cannot flood the mail queue: one "already registered" notice an hour per address,
and a throttle per client address that refuses with 429 and writes nothing."""

from __future__ import annotations

from dataclasses import replace

import pytest

from beatbun.accounts.models import Client
from beatbun.accounts.registration import SignUpForm, sign_up
from beatbun.accounts.throttle import TooManySignUps
from beatbun.runtime.base import Runtime
from beatbun.settings import Settings
from tests.factories import PASSWORD, create_verified_account
from tests.fakes import ManualClock

ALLOWED = 3


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return replace(settings, sign_ups_per_address=ALLOWED)


def _form(email: str) -> SignUpForm:
    return SignUpForm(
        email=email, password=PASSWORD, display_name="Someone", birth_date="1990-05-04"
    )


async def _count(runtime: Runtime, sql: str) -> int:
    row = await runtime.db.prepare(sql).first()
    assert row is not None
    return int(row["n"])


async def _notices(runtime: Runtime) -> int:
    return await _count(
        runtime, "SELECT COUNT(*) AS n FROM mail_queue WHERE kind = 'already_registered'"
    )


async def test_repeated_sign_ups_for_a_registered_address_queue_one_notice_an_hour(
    runtime: Runtime, clock: ManualClock
) -> None:
    owner = await create_verified_account(runtime, email="owner@example.com")
    # Each from its own address, so only the per-address notice limit is in play.
    for n in range(10):
        await sign_up(
            runtime,
            _form("owner@example.com"),
            client=Client(ip=f"198.51.100.{n}", user_agent="Script/1.0"),
        )
    assert await _notices(runtime) == 1
    row = await runtime.db.prepare(
        "SELECT account_id, recipient FROM mail_queue WHERE kind = 'already_registered'"
    ).first()
    assert row is not None
    assert row["account_id"] == owner.id and row["recipient"] == "owner@example.com"

    clock.advance(3600)
    await sign_up(
        runtime,
        _form("owner@example.com"),
        client=Client(ip="198.51.100.99", user_agent="Script/1.0"),
    )
    assert await _notices(runtime) == 2


async def test_an_address_past_its_sign_ups_is_refused_and_nothing_is_written(
    runtime: Runtime, clock: ManualClock
) -> None:
    client = Client(ip="203.0.113.7", user_agent="Script/1.0")
    for n in range(ALLOWED):
        await sign_up(runtime, _form(f"person{n}@example.com"), client=client)
    counts = (
        await _count(runtime, "SELECT COUNT(*) AS n FROM accounts"),
        await _count(runtime, "SELECT COUNT(*) AS n FROM mail_queue"),
        await _count(runtime, "SELECT failures AS n FROM login_failures"),
    )

    with pytest.raises(TooManySignUps) as refused:
        await sign_up(runtime, _form("refused@example.com"), client=client)
    assert refused.value.status == 429 and refused.value.code == "too_many_sign_ups"
    assert refused.value.headers == {"Retry-After": "1"}
    assert refused.value.message == "Too many sign-ups from this network. Try again in 1 second."
    after = (
        await _count(runtime, "SELECT COUNT(*) AS n FROM accounts"),
        await _count(runtime, "SELECT COUNT(*) AS n FROM mail_queue"),
        await _count(runtime, "SELECT failures AS n FROM login_failures"),
    )
    assert after == counts

    # Another client address is not held back, and this one may go on after the delay.
    await sign_up(
        runtime,
        _form("elsewhere@example.com"),
        client=Client(ip="203.0.113.8", user_agent="Script/1.0"),
    )
    clock.advance(1)
    await sign_up(runtime, _form("later@example.com"), client=client)
