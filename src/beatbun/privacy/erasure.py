"""Erasure: an account deleted, everything of it, after a grace period it can be cancelled in.

Asking (with the password, and the current code when two-step is on) schedules the erasure
`GRACE_SECONDS` ahead and locks the account: it can still log in, but only the privacy page
is open to it (`api.deps.refuse_locked_account`), its API keys are refused, its shared tracks
answer 404 and its waiting jobs are cancelled with their refund. The request and the lock are
one D1 batch whose guards hold the rules: one scheduled erasure per account (a unique index)
and at most `REQUESTS_PER_DAY` erasure requests per account per day.

When the time comes, the cron claims the account (`erasure_due_at` set to 0, which no cancel
matches) and `privacy.removal` takes everything away; a crash after the claim leaves the
account claimed, and the next run finishes it. The deletion ledger (`privacy.ledger`) is
written first, so `privacy.replay` can erase the account again should a D1 restore bring it
back.
"""

from __future__ import annotations

import logging
import uuid

from beatbun.accounts import reauth, secondfactor
from beatbun.accounts.models import NO_CLIENT, Account, Client, Session
from beatbun.accounts.store import find_account
from beatbun.accounts.tokens import new_id
from beatbun.errors import (
    Conflict,
    ConstraintViolation,
    NotFound,
    PermissionDenied,
    TooManyRequests,
)
from beatbun.generation.service import cancel_waiting_generations
from beatbun.i18n import DEFAULT_LANGUAGE, LANGUAGES, N_
from beatbun.mail import mailqueue
from beatbun.mail.catalogue import ERASURE_SCHEDULED
from beatbun.mail.compose import AccountMail, email_date
from beatbun.privacy import mail, removal
from beatbun.privacy.models import PrivacyRequest, Requester
from beatbun.privacy.notices import confirmation_statements
from beatbun.privacy.requests import find_request
from beatbun.runtime.base import Runtime, SqlValue, Statement

GRACE_SECONDS = 7 * 86400
REQUESTS_PER_DAY = 5
# Accounts erased per cron run; each takes a few R2 calls and one D1 batch.
ERASE_BATCH = 20

ALREADY_SCHEDULED = N_("The deletion of this account is already scheduled.")
NONE_SCHEDULED = N_("No deletion of this account is scheduled.")
TOO_MANY = N_("Too many deletion requests today. Try again tomorrow.")
PARENT_ASKED = N_(
    "Your parent or guardian asked for this deletion; only they can cancel it, from their link."
)

logger = logging.getLogger(__name__)


async def request_erasure(
    runtime: Runtime,
    account: Account,
    session: Session,
    *,
    password: str,
    code: str,
    client: Client,
    language: str,
) -> PrivacyRequest:
    """Schedule the account's erasure after checking the password (and the code, with TOTP).

    Raises InvalidInput for a wrong password or code, TooManyAttempts while those are
    throttled, Conflict when an erasure is already scheduled, TooManyRequests past
    `REQUESTS_PER_DAY`.
    """
    if account.is_erasure_scheduled:
        raise Conflict(ALREADY_SCHEDULED, code="erasure_scheduled")
    await reauth.confirm_password(runtime, account, session, password=password, client=client)
    await secondfactor.require_fresh_code(
        runtime, account, code=code, client=client, language=language
    )
    return await _schedule(runtime, account, by="owner", client=client, language=language)


async def request_erasure_by_parent(
    runtime: Runtime, account_id: str, *, language: str
) -> PrivacyRequest:
    """Schedule the erasure of a minor's account, asked for through the parent's own link.

    The parent's link is their proof; raises like `request_erasure` past the checks.
    """
    account = await find_account(runtime.db, account_id)
    if account is None:
        raise NotFound(N_("Account '%(id)s' not found."), params={"id": account_id})
    if account.is_erasure_scheduled:
        raise Conflict(ALREADY_SCHEDULED, code="erasure_scheduled")
    return await _schedule(runtime, account, by="parent", client=NO_CLIENT, language=language)


async def cancel_erasure(
    runtime: Runtime,
    account_id: str,
    *,
    client: Client | None,
    language: str,
    by: Requester = "owner",
) -> None:
    """Unlock the account: its scheduled erasure will not run.

    A parent cancels any erasure of their child's account; the account's owner only one they
    asked for themselves. Raises Conflict when none is scheduled, when it has already
    started, or (PermissionDenied) when the owner tries to cancel their parent's request.
    """
    db, now = runtime.db, int(runtime.clock.now())
    account = await find_account(db, account_id)
    results = await db.batch(
        [
            db.prepare(
                "UPDATE privacy_requests SET status = 'cancelled', finished_at = ?"
                " WHERE account_id = ? AND kind = 'erasure' AND status = 'scheduled'"
                " AND (? = 'parent' OR requested_by = 'owner')"
                " AND EXISTS (SELECT 1 FROM accounts WHERE id = ? AND erasure_due_at > 0)"
            ).bind(now, account_id, by, account_id),
            # 0 is the running erasure's claim: too late to cancel. A request left scheduled
            # by the guard above keeps the account locked.
            db.prepare(
                "UPDATE accounts SET erasure_due_at = NULL WHERE id = ? AND erasure_due_at > 0"
                " AND NOT EXISTS (SELECT 1 FROM privacy_requests WHERE account_id = ?"
                " AND kind = 'erasure' AND status = 'scheduled')"
            ).bind(account_id, account_id),
        ]
    )
    if account is None or not results[1].meta.changes:
        if by == "owner" and await _asked_by_parent(runtime, account_id):
            raise PermissionDenied(PARENT_ASKED, code="erasure_asked_by_parent")
        raise Conflict(NONE_SCHEDULED, code="no_erasure_scheduled")
    statements = _confirmations(
        runtime,
        account,
        kind="erasure_cancelled",
        message=mail.ERASURE_CANCELLED_BY_PARENT if by == "parent" else mail.ERASURE_CANCELLED,
        to_parent=mail.PARENT_ERASURE_CANCELLED,
        key=f"erasure-cancelled:{account_id}:{now}",
        client=client or NO_CLIENT,
        language=language,
        by=by,
    )
    await db.batch(statements)


async def erase_due_accounts(runtime: Runtime) -> int:
    """Cron: erase the accounts whose grace period is over; how many were erased.

    Newly due accounts are claimed first, then the batch is filled with claimed ones
    (`erasure_due_at` = 0) an earlier run did not finish: a crash, an export under way, or a
    step that raised. One account's failure is logged and the others are erased regardless.
    Payment records past their legal keeping time go too.
    """
    db, now = runtime.db, int(runtime.clock.now())
    await db.prepare("DELETE FROM retained_payments WHERE kept_until <= ?").bind(now).run()
    claimed = await (
        db.prepare(
            "UPDATE accounts SET erasure_due_at = 0 WHERE id IN (SELECT id FROM accounts"
            " WHERE erasure_due_at IS NOT NULL AND erasure_due_at <= ?"
            " ORDER BY erasure_due_at = 0, erasure_due_at, id LIMIT ?) RETURNING id"
        )
        .bind(now, ERASE_BATCH)
        .all()
    )
    erased = 0
    for account_id in sorted(str(row["id"]) for row in claimed.results):
        try:
            erased += await removal.remove_account(runtime, account_id, notify=True)
        except Exception:
            # Still claimed: a later run tries again, after the newly due accounts.
            logger.exception("Erasing account %s failed", account_id)
    return erased


async def erase_account(runtime: Runtime, account_id: str) -> None:
    """Erase the account now, whatever its state; erasing an erased account changes nothing.

    While a live builder is making an export of it, the account stays claimed and the cron
    erases it.
    """
    await claim_account(runtime, account_id)
    await removal.remove_account(runtime, account_id, notify=True)


async def claim_account(runtime: Runtime, account_id: str) -> None:
    """Mark the account as being erased (`erasure_due_at` = 0): no cancel can stop it now."""
    await (
        runtime.db.prepare("UPDATE accounts SET erasure_due_at = 0 WHERE id = ?")
        .bind(account_id)
        .run()
    )


async def _schedule(
    runtime: Runtime, account: Account, *, by: Requester, client: Client, language: str
) -> PrivacyRequest:
    db, now = runtime.db, int(runtime.clock.now())
    due = now + GRACE_SECONDS
    request_id = uuid.uuid4().hex
    made = "EXISTS (SELECT 1 FROM privacy_requests WHERE id = ?)"
    statements = [
        # The day's limit is counted here, so no two requests at once can pass it together;
        # an account already scheduled or claimed (0: being erased) gets no new request.
        db.prepare(
            "INSERT INTO privacy_requests (id, account_id, kind, status, requested_by,"
            " created_at, due_at, language) SELECT ?, ?, 'erasure', 'scheduled', ?, ?, ?, ?"
            " WHERE (SELECT count(*) FROM privacy_requests WHERE account_id = ?"
            " AND kind = 'erasure' AND created_at > ?) < ? AND NOT EXISTS (SELECT 1"
            " FROM accounts WHERE id = ? AND erasure_due_at IS NOT NULL)"
        ).bind(
            request_id,
            account.id,
            by,
            now,
            due,
            language if language in LANGUAGES else DEFAULT_LANGUAGE,
            account.id,
            now - 86400,
            REQUESTS_PER_DAY,
            account.id,
        ),
        db.prepare(
            "UPDATE accounts SET erasure_due_at = ? WHERE id = ? AND erasure_due_at IS NULL"
            " AND EXISTS (SELECT 1 FROM privacy_requests WHERE id = ?)"
        ).bind(due, account.id, request_id),
        *_confirmations(
            runtime,
            account,
            kind="erasure_requested",
            message=mail.ERASURE_SCHEDULED_BY_PARENT if by == "parent" else mail.ERASURE_SCHEDULED,
            to_parent=mail.PARENT_ERASURE_SCHEDULED,
            key=f"erasure-scheduled:{request_id}",
            client=client,
            language=language,
            by=by,
            mail_kind=ERASURE_SCHEDULED.kind,
            only_if=made,
            only_if_params=(request_id,),
            date=email_date(due, minute=True),
        ),
    ]
    try:
        results = await db.batch(statements)
    except ConstraintViolation as exc:  # the unique index: one scheduled erasure per account
        raise Conflict(ALREADY_SCHEDULED, code="erasure_scheduled") from exc
    if not results[0].meta.changes:
        current = await find_account(db, account.id)
        if current is None or current.is_erasure_scheduled:
            raise Conflict(ALREADY_SCHEDULED, code="erasure_scheduled")
        raise TooManyRequests(TOO_MANY, code="too_many_erasure_requests")
    await cancel_waiting_generations(runtime, account_id=account.id)
    request = await find_request(db, account.id, request_id)
    if request is None:
        raise NotFound(N_("Request '%(id)s' not found."), params={"id": request_id})
    return request


def _confirmations(
    runtime: Runtime,
    account: Account,
    *,
    kind: str,
    message: AccountMail,
    to_parent: AccountMail,
    key: str,
    client: Client,
    language: str,
    by: Requester,
    mail_kind: str = "account",
    only_if: str = "1",
    only_if_params: tuple[SqlValue, ...] = (),
    **params: str,
) -> list[Statement]:
    """The event and `message` to the account, and `to_parent` to the parent who asked."""
    statements = confirmation_statements(
        runtime,
        account,
        kind=kind,
        message=message,
        key=key,
        client=client,
        language=language,
        only_if=only_if,
        only_if_params=only_if_params,
        mail_kind=mail_kind,
        **params,
    )
    if by == "parent" and account.parent_email:
        parent_mail = to_parent.compose(
            to=account.parent_email, language=language, site=runtime.settings.site_name, **params
        )
        statements.append(
            mailqueue.enqueue_statement(
                runtime.db,
                message_id=new_id(),
                key=f"{key}:parent",
                message=parent_mail,
                now=runtime.clock.now(),
                only_if=only_if,
                only_if_params=only_if_params,
            )
        )
    return statements


async def _asked_by_parent(runtime: Runtime, account_id: str) -> bool:
    found = await (
        runtime.db.prepare(
            "SELECT 1 AS found FROM privacy_requests WHERE account_id = ? AND kind = 'erasure'"
            " AND status = 'scheduled' AND requested_by = 'parent'"
        )
        .bind(account_id)
        .first()
    )
    return found is not None
