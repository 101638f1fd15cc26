"""Replaying the deletion ledger after a D1 restore: erased accounts are erased again.

D1 Time Travel restores rows, not the R2 ledger (`privacy.ledger`), so every account in D1
whose id hashes to a ledger entry is one an erasure already took: it goes again, and nobody is
mailed. Operators run it through `POST /api/v1/operator/erasures/replay`; locally
`python -m beatbun_local.replay` (`make replay-erasures`) runs it on the state folder.
"""

from __future__ import annotations

from beatbun.privacy import ledger, removal
from beatbun.privacy.erasure import claim_account
from beatbun.runtime.base import MAX_BOUND_PARAMETERS, Runtime


async def replay_erasures(runtime: Runtime) -> int:
    """Erase again every account in D1 that the deletion ledger says was erased; how many now.

    For after a D1 restore (Time Travel): the restored rows go, nobody is mailed again.
    """
    erased = await ledger.erased_hashes(runtime.blobs)
    if not erased:
        return 0
    replayed = 0
    after = ""
    while True:
        rows = (
            await runtime.db.prepare("SELECT id FROM accounts WHERE id > ? ORDER BY id LIMIT ?")
            .bind(after, MAX_BOUND_PARAMETERS)
            .all()
        ).results
        if not rows:
            return replayed
        after = str(rows[-1]["id"])
        for row in rows:
            account_id = str(row["id"])
            if ledger.account_hash(account_id) in erased:
                await claim_account(runtime, account_id)
                # A live export builder defers it: claimed, it goes with a later cron run.
                replayed += await removal.remove_account(runtime, account_id, notify=False)
