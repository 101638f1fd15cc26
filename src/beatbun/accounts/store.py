"""SQL for the `accounts` table, through the `Database` protocol."""

from __future__ import annotations

from collections.abc import Mapping

from beatbun.accounts.models import Account
from beatbun.errors import NotFound
from beatbun.i18n import N_
from beatbun.runtime.base import Database, Row, SqlValue

# The columns `update_account` may set; names are never taken from input.
UPDATABLE = frozenset(
    {
        "email",
        "display_name",
        "email_verified_at",
        "password_hash",
        "totp_secret",
        "totp_pending_secret",
        "totp_enabled_at",
        "totp_last_step",
        "artist_name",
        "bio",
        "link",
    }
)


async def insert_account(db: Database, *, values: Mapping[str, SqlValue]) -> None:
    columns = ", ".join(values)
    marks = ", ".join("?" for _ in values)
    sql = f"INSERT INTO accounts ({columns}) VALUES ({marks})"
    await db.prepare(sql).bind(*values.values()).run()


async def find_account(db: Database, account_id: str) -> Account | None:
    row = await db.prepare("SELECT * FROM accounts WHERE id = ?").bind(account_id).first()
    return row_to_account(row) if row else None


async def get_account(db: Database, account_id: str) -> Account:
    account = await find_account(db, account_id)
    if account is None:
        raise NotFound(N_("Account '%(id)s' not found."), params={"id": account_id})
    return account


async def find_account_by_email(db: Database, email: str) -> Account | None:
    row = await db.prepare("SELECT * FROM accounts WHERE email = ?").bind(email).first()
    return row_to_account(row) if row else None


async def update_account(db: Database, account_id: str, *, values: Mapping[str, SqlValue]) -> None:
    unknown = set(values) - UPDATABLE
    if unknown:
        raise TypeError(f"update_account() cannot set {sorted(unknown)}; add them to UPDATABLE.")
    assignments = ", ".join(f"{column} = ?" for column in values)
    sql = f"UPDATE accounts SET {assignments} WHERE id = ?"
    await db.prepare(sql).bind(*values.values(), account_id).run()


def row_to_account(row: Row) -> Account:
    return Account(
        id=str(row["id"]),
        email=str(row["email"]),
        display_name=str(row["display_name"]),
        birth_date=str(row["birth_date"]),
        age_group=str(row["age_group"]),
        parent_email=_optional_str(row["parent_email"]),
        email_verified_at=_optional_int(row["email_verified_at"]),
        password_hash=str(row["password_hash"]),
        totp_secret=_optional_str(row["totp_secret"]),
        totp_pending_secret=_optional_str(row["totp_pending_secret"]),
        totp_last_step=_optional_int(row["totp_last_step"]),
        created_at=int(row["created_at"] or 0),
        parent_consented_at=_optional_int(row["parent_consented_at"]),
        artist_name=_optional_str(row["artist_name"]),
        bio=_optional_str(row["bio"]),
        link=_optional_str(row["link"]),
        objects_to_analytics=bool(row["objects_to_analytics"]),
        objects_to_marketing=bool(row["objects_to_marketing"]),
        objects_to_prompt_use=bool(row["objects_to_prompt_use"]),
        restricted_at=_optional_int(row["restricted_at"]),
        erasure_due_at=_optional_int(row["erasure_due_at"]),
        marketing_opt_in_at=_optional_int(row["marketing_opt_in_at"]),
        is_operator=row["is_admin"] == 1,
    )


def _optional_str(value: SqlValue) -> str | None:
    return None if value is None else str(value)


def _optional_int(value: SqlValue) -> int | None:
    return None if value is None else int(value)
