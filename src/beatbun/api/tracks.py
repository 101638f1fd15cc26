"""`/api/v1/tracks`: list, read, download (with ranges), rename, favourite, share and delete
finished tracks."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict

from beatbun.api.audio import audio_response
from beatbun.api.deps import CurrentApiCaller, RuntimeDep
from beatbun.i18n import N_
from beatbun.tracks.deletion import delete_track
from beatbun.tracks.licence import licence_certificate
from beatbun.tracks.service import mark_favourite, rename_track, tracks_of
from beatbun.tracks.sharing import revoke_share, share_track
from beatbun.tracks.store import get_track

router = APIRouter(prefix="/api/v1")


class TrackChanges(BaseModel):
    """What `PATCH /api/v1/tracks/{id}` may change; an empty title brings back the default."""

    model_config = ConfigDict(extra="forbid")

    title: str | None = None
    favourite: bool | None = None


class TrackState(BaseModel):
    id: str
    title: str
    favourite: bool
    shared: bool


class TrackShare(BaseModel):
    track_id: str
    # The public page; its audio is at `url` + "/audio". Anyone with it can play the track.
    url: str


class LicenceTerms(BaseModel):
    id: str
    name: str
    summary: str
    terms: list[str]


class TrackLicence(BaseModel):
    track_id: str
    title: str
    account_id: str
    created_at: int
    plan: str
    plan_name: str
    licence: LicenceTerms
    granted_at: int
    verification_code: str
    certificate: str


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
    "/tracks/{track_id}/licence",
    summary=N_("Read a track's licence"),
    description=N_(
        "The licence the track was made under, which does not change when your plan does: its "
        "terms, the plan that granted it, and the certificate as plain text (in English) with "
        "its verification code. Needs the read scope."
    ),
)
async def read_track_licence(
    track_id: str, caller: CurrentApiCaller, runtime: RuntimeDep
) -> TrackLicence:
    caller.require("read")
    track = await get_track(runtime.db, account_id=caller.account.id, track_id=track_id)
    certificate = licence_certificate(track, settings=runtime.settings)
    return TrackLicence(
        track_id=track.id,
        title=track.title,
        account_id=track.account_id,
        created_at=track.created_at,
        plan=track.licence_plan,
        plan_name=certificate.plan_name,
        licence=LicenceTerms(
            id=certificate.licence.id,
            name=certificate.licence.name,
            summary=certificate.licence.summary,
            terms=list(certificate.terms),
        ),
        granted_at=track.licensed_at,
        verification_code=certificate.code,
        certificate=certificate.text,
    )


@router.get(
    "/tracks/{track_id}/audio",
    summary=N_("Download a track's audio"),
    description=N_(
        "The audio file, whole or in HTTP ranges; with download=true it comes as an "
        "attachment. Needs the read scope."
    ),
)
# HEAD answers with the same headers and no body (players probe size and ranges with it).
@router.head("/tracks/{track_id}/audio", include_in_schema=False)
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
    description=N_(
        "Delete a track: it is gone from every list and link at once, and its audio is erased "
        "for good within the hour. Needs the generate scope."
    ),
)
async def remove_track(track_id: str, caller: CurrentApiCaller, runtime: RuntimeDep) -> Response:
    caller.require("generate")
    await delete_track(runtime, account_id=caller.account.id, track_id=track_id)
    return Response(status_code=204)


@router.patch(
    "/tracks/{track_id}",
    summary=N_("Rename or favourite a track"),
    description=N_(
        "Change the title (an empty title brings back the one made from the prompt) or the "
        "favourite mark. Needs the generate scope."
    ),
)
async def change_track(
    track_id: str, changes: TrackChanges, caller: CurrentApiCaller, runtime: RuntimeDep
) -> TrackState:
    caller.require("generate")
    account_id = caller.account.id
    if changes.title is not None:
        await rename_track(runtime, account_id=account_id, track_id=track_id, title=changes.title)
    if changes.favourite is not None:
        await mark_favourite(
            runtime, account_id=account_id, track_id=track_id, favourite=changes.favourite
        )
    track = await get_track(runtime.db, account_id=account_id, track_id=track_id)
    return TrackState(
        id=track.id,
        title=track.title,
        favourite=track.favourite,
        shared=track.share_token is not None,
    )


@router.post(
    "/tracks/{track_id}/share",
    summary=N_("Share a track"),
    description=N_(
        "Make a public link that lets anyone play the track, without your account data; a "
        "track already shared keeps its link. Needs the generate scope."
    ),
)
async def share(
    track_id: str, request: Request, caller: CurrentApiCaller, runtime: RuntimeDep
) -> TrackShare:
    caller.require("generate")
    token = await share_track(runtime.db, account_id=caller.account.id, track_id=track_id)
    origin = f"{request.url.scheme}://{request.url.netloc}"
    return TrackShare(track_id=track_id, url=f"{origin}/s/{token}")


@router.delete(
    "/tracks/{track_id}/share",
    status_code=204,
    summary=N_("Stop sharing a track"),
    description=N_(
        "The public link stops working at once, and sharing again makes a new one. Needs the "
        "generate scope."
    ),
)
async def unshare(track_id: str, caller: CurrentApiCaller, runtime: RuntimeDep) -> Response:
    caller.require("generate")
    await revoke_share(runtime.db, account_id=caller.account.id, track_id=track_id)
    return Response(status_code=204)
