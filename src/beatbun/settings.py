"""Configuration, read from Worker vars and secrets on Cloudflare or `.dev.vars` locally."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Literal

Environment = Literal["development", "test", "production"]
ENVIRONMENTS: tuple[Environment, ...] = ("development", "test", "production")
# Values shipped in `.dev.vars.example`; a production deployment must replace them.
PLACEHOLDER_SECRETS = frozenset(
    {
        "",
        "changethis",
        "dev-only-secret-change-me",
        "dev-only-pepper-change-me",
        "dev-only-data-key-change-me",
        "sk_test_local_sandbox",
        "whsec_local_sandbox",
    }
)


@dataclass(frozen=True)
class Settings:
    site_name: str = "Beat Bun"
    environment: Environment = "development"
    app_secret: str = "dev-only-secret-change-me"  # noqa: S105 (refused in production)
    public_url: str = "http://127.0.0.1:8787"
    # Mixed into every password hash and kept out of D1, so a leaked table alone cannot be cracked.
    password_pepper: str = "dev-only-pepper-change-me"  # noqa: S105 (refused in production)
    # Encrypts secrets kept in D1 (TOTP keys): space-separated secrets, the first seals new
    # values and every one still opens old ones, so a key can be rotated (`accounts.sealing`).
    data_keys: str = "dev-only-data-key-change-me"
    mail_api_key: str = ""
    mail_from: str = "Beat Bun <no-reply@beatbun.example.com>"
    # Sends a second to the mail provider, shared by every sender through D1 (`mail.ratelimit`);
    # 2 stays safely under Resend's documented default of 5 per team.
    mail_rate_per_second: float = 2.0
    # Signs the provider's delivery webhooks (Resend: `whsec_...`); empty refuses them all.
    mail_webhook_secret: str = ""
    # A sender that took a queued email and did not finish (a crash) loses it after this long.
    mail_claim_seconds: float = 60.0
    # Sign-ups one client address makes before the next ones wait (`accounts.throttle`).
    sign_ups_per_address: int = 20
    # Empty means every track comes from the built-in composer.
    elevenlabs_api_key: str = ""
    elevenlabs_model: str = "music_v1"
    elevenlabs_base_url: str = "https://api.elevenlabs.io"
    # The Workers AI text model that reads free-text prompts when the Worker has an `AI`
    # binding (`generation.understanding`); without the binding, the composer's rules do.
    prompt_model: str = "@cf/meta/llama-3.1-8b-instruct-fast"
    # A third-party marketing tag's script URL; empty means none. Loaded only with consent.
    marketing_tag_url: str = ""
    # Tracks rendered at once across all users; more wait in line (paid plans first).
    render_capacity: int = 4
    # From submission to finished track; past it a job fails and is refunded.
    job_deadline_seconds: int = 900
    # Stripe: the secret API key and the webhook endpoint's signing secret (both secrets).
    # Empty key: nobody can pay, and the pricing page says so.
    stripe_secret_key: str = ""
    stripe_webhook_secret: str = ""
    # Empty means Stripe itself; locally, the Stripe sandbox `make dev` starts.
    stripe_api_base: str = ""
    # The Stripe price of each plan and credit pack (`billing.plans`).
    stripe_price_creator: str = "price_creator_monthly"
    stripe_price_pro: str = "price_pro_monthly"
    stripe_price_pack_small: str = "price_pack_small"
    stripe_price_pack_medium: str = "price_pack_medium"
    stripe_price_pack_large: str = "price_pack_large"

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        """Build settings from string variables.

        Raises ValueError naming the variable when a value is invalid, or when a secret still
        has its placeholder value outside development and test.
        """
        environment = env.get("ENVIRONMENT", "development")
        if environment not in ENVIRONMENTS:
            raise ValueError(
                f"Config 'ENVIRONMENT' has value {environment!r}. Expected one of {ENVIRONMENTS}."
            )
        settings = cls(
            site_name=env.get("SITE_NAME", cls.site_name),
            environment=environment,
            app_secret=env.get("APP_SECRET", cls.app_secret),
            public_url=env.get("PUBLIC_URL", cls.public_url).rstrip("/"),
            password_pepper=env.get("PASSWORD_PEPPER", cls.password_pepper),
            data_keys=env.get("DATA_KEYS", cls.data_keys),
            mail_api_key=env.get("MAIL_API_KEY", cls.mail_api_key),
            mail_from=env.get("MAIL_FROM", cls.mail_from),
            mail_rate_per_second=_positive_float(
                env, "MAIL_RATE_PER_SECOND", cls.mail_rate_per_second
            ),
            mail_webhook_secret=env.get("MAIL_WEBHOOK_SECRET", cls.mail_webhook_secret),
            mail_claim_seconds=_positive_float(env, "MAIL_CLAIM_SECONDS", cls.mail_claim_seconds),
            sign_ups_per_address=_positive_int(
                env, "SIGN_UPS_PER_ADDRESS", cls.sign_ups_per_address
            ),
            elevenlabs_api_key=env.get("ELEVENLABS_API_KEY", cls.elevenlabs_api_key),
            elevenlabs_model=env.get("ELEVENLABS_MODEL", cls.elevenlabs_model),
            elevenlabs_base_url=env.get("ELEVENLABS_BASE_URL", cls.elevenlabs_base_url).rstrip("/"),
            prompt_model=env.get("PROMPT_MODEL", cls.prompt_model),
            marketing_tag_url=env.get("MARKETING_TAG_URL", cls.marketing_tag_url),
            render_capacity=_positive_int(env, "RENDER_CAPACITY", cls.render_capacity),
            job_deadline_seconds=_positive_int(
                env, "JOB_DEADLINE_SECONDS", cls.job_deadline_seconds
            ),
            stripe_secret_key=env.get("STRIPE_SECRET_KEY", cls.stripe_secret_key),
            stripe_webhook_secret=env.get("STRIPE_WEBHOOK_SECRET", cls.stripe_webhook_secret),
            stripe_api_base=env.get("STRIPE_API_BASE", cls.stripe_api_base).rstrip("/"),
            stripe_price_creator=env.get("STRIPE_PRICE_CREATOR", cls.stripe_price_creator),
            stripe_price_pro=env.get("STRIPE_PRICE_PRO", cls.stripe_price_pro),
            stripe_price_pack_small=env.get("STRIPE_PRICE_PACK_SMALL", cls.stripe_price_pack_small),
            stripe_price_pack_medium=env.get(
                "STRIPE_PRICE_PACK_MEDIUM", cls.stripe_price_pack_medium
            ),
            stripe_price_pack_large=env.get("STRIPE_PRICE_PACK_LARGE", cls.stripe_price_pack_large),
        )
        settings._enforce_non_default_secrets()
        return settings

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    @property
    def stripe_prices(self) -> dict[str, str]:
        """The Stripe price id of each plan and pack, keyed by its id in `billing.plans`."""
        return {
            "creator": self.stripe_price_creator,
            "pro": self.stripe_price_pro,
            "pack_small": self.stripe_price_pack_small,
            "pack_medium": self.stripe_price_pack_medium,
            "pack_large": self.stripe_price_pack_large,
        }

    def _enforce_non_default_secrets(self) -> None:
        if not self.is_production:
            return
        secrets = {
            "APP_SECRET": self.app_secret,
            "PASSWORD_PEPPER": self.password_pepper,
            "MAIL_API_KEY": self.mail_api_key,
            "STRIPE_SECRET_KEY": self.stripe_secret_key,
            "STRIPE_WEBHOOK_SECRET": self.stripe_webhook_secret,
        }
        checked = list(secrets.items())
        # Every key of the ring counts: a placeholder left in it would still open data.
        checked += [("DATA_KEYS", key) for key in self.data_keys.split() or [""]]
        for name, value in checked:
            if value in PLACEHOLDER_SECRETS:
                raise ValueError(
                    f"Config '{name}' still has its placeholder value. "
                    f"Set it with `wrangler secret put {name}` before deploying."
                )


# The variable each field is read from: its name in capitals (on Workers, a var or a secret).
ENV_VARS: tuple[str, ...] = tuple(field.name.upper() for field in fields(Settings))


def _positive_int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise ValueError(f"Config '{name}' has value {raw!r}. Expected a whole number above 0.")
    return int(raw)


def _positive_float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"Config '{name}' has value {raw!r}. Expected a number above 0.")
    return value
