"""API keys: `bbk_` + 256 random bits, shown once, stored as a SHA-256 digest."""

from __future__ import annotations

from collections.abc import Sequence

from beatbun.accounts.models import ApiKey
from beatbun.accounts.tokens import hash_token, new_id, new_token
from beatbun.errors import InvalidInput, NotFound, Unauthenticated
from beatbun.i18n import N_
from beatbun.runtime.base import Database, Row

KEY_PREFIX = "bbk_"
# How much of a key is kept in clear to tell keys apart in a list (prefix + 8 characters).
SHOWN_CHARACTERS = len(KEY_PREFIX) + 8
SCOPES = ("generate", "read")
MAX_NAME = 60
MAX_KEYS_PER_ACCOUNT = 25


async def create_api_key(
    db: Database, *, account_id: str, name: str, scopes: Sequence[str], now: float
) -> tuple[ApiKey, str]:
    """Create a key; returns it and the full secret, which is never available again."""
    name = name.strip()
    if not name or len(name) > MAX_NAME:
        raise InvalidInput(
            N_("Name the key in 1 to %(maximum)s characters."),
            field="name",
            params={"maximum": MAX_NAME},
        )
    unknown = [scope for scope in scopes if scope not in SCOPES]
    if unknown or not scopes:
        raise InvalidInput(
            N_("Choose one or more scopes from %(scopes)s."),
            field="scopes",
            params={"scopes": ", ".join(SCOPES)},
        )
    live = await (
        db.prepare(
            "SELECT count(*) AS live FROM api_keys WHERE account_id = ? AND revoked_at IS NULL"
        )
        .bind(account_id)
        .first("live")
    )
    if int(live) >= MAX_KEYS_PER_ACCOUNT:
        raise InvalidInput(
            N_("An account can hold %(maximum)s live keys; revoke one first."),
            field="name",
            params={"maximum": MAX_KEYS_PER_ACCOUNT},
        )
    secret = KEY_PREFIX + new_token()
    key = ApiKey(
        id=new_id(),
        account_id=account_id,
        name=name,
        prefix=secret[:SHOWN_CHARACTERS],
        scopes=tuple(scope for scope in SCOPES if scope in scopes),
        created_at=now,
        last_used_at=None,
        revoked_at=None,
    )
    await (
        db.prepare(
            "INSERT INTO api_keys (id, account_id, name, prefix, key_hash, scopes, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)"
        )
        .bind(
            key.id, account_id, key.name, key.prefix, hash_token(secret), " ".join(key.scopes), now
        )
        .run()
    )
    return key, secret


async def list_api_keys(db: Database, account_id: str) -> list[ApiKey]:
    rows = (
        await db.prepare("SELECT * FROM api_keys WHERE account_id = ? ORDER BY created_at DESC")
        .bind(account_id)
        .all()
    )
    return [_row_to_key(row) for row in rows.results]


async def revoke_api_key(db: Database, *, account_id: str, key_id: str, now: float) -> None:
    """Raises NotFound when the key is not the account's or is already revoked."""
    result = (
        await db.prepare(
            "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND account_id = ? AND revoked_at IS NULL"
        )
        .bind(now, key_id, account_id)
        .run()
    )
    if result.meta.changes != 1:
        raise NotFound(N_("API key '%(id)s' not found."), params={"id": key_id})


async def authenticate_api_key(db: Database, secret: str, *, now: float) -> ApiKey:
    """The live key for `secret`, its last use stamped; raises Unauthenticated otherwise."""
    if not secret.startswith(KEY_PREFIX):
        raise Unauthenticated(N_("The API key is not valid."), code="invalid_api_key")
    row = (
        await db.prepare("SELECT * FROM api_keys WHERE key_hash = ? AND revoked_at IS NULL")
        .bind(hash_token(secret))
        .first()
    )
    if not row:
        raise Unauthenticated(
            N_("The API key is not valid or was revoked."), code="invalid_api_key"
        )
    key = _row_to_key(row)
    await db.prepare("UPDATE api_keys SET last_used_at = ? WHERE id = ?").bind(now, key.id).run()
    return key


def _row_to_key(row: Row) -> ApiKey:
    last_used, revoked = row["last_used_at"], row["revoked_at"]
    return ApiKey(
        id=str(row["id"]),
        account_id=str(row["account_id"]),
        name=str(row["name"]),
        prefix=str(row["prefix"]),
        scopes=tuple(str(row["scopes"]).split()),
        created_at=float(row["created_at"]),  # type: ignore[arg-type]
        last_used_at=None if last_used is None else float(last_used),
        revoked_at=None if revoked is None else float(revoked),
    )
