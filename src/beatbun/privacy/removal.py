"""Taking away everything of one claimed account: R2, its Durable Object, Stripe, then D1.

The order makes every step safe to repeat. The ledger entry comes first, then what lives
outside D1 (found again from D1 on a rerun), and last one D1 batch that copies the payments
the law makes us keep into `retained_payments`, deletes every row holding the account's id,
addresses or pseudonyms, queues the closing mail, and deletes the account row. The account
row goes last, so until the batch commits the account stays claimed and the cron finishes it.
What an operator wrote (campaigns, replies in other people's support requests) stays, without
its author: it is part of what was sent to someone else.

The append-only tables (`consent_records`, `credit_ledger`) accept these deletes only while
the account is claimed (migration 0038). Tables keyed by a pseudonym of the address
(`login_failures`, `reset_requests`) are matched by the SHA-256 of every address the account
used; analytics rows carry only a daily salted hash of a browser cookie, linked to no account.
"""

from __future__ import annotations

from typing import get_args

from beatbun.accounts.tokens import hash_token, new_id
from beatbun.billing.gateway import delete_customer
from beatbun.billing.plans import Retention
from beatbun.i18n import DEFAULT_LANGUAGE
from beatbun.mail import mailqueue
from beatbun.mail.catalogue import ERASURE_DONE
from beatbun.mail.compose import AccountMail
from beatbun.privacy import ledger, mail
from beatbun.privacy.export import CLAIM_SECONDS, export_prefix
from beatbun.runtime.base import Runtime, Statement
from beatbun.tracks.deletion import delete_keys
from beatbun.tracks.models import blob_prefix_for

# HGB §257 (4), AO §147 (3): ten years, from the end of the calendar year of the payment.
KEEP_PAYMENTS_YEARS = 10

# Tables whose rows name the account in `account_id`, children before parents. The foreign
# keys would cascade most of them; deleting each by name does not depend on that.
# `support_messages` are the children of `support_tickets`, deleted just before them.
ACCOUNT_TABLES = (
    "support_tickets",
    "marketing_consents",
    "policy_notices",
    "sign_in_devices",
    "track_exports",
    "tracks",
    "jobs",
    "render_line",
    "render_slots",
    "credit_ledger",
    "wallets",
    "payments",
    "subscriptions",
    "checkout_sessions",
    "billing_customers",
    "privacy_requests",
    "privacy_choices",
    "guardians",
    "sessions",
    "email_tokens",
    "recovery_codes",
    "api_keys",
    "security_events",
    "account_preferences",
)


def account_prefixes(account_id: str) -> list[str]:
    """Every bucket prefix that holds only this account's objects."""
    return [
        *(
            blob_prefix_for(retention=retention, account_id=account_id)
            for retention in get_args(Retention)
        ),
        export_prefix(account_id),
    ]


async def remove_account(runtime: Runtime, account_id: str, *, notify: bool) -> bool:
    """Erase the claimed account; with `notify`, a scheduled request's owner is told.

    Its exports no builder holds are failed, without a mail (no builder takes an export of
    a claimed account). Returns False, leaving the account claimed for the next cron run,
    while a live builder is making one: its zip could otherwise land after the erasure.
    """
    db = runtime.db
    account = await db.prepare("SELECT * FROM accounts WHERE id = ?").bind(account_id).first()
    if account is None:
        return True  # erased by an earlier run: its batch took everything at once
    if await _export_under_way(runtime, account_id):
        return False
    request = await (
        db.prepare(
            "SELECT r.created_at, r.requested_by, r.language AS asked_in, p.language"
            " FROM privacy_requests AS r"
            " LEFT JOIN account_preferences AS p ON p.account_id = r.account_id"
            " WHERE r.account_id = ? AND r.kind = 'erasure' AND r.status = 'scheduled'"
        )
        .bind(account_id)
        .first()
    )
    now = int(runtime.clock.now())
    requested_at = int(request["created_at"]) if request else now
    await ledger.record_erasure(runtime.blobs, account_id, requested_at=requested_at, erased_at=now)
    await _delete_objects(runtime, account_id)
    queue = runtime.user_queues
    await queue.get(queue.id_from_name(account_id)).call("forget")
    customer = await (
        db.prepare("SELECT customer_id FROM billing_customers WHERE account_id = ?")
        .bind(account_id)
        .first("customer_id")
    )
    if customer is not None:
        await delete_customer(runtime.settings, runtime.fetcher, str(customer))
    addresses = await _addresses(runtime, account_id, email=str(account["email"]))
    statements = _row_statements(runtime, account_id, addresses=addresses)
    if notify and request is not None:
        # The account's own language; the parent's is the one they asked in.
        language = str(request["language"] or request["asked_in"] or DEFAULT_LANGUAGE)
        statements.append(
            _closing_mail(runtime, mail.ERASURE_DONE, to=str(account["email"]), language=language)
        )
        if request["requested_by"] == "parent" and account["parent_email"]:
            to = str(account["parent_email"])
            statements.append(
                _closing_mail(
                    runtime, mail.PARENT_ERASURE_DONE, to=to, language=str(request["asked_in"])
                )
            )
    statements.append(
        db.prepare("DELETE FROM accounts WHERE id = ? AND erasure_due_at = 0").bind(account_id)
    )
    await db.batch(statements)
    return True


async def _export_under_way(runtime: Runtime, account_id: str) -> bool:
    """Whether a live builder holds an export of the account, once the others are failed."""
    db, now = runtime.db, int(runtime.clock.now())
    stale = now - CLAIM_SECONDS
    results = await db.batch(
        [
            db.prepare(
                "UPDATE privacy_requests SET status = 'failed', finished_at = ?, claimed_at = NULL"
                " WHERE account_id = ? AND kind = 'export' AND (status = 'pending'"
                " OR (status = 'building' AND claimed_at <= ?))"
            ).bind(now, account_id, stale),
            db.prepare(
                "SELECT 1 AS found FROM privacy_requests WHERE account_id = ? AND kind = 'export'"
                " AND status = 'building' LIMIT 1"
            ).bind(account_id),
        ]
    )
    return bool(results[1].results)


async def _delete_objects(runtime: Runtime, account_id: str) -> None:
    """Every object under the account's prefixes, and any key its rows name elsewhere."""
    named = (
        await runtime.db.prepare(
            "SELECT blob_key FROM tracks WHERE account_id = ? UNION"
            " SELECT blob_key FROM privacy_requests WHERE account_id = ? AND blob_key IS NOT NULL"
        )
        .bind(account_id, account_id)
        .all()
    ).results
    await delete_keys(runtime.blobs, [str(row["blob_key"]) for row in named])
    for prefix in account_prefixes(account_id):
        while True:
            listing = await runtime.blobs.list(prefix=prefix)
            if not listing.objects:
                break
            await runtime.blobs.delete([found.key for found in listing.objects])


async def _addresses(runtime: Runtime, account_id: str, *, email: str) -> list[str]:
    """Every address of the account's own: the current one and any it changed to or from.

    A parent's address is not among them: it may also be the parent's own account's.
    """
    rows = (
        await runtime.db.prepare("SELECT email FROM email_tokens WHERE account_id = ?")
        .bind(account_id)
        .all()
    ).results
    return sorted({email, *(str(row["email"]) for row in rows)})


def _row_statements(runtime: Runtime, account_id: str, *, addresses: list[str]) -> list[Statement]:
    db = runtime.db
    marks = ", ".join("?" * len(addresses))
    hashes = [hash_token(address) for address in addresses]
    subjects = [f"account:{digest}" for digest in hashes]
    return [
        _retain_payments(runtime, account_id),
        # Mails about the account to someone else (its parent) carry its id in their key.
        db.prepare(
            "DELETE FROM mail_queue WHERE account_id = ? OR link_account_id = ?"  # noqa: S608 (marks only)
            f" OR recipient IN ({marks}) OR instr(idempotency_key, ?) > 0"
        ).bind(account_id, account_id, *addresses, account_id),
        db.prepare("DELETE FROM consent_records WHERE subject = ?").bind(f"account:{account_id}"),
        db.prepare(
            "DELETE FROM support_messages WHERE ticket_id IN"
            " (SELECT id FROM support_tickets WHERE account_id = ?)"
        ).bind(account_id),
        # What an operator wrote stays with what was sent and answered, without its author.
        db.prepare("UPDATE campaigns SET created_by = NULL WHERE created_by = ?").bind(account_id),
        db.prepare("UPDATE support_messages SET operator_id = NULL WHERE operator_id = ?").bind(
            account_id
        ),
        *(
            db.prepare(f"DELETE FROM {table} WHERE account_id = ?").bind(account_id)  # noqa: S608 (constant names)
            for table in ACCOUNT_TABLES
        ),
        db.prepare(
            f"DELETE FROM login_failures WHERE subject IN ({marks}, ?)"  # noqa: S608 (marks only)
        ).bind(*subjects, f"code:{account_id}"),
        db.prepare(f"DELETE FROM reset_requests WHERE email_hash IN ({marks})").bind(*hashes),  # noqa: S608 (marks only)
    ]


def _retain_payments(runtime: Runtime, account_id: str) -> Statement:
    """Copy the account's payments without anything that names or reaches the person."""
    return runtime.db.prepare(
        "INSERT OR IGNORE INTO retained_payments (reference, paid_at, kind, item, amount,"
        " currency, status, amount_refunded, charge, kept_until)"
        " SELECT id, created_at, kind, item, amount, currency, status, amount_refunded, paid_by,"
        " CAST(strftime('%s', printf('%04d-01-01',"
        " CAST(strftime('%Y', created_at, 'unixepoch') AS INTEGER) + ?)) AS INTEGER)"
        " FROM payments WHERE account_id = ?"
    ).bind(KEEP_PAYMENTS_YEARS + 1, account_id)


def _closing_mail(runtime: Runtime, closing: AccountMail, *, to: str, language: str) -> Statement:
    """The last mail to an address; the queue forgets the address once it is sent.

    Neither its key nor its row names the erased account (no `account_id`): once sent, nothing
    of the account is left in the queue.
    """
    message = closing.compose(to=to, language=language, site=runtime.settings.site_name)
    message_id = new_id()
    return mailqueue.enqueue_statement(
        runtime.db,
        message_id=message_id,
        key=f"erasure-done:{message_id}",
        message=message,
        now=runtime.clock.now(),
        forget_recipient=True,
        kind=ERASURE_DONE.kind,
    )
