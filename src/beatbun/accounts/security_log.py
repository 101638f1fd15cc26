"""The security log: what happened to an account, readable by its owner."""

from __future__ import annotations

from beatbun.accounts.models import Client, SecurityEvent
from beatbun.runtime.base import Database

# What each kind means to the account owner, shown on the security log page.
EVENT_LABELS = {
    "signed_up": "Account created",
    "email_verified": "Email address verified",
    "logged_in": "Logged in",
    "login_failed": "Failed login attempt",
    "logged_out": "Logged out",
    "session_ended": "Session ended",
    "other_sessions_ended": "All other sessions ended",
    "password_changed": "Password changed",
    "password_reset": "Password reset by email",
    "email_change_requested": "Email change requested",
    "email_changed": "Email address changed",
    "display_name_changed": "Display name changed",
    "totp_enabled": "Two-step verification turned on",
    "totp_disabled": "Two-step verification turned off",
    "recovery_code_used": "Recovery code used",
    "second_factor_failed": "Wrong verification code",
    "api_key_created": "API key created",
    "api_key_revoked": "API key revoked",
}
MAX_SHOWN = 100


async def record_event(
    db: Database, *, account_id: str, kind: str, client: Client, now: float
) -> None:
    if kind not in EVENT_LABELS:
        raise ValueError(f"Unknown security event kind {kind!r}; add it to EVENT_LABELS.")
    await (
        db.prepare(
            "INSERT INTO security_events (account_id, kind, at, ip, user_agent) VALUES (?, ?, ?, ?, ?)"
        )
        .bind(account_id, kind, now, client.ip, client.user_agent[:300])
        .run()
    )


async def list_events(db: Database, account_id: str) -> list[SecurityEvent]:
    rows = (
        await db.prepare(
            "SELECT kind, at, ip, user_agent FROM security_events WHERE account_id = ?"
            " ORDER BY at DESC, id DESC LIMIT ?"
        )
        .bind(account_id, MAX_SHOWN)
        .all()
    )
    return [
        SecurityEvent(
            kind=str(row["kind"]),
            at=float(row["at"]),  # type: ignore[arg-type]
            ip=str(row["ip"]),
            user_agent=str(row["user_agent"]),
        )
        for row in rows.results
    ]
