"""The policy banner: which significant changes an account has yet to acknowledge, and doing so.

An account is asked about the newest significant version of the privacy policy and of the
terms when it was created before that version took effect, until it acknowledges it. The
cookie policy has no banner of its own: a significant version re-asks cookie consent, and
the consent banner is its acknowledgement.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import cast

from beatbun.accounts.models import Account
from beatbun.errors import UnknownPolicyVersion
from beatbun.i18n import N_
from beatbun.policies.versions import (
    HISTORY,
    PATHS,
    TITLES,
    Document,
    History,
    PolicyVersion,
    latest_significant,
)
from beatbun.runtime.base import Database

BANNER_DOCUMENTS: tuple[Document, ...] = ("privacy", "terms")


@dataclass(frozen=True)
class PendingNotice:
    """A document's newest significant version, as the banner asks about it and the email
    tells it."""

    document: Document
    version: PolicyVersion

    @property
    def title(self) -> str:
        return TITLES[self.document]

    @property
    def path(self) -> str:
        return PATHS[self.document]

    @property
    def key(self) -> str:
        """How the banner's form names this notice: `<document>:<version>`."""
        return f"{self.document}:{self.version.version}"


async def pending_notices(
    db: Database, account: Account, *, history: History = HISTORY
) -> tuple[PendingNotice, ...]:
    """The changes `account` has not acknowledged yet; no query for an account newer than all."""
    candidates = [
        PendingNotice(document, version)
        for document in BANNER_DOCUMENTS
        if (version := latest_significant(document, history)) is not None
        and account.created_at < version.effective_at
    ]
    if not candidates:
        return ()
    rows = (
        await db.prepare(
            "SELECT document, version FROM policy_notices"
            " WHERE account_id = ? AND acknowledged_at IS NOT NULL"
        )
        .bind(account.id)
        .all()
    ).results
    done = {(str(row["document"]), str(row["version"])) for row in rows}
    return tuple(n for n in candidates if (n.document, n.version.version) not in done)


async def acknowledge(
    db: Database,
    account_id: str,
    *,
    keys: Iterable[str],
    now: float,
    history: History = HISTORY,
) -> None:
    """Record that the account read the notices named by `keys` (`<document>:<version>`).

    Raises UnknownPolicyVersion, recording nothing, when a key names no significant version.
    Acknowledging twice keeps the first time.
    """
    wanted = sorted(set(keys))
    notices = [_significant(key, history) for key in wanted]
    if not notices:
        raise UnknownPolicyVersion(N_("Choose which policy change you read."))
    await db.batch(
        [
            db.prepare(
                "INSERT INTO policy_notices (document, version, account_id, acknowledged_at)"
                " VALUES (?, ?, ?, ?) ON CONFLICT (document, version, account_id)"
                " DO UPDATE SET acknowledged_at = COALESCE(acknowledged_at, excluded.acknowledged_at)"
            ).bind(document, version, account_id, now)
            for document, version in notices
        ]
    )


def _significant(key: str, history: History) -> tuple[Document, str]:
    document, _, version = key.partition(":")
    if document in history:
        known = cast(Document, document)
        if any(e.version == version and e.significant for e in history[known]):
            return known, version
    raise UnknownPolicyVersion(
        N_("There is no policy change %(notice)s to acknowledge."), params={"notice": key}
    )
