"""Marketing email consent as people read it: the opt-in wording and its version, the
confirmation email, why an account may not opt in, and where an account stands with its record.

The actions that change consent (ask, confirm, withdraw) are in `mail.marketing`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from beatbun.accounts.models import Account
from beatbun.errors import AppError, Conflict, PermissionDenied, ProcessingRestricted
from beatbun.i18n import N_
from beatbun.mail.compose import AccountMail
from beatbun.runtime.base import Database

# The version of the opt-in wording below; change it whenever that wording changes, so each
# recorded consent names what the person read.
WORDING_VERSION = "marketing-2026-11-30"
WORDING = N_(
    "Email me about new features, tips and offers from %(site)s, at most a few times a month."
    " I can unsubscribe at any time, here or with one click in any of these emails."
)
CONFIRM_SECONDS = 48 * 3600.0
# Where a consent change was made, as its record says.
Source = Literal[
    "email_settings", "confirmation_link", "unsubscribe_page", "one_click", "complaint", "objection"
]
CONFIRMATION = AccountMail(
    subject=N_("Confirm: product updates and offers from %(site)s"),
    body=N_(
        "You asked to receive emails about new features, tips and offers from %(site)s."
        " Open this link within 48 hours to confirm:\n\n%(link)s\n\nIf you did not ask for"
        " this, ignore this message: you get no such emails unless the link is opened."
    ),
)
ADULTS_ONLY = N_(
    "Product updates and offers are for adults only, so accounts of people under 18 cannot"
    " turn them on. Service notices about your account still reach you."
)
UNVERIFIED = N_("Confirm your email address first, with the link we sent when you signed up.")
OBJECTED = N_(
    "You objected to marketing on your Privacy & data page. Withdraw that objection there"
    " first if you want these emails."
)
RESTRICTED = N_(
    "Processing of your data is restricted, so we send you no marketing. Lift the restriction"
    " on your Privacy & data page first."
)
LOCKED = N_("This account is scheduled for deletion, so it gets no marketing.")


@dataclass(frozen=True)
class ConsentRecord:
    """One row of proof: what happened, where, with which wording, to which address."""

    action: Literal["requested", "confirmed", "withdrawn"]
    source: Source
    wording_version: str
    email: str
    campaign_id: str | None
    ip: str
    user_agent: str
    recorded_at: float


@dataclass(frozen=True)
class MarketingStatus:
    """`on` since `since`; `pending` while a confirmation link sent at `since` is live; or `off`."""

    state: Literal["on", "pending", "off"]
    since: float | None = None

    @property
    def pending_until(self) -> float | None:
        return self.since + CONFIRM_SECONDS if self.state == "pending" and self.since else None


async def marketing_history(db: Database, account_id: str) -> list[ConsentRecord]:
    """The account's consent records, newest first."""
    rows = (
        await db.prepare(
            "SELECT action, source, wording_version, email, campaign_id, ip, user_agent,"
            " recorded_at FROM marketing_consents WHERE account_id = ? ORDER BY rowid DESC"
        )
        .bind(account_id)
        .all()
    ).results
    return [
        ConsentRecord(
            action=row["action"],  # type: ignore[arg-type]
            source=row["source"],  # type: ignore[arg-type]
            wording_version=str(row["wording_version"]),
            email=str(row["email"]),
            campaign_id=None if row["campaign_id"] is None else str(row["campaign_id"]),
            ip=str(row["ip"]),
            user_agent=str(row["user_agent"]),
            recorded_at=float(row["recorded_at"] or 0),
        )
        for row in rows
    ]


def marketing_status(
    account: Account, history: list[ConsentRecord], *, now: float
) -> MarketingStatus:
    """Where the account stands, from its row and its history (newest first)."""
    if account.marketing_opt_in_at is not None:
        return MarketingStatus("on", since=float(account.marketing_opt_in_at))
    latest = history[0] if history else None
    if latest and latest.action == "requested" and latest.recorded_at > now - CONFIRM_SECONDS:
        return MarketingStatus("pending", since=latest.recorded_at)
    return MarketingStatus("off")


def ineligibility(account: Account) -> AppError | None:
    """Why the account may not turn marketing email on, or None when it may."""
    if account.age_group != "adult":
        return PermissionDenied(ADULTS_ONLY, code="marketing_adults_only")
    if not account.is_verified:
        return PermissionDenied(UNVERIFIED, code="email_unverified")
    if account.objects_to_marketing:
        return Conflict(OBJECTED, code="marketing_objected")
    if account.is_restricted:
        return ProcessingRestricted(RESTRICTED)
    if account.is_erasure_scheduled:
        return PermissionDenied(LOCKED, code="account_locked")
    return None
