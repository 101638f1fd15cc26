"""The library and track pages, their forms, and the public pages of shared tracks.

Every action is a form post answered with 303 (or, for a failed one, the page again with the
error next to its field); `static/js/library.js` enhances the favourite toggle, copies share
links and ticks the countdowns. The track page's URL also answers JSON, for the studio's player.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from pydantic import BaseModel

from beatbun.accounts.artist import find_public_profile
from beatbun.accounts.models import Account
from beatbun.api.audio import audio_response
from beatbun.api.deps import CurrentAccount, RuntimeDep
from beatbun.errors import AppError, InvalidInput
from beatbun.generation.catalogue import GENRES
from beatbun.generation.derived import (
    extend_track,
    extension_offers,
    find_source,
    recorded_request,
    vary_track,
)
from beatbun.i18n import N_
from beatbun.runtime.base import Runtime
from beatbun.tracks.deletion import (
    UNDO_SECONDS,
    delete_track,
    find_deleted_track,
    restore_track,
)
from beatbun.tracks.exports import export_offers
from beatbun.tracks.library import LibraryQuery, genres_in_library, library_page
from beatbun.tracks.licence import licence_certificate
from beatbun.tracks.remix import settings_of
from beatbun.tracks.service import mark_favourite, rename_track
from beatbun.tracks.sharing import get_shared_track, revoke_share, share_track
from beatbun.tracks.store import get_track
from beatbun.web.choices import language_of
from beatbun.web.forms import NO_REFERRER, form_values, see_other
from beatbun.web.i18n import error_text
from beatbun.web.templates import templates

router = APIRouter()

LIBRARY = "/tracks"
# Bars of the static waveform drawn from the stored peaks.
WAVE_BARS = 160
# A shared track's page and audio stay out of search engines and caches, and its URL (which
# holds the token) out of Referer headers.
PUBLIC_HEADERS = {"x-robots-tag": "noindex", "cache-control": "no-store", **NO_REFERRER}


class FavouriteState(BaseModel):
    id: str
    favourite: bool


@router.get("/tracks", response_class=HTMLResponse)
async def library(request: Request, account: CurrentAccount, runtime: RuntimeDep) -> HTMLResponse:
    error: InvalidInput | None = None
    try:
        query = LibraryQuery.parse(dict(request.query_params))
    except InvalidInput as exc:
        error, query = exc, LibraryQuery()
    page = await library_page(runtime.db, account_id=account.id, query=query)
    deleted_id = request.query_params.get("deleted")
    deleted = (
        await find_deleted_track(runtime, account_id=account.id, track_id=deleted_id)
        if deleted_id
        else None
    )
    now = runtime.clock.now()
    response: HTMLResponse = templates.TemplateResponse(
        request,
        "tracks/library.html",
        {
            "page": page,
            "query": query,
            "genres": GENRES,
            "library_genres": await genres_in_library(runtime.db, account_id=account.id),
            "exports": await export_offers(runtime, page.tracks),
            "extensions": {
                track.id: extension_offers(runtime.settings, track) for track in page.tracks
            },
            "request_token": secrets.token_hex(16),
            "now": now,
            "deleted": deleted,
            "undo_left": deleted.undo_seconds_left(now) if deleted else 0,
            "undo_seconds": UNDO_SECONDS,
            # Forms on the page come back to it: the same search, filters and page.
            "back": _library_url(
                query.params(**{"after": query.after or "", "before": query.before or ""})
            ),
            "page_url": lambda **cursor: _library_url(query.params(**cursor)),
            "error": error_text(error, language_of(request)) if error else None,
        },
        status_code=error.status if error else 200,
    )
    return response


@router.get("/tracks/{track_id}")
async def track_page(
    track_id: str, request: Request, account: CurrentAccount, runtime: RuntimeDep
) -> Response:
    """The track's page; JSON with the waveform peaks for the studio's player, which asks so."""
    if "application/json" in request.headers.get("accept", ""):
        track = await get_track(
            runtime.db, account_id=account.id, track_id=track_id, with_peaks=True
        )
        return JSONResponse(
            {
                **track.to_public(runtime.clock.now()),
                "audio_url": f"/tracks/{track.id}/audio",
                "peaks": track.peaks,
            },
            # The same URL answers the page and the script: no cache may hand one for the other.
            headers={"vary": "accept", "cache-control": "private, no-store"},
        )
    return await render_track_page(request, runtime, account, track_id=track_id)


@router.get("/tracks/{track_id}/licence.txt")
async def track_licence(track_id: str, account: CurrentAccount, runtime: RuntimeDep) -> Response:
    """The licence certificate, a plain-text file in English (a legal document)."""
    track = await get_track(runtime.db, account_id=account.id, track_id=track_id)
    certificate = licence_certificate(track, settings=runtime.settings)
    return PlainTextResponse(
        certificate.text,
        headers={
            "content-disposition": f'attachment; filename="{track.file_stem}-licence.txt"',
            "cache-control": "private, no-store",
        },
    )


@router.get("/tracks/{track_id}/audio")
@router.head("/tracks/{track_id}/audio", include_in_schema=False)
async def track_audio(
    track_id: str,
    request: Request,
    account: CurrentAccount,
    runtime: RuntimeDep,
    download: bool = False,
) -> Response:
    track = await get_track(runtime.db, account_id=account.id, track_id=track_id)
    return await audio_response(request, runtime, track, download=download)


@router.post("/tracks/{track_id}/rename", response_model=None)
async def rename(
    track_id: str, request: Request, account: CurrentAccount, runtime: RuntimeDep
) -> Response:
    form = form_values(await request.form())
    try:
        await rename_track(
            runtime, account_id=account.id, track_id=track_id, title=form.get("title", "")
        )
    except InvalidInput as exc:
        return await render_track_page(
            request, runtime, account, track_id=track_id, error=exc, values=form
        )
    return see_other(page_back(form, default=f"/tracks/{track_id}"))


@router.post("/tracks/{track_id}/favourite", response_model=None)
async def favourite(
    track_id: str, request: Request, account: CurrentAccount, runtime: RuntimeDep
) -> FavouriteState | Response:
    form = form_values(await request.form())
    state = FavouriteState(id=track_id, favourite=form.get("favourite") == "1")
    await mark_favourite(
        runtime, account_id=account.id, track_id=track_id, favourite=state.favourite
    )
    if "application/json" in request.headers.get("accept", ""):
        return state
    return see_other(page_back(form, default=f"/tracks/{track_id}"))


@router.post("/tracks/{track_id}/delete")
async def remove(track_id: str, account: CurrentAccount, runtime: RuntimeDep) -> Response:
    await delete_track(runtime, account_id=account.id, track_id=track_id)
    return see_other(_library_url({"deleted": track_id}))


@router.post("/tracks/{track_id}/restore")
async def restore(
    track_id: str, request: Request, account: CurrentAccount, runtime: RuntimeDep
) -> Response:
    form = form_values(await request.form())
    await restore_track(runtime, account_id=account.id, track_id=track_id)
    return see_other(page_back(form, default=LIBRARY))


@router.post("/tracks/{track_id}/again", response_model=None)
async def make_variation(
    track_id: str, request: Request, account: CurrentAccount, runtime: RuntimeDep
) -> Response:
    """A variation: the same settings and a new seed, charged as any track of its length."""
    form = form_values(await request.form())
    try:
        submission = await vary_track(
            runtime,
            account=account,
            track_id=track_id,
            idempotency_key=form.get("request_token") or None,
        )
    except AppError as exc:
        return await render_track_page(request, runtime, account, track_id=track_id, error=exc)
    return see_other(f"/studio?job={submission.job.id}")


@router.post("/tracks/{track_id}/extend", response_model=None)
async def extend(
    track_id: str, request: Request, account: CurrentAccount, runtime: RuntimeDep
) -> Response:
    """The track continued by the chosen seconds, charged for those seconds."""
    form = form_values(await request.form())
    try:
        submission = await extend_track(
            runtime,
            account=account,
            track_id=track_id,
            seconds=_seconds_of(form.get("seconds", "")),
            idempotency_key=form.get("request_token") or None,
        )
    except AppError as exc:
        return await render_track_page(
            request, runtime, account, track_id=track_id, error=exc, values=form
        )
    return see_other(f"/studio?job={submission.job.id}")


@router.post("/tracks/{track_id}/share")
async def share(track_id: str, account: CurrentAccount, runtime: RuntimeDep) -> Response:
    await share_track(runtime.db, account_id=account.id, track_id=track_id)
    return see_other(f"/tracks/{track_id}#share")


@router.post("/tracks/{track_id}/unshare")
async def unshare(track_id: str, account: CurrentAccount, runtime: RuntimeDep) -> Response:
    await revoke_share(runtime.db, account_id=account.id, track_id=track_id)
    return see_other(f"/tracks/{track_id}#share")


@router.get("/s/{token}", response_class=HTMLResponse)
async def shared_page(token: str, request: Request, runtime: RuntimeDep) -> HTMLResponse:
    """A shared track for anyone with the link: the player, the music, and of its owner only
    the public profile they chose to fill in."""
    track = await get_shared_track(runtime.db, token=token, with_peaks=True)
    artist = await find_public_profile(runtime.db, track.account_id)
    response: HTMLResponse = templates.TemplateResponse(
        request,
        "tracks/shared.html",
        {
            "track": track,
            "token": token,
            "artist": artist,
            "genres": GENRES,
            "wave": waveform_path(track.peaks or []),
        },
        headers=PUBLIC_HEADERS,
    )
    return response


@router.get("/s/{token}/audio")
@router.head("/s/{token}/audio", include_in_schema=False)
async def shared_audio(token: str, request: Request, runtime: RuntimeDep) -> Response:
    track = await get_shared_track(runtime.db, token=token)
    response = await audio_response(request, runtime, track, download=False)
    response.headers.update(PUBLIC_HEADERS)
    return response


def waveform_path(peaks: list[list[float]], *, bars: int = WAVE_BARS) -> str:
    """An SVG path of `bars` bars (viewBox 0 0 bars 100) from the stored (min, max) peaks."""
    if not peaks:
        return ""
    parts = []
    count = len(peaks)
    for bar in range(bars):
        start = bar * count // bars
        chunk = peaks[start : max((bar + 1) * count // bars, start + 1)]
        low = max(-1.0, min(pair[0] for pair in chunk))
        high = min(1.0, max(pair[1] for pair in chunk))
        top = 50 - high * 50
        height = max((high - low) * 50, 1.0)
        parts.append(f"M{bar}.15 {top:.1f}h.7v{height:.1f}h-.7z")
    return "".join(parts)


async def render_track_page(
    request: Request,
    runtime: Runtime,
    account: Account,
    *,
    track_id: str,
    error: AppError | None = None,
    values: Mapping[str, str] | None = None,
) -> HTMLResponse:
    track = await get_track(runtime.db, account_id=account.id, track_id=track_id, with_peaks=True)
    errors = {}
    if error is not None:
        # The page has inputs for the title and the seconds to add; any other field's error
        # (a variation's lyrics the composer cannot sing, say) is the form's.
        field = getattr(error, "field", None)
        shown = field if field in ("title", "seconds") else "form"
        errors[shown] = error_text(error, language_of(request))
    settings = settings_of(track, requested=await recorded_request(runtime, track))
    page: HTMLResponse = templates.TemplateResponse(
        request,
        "tracks/track.html",
        {
            "track": track,
            "exports": await export_offers(runtime, [track]),
            "now": runtime.clock.now(),
            "genres": GENRES,
            "certificate": licence_certificate(track, settings=runtime.settings),
            "wave": waveform_path(track.peaks or []),
            "studio_url": "/studio?" + urlencode(settings, doseq=True),
            "share_url": (
                f"{request.url.scheme}://{request.url.netloc}/s/{track.share_token}"
                if track.share_token
                else None
            ),
            "errors": errors,
            "error_code": error.code if error is not None else None,
            "values": dict(values or {}),
            "request_token": secrets.token_hex(16),
            "extensions": {track.id: extension_offers(runtime.settings, track)},
            "source": await find_source(runtime, track),
            "undo_seconds": UNDO_SECONDS,
        },
        status_code=error.status if error is not None else 200,
        headers={"vary": "accept"},
    )
    return page


def _seconds_of(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise InvalidInput(
            N_("Choose how many seconds to add."), code="invalid_seconds", field="seconds"
        ) from None


def page_back(form: Mapping[str, str], *, default: str) -> str:
    """Where a form asked to return: a library or track page of this site, else `default`."""
    back = form.get("back", "")
    if back == LIBRARY or back.startswith((f"{LIBRARY}?", f"{LIBRARY}/")):
        return back
    return default


def _library_url(params: Mapping[str, str]) -> str:
    return f"{LIBRARY}?{urlencode(params)}" if params else LIBRARY
