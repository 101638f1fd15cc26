"""The rules every marketing email follows, shared by whoever queues it and whoever sends it.

Marketing email goes only to an account that confirmed it by double opt-in and has not objected
to marketing, restricted processing or scheduled its deletion (`MARKETING_ALLOWED_SQL`, checked
when a campaign is queued and again when each email is sent). Every marketing email carries
one-click unsubscribe (RFC 8058): a per-account HTTPS link that works without logging in, in
`List-Unsubscribe` with `List-Unsubscribe-Post: List-Unsubscribe=One-Click`, and visibly in
the text. Queued bulk rows hold `UNSUBSCRIBE_MARK`, which the sender replaces with the account's
link, so one INSERT can queue a whole batch.
"""

from __future__ import annotations

import hmac
import re
from urllib.parse import urlencode

from beatbun.accounts.tokens import keyed_token
from beatbun.settings import Settings

# The condition on `accounts` (aliased `a`) under which an account may opt in to marketing
# email: an adult with a confirmed address who neither objected, restricted processing nor
# scheduled the account's deletion.
MARKETING_ELIGIBLE_SQL = (
    "a.objects_to_marketing = 0 AND a.restricted_at IS NULL AND a.erasure_due_at IS NULL"
    " AND a.email_verified_at IS NOT NULL AND a.age_group = 'adult'"
)
# The condition on `accounts` (aliased `a`) under which marketing email may be sent.
MARKETING_ALLOWED_SQL = f"a.marketing_opt_in_at IS NOT NULL AND {MARKETING_ELIGIBLE_SQL}"
# The kind of every marketing email: the sender checks consent again for it.
MARKETING_KIND = "marketing"
UNSUBSCRIBE_MARK = "@@unsubscribe@@"
UNSUBSCRIBE_PATH = "/email/unsubscribe"
# The page where an account sees its service notices and turns marketing on or off.
EMAIL_SETTINGS_PATH = "/account/email"
# `/email/unsubscribe/<account id>/<token>`: the token in the path is the request's authority.
_UNSUBSCRIBE_ROUTE = re.compile(rf"{UNSUBSCRIBE_PATH}/[0-9a-f]{{32}}/[A-Za-z0-9_-]{{22}}")


def unsubscribe_token(secret: str, account_id: str) -> str:
    """The account's unsubscribe token: an HMAC only APP_SECRET can make (128 bits shown)."""
    return keyed_token(secret, "unsubscribe", account_id, size=16)


def unsubscribe_url(settings: Settings, account_id: str, *, campaign_id: str | None = None) -> str:
    """The link that unsubscribes `account_id` from marketing email, without logging in."""
    token = unsubscribe_token(settings.app_secret, account_id)
    query = f"?{urlencode({'c': campaign_id})}" if campaign_id else ""
    return f"{settings.public_url}{UNSUBSCRIBE_PATH}/{account_id}/{token}{query}"


def list_unsubscribe_headers(url: str) -> tuple[tuple[str, str], ...]:
    """The RFC 8058 headers for a marketing email whose unsubscribe link is `url`."""
    return (
        ("List-Unsubscribe", f"<{url}>"),
        ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
    )


def is_unsubscribe_path(path: str) -> bool:
    """Whether `path` is an unsubscribe link, which works without a session or CSRF token."""
    return _UNSUBSCRIBE_ROUTE.fullmatch(path) is not None


def is_unsubscribe_token(secret: str, account_id: str, token: str) -> bool:
    """Whether `token` is the account's unsubscribe token (compared in constant time)."""
    return hmac.compare_digest(unsubscribe_token(secret, account_id).encode(), token.encode())
