"""Reading everything we hold about one account into the export's models (`exportschema`).

Each table that holds the account's id, address or consent subject is read here, whole: the
export is the person's right of access, so nothing is cut to a page. Each query selects, under
the model's field names, exactly what the model holds, so a secret is never selected. pydantic
turns the stored Unix times into UTC datetimes and SQLite's 0/1 into booleans.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import TypeVar

from pydantic import BaseModel

from beatbun.accounts.security_log import EVENT_LABELS
from beatbun.billing.credits import Note
from beatbun.mail.mailqueue import MAX_ATTEMPTS as MAIL_ATTEMPTS
from beatbun.privacy import exportschema as schema
from beatbun.runtime.base import Database, Row, SqlValue
from beatbun.tracks.models import Track
from beatbun.tracks.store import COLUMNS as TRACK_COLUMNS
from beatbun.tracks.store import track_from_row

# A track whose row is being erased now (`tracks.deletion` sets 0) is no longer held.
ERASING = 0
# The `last_error` of news and offers queued, then not sent because consent was withdrawn.
WITHHELD = "withheld"
Model = TypeVar("Model", bound=BaseModel)


def audio_path(track: Track) -> str:
    """Where a track's audio goes in the zip."""
    return f"tracks/{track.id}-{track.slug}.{track.extension}"


def metadata_path(track: Track) -> str:
    return f"tracks/{track.id}.json"


async def collect_export_data(
    db: Database, *, account_id: str, schema_url: str, now: float
) -> tuple[schema.ExportData, list[Track]]:
    """The account's data, and its live tracks (whose audio the zip carries).

    Each live track's `audio_file` is where its audio will be; the builder clears it for a track
    whose audio is gone. Raises LookupError when the account no longer exists.
    """
    account = await _record(db, schema.Profile, _PROFILE, account_id, adapt=_objections)
    if account is None:
        raise LookupError(f"Account {account_id!r} no longer exists.")
    track_rows = (
        await db.prepare(
            f"SELECT {TRACK_COLUMNS}, deleted_at FROM tracks WHERE account_id = ?"  # noqa: S608 (a constant column list)
            " AND (deleted_at IS NULL OR deleted_at <> ?) ORDER BY created_at, id"
        )
        .bind(account_id, ERASING)
        .all()
    ).results
    choices = await _records(
        db,
        schema.CookieChoice,
        "SELECT policy_version, performance, functionality, marketing, source, gpc_override,"
        " recorded_at, given_at FROM consent_records WHERE subject = ? ORDER BY recorded_at, rowid",
        f"account:{account_id}",
    )
    data = schema.ExportData(
        format="beatbun-export",
        version=2,
        schema_url=schema_url,
        generated_at=datetime.fromtimestamp(now, UTC),
        secrets_left_out=list(schema.SECRETS_LEFT_OUT),
        account=account,
        preferences=await _record(
            db,
            schema.Preferences,
            "SELECT theme, language, updated_at FROM account_preferences WHERE account_id = ?",
            account_id,
        ),
        guardian=await _record(
            db,
            schema.Guardian,
            "SELECT email, link_sent_at, consent_name, declaration_version, consented_at"
            " FROM guardians WHERE account_id = ?",
            account_id,
        ),
        emails=await _records(
            db,
            schema.Email,
            "SELECT kind, recipient, subject, created_at, sent_at, failed_at, bounced_at,"
            " attempts, CASE WHEN bounced_at IS NOT NULL THEN 'bounced'"
            " WHEN sent_at IS NOT NULL THEN 'sent'"
            " WHEN failed_at IS NOT NULL AND last_error = ? THEN 'withheld'"
            " WHEN failed_at IS NOT NULL OR attempts >= ? THEN 'failed'"
            " ELSE 'queued' END AS status FROM mail_queue"
            " WHERE (recipient = ? OR link_account_id = ? OR account_id = ?) AND recipient <> ''"
            " ORDER BY created_at, id",
            WITHHELD,
            MAIL_ATTEMPTS,
            account.email,
            account_id,
            account_id,
        ),
        email_links=await _records(
            db,
            schema.EmailLink,
            "SELECT purpose, email, created_at, expires_at, used_at FROM email_tokens"
            " WHERE account_id = ? ORDER BY created_at",
            account_id,
        ),
        marketing_consents=await _records(
            db,
            schema.MarketingConsent,
            "SELECT action, source, email, wording_version, campaign_id, ip, user_agent,"
            " recorded_at FROM marketing_consents WHERE account_id = ?"
            " ORDER BY recorded_at, rowid",
            account_id,
        ),
        policy_notices=await _records(
            db,
            schema.PolicyNotice,
            "SELECT document, version, notified_at, acknowledged_at FROM policy_notices"
            " WHERE account_id = ? ORDER BY COALESCE(notified_at, acknowledged_at), document,"
            " version",
            account_id,
        ),
        sessions=await _records(
            db,
            schema.SessionRecord,
            "SELECT stage, ip, user_agent, created_at, last_seen_at, revoked_at,"
            " reauthenticated_at FROM sessions WHERE account_id = ? ORDER BY created_at",
            account_id,
        ),
        sign_in_devices=await _records(
            db,
            schema.SignInDevice,
            "SELECT device, first_seen_at, last_seen_at FROM sign_in_devices"
            " WHERE account_id = ? ORDER BY first_seen_at, device",
            account_id,
        ),
        security_log=await _records(
            db,
            schema.SecurityEvent,
            "SELECT kind, at, ip, user_agent FROM security_events WHERE account_id = ?"
            " ORDER BY at, id",
            account_id,
            adapt=lambda row: {
                **row,
                "description": EVENT_LABELS.get(str(row["kind"]), row["kind"]),
            },
        ),
        api_keys=await _records(
            db,
            schema.ApiKey,
            "SELECT name, prefix, scopes, created_at, last_used_at, revoked_at FROM api_keys"
            " WHERE account_id = ? ORDER BY created_at",
            account_id,
            adapt=lambda row: {**row, "scopes": str(row["scopes"]).split()},
        ),
        cookie_choices=choices,
        current_cookie_choice=choices[-1] if choices else None,
        objections=await _records(
            db,
            schema.ObjectionChange,
            "SELECT purpose, objects, wording_version, source, recorded_at"
            " FROM privacy_choices WHERE account_id = ? ORDER BY recorded_at, rowid",
            account_id,
        ),
        privacy_requests=await _records(
            db,
            schema.PrivacyRequest,
            "SELECT id, kind, status, requested_by, created_at, due_at, finished_at, size, reason"
            " FROM privacy_requests WHERE account_id = ? ORDER BY created_at, rowid",
            account_id,
        ),
        support_tickets=await _support_tickets(db, account_id),
        generation_jobs=await _records(
            db,
            schema.GenerationJob,
            "SELECT id, status, request, cost, provider, plan, track_id, error_code,"
            " error_message, idempotency_key, created_at, started_at, finished_at FROM jobs"
            " WHERE account_id = ? ORDER BY created_at, id",
            account_id,
            adapt=lambda row: {
                **row,
                "request": json.loads(str(row["request"])),
                "plan": None if row["plan"] is None else json.loads(str(row["plan"])),
            },
        ),
        tracks=[_track(track_from_row(row), deleted_at=row["deleted_at"]) for row in track_rows],
        track_exports=await _records(
            db,
            schema.TrackExport,
            "SELECT id, track_id, kind, status, cost, size_bytes, error_code, created_at,"
            " finished_at FROM track_exports WHERE account_id = ? ORDER BY created_at, id",
            account_id,
        ),
        billing=await _billing(db, account_id),
    )
    return data, [track_from_row(row) for row in track_rows if row["deleted_at"] is None]


def track_record(track: Track, *, audio_file: str | None) -> schema.Track:
    """A live track as `tracks/<id>.json` and `data.json` give it."""
    return _track(track, deleted_at=None).model_copy(update={"audio_file": audio_file})


_PROFILE = (
    "SELECT id, email, display_name, birth_date, age_group, parent_email, parent_named_at,"
    " parent_consented_at, email_verified_at, created_at, artist_name, bio, link,"
    " CASE WHEN totp_secret IS NULL THEN NULL ELSE totp_enabled_at END AS two_step_enabled_at,"
    " (SELECT COUNT(*) FROM recovery_codes WHERE account_id = accounts.id AND used_at IS NULL)"
    " AS recovery_codes_left, password_locked_at AS password_login_locked_at,"
    " is_admin AS is_operator, objects_to_analytics, objects_to_marketing,"
    " objects_to_prompt_use, restricted_at, erasure_due_at, marketing_opt_in_at"
    " FROM accounts WHERE id = ?"
)


async def _support_tickets(db: Database, account_id: str) -> list[schema.SupportTicket]:
    """The account's tickets, each with its whole conversation (operators stay unnamed)."""
    messages = (
        await db.prepare(
            "SELECT m.ticket_id, m.author, m.body, m.created_at FROM support_messages AS m"
            " JOIN support_tickets AS t ON t.id = m.ticket_id WHERE t.account_id = ?"
            " ORDER BY m.created_at, m.rowid"
        )
        .bind(account_id)
        .all()
    ).results
    threads: dict[str, list[schema.SupportMessage]] = {}
    for row in messages:
        message = schema.SupportMessage.model_validate(
            {name: value for name, value in row.items() if name != "ticket_id"}
        )
        threads.setdefault(str(row["ticket_id"]), []).append(message)
    return await _records(
        db,
        schema.SupportTicket,
        "SELECT id, number, category, subject, status, job_id, track_id, language, due_at,"
        " created_at, updated_at, closed_at FROM support_tickets WHERE account_id = ?"
        " ORDER BY number",
        account_id,
        adapt=lambda row: (
            {name: value for name, value in row.items() if name != "id"}
            | {"messages": threads.get(str(row["id"]), [])}
        ),
    )


def _objections(row: Row) -> Mapping[str, object]:
    """The account row with its three objection columns as one `objections` object."""
    kept = {name: value for name, value in row.items() if not name.startswith("objects_to_")}
    return kept | {
        "objections": {
            "analytics": row["objects_to_analytics"],
            "marketing": row["objects_to_marketing"],
            "prompt_use": row["objects_to_prompt_use"],
        }
    }


async def _billing(db: Database, account_id: str) -> schema.Billing:
    customer = (
        await db.prepare("SELECT customer_id FROM billing_customers WHERE account_id = ?")
        .bind(account_id)
        .first("customer_id")
    )
    return schema.Billing(
        customer_id=None if customer is None else str(customer),
        wallet=await _record(
            db,
            schema.Wallet,
            "SELECT plan, balance, granted_for, updated_at FROM wallets WHERE account_id = ?",
            account_id,
        ),
        credit_ledger=await _records(
            db,
            schema.LedgerEntry,
            "SELECT id, kind, amount, balance_after, job_id, note, note_params, created_at"
            " FROM credit_ledger WHERE account_id = ? ORDER BY id",
            account_id,
            adapt=_ledger_note,
        ),
        subscriptions=await _records(
            db,
            schema.Subscription,
            "SELECT id, plan, status, current_period_end, cancel_at_period_end, grace_until,"
            " held_plan, held_until, created_at FROM subscriptions WHERE account_id = ?"
            " ORDER BY created_at, id",
            account_id,
        ),
        payments=await _records(
            db,
            schema.Payment,
            "SELECT id, kind, item, amount, currency, status, credits, paid_by, amount_refunded,"
            " url, created_at FROM payments WHERE account_id = ? ORDER BY created_at, id",
            account_id,
        ),
        checkouts=await _records(
            db,
            schema.Checkout,
            "SELECT id, mode, item, status, created_at, updated_at FROM checkout_sessions"
            " WHERE account_id = ? ORDER BY created_at, id",
            account_id,
        ),
    )


def _ledger_note(row: Row) -> Mapping[str, object]:
    """The row with its note in English, its placeholders filled."""
    note = Note(str(row["note"]), json.loads(str(row["note_params"])))
    return {name: value for name, value in row.items() if name != "note_params"} | {
        "note": note.text
    }


def _track(track: Track, *, deleted_at: SqlValue) -> schema.Track:
    fields = {name: getattr(track, name) for name in _TRACK_FIELDS}
    return schema.Track.model_validate(
        fields
        | {
            "genre": track.genre,
            "shared": track.share_token is not None,
            "deleted_at": deleted_at,
            "audio_file": audio_path(track) if deleted_at is None else None,
        }
    )


# What a track's record copies from the track as it is.
_TRACK_FIELDS = (
    "id",
    "job_id",
    "title",
    "prompt",
    "plan",
    "media_type",
    "duration_seconds",
    "size_bytes",
    "retention",
    "licence",
    "licence_plan",
    "licensed_at",
    "favourite",
    "created_at",
    "expires_at",
)


async def _records(
    db: Database,
    model: type[Model],
    sql: str,
    *params: SqlValue,
    adapt: Callable[[Row], Mapping[str, object]] | None = None,
) -> list[Model]:
    """Every row of `sql` as a `model` (through `adapt` for what a column cannot say)."""
    rows = (await db.prepare(sql).bind(*params).all()).results
    return [model.model_validate(adapt(row) if adapt else row) for row in rows]


async def _record(
    db: Database,
    model: type[Model],
    sql: str,
    *params: SqlValue,
    adapt: Callable[[Row], Mapping[str, object]] | None = None,
) -> Model | None:
    found = await _records(db, model, sql, *params, adapt=adapt)
    return found[0] if found else None
