"""The service notices money causes: credits running low, monthly credits, and the plan's news.

Each is queued through `mail.notices`, so the same event never mails twice and each kind keeps
its cap. Where the statement can ride in the batch that moves the money (a debit, a paid
invoice), it does, with the rule as an SQL condition, so the email exists exactly when the
money moved. The plan's news follows a Stripe event whose outcome is known only once its batch
is applied (which plan the account ended on), so it is queued right after, keyed by the event.

- credits_low: a debit took the balance from at least to below the price of a default track
  (`LOW_BALANCE`): mailed once on the way down, not on every debit below it.
- credits_granted: a paid invoice gave a plan's monthly credits; a renewal says so itself.
- subscription_renewed: a renewal's invoice was paid (`billing_reason` subscription_cycle).
- subscription_changed: the account's plan in force changed (an upgrade, a downgrade taking
  effect, the end of a cancelled or lapsed subscription).
- subscription_cancelled: the owner cancelled; the plan runs until the period's end.
- payment_failed: a renewal failed; the plan holds through its grace period.
"""

from __future__ import annotations

from typing import Any

from beatbun.accounts.store import find_account
from beatbun.billing.effects import Effect
from beatbun.billing.mail import (
    CREDITS_GRANTED_NOTICE,
    CREDITS_LOW_NOTICE,
    PAYMENT_FAILED_NOTICE,
    SUBSCRIPTION_CANCELLED_NOTICE,
    SUBSCRIPTION_CHANGED_NOTICE,
    SUBSCRIPTION_RENEWED_NOTICE,
)
from beatbun.billing.plans import PLANS, PlanId
from beatbun.billing.pricing import price_in_credits
from beatbun.billing.store import list_subscriptions
from beatbun.billing.subscriptions import current_subscription
from beatbun.generation.provider import DEFAULT_DURATION_SECONDS
from beatbun.i18n import translate
from beatbun.mail.compose import email_date
from beatbun.mail.notices import account_language, notice_statement
from beatbun.runtime.base import Runtime, Statement

# A balance below this cannot pay for a track as the studio starts it (instrumental, default
# length).
LOW_BALANCE = price_in_credits(duration_seconds=DEFAULT_DURATION_SECONDS, has_lyrics=False)
RENEWAL = "subscription_cycle"


async def credits_low_statements(
    runtime: Runtime, *, account_id: str, balance: int, cost: int, event: str
) -> list[Statement]:
    """The credits-low notice for the batch debiting `cost`, after its wallet update.

    `balance` is the balance read before the debit: only a debit that may cross `LOW_BALANCE`
    reads the account and composes a mail. The statement itself re-checks the crossing against
    the wallet as the batch left it, so a concurrent debit cannot make it wrong.
    """
    if not balance - cost < LOW_BALANCE <= balance:
        return []
    account = await find_account(runtime.db, account_id)
    if account is None:
        return []
    language = await account_language(runtime.db, account_id)
    wallet_balance = "(SELECT balance FROM wallets WHERE account_id = ?)"
    return [
        notice_statement(
            runtime,
            CREDITS_LOW_NOTICE,
            account,
            event=event,
            language=language,
            only_if=f"{wallet_balance} < ? AND {wallet_balance} + ? >= ?",
            only_if_params=(account_id, LOW_BALANCE, account_id, cost, LOW_BALANCE),
            price=str(LOW_BALANCE),
            seconds=f"{DEFAULT_DURATION_SECONDS:g}",
            link=f"{runtime.settings.public_url}/pricing",
        )
    ]


async def grant_statements(
    runtime: Runtime, *, account_id: str, invoice: dict[str, Any], plan: PlanId, credits: int
) -> list[Statement]:
    """The notice of a paid invoice's monthly credits, for the batch that grants them."""
    account = await find_account(runtime.db, account_id)
    if account is None:
        return []
    language = await account_language(runtime.db, account_id)
    renewal = invoice.get("billing_reason") == RENEWAL
    return [
        notice_statement(
            runtime,
            SUBSCRIPTION_RENEWED_NOTICE if renewal else CREDITS_GRANTED_NOTICE,
            account,
            event=str(invoice["id"]),
            language=language,
            plan=translate(language, PLANS[plan].name),
            credits=str(credits),
            link=f"{runtime.settings.public_url}/{'billing' if renewal else 'studio'}",
        )
    ]


async def tell_owner(
    runtime: Runtime,
    *,
    event: dict[str, Any],
    effect: Effect,
    change: tuple[PlanId, PlanId] | None,
) -> None:
    """Queue what an applied Stripe event tells the account's owner, keyed by the event's id.

    `change` is the plan before and after the event's batch, when it recomputed the plan.
    """
    account_id = effect.renewal_failed_for or effect.changes_plan_of
    if account_id is None:
        return
    db, now = runtime.db, runtime.clock.now()
    account = await find_account(db, account_id)
    if account is None:
        return
    language = await account_language(db, account_id)
    event_id = str(event["id"])
    link = f"{runtime.settings.public_url}/billing"
    statements = []
    if effect.renewal_failed_for is not None:
        subscription = await current_subscription(db, account_id, now=now)
        if subscription is not None and subscription.grace_until is not None:
            statements.append(
                notice_statement(
                    runtime,
                    PAYMENT_FAILED_NOTICE,
                    account,
                    event=event_id,
                    language=language,
                    plan=translate(language, PLANS[subscription.plan].name),
                    date=email_date(subscription.grace_until),
                    link=link,
                )
            )
    if change is not None and change[0] != change[1]:
        before, after = change
        statements.append(
            notice_statement(
                runtime,
                SUBSCRIPTION_CHANGED_NOTICE,
                account,
                event=event_id,
                language=language,
                old=translate(language, PLANS[before].name),
                plan=translate(language, PLANS[after].name),
                credits=str(PLANS[after].monthly_credits),
                link=link,
            )
        )
    elif _cancellation_requested(event):
        subscription_id = str(event["data"]["object"]["id"])
        for subscription in await list_subscriptions(db, account_id):
            if (
                subscription.id == subscription_id
                and subscription.cancel_at_period_end
                and subscription.current_period_end is not None
            ):
                statements.append(
                    notice_statement(
                        runtime,
                        SUBSCRIPTION_CANCELLED_NOTICE,
                        account,
                        event=event_id,
                        language=language,
                        plan=translate(language, PLANS[subscription.plan_in_force(now)].name),
                        date=email_date(subscription.current_period_end),
                        link=link,
                    )
                )
    if statements:
        await db.batch(statements)


def _cancellation_requested(event: dict[str, Any]) -> bool:
    """A `customer.subscription.updated` that turned `cancel_at_period_end` on."""
    if event.get("type") != "customer.subscription.updated":
        return False
    data = event.get("data") or {}
    previous = data.get("previous_attributes") or {}
    return previous.get("cancel_at_period_end") is False and bool(
        (data.get("object") or {}).get("cancel_at_period_end")
    )
