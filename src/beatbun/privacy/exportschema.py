"""What `data.json` in a personal-data export holds: the models, and their published JSON Schema.

The schema is served at `SCHEMA_PATH` and shipped in every export as `schema.json`, so anyone
can check an export, or read it with their own tools, without our code. Times are ISO 8601 in
UTC. Secrets we hold about the account are left out and named in `SECRETS_LEFT_OUT`: the
password hash, the two-step key, hashes of recovery codes, session and API key tokens, and the
tokens of email and parent links.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from beatbun.billing.plans import LicenceId, PlanId, Retention
from beatbun.billing.pricing import ExportKind
from beatbun.i18n import N_
from beatbun.privacy.models import Requester, RequestKind, RequestStatus

SCHEMA_PATH = "/privacy/export-schema.json"
FORMAT = "beatbun-export"
VERSION = 2
# In English in data.json; the summary page translates them.
SECRETS_LEFT_OUT = (
    N_("password hash"),
    N_("two-step verification key"),
    N_("recovery code hashes"),
    N_("session tokens"),
    N_("API key hashes"),
    N_("email link tokens"),
    N_("parent link token"),
    N_("public track link tokens"),
)


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Objections(_Record):
    """The objections to processing in force (true: the person objects)."""

    analytics: bool
    marketing: bool
    prompt_use: bool


class Profile(_Record):
    """The account itself, as the person gave it and as we keep it."""

    id: str
    email: str
    display_name: str
    birth_date: str
    age_group: Literal["adult", "minor"]
    parent_email: str | None
    parent_named_at: datetime | None
    parent_consented_at: datetime | None
    email_verified_at: datetime | None
    created_at: datetime
    artist_name: str | None
    bio: str | None
    link: str | None
    two_step_enabled_at: datetime | None
    recovery_codes_left: int
    password_login_locked_at: datetime | None
    is_operator: bool
    objections: Objections
    restricted_at: datetime | None
    erasure_due_at: datetime | None
    # Since when news and offers by email are on (confirmed from the emailed link); None: off.
    marketing_opt_in_at: datetime | None


class Preferences(_Record):
    """Display preferences saved with the account."""

    theme: str
    language: str
    updated_at: datetime


class Guardian(_Record):
    """The parent or guardian of an account of a 13 to 17 year old, and their consent."""

    email: str
    link_sent_at: datetime
    consent_name: str | None
    declaration_version: str | None
    consented_at: datetime | None


class Email(_Record):
    """An email we queued for the account: its kind, subject and fate, never its links.

    `kind` is a notice type ('sign_in', 'credits_low' ...), 'marketing', 'policy', 'support',
    a link's purpose ('verify', 'reset', 'change_email'), 'already_registered' for a sign-up
    with an address that has an account, or 'account' for other confirmations. `withheld`: news and offers queued, then not
    sent because consent was withdrawn first; `bounced`: the recipient's server returned it.
    """

    kind: str
    recipient: str
    subject: str
    created_at: datetime
    sent_at: datetime | None
    failed_at: datetime | None
    bounced_at: datetime | None
    status: Literal["queued", "sent", "failed", "withheld", "bounced"]
    attempts: int


class MarketingConsent(_Record):
    """A step of the consent to news and offers by email, as recorded: the proof of it."""

    action: Literal["requested", "confirmed", "withdrawn"]
    source: Literal[
        "email_settings",
        "confirmation_link",
        "unsubscribe_page",
        "one_click",
        "complaint",
        "objection",
    ]
    email: str
    wording_version: str
    # The email whose unsubscribe link was used, when one was.
    campaign_id: str | None
    ip: str
    user_agent: str
    recorded_at: datetime


class PolicyNotice(_Record):
    """A significant change of a policy: when the account was emailed and when it acknowledged."""

    document: Literal["privacy", "cookies", "terms"]
    version: str
    notified_at: datetime | None
    acknowledged_at: datetime | None


class SignInDevice(_Record):
    """A browser and device the account signed in from, as we name it ('Firefox on Windows')."""

    device: str
    first_seen_at: datetime
    last_seen_at: datetime


class SupportMessage(_Record):
    """A message of a support conversation, from the customer or from our operators."""

    author: Literal["customer", "operator"]
    body: str
    created_at: datetime


class SupportTicket(_Record):
    """A support request with its conversation; `due_at` is a privacy request's deadline."""

    number: int
    category: Literal["billing", "track", "account", "privacy", "other"]
    subject: str
    status: Literal["open", "answered", "closed"]
    job_id: str | None
    track_id: str | None
    language: str
    due_at: datetime | None
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    messages: list[SupportMessage]


class EmailLink(_Record):
    """A link we emailed (address confirmation, password reset, address change)."""

    purpose: str
    email: str
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None


class SessionRecord(_Record):
    """A login session, from where it was made."""

    stage: str
    ip: str
    user_agent: str
    created_at: datetime
    last_seen_at: datetime
    revoked_at: datetime | None
    reauthenticated_at: datetime | None


class SecurityEvent(_Record):
    """An entry of the security log."""

    kind: str
    description: str
    at: datetime
    ip: str
    user_agent: str


class ApiKey(_Record):
    """An API key: its name and visible prefix, never the key."""

    name: str
    prefix: str
    scopes: list[str]
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class CookieChoice(_Record):
    """A recorded answer to the cookie banner or preference center, made while logged in."""

    policy_version: str
    performance: bool
    functionality: bool
    marketing: bool
    source: str
    gpc_override: bool
    recorded_at: datetime
    given_at: datetime | None


class ObjectionChange(_Record):
    """One change of an objection to processing, as recorded."""

    purpose: Literal["analytics", "marketing", "prompt_use"]
    objects: bool
    wording_version: str
    source: str
    recorded_at: datetime


class PrivacyRequest(_Record):
    """A request about the account's data: an export, an erasure or a restriction."""

    id: str
    kind: RequestKind
    status: RequestStatus
    requested_by: Requester
    created_at: datetime
    due_at: datetime | None
    finished_at: datetime | None
    size: int | None
    reason: str


class GenerationJob(_Record):
    """A request to make a track, with what it cost and how it ended."""

    id: str
    status: str
    request: dict[str, Any]
    cost: int
    provider: str
    plan: dict[str, Any] | None
    track_id: str | None
    error_code: str | None
    error_message: str | None
    idempotency_key: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class Track(_Record):
    """A track, its plan (genre, tempo, key, sections...) and where its audio is in the zip."""

    id: str
    job_id: str
    title: str
    prompt: str
    genre: str
    plan: dict[str, Any]
    media_type: str
    duration_seconds: float
    size_bytes: int
    retention: Retention
    licence: LicenceId
    licence_plan: PlanId
    licensed_at: datetime
    favourite: bool
    shared: bool
    created_at: datetime
    expires_at: datetime | None
    deleted_at: datetime | None
    # The audio's path inside the zip; None when there is none (deleted, or expired).
    audio_file: str | None


class TrackExport(_Record):
    """A paid export of a track (FLAC, MIDI or stems)."""

    id: str
    track_id: str
    kind: ExportKind
    status: str
    cost: int
    size_bytes: int
    error_code: str | None
    created_at: datetime
    finished_at: datetime | None


class LedgerEntry(_Record):
    """A change of the credit balance."""

    id: int
    kind: str
    amount: int
    balance_after: int
    job_id: str | None
    note: str
    created_at: datetime


class Wallet(_Record):
    plan: PlanId
    balance: int
    granted_for: str
    updated_at: datetime


class Subscription(_Record):
    id: str
    plan: str
    status: str
    current_period_end: datetime | None
    cancel_at_period_end: bool
    grace_until: datetime | None
    held_plan: str | None
    held_until: datetime | None
    created_at: datetime


class Payment(_Record):
    """An invoice or a credit purchase; amounts in the currency's smallest unit."""

    id: str
    kind: str
    item: str
    amount: int
    currency: str
    status: str
    credits: int
    paid_by: str | None
    amount_refunded: int
    url: str | None
    created_at: datetime


class Checkout(_Record):
    id: str
    mode: str
    item: str
    status: str
    created_at: datetime
    updated_at: datetime


class Billing(_Record):
    """Credits, plan and payments; `customer_id` is the account's id at our payment provider."""

    customer_id: str | None
    wallet: Wallet | None
    credit_ledger: list[LedgerEntry]
    subscriptions: list[Subscription]
    payments: list[Payment]
    checkouts: list[Checkout]


class ExportData(_Record):
    """Everything Beat Bun holds about one account, as of `generated_at`."""

    format: Literal["beatbun-export"]
    version: Literal[2]
    schema_url: str
    generated_at: datetime
    secrets_left_out: list[str]
    account: Profile
    preferences: Preferences | None
    guardian: Guardian | None
    emails: list[Email]
    email_links: list[EmailLink]
    marketing_consents: list[MarketingConsent]
    policy_notices: list[PolicyNotice]
    sessions: list[SessionRecord]
    sign_in_devices: list[SignInDevice]
    security_log: list[SecurityEvent]
    api_keys: list[ApiKey]
    cookie_choices: list[CookieChoice]
    current_cookie_choice: CookieChoice | None
    objections: list[ObjectionChange]
    privacy_requests: list[PrivacyRequest]
    support_tickets: list[SupportTicket]
    generation_jobs: list[GenerationJob]
    tracks: list[Track]
    track_exports: list[TrackExport]
    billing: Billing


def export_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) that every `data.json` validates against."""
    schema = ExportData.model_json_schema(mode="serialization")
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}
