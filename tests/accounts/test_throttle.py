"""Login throttling at the service level, with a clock that moves only when told."""

from __future__ import annotations

import pytest

from beatbun.accounts import throttle
from beatbun.accounts.models import Client
from beatbun.accounts.service import InvalidCredentials, LoginOutcome, log_in
from beatbun.accounts.throttle import TooManyAttempts
from beatbun_local.runtime import LocalRuntime
from tests.factories import CLIENT, PASSWORD, create_account
from tests.fakes import ManualClock

WRONG = "not the right password at all"
ACCOUNT_FREE = throttle.FREE_FAILURES["account"]
IP_FREE = throttle.FREE_FAILURES["ip"]


async def _attempt(
    runtime: LocalRuntime, email: str, password: str = WRONG, *, client: Client = CLIENT
) -> LoginOutcome:
    return await log_in(runtime, email=email, password=password, client=client, previous_token=None)


async def _fail(runtime: LocalRuntime, email: str, times: int, *, client: Client = CLIENT) -> None:
    for _ in range(times):
        with pytest.raises(InvalidCredentials):
            await _attempt(runtime, email, client=client)


async def _retry_after(runtime: LocalRuntime, email: str, *, client: Client = CLIENT) -> int:
    with pytest.raises(TooManyAttempts) as refused:
        await _attempt(runtime, email, PASSWORD, client=client)
    return refused.value.retry_after


async def test_login_after_allowed_failures_is_refused_with_retry_after(
    runtime: LocalRuntime,
) -> None:
    account = await create_account(runtime)
    await _fail(runtime, account.email, ACCOUNT_FREE)
    with pytest.raises(TooManyAttempts) as refused:
        await _attempt(runtime, account.email, PASSWORD)
    assert refused.value.status == 429
    assert refused.value.code == "too_many_attempts"
    assert refused.value.message == "Too many failed attempts. Try again in 1 second."
    assert refused.value.headers == {"Retry-After": "1"}


async def test_login_failures_below_the_limit_are_not_throttled(runtime: LocalRuntime) -> None:
    account = await create_account(runtime)
    await _fail(runtime, account.email, ACCOUNT_FREE - 1)
    outcome = await _attempt(runtime, account.email, PASSWORD)
    assert outcome.token and not outcome.needs_second_factor


async def test_login_second_lockout_is_longer_than_the_first(
    runtime: LocalRuntime, clock: ManualClock
) -> None:
    account = await create_account(runtime)
    await _fail(runtime, account.email, ACCOUNT_FREE)
    first = await _retry_after(runtime, account.email)
    clock.advance(first)
    await _fail(runtime, account.email, 1)
    second = await _retry_after(runtime, account.email)
    assert second > first


async def test_login_delay_is_capped(runtime: LocalRuntime, clock: ManualClock) -> None:
    account = await create_account(runtime)
    await _fail(runtime, account.email, ACCOUNT_FREE)
    for _ in range(15):
        clock.advance(await _retry_after(runtime, account.email))
        await _fail(runtime, account.email, 1)
    assert await _retry_after(runtime, account.email) == throttle.MAX_DELAY


async def test_login_after_the_delay_with_the_right_password_succeeds(
    runtime: LocalRuntime, clock: ManualClock
) -> None:
    account = await create_account(runtime)
    await _fail(runtime, account.email, ACCOUNT_FREE)
    clock.advance(await _retry_after(runtime, account.email))
    outcome = await _attempt(runtime, account.email, PASSWORD)
    assert outcome.token


async def test_login_success_clears_the_account_failures(
    runtime: LocalRuntime, clock: ManualClock
) -> None:
    account = await create_account(runtime)
    await _fail(runtime, account.email, ACCOUNT_FREE)
    clock.advance(await _retry_after(runtime, account.email))
    await _attempt(runtime, account.email, PASSWORD)
    # A fresh count: the next failure is free again.
    await _fail(runtime, account.email, 1)
    assert (await _attempt(runtime, account.email, PASSWORD)).token


async def test_login_failures_are_forgotten_after_a_quiet_day(
    runtime: LocalRuntime, clock: ManualClock
) -> None:
    account = await create_account(runtime)
    await _fail(runtime, account.email, ACCOUNT_FREE)
    clock.advance(throttle.FORGET_AFTER + 1)
    await _fail(runtime, account.email, 1)
    assert (await _attempt(runtime, account.email, PASSWORD)).token


async def test_login_throttle_per_address_spans_accounts(runtime: LocalRuntime) -> None:
    account = await create_account(runtime)
    # One failure each on many unknown addresses: no account reaches its own limit.
    for number in range(IP_FREE):
        await _fail(runtime, f"guess{number}@example.com", 1)
    assert await _retry_after(runtime, account.email) == 1


async def test_login_throttle_per_address_spares_other_addresses(runtime: LocalRuntime) -> None:
    account = await create_account(runtime)
    for _ in range(IP_FREE):
        await throttle.record_failure(runtime.db, [f"ip:{CLIENT.ip}"], now=runtime.clock.now())
    assert await _retry_after(runtime, account.email) == 1
    elsewhere = Client(ip="198.51.100.7", user_agent="OtherBrowser/2.0")
    assert (await _attempt(runtime, account.email, PASSWORD, client=elsewhere)).token


@pytest.mark.parametrize(
    ("seconds", "message"),
    [
        (1, "Too many failed attempts. Try again in 1 second."),
        (900, "Too many failed attempts. Try again in 900 seconds."),
    ],
)
def test_retry_message_says_second_or_seconds(seconds: int, message: str) -> None:
    assert TooManyAttempts(seconds).message == message
