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
from beatbun.tracks.store import COLUMNS, LIVE, get_track, track_from_row, track_not_found

TOKEN_BYTES = 32
# token_urlsafe(32) gives 43 characters of the base64url alphabet.
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{43}$")


async def share_track(db: Database, *, account_id: str, track_id: str) -> str:
    """The track's share token, made now unless the track is shared already.

    Raises NotFound for a track the account does not own.
    """
    fresh = secrets.token_urlsafe(TOKEN_BYTES)
    await (
        db.prepare(
            "UPDATE tracks SET share_token = ? WHERE id = ? AND account_id = ?"
            f" AND share_token IS NULL AND {LIVE}"
        )
        .bind(fresh, track_id, account_id)
        .run()
    )
    track = await get_track(db, account_id=account_id, track_id=track_id)
    if track.share_token is None:
        raise RuntimeError(f"Track {track_id!r} was shared but has no token.")
    return track.share_token


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
    """The track this token shares; NotFound for any token that does not (revoked, deleted)."""
    row = None
    if _TOKEN.fullmatch(token):
        columns = f"{COLUMNS}, peaks" if with_peaks else COLUMNS
        row = await (
            db.prepare(f"SELECT {columns} FROM tracks WHERE share_token = ? AND {LIVE}")
            .bind(token)
            .first()
        )
    if row is None:
        # Neither the token nor anything about the track goes into the message.
        raise NotFound(N_("This link does not lead to a track."), code="share_not_found")
    return track_from_row(row)
