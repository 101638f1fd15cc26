"""`/api/v1/tracks`: list, read, download (with ranges) and delete finished tracks."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from beatbun.api.audio import audio_response
from beatbun.api.deps import CurrentApiCaller, RuntimeDep
from beatbun.i18n import N_
from beatbun.tracks.service import delete_track, tracks_of
from beatbun.tracks.store import get_track

router = APIRouter(prefix="/api/v1")


@router.get(
    "/tracks",
    summary=N_("List tracks"),
    description=N_(
        "Your finished tracks, newest first, each with how long it is kept. Needs the read scope."
    ),
)
async def read_tracks(caller: CurrentApiCaller, runtime: RuntimeDep) -> dict[str, Any]:
    caller.require("read")
    now = runtime.clock.now()
    return {
        "data": [
            track.to_public(now) for track in await tracks_of(runtime, account_id=caller.account.id)
        ]
    }


@router.get(
    "/tracks/{track_id}",
    summary=N_("Read a track"),
    description=N_(
        "One track: its title, prompt, length, size, how long it is kept and where its audio "
        "is. Needs the read scope."
    ),
)
async def read_track(
    track_id: str, caller: CurrentApiCaller, runtime: RuntimeDep
) -> dict[str, Any]:
    caller.require("read")
    track = await get_track(runtime.db, account_id=caller.account.id, track_id=track_id)
    return track.to_public(runtime.clock.now())


@router.get(
    "/tracks/{track_id}/audio",
    summary=N_("Download a track's audio"),
    description=N_(
        "The audio file, whole or in HTTP ranges; with download=true it comes as an "
        "attachment. Needs the read scope."
    ),
)
async def read_track_audio(
    track_id: str,
    request: Request,
    caller: CurrentApiCaller,
    runtime: RuntimeDep,
    download: bool = False,
) -> Response:
    caller.require("read")
    track = await get_track(runtime.db, account_id=caller.account.id, track_id=track_id)
    return await audio_response(request, runtime, track, download=download)


@router.delete(
    "/tracks/{track_id}",
    status_code=204,
    summary=N_("Delete a track"),
    description=N_("Delete a track and its audio for good. Needs the generate scope."),
)
async def remove_track(track_id: str, caller: CurrentApiCaller, runtime: RuntimeDep) -> Response:
    caller.require("generate")
    await delete_track(runtime, account_id=caller.account.id, track_id=track_id)
    return Response(status_code=204)
