"""The gallery and track pages: player, download, delete, licence, the free tier's countdown."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response

from beatbun.api.audio import audio_response
from beatbun.api.deps import CurrentAccount, RuntimeDep
from beatbun.generation.composer.styles import GENRES
from beatbun.tracks.licence import licence_certificate
from beatbun.tracks.service import delete_track, tracks_of
from beatbun.tracks.store import get_track
from beatbun.web.forms import see_other
from beatbun.web.templates import templates

router = APIRouter()


@router.get("/tracks", response_class=HTMLResponse)
async def gallery(request: Request, account: CurrentAccount, runtime: RuntimeDep) -> HTMLResponse:
    page: HTMLResponse = templates.TemplateResponse(
        request,
        "tracks/gallery.html",
        {
            "tracks": await tracks_of(runtime, account_id=account.id),
            "now": runtime.clock.now(),
            "genres": GENRES,
        },
    )
    return page


@router.get("/tracks/{track_id}")
async def track_page(
    track_id: str, request: Request, account: CurrentAccount, runtime: RuntimeDep
) -> Response:
    """The track's page; JSON with the waveform peaks for the studio's player, which asks so."""
    wants_json = "application/json" in request.headers.get("accept", "")
    track = await get_track(
        runtime.db, account_id=account.id, track_id=track_id, with_peaks=wants_json
    )
    now = runtime.clock.now()
    # The same URL answers the page and the script: a cache must keep them apart.
    vary = {"vary": "accept"}
    if wants_json:
        return JSONResponse(
            {
                **track.to_public(now),
                "audio_url": f"/tracks/{track.id}/audio",
                "peaks": track.peaks,
            },
            headers=vary,
        )
    page: HTMLResponse = templates.TemplateResponse(
        request,
        "tracks/track.html",
        {
            "track": track,
            "now": now,
            "genres": GENRES,
            "certificate": licence_certificate(track, settings=runtime.settings),
        },
        headers=vary,
    )
    return page


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


@router.post("/tracks/{track_id}/delete")
async def remove(track_id: str, account: CurrentAccount, runtime: RuntimeDep) -> Response:
    await delete_track(runtime, account_id=account.id, track_id=track_id)
    return see_other("/tracks")
