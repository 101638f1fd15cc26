"""TOTP second factor (RFC 6238 via pyotp) and its single-use recovery codes."""

from __future__ import annotations

import hmac
import secrets

import pyotp
import segno

from beatbun.accounts.tokens import hash_token
from beatbun.runtime.base import Database

STEP_SECONDS = 30
# RFC 6238 §5.2: accept at most one step of drift either way.
DRIFT_STEPS = 1
RECOVERY_CODE_COUNT = 10
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, *, email: str, issuer: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=issuer)


def qr_svg(uri: str) -> str:
    """The otpauth URI as an inline SVG, black on white in either theme so cameras read it."""
    return str(
        segno.make(uri, error="m").svg_inline(scale=5, dark="#000", light="#fff", omitsize=True)
    )


def accepted_step(secret: str, code: str, *, now: float, last_step: int | None) -> int | None:
    """The time step `code` belongs to, or None when it is wrong, too far off or already used.

    A step at or before `last_step` is refused, so an accepted code cannot be replayed.
    """
    code = "".join(code.split())
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    current = int(now // STEP_SECONDS)
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.at(step * STEP_SECONDS), code):
            return step if last_step is None or step > last_step else None
    return None


def new_recovery_codes() -> list[str]:
    """Ten codes like `k7pm-2xqa-9dwe` (about 60 bits each), shown once."""
    return [
        "-".join("".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(4)) for _ in range(3))
        for _ in range(RECOVERY_CODE_COUNT)
    ]


async def store_recovery_codes(db: Database, *, account_id: str, codes: list[str]) -> None:
    """Replace the account's codes with these (hashed)."""
    statements = [db.prepare("DELETE FROM recovery_codes WHERE account_id = ?").bind(account_id)]
    statements += [
        db.prepare("INSERT INTO recovery_codes (account_id, code_hash) VALUES (?, ?)").bind(
            account_id, hash_token(code)
        )
        for code in codes
    ]
    await db.batch(statements)


async def use_recovery_code(db: Database, *, account_id: str, code: str, now: float) -> bool:
    """Spend one unused code; False when it is unknown or was used before."""
    normalized = "".join(code.lower().split())
    result = (
        await db.prepare(
            "UPDATE recovery_codes SET used_at = ? WHERE account_id = ? AND code_hash = ?"
            " AND used_at IS NULL"
        )
        .bind(now, account_id, hash_token(normalized))
        .run()
    )
    return result.meta.changes == 1


async def count_unused_recovery_codes(db: Database, account_id: str) -> int:
    count = (
        await db.prepare(
            "SELECT count(*) AS n FROM recovery_codes WHERE account_id = ? AND used_at IS NULL"
        )
        .bind(account_id)
        .first("n")
    )
    return int(count or 0)
