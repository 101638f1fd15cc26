"""Restricting the processing of an account's data to storage, with a reason, until lifted.

The restriction is a `privacy_requests` row (kind `restriction`, status `active`, the person's
reason) and `accounts.restricted_at`, set together in one batch; `purposes.py` reads the
column wherever a purpose runs. Waiting jobs are cancelled with a refund at once; a job
already being made finishes, and its track is kept like the others.
"""

from __future__ import annotations

from beatbun.accounts.models import Account, Client
from beatbun.accounts.store import get_account
from beatbun.accounts.tokens import new_id
from beatbun.errors import Conflict, InvalidInput, TooManyRequests
from beatbun.generation.service import cancel_waiting_generations
from beatbun.i18n import N_
from beatbun.privacy.mail import RESTRICTION_OFF, RESTRICTION_ON
from beatbun.privacy.models import PrivacyRequest
from beatbun.privacy.notices import confirmation_statements
from beatbun.runtime.base import Runtime

MAX_REASON_CHARS = 500
# Restrictions an account may start within `LIMIT_WINDOW_SECONDS`, counted in the batch's SQL.
# Lifting needs no limit of its own: each lift ends one of these.
MAX_RESTRICTIONS = 10
LIMIT_WINDOW_SECONDS = 86400.0
ALREADY_RESTRICTED = N_("Processing of your account is already restricted.")
NOT_RESTRICTED = N_("Processing of your account is not restricted.")
TOO_OFTEN = N_("You can restrict processing at most %(limit)s times a day. Try again tomorrow.")


async def restrict(
    runtime: Runtime, account: Account, *, reason: str, client: Client, language: str
) -> PrivacyRequest:
    """Restrict processing to storage from now on, and cancel the jobs still waiting.

    One D1 batch records the request, sets `restricted_at`, logs `restriction_on` and queues
    a confirming mail in `language`. Raises InvalidInput (`reason_required`,
    `reason_too_long`), Conflict (`already_restricted`), TooManyRequests
    (`too_many_restrictions`) or NotFound (the account is gone); each writes nothing.
    """
    text = _check_reason(reason)
    db, now = runtime.db, runtime.clock.now()
    request = PrivacyRequest(
        id=new_id(),
        account_id=account.id,
        kind="restriction",
        status="active",
        requested_by="owner",
        created_at=int(now),
        reason=text,
    )
    recorded = "EXISTS (SELECT 1 FROM privacy_requests WHERE id = ?)"
    record = db.prepare(
        "INSERT INTO privacy_requests"
        " (id, account_id, kind, status, requested_by, created_at, reason)"
        " SELECT ?, ?, 'restriction', 'active', 'owner', ?, ?"
        " WHERE EXISTS (SELECT 1 FROM accounts WHERE id = ?)"
        " AND NOT EXISTS (SELECT 1 FROM privacy_requests"
        "  WHERE account_id = ? AND kind = 'restriction' AND status = 'active')"
        " AND (SELECT COUNT(*) FROM privacy_requests"
        "  WHERE account_id = ? AND kind = 'restriction' AND created_at > ?) < ?"
    ).bind(
        request.id,
        account.id,
        request.created_at,
        text,
        account.id,
        account.id,
        account.id,
        int(now - LIMIT_WINDOW_SECONDS),
        MAX_RESTRICTIONS,
    )
    mark = db.prepare(
        "UPDATE accounts SET restricted_at = ? WHERE id = ?"
        " AND EXISTS (SELECT 1 FROM privacy_requests WHERE id = ?)"
    ).bind(request.created_at, account.id, request.id)
    confirm = confirmation_statements(
        runtime,
        account,
        kind="restriction_on",
        message=RESTRICTION_ON,
        key=f"restriction-on:{request.id}",
        client=client,
        language=language,
        only_if=recorded,
        only_if_params=(request.id,),
    )
    results = await db.batch([record, mark, *confirm])
    if results[0].meta.changes == 0:
        if (await get_account(db, account.id)).is_restricted:  # NotFound once it is gone
            raise Conflict(ALREADY_RESTRICTED, code="already_restricted")
        raise TooManyRequests(
            TOO_OFTEN, code="too_many_restrictions", params={"limit": MAX_RESTRICTIONS}
        )
    await cancel_waiting_generations(runtime, account_id=account.id)
    return request


async def lift_restriction(
    runtime: Runtime, account: Account, *, client: Client, language: str
) -> None:
    """End the active restriction: processing follows the account's choices again.

    One D1 batch marks the request `lifted`, clears `restricted_at`, logs `restriction_off`
    and queues a confirming mail in `language`. Raises Conflict (`not_restricted`) when no
    restriction is active.
    """
    db, now = runtime.db, int(runtime.clock.now())
    active = await (
        db.prepare(
            "SELECT id FROM privacy_requests"
            " WHERE account_id = ? AND kind = 'restriction' AND status = 'active'"
        )
        .bind(account.id)
        .first("id")
    )
    if active is None:
        raise Conflict(NOT_RESTRICTED, code="not_restricted")
    request_id = str(active)
    lifted = (
        "EXISTS (SELECT 1 FROM privacy_requests WHERE id = ? AND status = 'lifted'"
        " AND finished_at = ?)"
    )
    end = db.prepare(
        "UPDATE privacy_requests SET status = 'lifted', finished_at = ?"
        " WHERE id = ? AND status = 'active'"
    ).bind(now, request_id)
    clear = db.prepare(
        "UPDATE accounts SET restricted_at = NULL WHERE id = ? AND EXISTS (SELECT 1"
        " FROM privacy_requests WHERE id = ? AND status = 'lifted' AND finished_at = ?)"
    ).bind(account.id, request_id, now)
    confirm = confirmation_statements(
        runtime,
        account,
        kind="restriction_off",
        message=RESTRICTION_OFF,
        key=f"restriction-off:{request_id}",
        client=client,
        language=language,
        only_if=lifted,
        only_if_params=(request_id, now),
    )
    results = await db.batch([end, clear, *confirm])
    if results[0].meta.changes == 0:  # lifted by a concurrent request
        raise Conflict(NOT_RESTRICTED, code="not_restricted")


def _check_reason(reason: str) -> str:
    text = reason.strip()
    if not text:
        raise InvalidInput(
            N_("Tell us why you restrict processing, in a few words."),
            code="reason_required",
            field="reason",
        )
    if len(text) > MAX_REASON_CHARS:
        raise InvalidInput(
            N_("Keep the reason to %(limit)s characters; it has %(count)s."),
            code="reason_too_long",
            field="reason",
            params={"limit": MAX_REASON_CHARS, "count": len(text)},
        )
    return text
