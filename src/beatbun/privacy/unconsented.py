"""Deleting a teen's sign-up no parent or guardian agrees to: at once when the parent says no
through their link, and `guardians.CONSENT_DAYS` after the first link when nobody answers.

An account that never opened holds nothing we may keep. Both ways go through
`privacy.erasure.erase_account`, so everything goes and the deletion ledger records it like any
other erasure.
"""

from __future__ import annotations

from beatbun.accounts import mailqueue
from beatbun.accounts.store import get_account
from beatbun.accounts.tokens import hash_token, new_id
from beatbun.errors import Conflict
from beatbun.i18n import DEFAULT_LANGUAGE, N_
from beatbun.privacy import erasure, mail
from beatbun.privacy.guardians import guardian_for_token
from beatbun.runtime.base import Runtime

ALREADY_CONSENTED = N_(
    "You have already agreed. To delete the account, use “Delete this account” on your page."
)


async def decline_as_parent(
    runtime: Runtime, token: str, *, language: str = DEFAULT_LANGUAGE
) -> None:
    """Delete the sign-up the parent does not agree to, at once, and tell the teen by mail.

    Raises NotFound for an unknown token (a deleted sign-up's too) and Conflict once the
    parent has consented: from then on deleting is the erasure with its grace period. The
    account is claimed first by a guarded UPDATE (no consent given; not claimed already), so
    of two clicks, or a click and a consent, exactly one wins; a crash after the claim is
    finished by the erasure cron. The erasure deletes every queued mail to the teen's address,
    so the notice is queued after it, from the address read before; it forgets the address
    once sent.
    """
    guardian = await guardian_for_token(runtime, token)
    if guardian.has_consented:
        raise Conflict(ALREADY_CONSENTED, code="parent_consent_given")
    child = await get_account(runtime.db, guardian.account_id)
    db, access_hash = runtime.db, hash_token(token)
    claimed = await (
        db.prepare(
            "UPDATE accounts SET erasure_due_at = 0 WHERE id = ? AND parent_consented_at IS NULL"
            " AND (erasure_due_at IS NULL OR erasure_due_at > 0) AND EXISTS (SELECT 1"
            " FROM guardians WHERE account_id = accounts.id AND access_hash = ?"
            " AND consented_at IS NULL)"
        )
        .bind(child.id, access_hash)
        .run()
    )
    if not claimed.meta.changes:
        if (await guardian_for_token(runtime, token)).has_consented:
            raise Conflict(ALREADY_CONSENTED, code="parent_consent_given")
        return  # another click claimed it and is erasing it
    await erasure.erase_account(runtime, child.id)
    notice = mail.PARENT_DECLINED.compose(
        to=child.email, language=language, site=runtime.settings.site_name
    )
    await mailqueue.enqueue_statement(
        db,
        message_id=new_id(),
        key=f"parent-declined:{access_hash}",
        message=notice,
        now=runtime.clock.now(),
        forget_recipient=True,
    ).run()


async def erase_unconsented_sign_ups(runtime: Runtime) -> int:
    """Cron: erase the sign-ups no parent agreed to within `guardians.CONSENT_DAYS`; how many.

    At most `erasure.ERASE_BATCH` a run, claimed in one UPDATE guarded on no consent, so a
    consent given meanwhile keeps its account. A claimed account a crash left is claimed again
    and finished here (or by `erasure.erase_due_accounts`); an erased one is gone from
    `guardians`, so running again finds nothing.
    """
    claimed = await (
        runtime.db.prepare(
            "UPDATE accounts SET erasure_due_at = 0 WHERE parent_consented_at IS NULL AND id IN"
            " (SELECT account_id FROM guardians WHERE consented_at IS NULL"
            " AND consent_due_at <= ? ORDER BY consent_due_at LIMIT ?) RETURNING id"
        )
        .bind(runtime.clock.now(), erasure.ERASE_BATCH)
        .all()
    )
    for row in claimed.results:
        await erasure.erase_account(runtime, str(row["id"]))
    return len(claimed.results)
