"""Service notices: the emails every account gets about itself, whatever its marketing choice.

A notice type has a stable `kind` (stored on its queue rows), the label the email settings page
lists it under, its text, and a frequency cap: at most one email of that kind per account within
`cap_seconds`. Each event is mailed once: its idempotency key is `<kind>:<event>`, so the same
event queued twice (a retried webhook, a cron run repeated after a crash) sends one email.
Both rules are conditions of the queueing INSERT, so they hold inside D1 under concurrency.
Caps stay within the queue's retention (`mailqueue.KEEP_SENT_SECONDS`), which they are
counted over.
"""

from __future__ import annotations

from dataclasses import dataclass

from beatbun.accounts.models import Account
from beatbun.accounts.tokens import new_id
from beatbun.consent.preferences import find_account_preferences
from beatbun.i18n import DEFAULT_LANGUAGE
from beatbun.mail import mailqueue
from beatbun.mail.compose import AccountMail
from beatbun.runtime.base import Database, Runtime, SqlValue, Statement

HOUR = 3600.0
DAY = 86400.0


@dataclass(frozen=True)
class Notice:
    kind: str
    label: str  # N_() text: what the email settings page says this notice is
    mail: AccountMail
    cap_seconds: float = 0.0


def notice_statement(
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
    """The INSERT queueing `notice` about `event` to the account's address, for a batch.

    Nothing is queued when the constant SQL condition `only_if` fails, when this event was
    already queued, or when the account got a notice of this kind within the cap. `params`
    fill the text; `site` is filled in here.
    """
    now = runtime.clock.now()
    message = notice.mail.compose(
        to=account.email, language=language, site=runtime.settings.site_name, **params
    )
    return mailqueue.enqueue_statement(
        runtime.db,
        message_id=new_id(),
        key=f"{notice.kind}:{event}",
        message=message,
        now=now,
        only_if=(
            f"({only_if}) AND NOT EXISTS (SELECT 1 FROM mail_queue"  # noqa: S608 (constant SQL)
            " WHERE account_id = ? AND kind = ? AND created_at > ?)"
        ),
        only_if_params=(*only_if_params, account.id, notice.kind, now - notice.cap_seconds),
        kind=notice.kind,
        account_id=account.id,
    )


async def account_language(db: Database, account_id: str, default: str = DEFAULT_LANGUAGE) -> str:
    """The language the account last chose for the site, which its emails are written in;
    `default` (the language of the request that caused the email) when it chose none."""
    preferences = await find_account_preferences(db, account_id)
    return preferences.language if preferences else default
