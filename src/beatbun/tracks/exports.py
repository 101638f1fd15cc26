"""Exports of a finished track: FLAC, MIDI and stems, bought once and stored beside the audio.

Buying is one D1 batch: the debit and the export's row, `pending` (`billing.credits.charge`
with `insert_export_statement`, whose guards allow no row without its debit and no debit
without its row). The export is then made in the same request, written to R2 in parts next
to the audio (`tracks.models.export_key_for`), and marked `ready` with its size. A failure
marks it `failed` and refunds it in one batch, exactly once (the ledger's one refund per
job id), and deletes what was written. A request that died midway leaves it `pending`:
`refund_stale_exports` (cron) fails and refunds it once `STALE_SECONDS` have passed, and the
user may buy it again. Asking for an export bought before charges nothing and returns it.

The exports follow the track's audio: R2's lifecycle rule expires them with it under
`tracks/free/`, `tracks.retention` moves them with it to `tracks/paid/`, and deletion
(`tracks.deletion`, `tracks.expiry`) removes them under both prefixes. An export whose track
moved while it was being made is moved after it (`exportfiles.follow_move`).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from beatbun.accounts.models import Account
from beatbun.accounts.service import require_spending_allowed
from beatbun.billing.credits import Note, charge, open_wallet, refund_statements
from beatbun.billing.notify import credits_low_statements
from beatbun.billing.pricing import EXPORT_KINDS, ExportKind, export_price_in_credits
from beatbun.errors import (
    AppError,
    ConstraintViolation,
    ExportUnavailable,
    NotFound,
    RuntimeFailure,
)
from beatbun.generation.composer.plan import COMPOSER_VERSION
from beatbun.i18n import N_
from beatbun.privacy.purposes import require_may_generate
from beatbun.runtime.base import BlobObject, Runtime
from beatbun.tracks.exportfiles import file_name_for, follow_move, store_export
from beatbun.tracks.exportstore import (
    NO_SUCH_TRACK,
    ONE_PER_KIND,
    TrackExport,
    exports_of_tracks,
    find_export,
    insert_export_statement,
    list_stale_exports,
    mark_failed_statement,
    mark_ready_statement,
)
from beatbun.tracks.models import STEMS, Track, export_key_for
from beatbun.tracks.store import get_track, track_not_found

# A pending export older than this was left by a request that died: the longest export (the
# stems of a 300 s track) takes seconds, and a Worker request at most a few minutes.
STALE_SECONDS = 15 * 60
STALE_PER_RUN = 100
NAMES: dict[ExportKind, str] = {
    "flac": N_("FLAC (lossless)"),
    "midi": N_("MIDI"),
    "stems": N_("Stems"),
}
STEM_NAMES: dict[str, str] = {
    "drums": N_("Drums"),
    "bass": N_("Bass"),
    "harmony": N_("Harmony"),
    "lead": N_("Lead"),
    "pads": N_("Pads and effects"),
}
EXPORT_GONE = N_("The %(kind)s export of track '%(id)s' is not available.")

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Download:
    """One file of an export: the whole export, or one of its stems."""

    kind: ExportKind
    stem: str | None
    path: str  # under the track's URL: "exports/flac", "exports/stems/drums"
    file_name: str
    label: str  # an `N_` string: "FLAC", "Drums", ...


@dataclass(frozen=True)
class ExportOffer:
    """What the pages and the API show of one kind of export for one track."""

    kind: ExportKind
    name: str  # an `N_` string
    price: int
    # The reason it cannot be bought, an `N_` string; None when it can.
    unavailable: str | None
    export: TrackExport | None
    downloads: list[Download]


@dataclass(frozen=True)
class Purchase:
    export: TrackExport
    # False when it was bought before: nothing was charged.
    created: bool


def offers_for(track: Track, exports: Iterable[TrackExport]) -> list[ExportOffer]:
    """The three kinds of export for the track, each with its price and, once bought, its files."""
    bought = {export.kind: export for export in exports}
    offers = []
    for kind in EXPORT_KINDS:
        export = bought.get(kind)
        ready = export is not None and export.status == "ready"
        offers.append(
            ExportOffer(
                kind=kind,
                name=NAMES[kind],
                price=export_price_in_credits(kind, duration_seconds=track.duration_seconds),
                unavailable=unavailable_reason(track, kind),
                export=export,
                downloads=downloads_of(track, kind) if ready else [],
            )
        )
    return offers


def unavailable_reason(track: Track, kind: ExportKind) -> str | None:
    """Why the track cannot have the export, an `N_` string; None when it can."""
    if kind == "flac":
        if track.media_type != "audio/wav":
            return N_("FLAC is made from WAV audio, and this track is not WAV.")
        return None
    if track.plan.get("provider") != "composer":
        return N_("Stems and MIDI exist only for tracks of the built-in composer.")
    if track.plan.get("composer_version") != COMPOSER_VERSION:
        return N_("Stems and MIDI exist only for tracks of the current composer.")
    return None


def downloads_of(track: Track, kind: ExportKind) -> list[Download]:
    if kind == "flac":
        return [Download("flac", None, "exports/flac", file_name_for(track, kind), N_("FLAC"))]
    if kind == "midi":
        return [Download("midi", None, "exports/midi", file_name_for(track, kind), N_("MIDI"))]
    return [
        Download(
            "stems",
            stem,
            f"exports/stems/{stem}",
            file_name_for(track, kind, stem),
            STEM_NAMES[stem],
        )
        for stem in STEMS
    ]


async def export_offers(runtime: Runtime, tracks: list[Track]) -> dict[str, list[ExportOffer]]:
    """The offers of each track, by track id, in one query per 99 tracks."""
    if not tracks:
        return {}
    exports = await exports_of_tracks(
        runtime.db, account_id=tracks[0].account_id, track_ids=[track.id for track in tracks]
    )
    return {track.id: offers_for(track, exports[track.id]) for track in tracks}


async def buy_export(
    runtime: Runtime, *, account: Account, track_id: str, kind: ExportKind
) -> Purchase:
    """Charge for the export, make it and store it; an export bought before is returned as is.

    Raises NotFound (not the account's live track), ExportUnavailable (the track cannot have
    it: nothing charged), ProcessingRestricted (the account restricted processing: an export
    bought before is still returned), PermissionDenied (the account may not spend),
    InsufficientCredits, or what making it raised, after refunding it.
    """
    track = await get_track(runtime.db, account_id=account.id, track_id=track_id)
    bought = await find_export(runtime.db, account_id=account.id, track_id=track.id, kind=kind)
    if bought is not None:
        return Purchase(export=bought, created=False)
    reason = unavailable_reason(track, kind)
    if reason is not None:
        raise ExportUnavailable(reason)
    require_may_generate(account)
    require_spending_allowed(account)
    now = runtime.clock.now()
    wallet = await open_wallet(runtime.db, account.id, now=now)
    export = TrackExport(
        id=uuid.uuid4().hex,
        account_id=account.id,
        track_id=track.id,
        kind=kind,
        status="pending",
        cost=export_price_in_credits(kind, duration_seconds=track.duration_seconds),
        size_bytes=0,
        error_code=None,
        created_at=int(now),
        finished_at=None,
    )
    db = runtime.db
    try:
        await charge(
            db,
            account_id=account.id,
            amount=export.cost,
            job_id=export.id,
            idempotency_key=f"export:{export.id}",
            along_with=insert_export_statement(db, export),
            now=now,
            note=Note(N_("Export: %(kind)s"), {"kind": kind}),
            then=await credits_low_statements(
                runtime,
                account_id=account.id,
                balance=wallet.balance,
                cost=export.cost,
                event=export.id,
            ),
        )
    except ConstraintViolation as exc:
        if exc.kind == "UNIQUE" and exc.target == ONE_PER_KIND:
            # A concurrent request bought it first: this one charged nothing.
            concurrent = await find_export(db, account_id=account.id, track_id=track.id, kind=kind)
            if concurrent is not None:
                return Purchase(export=concurrent, created=False)
        if exc.kind == "NOT NULL" and exc.target == NO_SUCH_TRACK:
            raise track_not_found(track.id) from None
        raise
    return Purchase(export=await _make(runtime, track, export), created=True)


async def get_export(
    runtime: Runtime, *, account_id: str, track_id: str, kind: ExportKind, stem: str | None = None
) -> tuple[Track, BlobObject, str]:
    """The track, the stored export (or stem) and its key, for a download.

    Raises NotFound when the export was not bought, is not ready, names no stem of ours, or
    its object is gone (R2's lifecycle rule removed it with the audio).
    """
    track = await get_track(runtime.db, account_id=account_id, track_id=track_id)
    export = await find_export(runtime.db, account_id=account_id, track_id=track.id, kind=kind)
    if export is None or export.status != "ready" or (kind == "stems") != (stem in STEMS):
        raise export_gone(kind, track_id=track.id)
    key = export_key_for(track.blob_key, kind=kind, stem=stem)
    stored = await runtime.blobs.head(key)
    if stored is None:
        raise export_gone(kind, track_id=track.id)
    return track, stored, key


def export_gone(kind: ExportKind, *, track_id: str) -> NotFound:
    return NotFound(EXPORT_GONE, code="export_not_found", params={"kind": kind, "id": track_id})


async def refund_stale_exports(runtime: Runtime) -> int:
    """Cron: fail and refund exports left pending by a request that died; how many."""
    now = runtime.clock.now()
    stale = await list_stale_exports(runtime.db, before=now - STALE_SECONDS, limit=STALE_PER_RUN)
    ended = 0
    for export in stale:
        if await _fail(runtime, export, code="export_interrupted", now=now):
            ended += 1
    return ended


async def _make(runtime: Runtime, track: Track, export: TrackExport) -> TrackExport:
    """Make the export and mark it ready; on any failure, fail and refund it, then raise."""
    written: list[str] = []
    try:
        size = await store_export(runtime, track, export.kind, written)
        now = runtime.clock.now()
        result = await mark_ready_statement(
            runtime.db, export_id=export.id, size_bytes=size, now=now
        ).run()
        if result.meta.changes == 0:
            # The cron found it stale and refunded it meanwhile: it stays failed.
            raise ExportUnavailable(
                N_("Making the export took too long. Your credits were refunded."),
                code="export_interrupted",
            )
    except Exception as exc:
        await runtime.blobs.delete(written)
        code = exc.code if isinstance(exc, AppError) else "export_failed"
        await _fail(runtime, export, code=code, now=runtime.clock.now())
        if isinstance(exc, AppError):
            raise
        log.exception("Making the %s export of track %s failed", export.kind, track.id)
        raise RuntimeFailure(
            N_("We could not make this export and refunded its credits. Please try again."),
            code="export_failed",
        ) from exc
    await follow_move(runtime, track, written)
    return TrackExport(
        **{**vars(export), "status": "ready", "size_bytes": size, "finished_at": int(now)}
    )


async def _fail(runtime: Runtime, export: TrackExport, *, code: str, now: float) -> bool:
    """Fail a pending export and refund it in one batch; False if it was no longer pending."""
    db = runtime.db
    results = await db.batch(
        [
            mark_failed_statement(db, export_id=export.id, code=code, now=now),
            *refund_statements(
                db,
                account_id=export.account_id,
                amount=export.cost,
                job_id=export.id,
                note=Note(N_("Refund: %(reason)s"), {"reason": code}),
                now=now,
                ended_in="track_exports",
            ),
        ]
    )
    return results[0].meta.changes == 1
