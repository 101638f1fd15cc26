"""Marketing email consent: off by default, on by double opt-in, off again in one click.

Asking (`request_marketing`) records a `requested` row with the wording the person saw and
mails a confirmation link valid for `CONFIRM_SECONDS`; opening it (`confirm_marketing`)
records a `confirmed` row with the address, IP and user agent of that click and sets
`accounts.marketing_opt_in_at`, the state every send checks. Withdrawing from anywhere (the
email settings page, an unsubscribe link, a spam complaint, an objection on the privacy page)
records a `withdrawn` row and clears it at once (`withdraw_marketing`). `marketing_consents`
is append-only, so these rows prove every change.

A confirmation link is good only while its request is the account's latest consent row: a
later request, confirmation or withdrawal retires it. Its token is the request's id with an
HMAC only APP_SECRET can make, so no token is stored.

The wording, the confirmation email and where an account stands: `mail.marketingstatus`.
"""

from __future__ import annotations

import hmac
from urllib.parse import urlencode

from beatbun.accounts.models import Account
from beatbun.accounts.store import find_account, get_account
from beatbun.accounts.tokens import keyed_token, new_id
from beatbun.errors import InvalidInput, TooManyRequests
from beatbun.i18n import N_
from beatbun.mail import mailqueue
from beatbun.mail.marketingrules import MARKETING_ELIGIBLE_SQL
from beatbun.mail.marketingstatus import (
    CONFIRM_SECONDS,
    CONFIRMATION,
    WORDING_VERSION,
    Source,
    ineligibility,
)
from beatbun.runtime.base import Database, Row, Runtime, SqlValue, Statement

CONFIRM_PATH = "/email/confirm-marketing"
# Confirmation emails an account may ask for within `REQUEST_WINDOW_SECONDS`.
MAX_REQUESTS = 5
REQUEST_WINDOW_SECONDS = 86400.0
TOO_OFTEN = N_(
    "You asked for %(limit)s confirmation emails today. Open the last one, or try again tomorrow."
)
INVALID_LINK = N_("This link is not valid. Ask for a new one.")
EXPIRED_LINK = N_("This link has expired. Ask for a new one from your email settings.")
REPLACED_LINK = N_(
    "This link was replaced by a newer request or a change of mind. Ask for a new one from"
    " your email settings."
)
OTHER_ADDRESS = N_(
    "This link was sent to an address your account no longer uses. Ask for a new one from"
    " your email settings."
)

# The HMAC purpose of confirmation links (`accounts.tokens.keyed_token`).
CONFIRM_PURPOSE = "marketing-confirm"


async def request_marketing(
    runtime: Runtime, account: Account, *, language: str, ip: str, user_agent: str
) -> bool:
    """Record the request and queue the confirmation link to the account's address.

    Returns False when marketing is on already (nothing written). Raises NotFound when the
    account is gone; PermissionDenied (`marketing_adults_only`, `email_unverified`,
    `account_locked`), ProcessingRestricted, Conflict (`marketing_objected`) when the account
    may not opt in; and TooManyRequests (`too_many_marketing_requests`) past `MAX_REQUESTS` a
    day. The conditions are checked again inside the batch, so nothing is written when they
    no longer hold.
    """
    _refuse_ineligible(account)
    if account.marketing_opt_in_at is not None:
        return False
    db, now = runtime.db, runtime.clock.now()
    request_id = new_id()
    link = f"{runtime.settings.public_url}{CONFIRM_PATH}?" + urlencode(
        {"token": confirm_token(runtime.settings.app_secret, request_id)}
    )
    message = CONFIRMATION.compose(
        to=account.email, language=language, site=runtime.settings.site_name, link=link
    )
    record = db.prepare(
        "INSERT INTO marketing_consents (id, account_id, email, action, source,"  # noqa: S608 (constant SQL)
        " wording_version, ip, user_agent, recorded_at)"
        " SELECT ?, a.id, a.email, 'requested', 'email_settings', ?, ?, ?, ?"
        f" FROM accounts a WHERE a.id = ? AND a.marketing_opt_in_at IS NULL"
        f" AND {MARKETING_ELIGIBLE_SQL} AND (SELECT COUNT(*) FROM marketing_consents"
        " WHERE account_id = a.id AND action = 'requested' AND recorded_at > ?) < ?"
    ).bind(
        request_id,
        WORDING_VERSION,
        ip,
        user_agent,
        now,
        account.id,
        now - REQUEST_WINDOW_SECONDS,
        MAX_REQUESTS,
    )
    mail = mailqueue.enqueue_statement(
        db,
        message_id=new_id(),
        key=f"marketing_confirm:{request_id}",
        message=message,
        now=now,
        only_if="EXISTS (SELECT 1 FROM marketing_consents WHERE id = ?)",
        only_if_params=(request_id,),
        kind="marketing_confirm",
        account_id=account.id,
    )
    results = await db.batch([record, mail])
    if results[0].meta.changes == 1:
        return True
    current = await get_account(db, account.id)  # NotFound once the account is gone
    _refuse_ineligible(current)
    if current.marketing_opt_in_at is not None:
        return False
    raise TooManyRequests(
        TOO_OFTEN, code="too_many_marketing_requests", params={"limit": MAX_REQUESTS}
    )


async def confirm_marketing(runtime: Runtime, token: str, *, ip: str, user_agent: str) -> str:
    """Turn marketing on for the account whose confirmation link carries `token`; its id.

    Opening a link again once it worked succeeds again without a second record. Raises
    InvalidInput (`invalid_link`, `expired_link`, `replaced_link`) for a link that does not
    or no longer works, and the errors of `request_marketing` when the account may no longer
    opt in.
    """
    request_id = _request_of(runtime.settings.app_secret, token)
    db, now = runtime.db, runtime.clock.now()
    confirmed_id = new_id()
    # The request must be the account's latest consent row (rowid order is insertion order),
    # for the account's current address, and young enough.
    record = db.prepare(
        "INSERT INTO marketing_consents (id, account_id, email, action, source,"  # noqa: S608 (constant SQL)
        " wording_version, ip, user_agent, recorded_at)"
        " SELECT ?, r.account_id, r.email, 'confirmed', 'confirmation_link', r.wording_version,"
        " ?, ?, ? FROM marketing_consents r JOIN accounts a ON a.id = r.account_id"
        " WHERE r.id = ? AND r.action = 'requested' AND r.recorded_at > ? AND r.email = a.email"
        f" AND a.marketing_opt_in_at IS NULL AND {MARKETING_ELIGIBLE_SQL}"
        " AND NOT EXISTS (SELECT 1 FROM marketing_consents l"
        " WHERE l.account_id = r.account_id AND l.rowid > r.rowid)"
    ).bind(confirmed_id, ip, user_agent, now, request_id, now - CONFIRM_SECONDS)
    switch_on = db.prepare(
        "UPDATE accounts SET marketing_opt_in_at = ?"
        " WHERE id = (SELECT account_id FROM marketing_consents WHERE id = ?)"
    ).bind(int(now), confirmed_id)
    results = await db.batch([record, switch_on])
    row = await (
        db.prepare(
            "SELECT r.account_id, r.action, r.email, r.recorded_at, a.email AS current_email,"
            " a.marketing_opt_in_at, (SELECT l.action FROM marketing_consents l"
            " WHERE l.account_id = r.account_id ORDER BY l.rowid DESC LIMIT 1) AS latest"
            " FROM marketing_consents r JOIN accounts a ON a.id = r.account_id WHERE r.id = ?"
        )
        .bind(request_id)
        .first()
    )
    if row is None or row["action"] != "requested":
        raise InvalidInput(INVALID_LINK, code="invalid_link")
    account_id = str(row["account_id"])
    if results[0].meta.changes == 1:
        return account_id
    return await _explain_refusal(db, row, now=now)


async def _explain_refusal(db: Database, row: Row, *, now: float) -> str:
    """Why a live-looking request could not be confirmed; its account id if it already was."""
    if row["marketing_opt_in_at"] is not None and row["latest"] == "confirmed":
        return str(row["account_id"])  # the same link opened twice
    if float(row["recorded_at"] or 0) <= now - CONFIRM_SECONDS:
        raise InvalidInput(EXPIRED_LINK, code="expired_link")
    if row["latest"] != "requested":
        raise InvalidInput(REPLACED_LINK, code="replaced_link")
    if row["email"] != row["current_email"]:
        raise InvalidInput(OTHER_ADDRESS, code="replaced_link")
    account = await find_account(db, str(row["account_id"]))
    if account is not None:
        _refuse_ineligible(account)
    raise InvalidInput(REPLACED_LINK, code="replaced_link")


async def withdraw_marketing(
    runtime: Runtime,
    account_id: str,
    *,
    source: Source,
    campaign_id: str | None = None,
    ip: str = "",
    user_agent: str = "",
) -> bool:
    """Turn marketing off at once, and retire a pending confirmation link; True if it was
    on or pending (then a `withdrawn` row records it), False if it was off already.

    An unknown account is off. `campaign_id` names the campaign whose email was unsubscribed
    from (ignored unless it exists); its `unsubscribed` count grows by one, or its
    `complained` count when the source is a spam complaint.
    """
    db = runtime.db
    _, statements = withdraw_statements(
        db,
        account_id,
        source=source,
        now=runtime.clock.now(),
        campaign_id=campaign_id,
        ip=ip,
        user_agent=user_agent,
    )
    results = await db.batch(statements)
    return results[0].meta.changes == 1


def withdraw_statements(
    db: Database,
    account_id: str,
    *,
    source: Source,
    now: float,
    campaign_id: str | None = None,
    ip: str = "",
    user_agent: str = "",
    only_if: str = "1",
    only_if_params: tuple[SqlValue, ...] = (),
) -> tuple[str, list[Statement]]:
    """The id of the withdrawal row and the statements of `withdraw_marketing`, for a batch;
    they write only when the constant SQL condition `only_if` holds as well."""
    withdrawal_id = new_id()
    record = db.prepare(
        "INSERT INTO marketing_consents (id, account_id, email, action, source,"  # noqa: S608 (constant SQL)
        " wording_version, campaign_id, ip, user_agent, recorded_at)"
        " SELECT ?, a.id, a.email, 'withdrawn', ?, ?, (SELECT id FROM campaigns WHERE id = ?),"
        " ?, ?, ? FROM accounts a WHERE a.id = ? AND (a.marketing_opt_in_at IS NOT NULL"
        " OR (SELECT l.action = 'requested' AND l.recorded_at > ? FROM marketing_consents l"
        f" WHERE l.account_id = a.id ORDER BY l.rowid DESC LIMIT 1)) AND ({only_if})"
    ).bind(
        withdrawal_id,
        source,
        WORDING_VERSION,
        campaign_id,
        ip,
        user_agent,
        now,
        account_id,
        now - CONFIRM_SECONDS,
        *only_if_params,
    )
    switch_off = db.prepare(
        "UPDATE accounts SET marketing_opt_in_at = NULL"
        " WHERE id = (SELECT account_id FROM marketing_consents WHERE id = ?)"
    ).bind(withdrawal_id)
    column = "complained" if source == "complaint" else "unsubscribed"
    count = db.prepare(
        f"INSERT INTO mail_topics (topic, {column}) SELECT 'campaign:' || campaign_id, 1"  # noqa: S608 (constant SQL)
        " FROM marketing_consents WHERE id = ? AND campaign_id IS NOT NULL"
        f" ON CONFLICT (topic) DO UPDATE SET {column} = {column} + 1"
    ).bind(withdrawal_id)
    return withdrawal_id, [record, switch_off, count]


def confirm_token(secret: str, request_id: str) -> str:
    """The token of the confirmation link for request `request_id`."""
    return f"{request_id}.{keyed_token(secret, CONFIRM_PURPOSE, request_id)}"


def _request_of(secret: str, token: str) -> str:
    request_id, _, mac = token.partition(".")
    if not request_id or not hmac.compare_digest(
        keyed_token(secret, CONFIRM_PURPOSE, request_id).encode(), mac.encode()
    ):
        raise InvalidInput(INVALID_LINK, code="invalid_link")
    return request_id


def _refuse_ineligible(account: Account) -> None:
    refusal = ineligibility(account)
    if refusal is not None:
        raise refusal
