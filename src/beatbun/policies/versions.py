"""The version history of each policy: what changed, from when, and whether people are told.

Publishing a new version is an operator action done here, in code: add an entry at the top of
the document's history. A `significant` version is announced to every account that existed
before it took effect, by email (`announcements`) and, for the privacy policy and the terms,
by a banner until acknowledged (`acknowledgements`); for the cookie policy the consent banner
asks again instead. Effective dates are ISO dates, in force from 00:00 UTC that day.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Literal

from beatbun.i18n import N_

Document = Literal["privacy", "cookies", "terms"]
DOCUMENTS: tuple[Document, ...] = ("privacy", "cookies", "terms")
TITLES: dict[Document, str] = {
    "privacy": N_("Privacy policy"),
    "cookies": N_("Cookie policy"),
    "terms": N_("Terms of service"),
}
PATHS: dict[Document, str] = {"privacy": "/privacy", "cookies": "/cookies", "terms": "/terms"}


@dataclass(frozen=True)
class PolicyVersion:
    version: str
    effective: str  # ISO date
    summary: str  # N_() text: what changed, as the page, the banner and the email say it
    significant: bool  # announced to existing accounts (for cookies: consent is asked again)

    @property
    def effective_at(self) -> float:
        """The start of the effective date (00:00 UTC), in epoch seconds."""
        day = date.fromisoformat(self.effective)
        return datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()


History = Mapping[Document, tuple[PolicyVersion, ...]]

# Newest first.
HISTORY: History = {
    "privacy": (
        PolicyVersion(
            version="2.1",
            effective="2026-11-30",
            summary=N_(
                "We now describe the emails we send: service notices about your account,"
                " and news and offers only if you confirm you want them, with the record we"
                " keep of that consent. We also describe the devices you sign in from and the"
                " support requests you open from your account."
            ),
            significant=True,
        ),
        PolicyVersion(
            version="2.0",
            effective="2026-11-30",
            summary=N_(
                "Your privacy rights from your account: download everything we hold, delete"
                " your account after a 7-day grace period, restrict or object to processing,"
                " an optional public profile, and a parent's own consent for 13 to 17 year"
                " olds."
            ),
            significant=True,
        ),
        PolicyVersion(
            version="1.2",
            effective="2026-11-29",
            summary=N_(
                "Payments: what Stripe processes when you buy a plan or credits, what we"
                " receive from Stripe and keep for your billing history, and how long."
            ),
            significant=True,
        ),
        PolicyVersion(
            version="1.1",
            effective="2026-11-21",
            summary=N_(
                "Clearer wording: your theme and language are saved with your account, and"
                " deleting your account is done on request."
            ),
            significant=False,
        ),
        PolicyVersion(
            version="1.0",
            effective="2026-11-20",
            summary=N_("First version."),
            significant=False,
        ),
    ),
    "cookies": (
        PolicyVersion(
            version="2026-11-29",
            effective="2026-11-29",
            summary=N_(
                "Performance measurements of how the product is used, sent only with your"
                " consent, and the cookies Stripe sets on its own pages when you pay."
            ),
            significant=True,
        ),
        PolicyVersion(
            version="2026-11-20",
            effective="2026-11-20",
            summary=N_("First version."),
            significant=False,
        ),
    ),
    "terms": (
        PolicyVersion(
            version="1.0",
            effective="2026-11-30",
            summary=N_(
                "Our first terms of service: your account, credits and plans, who may use"
                " the music you make and how, acceptable use, the API, ending the contract,"
                " liability and the law that applies."
            ),
            significant=True,
        ),
    ),
}


def current(document: Document, history: History = HISTORY) -> PolicyVersion:
    """The version of `document` in force: the newest entry of its history."""
    return history[document][0]


def latest_significant(document: Document, history: History = HISTORY) -> PolicyVersion | None:
    """The newest significant version of `document`, the one accounts are told about."""
    return next((v for v in history[document] if v.significant), None)


def versions_in_force(document: Document, history: History = HISTORY) -> frozenset[str]:
    """The versions since the newest significant one: what was agreed under them still holds."""
    versions: list[str] = []
    for entry in history[document]:
        versions.append(entry.version)
        if entry.significant:
            break
    return frozenset(versions)
