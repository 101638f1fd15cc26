"""Money's service notices, read back from the local outbox as their owners get them.

Credits running low come from real debits (generations submitted through the service); the
plan's news comes from the Stripe sandbox: the test pays on its hosted pages and delivers the
events it recorded, signed, to the webhook endpoint, repeated where a test needs it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from beatbun.accounts.models import Account
from beatbun.billing.checkout import open_portal, start_checkout
from beatbun.billing.credits import Note, credit_statements, get_wallet, open_wallet
from beatbun.billing.models import Subscription
from beatbun.billing.notify import LOW_BALANCE
from beatbun.billing.store import list_subscriptions
from beatbun.consent.preferences import DisplayPreferences, save_account_preferences
from beatbun.generation.models import GenerationRequest
from beatbun.generation.service import submit_generation
from beatbun.mail.notices import DAY
from beatbun.settings import Settings
from beatbun.tracks.exports import buy_export
from beatbun_local.runtime import LocalRuntime
from tests.billing.test_stripe_flows import Stripe
from tests.factories import create_verified_account, spend
from tests.fakes import ManualClock
from tests.mail.delivery import assert_service_mail, delivered
from tests.stripe_sandbox.server import API_KEY, WEBHOOK_SECRET, RunningSandbox, running_sandbox
from tests.tracks.conftest import make_tracks

LOW = "credits are running low"


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[RunningSandbox]:
    yield from running_sandbox(tmp_path, extra_args=("--no-legacy-fields",))


@pytest.fixture
def settings(request: pytest.FixtureRequest) -> Settings:
    # The mail rate is not under test here: a high one sends everything in the clock's second.
    if "stripe" not in request.fixturenames:
        return Settings(environment="test", mail_rate_per_second=1000)
    sandbox: RunningSandbox = request.getfixturevalue("sandbox")
    return Settings(
        environment="test",
        mail_rate_per_second=1000,
        stripe_secret_key=API_KEY,
        stripe_webhook_secret=WEBHOOK_SECRET,
        stripe_api_base=sandbox.url,
    )


@pytest.fixture
def stripe(sandbox: RunningSandbox, client: httpx.AsyncClient) -> Stripe:
    return Stripe(sandbox, client)


async def _account_with(runtime: LocalRuntime, balance: int) -> Account:
    account = await create_verified_account(runtime)
    wallet = await open_wallet(runtime.db, account.id, now=runtime.clock.now())
    await spend(runtime, account.id, amount=wallet.balance - balance)
    return account


async def _make_track(runtime: LocalRuntime, account: Account, *, seconds: int = 10) -> None:
    request = GenerationRequest.parse({"prompt": "rainy piano", "duration_seconds": seconds})
    await submit_generation(runtime, account_id=account.id, request=request, idempotency_key=None)


async def _top_up(runtime: LocalRuntime, account: Account, credits: int) -> None:
    await runtime.db.batch(
        credit_statements(
            runtime.db,
            account_id=account.id,
            kind="purchase",
            amount=credits,
            idempotency_key=f"test:top-up:{uuid.uuid4().hex}",
            note=Note("Top-up"),
            now=runtime.clock.now(),
        )
    )


# Credits low


async def test_the_debit_that_leaves_less_than_a_track_mails_the_owner_once(
    runtime: LocalRuntime,
) -> None:
    account = await _account_with(runtime, LOW_BALANCE + 2)
    balances = []
    for _ in range(4):  # 10-second tracks cost 1 credit each
        await _make_track(runtime, account)
        balances.append((await get_wallet(runtime.db, account.id)).balance)
        # Mailed by the debit that crossed the price, not by the ones before or after it.
        mails = await delivered(runtime, LOW)
        assert len(mails) == (1 if balances[-1] < LOW_BALANCE else 0)
    assert balances == [LOW_BALANCE + 1, LOW_BALANCE, LOW_BALANCE - 1, LOW_BALANCE - 2]
    [mail] = await delivered(runtime, LOW)
    assert_service_mail(mail, to=account.email)
    assert f"below {LOW_BALANCE} credits, the price of a 30-second track" in mail.text
    assert f"{runtime.settings.public_url}/pricing" in mail.text
    assert f'href="{runtime.settings.public_url}/pricing"' in mail.html


async def test_credits_low_again_within_a_week_is_not_mailed(
    runtime: LocalRuntime, clock: ManualClock
) -> None:
    account = await _account_with(runtime, LOW_BALANCE)
    await _make_track(runtime, account)
    assert len(await delivered(runtime, LOW)) == 1

    clock.advance(6 * DAY)
    await _top_up(runtime, account, 5)
    await _make_track(runtime, account, seconds=60)
    assert (await get_wallet(runtime.db, account.id)).balance < LOW_BALANCE
    assert len(await delivered(runtime, LOW)) == 1

    clock.advance(DAY + 1)
    await _top_up(runtime, account, 6)
    await _make_track(runtime, account, seconds=60)
    assert len(await delivered(runtime, LOW)) == 2


async def test_a_refused_debit_mails_nothing(runtime: LocalRuntime) -> None:
    account = await _account_with(runtime, LOW_BALANCE)
    with pytest.raises(Exception, match="costs 12 credits"):
        await _make_track(runtime, account, seconds=120)
    assert (await get_wallet(runtime.db, account.id)).balance == LOW_BALANCE
    assert await delivered(runtime, LOW) == []


async def test_buying_an_export_can_leave_credits_low(runtime: LocalRuntime) -> None:
    account = await _account_with(runtime, LOW_BALANCE + 1)
    [track] = await make_tracks(runtime, account_id=account.id, count=1)  # 1 credit
    assert await delivered(runtime, LOW) == []
    await buy_export(runtime, account=account, track_id=track.id, kind="midi")  # 1 credit
    [mail] = await delivered(runtime, LOW)
    assert_service_mail(mail, to=account.email)


async def test_credits_low_is_written_in_the_accounts_language(runtime: LocalRuntime) -> None:
    account = await _account_with(runtime, LOW_BALANCE)
    await save_account_preferences(
        runtime.db,
        account_id=account.id,
        preferences=DisplayPreferences(theme="system", language="de"),
        now=runtime.clock.now(),
    )
    await _make_track(runtime, account)
    # Any subject: the German catalog words it its own way.
    [mail] = [m for m in await delivered(runtime, "") if '<html lang="de">' in m.html]
    assert_service_mail(mail, to=account.email, language="de")
    kinds = (
        await runtime.db.prepare("SELECT kind FROM mail_queue WHERE account_id = ?")
        .bind(account.id)
        .all()
    )
    # The sign-up's verification link, and the notice.
    assert sorted(row["kind"] for row in kinds.results) == ["credits_low", "verify"]


# The plan's news, from Stripe's events


async def _subscribe(runtime: LocalRuntime, stripe: Stripe, account: Account, plan: str) -> None:
    redirect = await start_checkout(runtime, account=account, item=plan, language="en")
    assert (await stripe.pay(redirect.url)).status_code == 303


async def _subscribed(runtime: LocalRuntime, stripe: Stripe) -> tuple[Account, Subscription]:
    """A verified account on the Creator plan, every event of it delivered."""
    account = await create_verified_account(runtime)
    await _subscribe(runtime, stripe, account, "creator")
    await stripe.deliver_new()
    [subscription] = await list_subscriptions(runtime.db, account.id)
    return account, subscription


async def _portal(runtime: LocalRuntime, account: Account, action: str, **form: str) -> None:
    portal = await open_portal(runtime, account_id=account.id, language="en")
    [subscription] = await list_subscriptions(runtime.db, account.id)
    async with httpx.AsyncClient() as browser:
        answer = await browser.post(
            f"{portal.url}/subscriptions/{subscription.id}/{action}", data=form
        )
    assert answer.status_code == 303


async def test_subscribing_mails_the_new_plan_and_its_credits_once(
    runtime: LocalRuntime, stripe: Stripe
) -> None:
    account = await create_verified_account(runtime)
    await _subscribe(runtime, stripe, account, "creator")
    events = await stripe.new_events()
    await stripe.deliver(events)
    await stripe.deliver(events)  # Stripe delivers again: nothing more is mailed

    [changed] = await delivered(runtime, "plan is now Creator")
    assert_service_mail(changed, to=account.email)
    assert "changed from Free to Creator" in changed.text
    assert "600 credits each month" in changed.text
    assert f"{runtime.settings.public_url}/billing" in changed.text
    [granted] = await delivered(runtime, "600 credits for your Creator plan")
    assert_service_mail(granted, to=account.email)
    assert await delivered(runtime, "renewed") == []


async def test_a_renewal_mails_renewed_with_its_credits(
    runtime: LocalRuntime, stripe: Stripe
) -> None:
    account, subscription = await _subscribed(runtime, stripe)
    await stripe.control(f"subscriptions/{subscription.id}/renew")
    await stripe.deliver_new()

    [renewed] = await delivered(runtime, "Creator plan renewed")
    assert_service_mail(renewed, to=account.email)
    assert "600 monthly credits are in your balance" in renewed.text
    # The renewal's own mail tells of its credits; the first period's grant was mailed once.
    assert len(await delivered(runtime, "600 credits for your Creator plan")) == 1
    assert len(await delivered(runtime, "plan is now")) == 1


async def test_cancelling_mails_the_last_day_then_the_move_to_free(
    runtime: LocalRuntime, stripe: Stripe
) -> None:
    account, _ = await _subscribed(runtime, stripe)
    await _portal(runtime, account, "cancel")
    await stripe.deliver_new()

    [subscription] = await list_subscriptions(runtime.db, account.id)
    assert subscription.current_period_end is not None
    day = datetime.fromtimestamp(subscription.current_period_end, tz=UTC).date().isoformat()
    [cancelled] = await delivered(runtime, "plan ends on")
    assert_service_mail(cancelled, to=account.email)
    assert cancelled.subject.endswith(f"Creator plan ends on {day}")
    assert f"until {day}" in cancelled.text

    await stripe.control(f"subscriptions/{subscription.id}/renew")  # the period ends
    await stripe.deliver_new()
    [ended] = await delivered(runtime, "plan is now Free")
    assert "changed from Creator to Free" in ended.text
    assert len(await delivered(runtime, "plan ends on")) == 1


async def test_a_failed_payment_delivered_twice_mails_once(
    runtime: LocalRuntime, stripe: Stripe
) -> None:
    account, subscription = await _subscribed(runtime, stripe)
    await stripe.control(f"subscriptions/{subscription.id}/fail_renewal")
    events = await stripe.new_events()
    failed = [event for event in events if event["type"] == "invoice.payment_failed"]
    await stripe.deliver(events)
    await stripe.deliver(failed)

    [mail] = await delivered(runtime, "payment did not go through")
    assert_service_mail(mail, to=account.email)
    kinds = await runtime.db.prepare(
        "SELECT kind, account_id FROM mail_queue WHERE kind = 'payment_failed'"
    ).all()
    assert [dict(row) for row in kinds.results] == [
        {"kind": "payment_failed", "account_id": account.id}
    ]


async def test_an_upgrade_mails_the_new_plan(runtime: LocalRuntime, stripe: Stripe) -> None:
    account, _ = await _subscribed(runtime, stripe)
    await _portal(runtime, account, "switch", price=runtime.settings.stripe_price_pro)
    await stripe.deliver_new()
    [mail] = await delivered(runtime, "plan is now Pro")
    assert_service_mail(mail, to=account.email)
    assert "changed from Creator to Pro" in mail.text
    # An upgrade's share of the difference in credits is not a month's grant.
    assert len(await delivered(runtime, "credits for your")) == 1
