"""Queueing the account's security notices (sign-in, two-step, password, address).

Each is written to the owner, who may not be the person at the keyboard: it goes in the
language the account chose for the site (the request's when it chose none), says when the
change happened, and links to the password reset, the remedy when it was not the owner's.
"""

from __future__ import annotations

from beatbun.accounts.mail import utc_minute
from beatbun.accounts.models import Account
from beatbun.mail.notices import Notice, notice_statement
from beatbun.runtime.base import Runtime, SqlValue, Statement


def security_notice(
    runtime: Runtime,
    notice: Notice,
    account: Account,
    *,
    event: str,
    language: str,
    only_if: str = "1",
    only_if_params: tuple[SqlValue, ...] = (),
    **params: str,
) -> Statement:
    """The notice's INSERT for a batch (see `notice_statement`), in `language` (the
    account's, from `account_language`); `params` may replace the link."""
    fill = {
        "time": utc_minute(runtime.clock.now()),
        "link": f"{runtime.settings.public_url}/forgot-password",
        **params,
    }
    return notice_statement(
        runtime,
        notice,
        account,
        event=event,
        language=language,
        only_if=only_if,
        only_if_params=only_if_params,
        **fill,
    )
