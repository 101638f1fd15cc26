"""Support tickets: a numbered request from an account and its thread of messages."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from beatbun.i18n import N_

Category = Literal["billing", "track", "account", "privacy", "other"]
Status = Literal["open", "answered", "closed"]
Author = Literal["customer", "operator"]

# In the order the ticket form offers them; the values are N_() labels.
CATEGORIES: dict[Category, str] = {
    "billing": N_("Billing and payments"),
    "track": N_("A track or job"),
    "account": N_("Account and security"),
    "privacy": N_("Privacy request"),
    "other": N_("Something else"),
}
STATUSES: dict[Status, str] = {
    "open": N_("Waiting for us"),
    "answered": N_("Answered"),
    "closed": N_("Closed"),
}
DAY = 86400


@dataclass(frozen=True)
class Ticket:
    id: str
    number: int
    account_id: str
    category: Category
    subject: str
    status: Status
    language: str
    created_at: float
    updated_at: float
    job_id: str | None = None
    track_id: str | None = None
    # Privacy requests only: the statutory deadline to answer (epoch seconds).
    due_at: int | None = None
    closed_at: float | None = None

    @property
    def is_privacy_request(self) -> bool:
        return self.category == "privacy"

    def days_left(self, now: float) -> int | None:
        """Whole days, rounded up, until a privacy request's deadline (negative once passed);
        None for other tickets and for closed ones."""
        if self.due_at is None or self.status == "closed":
            return None
        return math.ceil((self.due_at - now) / DAY)


@dataclass(frozen=True)
class Message:
    id: str
    ticket_id: str
    author: Author
    body: str
    created_at: float
    operator_id: str | None = None


@dataclass(frozen=True)
class Reference:
    """What a ticket is about: one of the account's jobs or tracks, as the form offers it."""

    kind: Literal["job", "track"]
    id: str
    label: str
    # A job's status and failure code, for the operator reading the ticket.
    detail: str = ""

    @property
    def value(self) -> str:
        """The form's value for it: `job:<id>` or `track:<id>`."""
        return f"{self.kind}:{self.id}"


@dataclass(frozen=True)
class Thread:
    ticket: Ticket
    messages: list[Message]
    reference: Reference | None = None


@dataclass(frozen=True)
class InboxRow:
    """A ticket as the operators' inbox lists it, with whose it is."""

    ticket: Ticket
    email: str
    display_name: str
