"""Queueing the account's security notices (sign-in, two-step, password, address).

Each is written to the owner, who may not be the person at the keyboard: it goes in the
language the account chose for the site (the request's when it chose none), says when the
change happened, and links to the password reset, the remedy when it was not the owner's.
"""

from __future__ import annotations

from beatbun.accounts.models import Account
from beatbun.mail.compose import email_date
from beatbun.mail.notices import Notice, notice_statement
from beatbun.runtime.base import Runtime, Statement


def security_params(runtime: Runtime) -> dict[str, str]:
    """What every security notice fills in: the time, to the minute, and the reset link."""
    return {
        "time": email_date(runtime.clock.now(), minute=True),
        "link": f"{runtime.settings.public_url}/forgot-password",
    }


def security_notice(
    runtime: Runtime, notice: Notice, account: Account, *, event: str, language: str, **params: str
) -> Statement:
    """The notice's INSERT for a batch (see `notice_statement`), in `language` (the
    account's, from `account_language`); `params` may replace the link."""
    fill = security_params(runtime) | params
    # No condition: named so that mypy keeps `fill` (text) apart from the SQL parameters.
    return notice_statement(
        runtime, notice, account, event=event, language=language, only_if_params=(), **fill
    )
