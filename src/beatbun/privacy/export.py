"""Export (the rights of access and portability): everything we hold about an account, as a zip.

A request (password confirmed in the last few minutes, one a day) is built in the background:
right after the response that made it, and by the cron for whatever that missed. The zip is
written to R2 in parts as it is made (`archive.zip_upload`): `data.json` with its schema, a
readable `summary.html`, `README.txt`, and every live track's audio (stored, not recompressed)
with its details. It can be downloaded for `EXPORT_DAYS`, again only with the password confirmed,
and is then deleted.

A builder claims a request with a guarded UPDATE. An export whose build raised is tried again
on the next run, up to `MAX_ATTEMPTS` builds, then failed; one whose builder died (the claim
is older than `CLAIM_SECONDS`) is taken over the same way. Until the upload completes nothing is
stored under the export's key, so a broken build never leaves half a zip to download.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from pydantic import BaseModel

from beatbun.accounts.models import Account, Client, Session
from beatbun.accounts.reauth import require_recent_password
from beatbun.accounts.security_log import record_event
from beatbun.accounts.tokens import new_id
from beatbun.errors import Conflict, NotFound, TooManyRequests
from beatbun.i18n import DEFAULT_LANGUAGE, LANGUAGES, N_
from beatbun.mail import catalogue
from beatbun.mail.compose import AccountMail
from beatbun.mail.mailqueue import enqueue_statement
from beatbun.privacy import exportschema, mail
from beatbun.privacy.archive import ZipArchive, zip_upload
from beatbun.privacy.exportdata import audio_path, collect_export_data, metadata_path, track_record
from beatbun.privacy.exportschema import SCHEMA_PATH, ExportData, export_schema
from beatbun.privacy.exportsummary import readme_text, render_summary
from beatbun.privacy.models import PrivacyRequest, RequestStatus
from beatbun.privacy.notices import PRIVACY_PAGE, confirmation_statements
from beatbun.privacy.requests import find_request, row_to_request
from beatbun.runtime.base import MAX_KEYS_PER_CALL, BlobStream, HttpMetadata, Runtime, Statement
from beatbun.tracks.models import Track

EXPORT_DAYS = 7
EXPORTS_PER_DAY = 1
DAY_SECONDS = 86400
# A cron run has 15 minutes of wall time; a claim older than that is a dead builder's.
CLAIM_SECONDS = 15 * 60
MAX_ATTEMPTS = 3
# Exports built by one run: a background task or cron run has bounded time.
BUILDS_PER_RUN = 3
EXPORT_PREFIX = "privacy-exports/"
LIMIT_REACHED = N_(
    "You can ask for one export a day. You can ask for the next one after %(time)s (UTC)."
)
NOT_READY = N_("This export is still being made. We will email you when it is ready.")
GONE = N_("This export is no longer available. You can ask for a new one.")
NO_SUCH_EXPORT = N_("Export %(id)s not found.")
BEING_ERASED = N_("The deletion of this account is already scheduled.")
# The request's account is being erased (`erasure_due_at` = 0, the erasure's claim); SQL for
# a query on `privacy_requests`.
ACCOUNT_BEING_ERASED = (
    "EXISTS (SELECT 1 FROM accounts WHERE accounts.id = privacy_requests.account_id"
    " AND accounts.erasure_due_at = 0)"
)

logger = logging.getLogger(__name__)


def export_prefix(account_id: str) -> str:
    """Where every export of an account is stored: `privacy-exports/<account>/`."""
    return f"{EXPORT_PREFIX}{account_id}/"


def export_key(account_id: str, request_id: str) -> str:
    return f"{export_prefix(account_id)}{request_id}.zip"


async def request_export(
    runtime: Runtime, account: Account, session: Session, *, client: Client, language: str
) -> PrivacyRequest:
    """Ask for an export; it is built in the background (`build_pending_exports`).

    Raises ReauthenticationRequired unless the password was confirmed within the window, and
    TooManyRequests (`export_limit`) when the account asked for one in the last 24 hours
    (failed ones do not count), and Conflict (`erasure_started`) once the account's erasure
    has started. The limit is the INSERT's own condition, so two requests at
    once cannot both pass it; the security-log event and the confirmation mail are written
    in the same batch, only with the request.
    """
    require_recent_password(runtime, session)
    db, now = runtime.db, runtime.clock.now()
    request = PrivacyRequest(
        id=new_id(),
        account_id=account.id,
        kind="export",
        status="pending",
        requested_by="owner",
        created_at=int(now),
    )
    insert = db.prepare(
        "INSERT INTO privacy_requests"
        " (id, account_id, kind, status, requested_by, created_at, language)"
        " SELECT ?, ?, 'export', 'pending', 'owner', ?, ?"
        " WHERE (SELECT COUNT(*) FROM privacy_requests WHERE account_id = ? AND kind = 'export'"
        " AND status <> 'failed' AND created_at > ?) < ? AND NOT EXISTS (SELECT 1 FROM"
        " accounts WHERE id = ? AND erasure_due_at = 0)"
    ).bind(
        request.id,
        account.id,
        request.created_at,
        # The summary and the mails are written in it later, so only a language we have.
        language if language in LANGUAGES else DEFAULT_LANGUAGE,
        account.id,
        now - DAY_SECONDS,
        EXPORTS_PER_DAY,
        account.id,
    )
    confirmations = confirmation_statements(
        runtime,
        account,
        kind="export_requested",
        message=mail.EXPORT_REQUESTED,
        key=f"export-requested:{request.id}",
        client=client,
        language=language,
        only_if="EXISTS (SELECT 1 FROM privacy_requests WHERE id = ?)",
        only_if_params=(request.id,),
    )
    results = await db.batch([insert, *confirmations])
    if results[0].meta.changes == 0:
        erasing = await (
            db.prepare("SELECT 1 AS found FROM accounts WHERE id = ? AND erasure_due_at = 0")
            .bind(account.id)
            .first()
        )
        if erasing is not None:
            raise Conflict(BEING_ERASED, code="erasure_started")
        raise await _limit_reached(runtime, account.id)
    return request


async def build_pending_exports(runtime: Runtime) -> int:
    """Build up to `BUILDS_PER_RUN` waiting exports, oldest first; returns how many are ready.

    For the cron, and for a route to run after its response. A build that raises is logged and
    its request tried again by a later run (or failed, and the person told, after
    `MAX_ATTEMPTS`); the other exports are built regardless. Accounts whose erasure has
    started are left alone: the erasure fails their exports.
    """
    db, now = runtime.db, runtime.clock.now()
    rows = (
        await db.prepare(
            "SELECT * FROM privacy_requests WHERE kind = 'export' AND (status = 'pending'"  # noqa: S608 (constant condition)
            " OR (status = 'building' AND claimed_at <= ?)) AND NOT "
            + ACCOUNT_BEING_ERASED
            + " ORDER BY created_at, rowid LIMIT ?"
        )
        .bind(now - CLAIM_SECONDS, BUILDS_PER_RUN)
        .all()
    ).results
    built = 0
    for row in rows:
        request, language = row_to_request(row), str(row["language"])
        if int(row["attempts"] or 0) >= MAX_ATTEMPTS:
            # Its last builder died: no more tries.
            await _fail(runtime, request, language=language, claimed_at=int(row["claimed_at"] or 0))
            continue
        claimed_at = int(runtime.clock.now())
        if not await _claim(runtime, request.id, claimed_at=claimed_at):
            continue  # another builder took it
        try:
            await _build(runtime, request, language=language, claimed_at=claimed_at)
        except Exception:
            # Kept for the next run (or failed, with a mail); never lost, never half stored.
            logger.exception("Building export %s failed", request.id)
            if int(row["attempts"] or 0) + 1 >= MAX_ATTEMPTS:
                await _fail(runtime, request, language=language, claimed_at=claimed_at)
            else:
                await _release(runtime, request.id, claimed_at=claimed_at)
            continue
        built += 1
    return built


async def open_export(
    runtime: Runtime,
    account: Account,
    session: Session,
    request_id: str,
    *,
    client: Client | None = None,
) -> BlobStream:
    """The account's ready export, opened for reading; logs `export_downloaded`.

    Raises ReauthenticationRequired unless the password was confirmed within the window,
    NotFound for another account's export or none, Conflict (`export_not_ready`) while it is
    being made, and NotFound (`export_expired`) once it failed or was deleted. `client`
    defaults to where the session was made.
    """
    require_recent_password(runtime, session)
    request = await find_request(runtime.db, account.id, request_id)
    if request is None or request.kind != "export":
        raise NotFound(NO_SUCH_EXPORT, params={"id": request_id})
    now = runtime.clock.now()
    if request.status in ("pending", "building"):
        raise Conflict(NOT_READY, code="export_not_ready")
    if request.status != "ready" or request.blob_key is None or (request.due_at or 0) <= now:
        raise NotFound(GONE, code="export_expired")
    stream = await runtime.blobs.stream(request.blob_key)
    if stream is None:
        raise NotFound(GONE, code="export_expired")
    await record_event(
        runtime.db,
        account_id=account.id,
        kind="export_downloaded",
        client=client or Client(ip=session.ip, user_agent=session.user_agent),
        now=now,
    )
    return stream


async def delete_expired_exports(runtime: Runtime) -> int:
    """Delete every export whose download time is over, and mark it expired; returns how many.

    The object goes first: a crash between leaves the row ready without its zip, which a
    download answers as expired and the next run marks.
    """
    db, deleted = runtime.db, 0
    while True:
        rows = (
            await db.prepare(
                "SELECT id, blob_key FROM privacy_requests WHERE kind = 'export'"
                " AND status = 'ready' AND due_at <= ? ORDER BY due_at LIMIT ?"
            )
            .bind(runtime.clock.now(), MAX_KEYS_PER_CALL)
            .all()
        ).results
        if not rows:
            return deleted
        await runtime.blobs.delete([str(row["blob_key"]) for row in rows if row["blob_key"]])
        await db.batch(
            [
                db.prepare(
                    "UPDATE privacy_requests SET status = 'expired', blob_key = NULL"
                    " WHERE id = ? AND status = 'ready'"
                ).bind(row["id"])
                for row in rows
            ]
        )
        deleted += len(rows)


async def _limit_reached(runtime: Runtime, account_id: str) -> TooManyRequests:
    """The error for a refused request, saying when the next one is allowed."""
    counted = (
        await runtime.db.prepare(
            "SELECT created_at FROM privacy_requests WHERE account_id = ? AND kind = 'export'"
            " AND status <> 'failed' AND created_at > ? ORDER BY created_at DESC LIMIT 1 OFFSET ?"
        )
        .bind(account_id, runtime.clock.now() - DAY_SECONDS, EXPORTS_PER_DAY - 1)
        .first("created_at")
    )
    # Without a counted request the race was lost to one that has since failed: now.
    next_at = runtime.clock.now() if counted is None else int(counted) + DAY_SECONDS
    return TooManyRequests(LIMIT_REACHED, code="export_limit", params={"time": _utc(next_at)})


async def _claim(runtime: Runtime, request_id: str, *, claimed_at: int) -> bool:
    result = (
        await runtime.db.prepare(
            "UPDATE privacy_requests SET status = 'building', claimed_at = ?,"  # noqa: S608 (constant condition)
            " attempts = attempts + 1 WHERE id = ? AND kind = 'export' AND attempts < ?"
            " AND (status = 'pending' OR (status = 'building' AND claimed_at <= ?))"
            " AND NOT " + ACCOUNT_BEING_ERASED
        )
        .bind(claimed_at, request_id, MAX_ATTEMPTS, claimed_at - CLAIM_SECONDS)
        .run()
    )
    return result.meta.changes == 1


async def _build(
    runtime: Runtime, request: PrivacyRequest, *, language: str, claimed_at: int
) -> None:
    db, settings = runtime.db, runtime.settings
    data, live = await collect_export_data(
        db,
        account_id=request.account_id,
        schema_url=f"{settings.public_url}{SCHEMA_PATH}",
        now=runtime.clock.now(),
    )
    key = export_key(request.account_id, request.id)
    when = data.generated_at
    http = HttpMetadata(
        content_type="application/zip",
        content_disposition=f'attachment; filename="beatbun-data-{when:%Y-%m-%d}.zip"',
    )
    async with zip_upload(runtime.blobs, key, http_metadata=http) as archive:
        tracks = {track.id: track for track in data.tracks}
        for track in live:
            tracks[track.id] = await _add_track(runtime, archive, track)
        data = data.model_copy(update={"tracks": list(tracks.values())})
        await archive.add_text("data.json", _json(data), when=when)
        await archive.add_text(
            "schema.json", json.dumps(export_schema(), indent=2).encode(), when=when
        )
        summary = render_summary(data, language=language, site_name=settings.site_name)
        await archive.add_text("summary.html", summary.encode(), when=when)
        readme = readme_text(
            data,
            language=language,
            site_name=settings.site_name,
            privacy_page=f"{settings.public_url}{PRIVACY_PAGE}",
        )
        await archive.add_text("README.txt", readme.encode(), when=when)
    if archive.stored is None:
        raise RuntimeError("zip_upload() left its block without storing the export.")
    await _mark_ready(
        runtime,
        request,
        data,
        size=archive.stored.size,
        language=language,
        claimed_at=claimed_at,
        key=key,
    )


async def _add_track(runtime: Runtime, archive: ZipArchive, track: Track) -> exportschema.Track:
    """The track's audio (if still stored) and its details; returns its record as written."""
    when = datetime.fromtimestamp(track.created_at, UTC)
    stream = await runtime.blobs.stream(track.blob_key)
    if stream is not None:
        await archive.add_stream(
            audio_path(track), stream.chunks, size=stream.object.size, when=when
        )
    record = track_record(track, audio_file=None if stream is None else audio_path(track))
    await archive.add_text(metadata_path(track), _json(record), when=when)
    return record


async def _mark_ready(
    runtime: Runtime,
    request: PrivacyRequest,
    data: ExportData,
    *,
    size: int,
    language: str,
    claimed_at: int,
    key: str,
) -> None:
    """Offer the download and mail the person; only while this builder still holds the claim
    and the account's erasure has not started.

    It is offered for `EXPORT_DAYS`, or until the account's scheduled erasure if sooner.
    """
    db, now = runtime.db, runtime.clock.now()
    due_at = int(now) + EXPORT_DAYS * DAY_SECONDS
    erasure_due_at = await (
        db.prepare("SELECT erasure_due_at FROM accounts WHERE id = ?")
        .bind(request.account_id)
        .first("erasure_due_at")
    )
    if erasure_due_at:
        due_at = min(due_at, int(erasure_due_at))
    ready = db.prepare(
        "UPDATE privacy_requests SET status = 'ready', blob_key = ?, size = ?, due_at = ?,"  # noqa: S608 (constant condition)
        " finished_at = ?, claimed_at = NULL WHERE id = ? AND status = 'building'"
        " AND claimed_at = ? AND NOT " + ACCOUNT_BEING_ERASED
    ).bind(key, size, due_at, int(now), request.id, claimed_at)
    notice = _notice(
        runtime,
        request,
        "ready",
        catalogue.EXPORT_READY.mail,
        to=data.account.email,
        language=language,
        kind=catalogue.EXPORT_READY.kind,
        until=_utc(due_at),
    )
    results = await db.batch([ready, notice])
    if (
        results[0].meta.changes == 0
        and await find_request(db, request.account_id, request.id) is None
    ):
        # The account was erased while its export was being made: keep nothing of it.
        await runtime.blobs.delete(key)


async def _release(runtime: Runtime, request_id: str, *, claimed_at: int) -> None:
    """Hand a claimed export back, for the next run to build again."""
    await (
        runtime.db.prepare(
            "UPDATE privacy_requests SET status = 'pending', claimed_at = NULL"
            " WHERE id = ? AND status = 'building' AND claimed_at = ?"
        )
        .bind(request_id, claimed_at)
        .run()
    )


async def _fail(
    runtime: Runtime, request: PrivacyRequest, *, language: str, claimed_at: int
) -> None:
    """Give up the export claimed at `claimed_at` and tell the person, who may ask again."""
    db, now = runtime.db, runtime.clock.now()
    email = (
        await db.prepare("SELECT email FROM accounts WHERE id = ?")
        .bind(request.account_id)
        .first("email")
    )
    failed = db.prepare(
        "UPDATE privacy_requests SET status = 'failed', finished_at = ?, claimed_at = NULL"
        " WHERE id = ? AND status = 'building' AND claimed_at = ?"
    ).bind(int(now), request.id, claimed_at)
    statements = [failed]
    if email is not None:
        statements.append(
            _notice(
                runtime, request, "failed", mail.EXPORT_FAILED, to=str(email), language=language
            )
        )
    await db.batch(statements)


def _notice(
    runtime: Runtime,
    request: PrivacyRequest,
    status: RequestStatus,
    message: AccountMail,
    *,
    to: str,
    language: str,
    kind: str = "account",
    **params: str,
) -> Statement:
    """Queue `message` (linking to the privacy page), once, if the export reached `status`."""
    settings = runtime.settings
    return enqueue_statement(
        runtime.db,
        message_id=new_id(),
        key=f"export-{status}:{request.id}",
        message=message.compose(
            to=to,
            language=language,
            site=settings.site_name,
            link=f"{settings.public_url}{PRIVACY_PAGE}",
            **params,
        ),
        now=runtime.clock.now(),
        only_if="EXISTS (SELECT 1 FROM privacy_requests WHERE id = ? AND status = ?)",
        only_if_params=(request.id, status),
        kind=kind,
        account_id=request.account_id,
    )


def _json(record: BaseModel) -> bytes:
    return record.model_dump_json(indent=2).encode()


def _utc(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M")
