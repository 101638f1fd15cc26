from __future__ import annotations

import pytest

from beatbun.settings import Settings


def test_defaults_without_any_variable() -> None:
    settings = Settings.from_env({})
    assert settings.site_name == "Beat Bun"
    assert settings.environment == "development"


def test_site_name_comes_from_env() -> None:
    assert Settings.from_env({"SITE_NAME": "Loop Lab"}).site_name == "Loop Lab"


def test_unknown_environment_is_refused_with_its_value() -> None:
    with pytest.raises(ValueError, match="Config 'ENVIRONMENT' has value 'staging'"):
        Settings.from_env({"ENVIRONMENT": "staging"})


@pytest.mark.parametrize("secret", ["", "changethis", "dev-only-secret-change-me"])
def test_production_refuses_placeholder_secret(secret: str) -> None:
    with pytest.raises(ValueError, match="APP_SECRET"):
        Settings.from_env({"ENVIRONMENT": "production", "APP_SECRET": secret})


def test_production_accepts_a_real_secret() -> None:
    settings = Settings.from_env(
        {
            "ENVIRONMENT": "production",
            "APP_SECRET": "x" * 40,
            "PASSWORD_PEPPER": "y" * 40,
            "DATA_KEYS": "z" * 40,
            "MAIL_API_KEY": "re_live",
            "STRIPE_SECRET_KEY": "sk_live_x",
            "STRIPE_WEBHOOK_SECRET": "whsec_live",
        }
    )
    assert settings.is_production


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("STRIPE_SECRET_KEY", ""),
        ("STRIPE_SECRET_KEY", "sk_test_local_sandbox"),  # the sandbox's, from .dev.vars.example
        ("STRIPE_WEBHOOK_SECRET", "whsec_local_sandbox"),
    ],
)
def test_production_refuses_placeholder_stripe_secret(name: str, value: str) -> None:
    env = {
        "ENVIRONMENT": "production",
        "APP_SECRET": "x" * 40,
        "PASSWORD_PEPPER": "y" * 40,
        "MAIL_API_KEY": "re_live",
        "STRIPE_SECRET_KEY": "sk_live_x",
        "STRIPE_WEBHOOK_SECRET": "whsec_live",
        name: value,
    }
    with pytest.raises(ValueError, match=name):
        Settings.from_env(env)


def test_public_url_loses_trailing_slash() -> None:
    assert Settings.from_env({"PUBLIC_URL": "https://a.example/"}).public_url == "https://a.example"


def test_mail_rate_and_claim_time_read_as_numbers() -> None:
    settings = Settings.from_env({"MAIL_RATE_PER_SECOND": "0.5", "MAIL_CLAIM_SECONDS": "90"})
    assert (settings.mail_rate_per_second, settings.mail_claim_seconds) == (0.5, 90.0)
    assert Settings.from_env({}).mail_rate_per_second == 2.0  # under Resend's 5 per team


@pytest.mark.parametrize("value", ["0", "-2", "fast", "nan", "inf"])
def test_a_mail_rate_that_is_not_a_positive_number_is_refused(value: str) -> None:
    with pytest.raises(ValueError, match="MAIL_RATE_PER_SECOND"):
        Settings.from_env({"MAIL_RATE_PER_SECOND": value})


def test_sign_ups_per_address_reads_as_a_positive_number() -> None:
    assert Settings.from_env({"SIGN_UPS_PER_ADDRESS": "5"}).sign_ups_per_address == 5
    assert Settings.from_env({}).sign_ups_per_address == 20
    with pytest.raises(ValueError, match="SIGN_UPS_PER_ADDRESS"):
        Settings.from_env({"SIGN_UPS_PER_ADDRESS": "0"})
