"""Which plan an account is on: the best of its Stripe subscriptions in force, else free.

The wallet's `plan` column is what the rest of the product reads. It is recomputed in SQL, in
the same batch that stores a subscription, so concurrent webhooks cannot leave it stale; the
same batch gives queued jobs the plan's head start and lifts the expiry of the account's tracks
when the plan keeps them. Downgrades and cancellations reach us from Stripe at the end of the
paid period (Stripe ends a canceled subscription then), so they take effect then.
"""

from __future__ import annotations

from typing import Any

from beatbun.billing.effects import Effect
from beatbun.billing.gateway import item_of_price, stripe_client
from beatbun.billing.models import Subscription
from beatbun.billing.plans import GRACE_SECONDS, PLAN_ORDER, PLANS, PlanId, plan_of
from beatbun.billing.store import list_subscriptions, plan_rank_sql, upsert_subscription_statement
from beatbun.generation.capacity import rerank_statement
from beatbun.runtime.base import ActorStub, Database, Runtime, Statement
from beatbun.settings import Settings
from beatbun.tracks.retention import keep_tracks_statement

_IN_FORCE = (
    "(status IN ('active', 'trialing')"
    " OR (status = 'past_due' AND coalesce(grace_until, ?2 + 1) > ?2))"
)
# How many statements `apply_plan_statements` gives, for `plan_change_of` to find the first.
APPLY_PLAN_STATEMENTS = 6
_PAID_PLANS = ", ".join(f"'{plan.id}'" for plan in PLANS.values() if plan.retention == "paid")


def subscription_from_stripe(
    data: dict[str, Any], *, account_id: str, settings: Settings, now: float
) -> Subscription | None:
    """Our record of a Stripe subscription object; None when it sells no plan of ours."""
    items = data.get("items", {}).get("data", [])
    if not items:
        return None
    plan = item_of_price(settings, str(items[0]["price"]["id"]))
    if plan not in PLANS or plan == "free":
        return None
    # Since API version 2025-03-31 the period is the item's, not the subscription's.
    period_end = items[0].get("current_period_end")
    return Subscription(
        id=str(data["id"]),
        account_id=account_id,
        plan=plan,
        status=str(data["status"]),
        current_period_end=int(period_end) if period_end else None,
        cancel_at_period_end=bool(data.get("cancel_at_period_end")),
        grace_until=int(now) + GRACE_SECONDS if data["status"] == "past_due" else None,
    )


def apply_plan_statements(db: Database, *, account_id: str, now: float) -> list[Statement]:
    """Put the account on its best plan in force, for a batch after the subscription's upsert.

    The plan before is the first of these statements (no row: the account had no wallet, so it
    was free) and the plan after the last; `plan_change_of` reads both.
    """
    statements = [
        _plan_query(db, account_id),
        db.prepare("INSERT OR IGNORE INTO wallets (account_id, updated_at) VALUES (?, ?)").bind(
            account_id, int(now)
        ),
        db.prepare(
            "UPDATE wallets SET plan = coalesce((SELECT plan FROM ("
            f" SELECT plan FROM subscriptions WHERE account_id = ?1 AND {_IN_FORCE}"
            f" UNION ALL SELECT held_plan FROM subscriptions WHERE account_id = ?1 AND {_IN_FORCE}"
            f" AND held_until > ?2) ORDER BY {plan_rank_sql('plan')} DESC LIMIT 1),"
            " 'free'), updated_at = ?2 WHERE account_id = ?1"
        ).bind(account_id, int(now)),
        rerank_statement(db, account_id=account_id),
        keep_tracks_statement(
            db,
            account_id=account_id,
            only_if=f"(SELECT plan FROM wallets WHERE account_id = ?) IN ({_PAID_PLANS})",
            only_if_params=(account_id,),
        ),
        _plan_query(db, account_id),
    ]
    if len(statements) != APPLY_PLAN_STATEMENTS:
        raise RuntimeError("Update APPLY_PLAN_STATEMENTS: plan_change_of counts on it.")
    return statements


def plan_change_of(results: list[Any]) -> tuple[PlanId, PlanId]:
    """(before, after) from the results of a batch ending with `apply_plan_statements`."""
    before, after = results[-APPLY_PLAN_STATEMENTS].results, results[-1].results
    return (before[0]["plan"] if before else "free"), after[0]["plan"]


async def tell_queue(runtime: Runtime, *, account_id: str, plan: PlanId) -> None:
    """Let the account's queue apply the plan now: its concurrency, and moving kept audio.

    If this call is lost, nothing is: new jobs read the plan from the wallet, and the cron
    sweep moves kept audio.
    """
    plan_of(plan)
    queue: ActorStub = runtime.user_queues.get(runtime.user_queues.id_from_name(account_id))
    await queue.call("plan_changed", account_id, plan)


async def end_lapsed_terms(runtime: Runtime) -> int:
    """Cron: a failed renewal's grace or a held plan ran out; the account gets the plan in force."""
    now = runtime.clock.now()
    result = await (
        runtime.db.prepare(
            "SELECT DISTINCT s.account_id FROM subscriptions s JOIN wallets w USING (account_id)"
            " WHERE (s.status = 'past_due' AND s.grace_until <= ?1 AND w.plan = s.plan)"
            " OR (s.held_until <= ?1 AND w.plan = s.held_plan)"
        )
        .bind(int(now))
        .all()
    )
    for row in result.results:
        account_id = str(row["account_id"])
        results = await runtime.db.batch(
            apply_plan_statements(runtime.db, account_id=account_id, now=now)
        )
        _, after = plan_change_of(results)
        await tell_queue(runtime, account_id=account_id, plan=after)
    return len(result.results)


async def current_subscription(db: Database, account_id: str, *, now: float) -> Subscription | None:
    """The subscription that gives the account its plan, if one is in force."""
    live = [s for s in await list_subscriptions(db, account_id) if s.is_in_force(now)]
    return max(live, key=lambda s: PLAN_ORDER.index(s.plan_in_force(now)), default=None)


def _plan_query(db: Database, account_id: str) -> Statement:
    return db.prepare("SELECT plan FROM wallets WHERE account_id = ?").bind(account_id)


async def sync_subscription(runtime: Runtime, subscription_id: str, account_id: str) -> Effect:
    """Read the subscription from Stripe now and store it, with the plan that follows from it."""
    synced_at = runtime.clock.now()
    async with stripe_client(runtime.settings, runtime.fetcher) as client:
        found = await client.v1.subscriptions.retrieve_async(subscription_id)
    subscription = subscription_from_stripe(
        found.to_dict(), account_id=account_id, settings=runtime.settings, now=synced_at
    )
    if subscription is None:
        return Effect([])
    now = runtime.clock.now()
    return Effect(
        [
            upsert_subscription_statement(runtime.db, subscription, synced_at=synced_at, now=now),
            *apply_plan_statements(runtime.db, account_id=account_id, now=now),
        ],
        changes_plan_of=account_id,
    )
