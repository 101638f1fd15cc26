"""`/api/v1/tracks`: list, read, download (with ranges) and delete finished tracks."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from beatbun.api.audio import audio_response
from beatbun.api.deps import CurrentApiCaller, RuntimeDep
from beatbun.tracks.service import delete_track, tracks_of
from beatbun.tracks.store import get_track

router = APIRouter(prefix="/api/v1")


@router.get("/tracks")
async def read_tracks(caller: CurrentApiCaller, runtime: RuntimeDep) -> dict[str, Any]:
    caller.require("read")
    now = runtime.clock.now()
    return {
        "data": [
            track.to_public(now) for track in await tracks_of(runtime, account_id=caller.account.id)
        ]
    }


@router.get("/tracks/{track_id}")
async def read_track(
    track_id: str, caller: CurrentApiCaller, runtime: RuntimeDep
) -> dict[str, Any]:
    caller.require("read")
    track = await get_track(runtime.db, account_id=caller.account.id, track_id=track_id)
    return track.to_public(runtime.clock.now())


@router.get("/tracks/{track_id}/audio")
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


@router.delete("/tracks/{track_id}", status_code=204)
async def remove_track(track_id: str, caller: CurrentApiCaller, runtime: RuntimeDep) -> Response:
    caller.require("generate")
    await delete_track(runtime, account_id=caller.account.id, track_id=track_id)
    return Response(status_code=204)
