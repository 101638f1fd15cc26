"""Whether a purpose may process an account's data: one predicate per purpose (for prompt use,
which runs in D1, a condition on the query).

Every place a purpose runs asks here, so an objection or a restriction (privacy policy,
"restriction and objection") takes effect everywhere at once. A restricted account is
processed for storage only: its tracks stay playable, downloadable and exportable, and the
export and erasure rights keep working, but nothing new is made, measured or marketed.
Visitors who are not logged in have no objections on record: cookie consent alone governs
them, so `None` may be measured and marketed to when the browser allowed it.
"""

from __future__ import annotations

from beatbun.accounts.models import Account
from beatbun.errors import ProcessingRestricted
from beatbun.i18n import N_

# Anonymised prompt words for improving the service (`analytics.prompts`): the condition on
# `accounts` (aliased `a`) that the aggregate, kept in D1, runs under.
PROMPT_USE_ALLOWED_SQL = "a.objects_to_prompt_use = 0 AND a.restricted_at IS NULL"
RESTRICTED = N_(
    "Processing of your account is restricted, so nothing new can be made from it. Lift the"
    " restriction on your Privacy & data page to make tracks again."
)


def may_measure(account: Account | None) -> bool:
    """First-party analytics (page views, measurements), on top of performance consent."""
    return account is None or not (account.objects_to_analytics or account.is_restricted)


def may_market(account: Account | None) -> bool:
    """The marketing partner's tag, on top of marketing consent."""
    return account is None or not (account.objects_to_marketing or account.is_restricted)


def may_generate(account: Account) -> bool:
    """Making anything new from the account's data: tracks, extensions, variations, exports."""
    return not account.is_restricted


def require_may_generate(account: Account) -> None:
    """Raise ProcessingRestricted (`account_restricted`) while processing is restricted."""
    if not may_generate(account):
        raise ProcessingRestricted(RESTRICTED)
