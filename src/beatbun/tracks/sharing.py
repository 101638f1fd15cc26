"""Public share links: anyone with the link may play a track, until its owner revokes it.

The link carries a token of 32 random bytes (256 bits, base64url), which nobody can guess.
It is stored as it is, because the owner must be able to copy the link again later. Revoking
clears it, and sharing again makes a new one: a revoked link never works again. A deleted
track answers NotFound through its link at once, as it does for its owner.
"""

from __future__ import annotations

import re
import secrets

from beatbun.errors import NotFound
from beatbun.i18n import N_
from beatbun.runtime.base import Database
from beatbun.tracks.models import Track
from beatbun.tracks.store import COLUMNS, LIVE, track_from_row, track_not_found

TOKEN_BYTES = 32
# token_urlsafe(32) gives 43 characters of the base64url alphabet.
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{43}$")
# An account awaiting its erasure shares nothing (beatbun.privacy.erasure): its links answer
# as revoked ones do until the erasure is cancelled.
OWNER_NOT_LOCKED = (
    "NOT EXISTS (SELECT 1 FROM accounts WHERE accounts.id = tracks.account_id"
    " AND accounts.erasure_due_at IS NOT NULL)"
)


async def share_track(db: Database, *, account_id: str, track_id: str) -> str:
    """The track's share token, made now unless the track is shared already.

    Raises NotFound for a track the account does not own.
    """
    # One statement: a track shared already keeps its token, a live track of another account
    # (or none) gives no row.
    token = await (
        db.prepare(
            "UPDATE tracks SET share_token = COALESCE(share_token, ?)"
            f" WHERE id = ? AND account_id = ? AND {LIVE} RETURNING share_token"
        )
        .bind(secrets.token_urlsafe(TOKEN_BYTES), track_id, account_id)
        .first("share_token")
    )
    if token is None:
        raise track_not_found(track_id)
    return str(token)


async def revoke_share(db: Database, *, account_id: str, track_id: str) -> None:
    """Stop the track's link from working; raises NotFound for a track the account does not own."""
    result = await (
        db.prepare(
            f"UPDATE tracks SET share_token = NULL WHERE id = ? AND account_id = ? AND {LIVE}"
        )
        .bind(track_id, account_id)
        .run()
    )
    if result.meta.changes == 0:
        raise track_not_found(track_id)


async def get_shared_track(db: Database, *, token: str, with_peaks: bool = False) -> Track:
    """The track this token shares; NotFound for any token that does not (revoked, deleted,
    or its owner's erasure scheduled)."""
    row = None
    if _TOKEN.fullmatch(token):
        columns = f"{COLUMNS}, peaks" if with_peaks else COLUMNS
        row = await (
            db.prepare(
                f"SELECT {columns} FROM tracks WHERE share_token = ? AND {LIVE}"
                f" AND {OWNER_NOT_LOCKED}"
            )
            .bind(token)
            .first()
        )
    if row is None:
        # Neither the token nor anything about the track goes into the message.
        raise NotFound(N_("This link does not lead to a track."), code="share_not_found")
    return track_from_row(row)
