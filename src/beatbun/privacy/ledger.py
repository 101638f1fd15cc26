"""The deletion ledger: a one-way hash of every erased account, kept in R2, outside D1.

D1 Time Travel can restore the database to any minute of the last 30 days, which brings an
erased account's rows back; R2 is not restored with it. So each erasure first writes
`erasures/<sha256("account:" + id)>` (JSON: hash, requested_at, erased_at), and the replay
(`beatbun.privacy.replay.replay_erasures`) erases again every account in D1 whose id hashes
to an entry. The hash names no one: it can only be matched by someone who holds the id.

An entry is needed only while a restore point can predate its erasure, so the bucket's
lifecycle rule (r2/lifecycle.json) deletes it after `KEPT_SECONDS`, Time Travel's window.
"""

from __future__ import annotations

import hashlib
import json

from beatbun.runtime.base import BlobStore, HttpMetadata

LEDGER_PREFIX = "erasures/"
KEPT_SECONDS = 30 * 86400


def account_hash(account_id: str) -> str:
    return hashlib.sha256(f"account:{account_id}".encode()).hexdigest()


def ledger_key(account_id: str) -> str:
    return f"{LEDGER_PREFIX}{account_hash(account_id)}"


async def record_erasure(
    blobs: BlobStore, account_id: str, *, requested_at: int, erased_at: int
) -> None:
    """Write the account's entry unless it has one: the first erasure's times are kept."""
    key = ledger_key(account_id)
    if await blobs.head(key) is not None:
        return
    entry = {"hash": account_hash(account_id), "requested_at": requested_at, "erased_at": erased_at}
    await blobs.put(
        key,
        json.dumps(entry, separators=(",", ":")),
        http_metadata=HttpMetadata(content_type="application/json"),
    )


async def erased_hashes(blobs: BlobStore) -> set[str]:
    """The hash of every account the ledger holds."""
    hashes: set[str] = set()
    cursor: str | None = None
    while True:
        listing = await blobs.list(prefix=LEDGER_PREFIX, cursor=cursor)
        hashes.update(found.key.removeprefix(LEDGER_PREFIX) for found in listing.objects)
        if not listing.truncated:
            return hashes
        cursor = listing.cursor
