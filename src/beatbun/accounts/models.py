"""What the accounts domain hands to routes: accounts, sessions, API keys, log entries."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Account:
    id: str
    email: str
    display_name: str
    birth_date: str
    age_group: str  # 'adult' or 'minor'
    parent_email: str | None
    email_verified_at: int | None
    password_hash: str
    totp_secret: str | None
    totp_pending_secret: str | None
    totp_last_step: int | None
    created_at: int
    # When the parent of a 13 to 17 year old gave consent through their link (adults: None).
    parent_consented_at: int | None = None
    artist_name: str | None = None
    bio: str | None = None
    link: str | None = None
    objects_to_analytics: bool = False
    objects_to_marketing: bool = False
    objects_to_prompt_use: bool = False
    restricted_at: int | None = None  # processing restricted to storage since then
    erasure_due_at: int | None = None  # an erasure is scheduled: the account is locked
    # Marketing email confirmed by a double opt-in since then (None: no marketing email).
    marketing_opt_in_at: int | None = None
    # May open the operators' pages (/admin).
    is_operator: bool = False

    @property
    def is_active(self) -> bool:
        """Adults are; a minor only once the parent has consented through their own link."""
        return self.age_group == "adult" or self.parent_consented_at is not None

    @property
    def is_restricted(self) -> bool:
        return self.restricted_at is not None

    @property
    def is_erasure_scheduled(self) -> bool:
        return self.erasure_due_at is not None

    @property
    def is_verified(self) -> bool:
        return self.email_verified_at is not None

    @property
    def has_totp(self) -> bool:
        return self.totp_secret is not None

    @property
    def can_spend_credits(self) -> bool:
        """Unverified addresses cannot spend: credits must be tied to a reachable owner; nor
        can a minor's account before the parent consented."""
        return self.is_verified and self.is_active


@dataclass(frozen=True)
class PublicProfile:
    """What the owner chose to show with the tracks they share; never their email or name."""

    artist_name: str | None
    bio: str | None
    link: str | None

    @property
    def is_empty(self) -> bool:
        return not (self.artist_name or self.bio or self.link)


# What is kept of a User-Agent header (`Client.user_agent`), in sessions and the security log.
MAX_USER_AGENT = 300


@dataclass(frozen=True)
class Client:
    """Who is on the other end of a request, as far as the security log cares.

    `user_agent` arrives cut to MAX_USER_AGENT characters (see `web.forms.client_of`).
    """

    ip: str
    user_agent: str


# The client of work no request started (the cron, a parent's link): nothing to log about it.
NO_CLIENT = Client(ip="", user_agent="")


@dataclass(frozen=True)
class Session:
    id: str
    account_id: str
    stage: str  # 'mfa' (password checked, code pending) or 'full'
    user_agent: str
    ip: str
    created_at: float
    last_seen_at: float
    # When the password was last confirmed in this session (`accounts.reauth`), if ever.
    reauthenticated_at: float | None = None

    @property
    def is_full(self) -> bool:
        return self.stage == "full"


@dataclass(frozen=True)
class ApiKey:
    id: str
    account_id: str
    name: str
    prefix: str
    scopes: tuple[str, ...]
    created_at: float
    last_used_at: float | None
    revoked_at: float | None


@dataclass(frozen=True)
class SecurityEvent:
    kind: str
    at: float
    ip: str
    user_agent: str
