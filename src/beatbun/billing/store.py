"""Billing's tables in D1: customers, subscriptions, checkouts, payments and applied events."""

from __future__ import annotations

from beatbun.billing.models import CheckoutRecord, CheckoutStatus, Payment, Subscription
from beatbun.billing.plans import PLAN_ORDER
from beatbun.errors import NotFound
from beatbun.i18n import N_
from beatbun.runtime.base import Database, Row, Statement

_SUBSCRIPTION_COLUMNS = (
    "id, account_id, plan, status, current_period_end, cancel_at_period_end, grace_until"
)
_HELD = "held_plan, held_until"
_PAYMENT_COLUMNS = (
    "id, kind, item, amount, currency, status, credits, amount_refunded, url, created_at"
)


def plan_rank_sql(column: str) -> str:
    """SQL for where the plan in `column` stands in `PLAN_ORDER` (higher is more); NULL ranks -1."""
    ranks = " ".join(f"WHEN '{plan}' THEN {rank}" for rank, plan in enumerate(PLAN_ORDER))
    return f"(CASE {column} {ranks} ELSE -1 END)"


async def find_customer_id(db: Database, account_id: str) -> str | None:
    found = (
        await db.prepare("SELECT customer_id FROM billing_customers WHERE account_id = ?")
        .bind(account_id)
        .first("customer_id")
    )
    return None if found is None else str(found)


async def find_account_of_customer(db: Database, customer_id: str) -> str | None:
    found = (
        await db.prepare("SELECT account_id FROM billing_customers WHERE customer_id = ?")
        .bind(customer_id)
        .first("account_id")
    )
    return None if found is None else str(found)


def insert_customer_statement(
    db: Database, *, account_id: str, customer_id: str, now: float
) -> Statement:
    """Link the account to its Stripe customer; the first link made stays (one per account)."""
    return db.prepare(
        "INSERT OR IGNORE INTO billing_customers (account_id, customer_id, created_at)"
        " VALUES (?, ?, ?)"
    ).bind(account_id, customer_id, int(now))


def insert_checkout_statement(db: Database, record: CheckoutRecord, *, now: float) -> Statement:
    return db.prepare(
        "INSERT INTO checkout_sessions (id, account_id, mode, item, status, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)"
    ).bind(
        record.id,
        record.account_id,
        record.mode,
        record.item,
        record.status,
        record.created_at,
        int(now),
    )


def set_checkout_status_statement(
    db: Database, *, session_id: str, status: CheckoutStatus, now: float
) -> Statement:
    """Move a checkout forward; a fulfilled or failed one is final."""
    return db.prepare(
        "UPDATE checkout_sessions SET status = ?, updated_at = ?"
        " WHERE id = ? AND status NOT IN ('fulfilled', 'failed')"
    ).bind(status, int(now), session_id)


async def get_checkout(db: Database, *, account_id: str, session_id: str) -> CheckoutRecord:
    """The account's checkout; another account's is NotFound."""
    row = (
        await db.prepare(
            "SELECT id, account_id, mode, item, status, created_at FROM checkout_sessions"
            " WHERE id = ? AND account_id = ?"
        )
        .bind(session_id, account_id)
        .first()
    )
    if row is None:
        raise NotFound(
            N_("Checkout '%(id)s' not found."), code="checkout_not_found", params={"id": session_id}
        )
    return CheckoutRecord(**row)


async def find_checkout(db: Database, session_id: str) -> CheckoutRecord | None:
    row = (
        await db.prepare(
            "SELECT id, account_id, mode, item, status, created_at FROM checkout_sessions"
            " WHERE id = ?"
        )
        .bind(session_id)
        .first()
    )
    return None if row is None else CheckoutRecord(**row)


def upsert_subscription_statement(
    db: Database, subscription: Subscription, *, synced_at: float, now: float
) -> Statement:
    """Store Stripe's state of the subscription unless a later read is already stored.

    A failed renewal's grace starts once and is kept while the subscription stays past due. A
    switch to a smaller plan holds the larger one until the end of the period paid for (`?9` is
    now); a switch back up ends the hold. (On the right of SET, `subscriptions.` is the old row.)
    """
    new, old, held = (
        plan_rank_sql("excluded.plan"),
        plan_rank_sql("subscriptions.plan"),
        plan_rank_sql("subscriptions.held_plan"),
    )
    downgraded = f"{new} < {old} AND subscriptions.current_period_end > ?9"
    still_held = f"{new} < {held} AND subscriptions.held_until > ?9"
    return db.prepare(
        f"INSERT INTO subscriptions ({_SUBSCRIPTION_COLUMNS}, synced_at, created_at)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
        " ON CONFLICT (id) DO UPDATE SET"
        f" held_plan = CASE WHEN {downgraded} THEN subscriptions.plan"
        f" WHEN {still_held} THEN subscriptions.held_plan END,"
        f" held_until = CASE WHEN {downgraded} THEN subscriptions.current_period_end"
        f" WHEN {still_held} THEN subscriptions.held_until END,"
        " plan = excluded.plan, status = excluded.status,"
        " current_period_end = excluded.current_period_end,"
        " cancel_at_period_end = excluded.cancel_at_period_end,"
        " grace_until = CASE WHEN excluded.status = 'past_due'"
        " THEN coalesce(subscriptions.grace_until, excluded.grace_until) END,"
        " synced_at = excluded.synced_at"
        " WHERE subscriptions.synced_at <= excluded.synced_at"
    ).bind(
        subscription.id,
        subscription.account_id,
        subscription.plan,
        subscription.status,
        subscription.current_period_end,
        int(subscription.cancel_at_period_end),
        subscription.grace_until,
        synced_at,
        int(now),
    )


async def list_subscriptions(db: Database, account_id: str) -> list[Subscription]:
    result = (
        await db.prepare(
            f"SELECT {_SUBSCRIPTION_COLUMNS}, {_HELD} FROM subscriptions WHERE account_id = ?"
            " ORDER BY created_at DESC"
        )
        .bind(account_id)
        .all()
    )
    return [_subscription_of(row) for row in result.results]


def record_event_statement(
    db: Database, *, event_id: str, kind: str, created: int, now: float
) -> Statement:
    """Fails (primary key) when the event was applied before, which aborts its batch."""
    return db.prepare(
        "INSERT INTO stripe_events (id, type, created, received_at) VALUES (?, ?, ?, ?)"
    ).bind(event_id, kind, created, int(now))


def upsert_payment_statement(
    db: Database, payment: Payment, *, account_id: str, paid_by: str | None
) -> Statement:
    """Record a payment, or update its status (and what paid it) when it is known already.

    A paid or refunded payment keeps its status: a late `unpaid` or `failed` event, or a late
    `paid` after a refund, does not undo it.
    """
    return db.prepare(
        f"INSERT INTO payments ({_PAYMENT_COLUMNS}, account_id, paid_by)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (id) DO UPDATE SET credits = max(payments.credits, excluded.credits),"
        " status = CASE WHEN payments.amount_refunded > 0 OR payments.status = 'paid'"
        " THEN payments.status ELSE excluded.status END,"
        " paid_by = coalesce(excluded.paid_by, payments.paid_by),"
        " url = coalesce(excluded.url, payments.url)"
    ).bind(
        payment.id,
        payment.kind,
        payment.item,
        payment.amount,
        payment.currency,
        payment.status,
        payment.credits,
        payment.amount_refunded,
        payment.url,
        payment.created_at,
        account_id,
        paid_by,
    )


async def find_payment_paid_by(
    db: Database, *, charge_id: str, payment_intent_id: str | None
) -> tuple[str, Payment] | None:
    """The payment a charge (or its PaymentIntent) paid for, with its account."""
    row = (
        await db.prepare(
            f"SELECT account_id, {_PAYMENT_COLUMNS} FROM payments WHERE paid_by IN (?, ?)"
        )
        .bind(charge_id, payment_intent_id or charge_id)
        .first()
    )
    if row is None:
        return None
    account_id = str(row.pop("account_id"))
    return account_id, Payment(**row)


def refund_share_sql(*, payment_id: str, refunded: int) -> tuple[str, tuple[str | int, ...]]:
    """SQL for the credits a refund totalling `refunded` still has to take back from a payment:
    the refunded share of what it bought, less the share of the refunds recorded so far."""
    return (
        "(SELECT max(0, credits * ? / amount - credits * amount_refunded / amount)"
        " FROM payments WHERE id = ? AND amount > 0)",
        (refunded, payment_id),
    )


def set_refunded_statement(db: Database, *, payment_id: str, amount_refunded: int) -> Statement:
    return db.prepare(
        "UPDATE payments SET amount_refunded = max(amount_refunded, ?1),"
        " status = CASE WHEN max(amount_refunded, ?1) >= amount THEN 'refunded'"
        " ELSE 'partially_refunded' END WHERE id = ?2"
    ).bind(amount_refunded, payment_id)


async def list_payments(
    db: Database, account_id: str, *, limit: int = 50, before: int | None = None
) -> list[Payment]:
    """Newest first; `before` (the `seq` of the last payment seen) gives the next page.

    Payments made in the same second are ordered by when we recorded them, so none is skipped.
    """
    after_last = (
        " AND (created_at, rowid) < (SELECT created_at, rowid FROM payments WHERE rowid = ?3)"
        if before is not None
        else " AND ?3 IS NULL"
    )
    result = (
        await db.prepare(
            f"SELECT {_PAYMENT_COLUMNS}, rowid AS seq FROM payments WHERE account_id = ?1"
            f"{after_last} ORDER BY created_at DESC, rowid DESC LIMIT ?2"
        )
        .bind(account_id, limit, before)
        .all()
    )
    return [Payment(**row) for row in result.results]  # type: ignore[arg-type]


def _subscription_of(row: Row) -> Subscription:
    return Subscription(
        id=str(row["id"]),
        account_id=str(row["account_id"]),
        plan=row["plan"],  # type: ignore[arg-type]
        status=str(row["status"]),
        current_period_end=row["current_period_end"],  # type: ignore[arg-type]
        cancel_at_period_end=bool(row["cancel_at_period_end"]),
        grace_until=row["grace_until"],  # type: ignore[arg-type]
        held_plan=row["held_plan"],  # type: ignore[arg-type]
        held_until=row["held_until"],  # type: ignore[arg-type]
    )
