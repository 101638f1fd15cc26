"""The gallery: a user's tracks with player, download, delete and the free tier's countdown."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from beatbun.api.audio import audio_response
from beatbun.api.deps import CurrentAccount, RuntimeDep
from beatbun.generation.composer.styles import GENRES
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
async def track_details(
    track_id: str, account: CurrentAccount, runtime: RuntimeDep
) -> dict[str, Any]:
    """The track with its waveform peaks, for the studio's player."""
    track = await get_track(runtime.db, account_id=account.id, track_id=track_id, with_peaks=True)
    return {
        **track.to_public(runtime.clock.now()),
        "audio_url": f"/tracks/{track.id}/audio",
        "peaks": track.peaks,
    }


@router.get("/tracks/{track_id}/audio")
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
