"""Credits: an append-only ledger and a wallet balance that can never go negative.

Every change is a ledger row and a wallet update in the same D1 batch. The wallet's CHECK
(balance >= 0) makes an overdraft abort its batch, and the ledger's unique indexes make a retried
debit or a second refund of the same job a no-op, so money is right however requests race.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from beatbun.billing.plans import FREE_PLAN, PlanId
from beatbun.errors import ConstraintViolation, InsufficientCredits, InvalidInput
from beatbun.i18n import N_
from beatbun.runtime.base import Database, Row, SqlValue, Statement

LedgerKind = Literal["grant", "debit", "refund", "purchase", "adjustment"]
# The largest integer D1 takes as a parameter (runtime/base.py MAX_BINDABLE_INTEGER): the first
# page of a listing starts below it.
MAX_LEDGER_ID = 2**53 - 2
# The wallet's CHECK (balance >= 0), named in the migration so an overdraft is told by its name.
OVERDRAFT = "wallet_no_overdraft"
IDEMPOTENCY_COLUMNS = "credit_ledger.account_id, credit_ledger.idempotency_key"


@dataclass(frozen=True)
class Wallet:
    account_id: str
    plan: PlanId
    balance: int


@dataclass(frozen=True)
class Note:
    """What a ledger row says: an English `N_` template and the values that fill it."""

    template: str
    params: Mapping[str, str | int] = field(default_factory=dict)

    @property
    def text(self) -> str:
        """The note in English, as the CSV and the API give it."""
        return self.template % self.params if self.params else self.template


# What the ledger says of a track's debit.
TRACK_NOTE = Note(N_("Track"))


@dataclass(frozen=True)
class LedgerEntry:
    id: int
    kind: LedgerKind
    amount: int
    balance_after: int
    job_id: str | None
    note: Note
    created_at: int


async def open_wallet(db: Database, account_id: str, *, now: float) -> Wallet:
    """Create the wallet if needed and give the free plan its monthly grant once per month.

    Paid plans get their credits with each paid invoice instead (`billing.webhooks`).
    """
    month = datetime.fromtimestamp(now, tz=UTC).strftime("%Y-%m")
    grant_key = f"monthly-grant:{month}"
    results = await db.batch(
        [
            db.prepare("INSERT OR IGNORE INTO wallets (account_id, updated_at) VALUES (?, ?)").bind(
                account_id, int(now)
            ),
            db.prepare(
                "UPDATE wallets SET balance = balance + ?, granted_for = ?, updated_at = ?"
                " WHERE account_id = ? AND plan = 'free' AND granted_for != ?"
            ).bind(FREE_PLAN.monthly_credits, month, int(now), account_id, month),
            _ledger_row(
                db,
                account_id=account_id,
                kind="grant",
                amount=FREE_PLAN.monthly_credits,
                idempotency_key=grant_key,
                note=Note(N_("Free plan, %(month)s"), {"month": month}),
                now=now,
                only_if="EXISTS (SELECT 1 FROM wallets WHERE account_id = ? AND granted_for = ?)"
                " AND NOT EXISTS (SELECT 1 FROM credit_ledger"
                " WHERE account_id = ? AND idempotency_key = ?)",
                only_if_params=(account_id, month, account_id, grant_key),
            ),
            # Read back in the same batch: one round trip for the whole visit to the wallet.
            _wallet_query(db, account_id),
        ]
    )
    return _wallet_of(account_id, results[-1].results)


async def get_wallet(db: Database, account_id: str) -> Wallet:
    return _wallet_of(account_id, (await _wallet_query(db, account_id).all()).results)


def _wallet_query(db: Database, account_id: str) -> Statement:
    return db.prepare("SELECT account_id, plan, balance FROM wallets WHERE account_id = ?").bind(
        account_id
    )


def _wallet_of(account_id: str, rows: list[Row]) -> Wallet:
    if not rows:
        return Wallet(account_id=account_id, plan="free", balance=0)
    row = rows[0]
    return Wallet(account_id=str(row["account_id"]), plan=row["plan"], balance=int(row["balance"]))  # type: ignore[arg-type]


def _insufficient(cost: int, balance: int) -> InsufficientCredits:
    return InsufficientCredits(
        N_("This track costs %(cost)s credits and your balance is %(balance)s."),
        params={"cost": cost, "balance": balance},
    )


async def list_entries(
    db: Database, account_id: str, *, limit: int = 50, before: int | None = None
) -> list[LedgerEntry]:
    """The newest `limit` ledger rows, or those older than the row id `before` (the next page)."""
    result = (
        await db.prepare(
            "SELECT id, kind, amount, balance_after, job_id, note, note_params, created_at"
            " FROM credit_ledger WHERE account_id = ? AND id < ? ORDER BY id DESC LIMIT ?"
        )
        .bind(account_id, before if before is not None else MAX_LEDGER_ID, limit)
        .all()
    )
    return [_entry_of(row) for row in result.results]


async def charge(
    db: Database,
    *,
    account_id: str,
    amount: int,
    job_id: str,
    idempotency_key: str,
    along_with: Statement,
    now: float,
    note: Note = TRACK_NOTE,
    then: Sequence[Statement] = (),
) -> bool:
    """Debit `amount` for a job in one batch with `along_with` (the statement creating the job).

    A track export is charged the same way: its id as `job_id`, its row as `along_with`.
    `then` runs in the batch after the debit, before `along_with` (a notice that reads the
    balance the debit left: `billing.notify.credits_low_statements`).

    Returns False when `idempotency_key` was charged before (nothing changes). Raises
    InsufficientCredits when the balance does not cover it: the wallet's named CHECK aborts the
    batch, and `along_with` is written only together with its debit.
    """
    try:
        results = await db.batch(
            [
                *_debit_statements(
                    db,
                    account_id=account_id,
                    amount=amount,
                    job_id=job_id,
                    idempotency_key=idempotency_key,
                    note=note,
                    now=now,
                ),
                *then,
                along_with,
            ]
        )
    except ConstraintViolation as exc:
        if exc.kind == "UNIQUE" and exc.target == IDEMPOTENCY_COLUMNS:
            return False
        if exc.kind == "CHECK" and exc.target == OVERDRAFT:
            raise _insufficient(amount, (await get_wallet(db, account_id)).balance) from None
        raise
    if results[-1].meta.changes != 1:  # no wallet yet: the debit matched no row
        raise _insufficient(amount, (await get_wallet(db, account_id)).balance)
    return True


def credit_statements(
    db: Database,
    *,
    account_id: str,
    kind: Literal["grant", "purchase"],
    amount: int,
    idempotency_key: str,
    note: Note,
    now: float,
) -> list[Statement]:
    """Add `amount` once per `idempotency_key` (a Stripe invoice or checkout): a repeat adds nothing."""
    once = "NOT EXISTS (SELECT 1 FROM credit_ledger WHERE account_id = ? AND idempotency_key = ?)"
    return [
        db.prepare("INSERT OR IGNORE INTO wallets (account_id, updated_at) VALUES (?, ?)").bind(
            account_id, int(now)
        ),
        db.prepare(
            f"UPDATE wallets SET balance = balance + ?, updated_at = ? WHERE account_id = ? AND {once}"
        ).bind(amount, int(now), account_id, account_id, idempotency_key),
        _ledger_row(
            db,
            account_id=account_id,
            kind=kind,
            amount=amount,
            idempotency_key=idempotency_key,
            note=note,
            now=now,
            only_if=once,
            only_if_params=(account_id, idempotency_key),
        ),
    ]


def take_back_statements(
    db: Database,
    *,
    account_id: str,
    amount: int | tuple[str, tuple[SqlValue, ...]],
    idempotency_key: str,
    note: Note,
    now: float,
) -> list[Statement]:
    """Take back up to `amount` credits once per key, never more than the balance.

    `amount` is a number, or SQL and its parameters that D1 evaluates inside the batch (so it
    can read what earlier statements, or a concurrent batch before this one, left). Nothing is
    written when it comes to zero. The ledger row is written first, with what can be taken;
    the wallet then moves by that row, only while it is the account's newest row and the wallet
    still holds the balance it saw.
    """
    amount_sql, amount_params = ("?", (amount,)) if isinstance(amount, int) else amount
    return [
        db.prepare(
            f"WITH due (n) AS (SELECT {amount_sql}) INSERT INTO credit_ledger"
            " (account_id, kind, amount, balance_after, idempotency_key, note, note_params,"
            " created_at) SELECT ?, 'adjustment', -min(due.n, balance), balance - min(due.n, balance),"
            " ?, ?, ?, ? FROM wallets, due WHERE account_id = ? AND due.n > 0 AND NOT EXISTS"
            " (SELECT 1 FROM credit_ledger WHERE account_id = ? AND idempotency_key = ?)"
        ).bind(
            *amount_params,
            account_id,
            idempotency_key,
            note.template,
            _params_json(note),
            int(now),
            account_id,
            account_id,
            idempotency_key,
        ),
        db.prepare(
            "UPDATE wallets SET balance = balance + (SELECT amount FROM credit_ledger"
            " WHERE account_id = ?1 AND idempotency_key = ?2), updated_at = ?3"
            " WHERE account_id = ?1"
            " AND (SELECT id FROM credit_ledger WHERE account_id = ?1 AND idempotency_key = ?2)"
            " = (SELECT max(id) FROM credit_ledger WHERE account_id = ?1)"
            " AND balance = (SELECT balance_after - amount FROM credit_ledger"
            " WHERE account_id = ?1 AND idempotency_key = ?2)"
        ).bind(account_id, idempotency_key, int(now)),
    ]


def _debit_statements(
    db: Database,
    *,
    account_id: str,
    amount: int,
    job_id: str,
    idempotency_key: str,
    note: Note,
    now: float,
) -> list[Statement]:
    """The wallet update and ledger row of a debit, for a batch that also creates the job.

    An overdraft fails the wallet's CHECK; a reused idempotency key fails the ledger's unique
    index. Either aborts the whole batch.
    """
    if amount <= 0:
        raise InvalidInput(
            N_("A debit must be positive, got %(amount)s."),
            code="invalid_amount",
            params={"amount": amount},
        )
    return [
        db.prepare(
            "UPDATE wallets SET balance = balance - ?, updated_at = ? WHERE account_id = ?"
        ).bind(amount, int(now), account_id),
        _ledger_row(
            db,
            account_id=account_id,
            kind="debit",
            amount=-amount,
            idempotency_key=idempotency_key,
            job_id=job_id,
            note=note,
            now=now,
        ),
    ]


def refund_statements(
    db: Database,
    *,
    account_id: str,
    amount: int,
    job_id: str,
    note: Note,
    now: float,
    ended_in: Literal["jobs", "track_exports"] = "jobs",
) -> list[Statement]:
    """Give back a job's credits, at most once, and only if the job ended unfinished.

    Place after the statement that marks the job failed or canceled, in the same batch. A
    track export is refunded the same way, with `ended_in="track_exports"`.
    """
    refundable = (
        f"EXISTS (SELECT 1 FROM {ended_in} WHERE id = ? AND status IN ('failed', 'canceled'))"
        " AND NOT EXISTS (SELECT 1 FROM credit_ledger WHERE job_id = ? AND kind = 'refund')"
    )
    return [
        db.prepare(
            f"UPDATE wallets SET balance = balance + ?, updated_at = ? WHERE account_id = ? AND {refundable}"
        ).bind(amount, int(now), account_id, job_id, job_id),
        _ledger_row(
            db,
            account_id=account_id,
            kind="refund",
            amount=amount,
            job_id=job_id,
            note=note,
            now=now,
            only_if=refundable,
            only_if_params=(job_id, job_id),
        ),
    ]


def _ledger_row(
    db: Database,
    *,
    account_id: str,
    kind: LedgerKind,
    amount: int,
    note: Note,
    now: float,
    job_id: str | None = None,
    idempotency_key: str | None = None,
    only_if: str = "1",
    only_if_params: tuple[str, ...] = (),
) -> Statement:
    # balance_after is read from the wallet inside the batch, after its update.
    return db.prepare(
        "INSERT INTO credit_ledger"
        " (account_id, kind, amount, balance_after, job_id, idempotency_key, note, note_params,"
        f" created_at) SELECT ?, ?, ?, balance, ?, ?, ?, ?, ? FROM wallets"
        f" WHERE account_id = ? AND {only_if}"
    ).bind(
        account_id,
        kind,
        amount,
        job_id,
        idempotency_key,
        note.template,
        _params_json(note),
        int(now),
        account_id,
        *only_if_params,
    )


def _params_json(note: Note) -> str:
    return json.dumps(dict(note.params), separators=(",", ":"), sort_keys=True)


def _entry_of(row: Row) -> LedgerEntry:
    return LedgerEntry(
        id=int(row["id"]),  # type: ignore[arg-type]
        kind=row["kind"],  # type: ignore[arg-type]
        amount=int(row["amount"]),  # type: ignore[arg-type]
        balance_after=int(row["balance_after"]),  # type: ignore[arg-type]
        job_id=None if row["job_id"] is None else str(row["job_id"]),
        note=Note(str(row["note"]), json.loads(str(row["note_params"]))),
        created_at=int(row["created_at"]),  # type: ignore[arg-type]
    )
