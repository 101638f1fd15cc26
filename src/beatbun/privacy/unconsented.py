"""Deleting a teen's sign-up no parent or guardian agrees to: at once when the parent says no
through their link, and `guardians.CONSENT_DAYS` after the first link when nobody answers.

An account that never opened holds nothing we may keep. Both ways go through
`privacy.erasure.erase_account`, so everything goes and the deletion ledger records it like any
other erasure.
"""

from __future__ import annotations

from beatbun.accounts.store import get_account, row_to_account
from beatbun.accounts.tokens import hash_token, new_id
from beatbun.errors import Conflict
from beatbun.i18n import DEFAULT_LANGUAGE, N_
from beatbun.mail import mailqueue
from beatbun.privacy import erasure, mail
from beatbun.privacy.guardians import REFRESH_SECONDS, guardian_for_token, send_parent_link
from beatbun.runtime.base import Runtime

# Parents' links a run of `send_missing_parent_links` sends at most.
LINK_BATCH = 50
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


async def send_missing_parent_links(runtime: Runtime) -> int:
    """Cron: mail the parent's link of every waiting teen's account that never had one; how many.

    Accounts made before parents consented themselves wait with no `guardians` row, so their
    `CONSENT_DAYS` never start. At most `LINK_BATCH` a run, oldest accounts first, in the language
    the teen chose (English if none). The link makes the `guardians` row, so a later run, or a
    run racing this one (the guard in `send_parent_link`'s SQL), sends nothing more.
    """
    waiting = await (
        runtime.db.prepare(
            "SELECT accounts.*, COALESCE(account_preferences.language, ?) AS mail_language"
            " FROM accounts LEFT JOIN account_preferences"
            " ON account_preferences.account_id = accounts.id"
            " WHERE accounts.age_group = 'minor' AND accounts.parent_consented_at IS NULL"
            " AND accounts.parent_email IS NOT NULL AND accounts.erasure_due_at IS NULL"
            " AND NOT EXISTS (SELECT 1 FROM guardians WHERE account_id = accounts.id)"
            " ORDER BY accounts.created_at LIMIT ?"
        )
        .bind(DEFAULT_LANGUAGE, LINK_BATCH)
        .all()
    )
    sent = 0
    for row in waiting.results:
        account = row_to_account(row)
        language = str(row["mail_language"])
        sent += await send_parent_link(
            runtime, account, language=language, unless_sent_within=REFRESH_SECONDS
        )
    return sent
