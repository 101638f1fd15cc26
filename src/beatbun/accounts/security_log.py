"""The security log: what happened to an account, readable by its owner."""

from __future__ import annotations

from beatbun.accounts.models import Client, SecurityEvent
from beatbun.i18n import N_
from beatbun.runtime.base import Database, SqlValue, Statement

# What each kind means to the account owner, shown on the security log in their language.
EVENT_LABELS = {
    "signed_up": N_("Account created"),
    "email_verified": N_("Email address verified"),
    "parent_link_sent": N_("Consent link mailed to the parent or guardian"),
    "parent_consented": N_("Parent or guardian gave consent"),
    "logged_in": N_("Logged in"),
    "login_failed": N_("Failed login attempt"),
    "logged_out": N_("Logged out"),
    "session_ended": N_("Session ended"),
    "other_sessions_ended": N_("All other sessions ended"),
    "password_changed": N_("Password changed"),
    "password_reset": N_("Password reset by email"),
    "email_change_requested": N_("Email change requested"),
    "email_changed": N_("Email address changed"),
    "display_name_changed": N_("Display name changed"),
    "profile_changed": N_("Public profile changed"),
    "totp_enabled": N_("Two-step verification turned on"),
    "totp_disabled": N_("Two-step verification turned off"),
    "recovery_code_used": N_("Recovery code used"),
    "recovery_codes_replaced": N_("New recovery codes made"),
    "password_confirmed": N_("Password confirmed for a security change"),
    "second_factor_failed": N_("Wrong verification code"),
    "api_key_created": N_("API key created"),
    "api_key_revoked": N_("API key revoked"),
    "export_requested": N_("Data export requested"),
    "export_downloaded": N_("Data export downloaded"),
    "erasure_requested": N_("Account deletion requested"),
    "erasure_cancelled": N_("Account deletion cancelled"),
    "objections_changed": N_("Objections to processing changed"),
    "restriction_on": N_("Processing restricted"),
    "restriction_off": N_("Restriction of processing lifted"),
}
MAX_SHOWN = 100


async def record_event(
    db: Database, *, account_id: str, kind: str, client: Client, now: float
) -> None:
    await event_statement(db, account_id=account_id, kind=kind, client=client, now=now).run()


def event_statement(
    db: Database,
    *,
    account_id: str,
    kind: str,
    client: Client,
    now: float,
    only_if: str = "1",
    only_if_params: tuple[SqlValue, ...] = (),
) -> Statement:
    """The event's INSERT, for a batch; it writes nothing when no account has `account_id`.

    So a failed login for an unknown email can run the same statements as for a known one.
    `only_if` is a further constant SQL condition of the caller's (never input), such as
    "an earlier statement of the batch wrote its row".
    """
    if kind not in EVENT_LABELS:
        raise ValueError(f"Unknown security event kind {kind!r}; add it to EVENT_LABELS.")
    return db.prepare(
        "INSERT INTO security_events (account_id, kind, at, ip, user_agent)"  # noqa: S608 (only_if is the caller's constant SQL)
        " SELECT ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM accounts WHERE id = ?)"
        f" AND {only_if}"
    ).bind(account_id, kind, now, client.ip, client.user_agent, account_id, *only_if_params)


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
