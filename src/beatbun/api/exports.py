"""`/api/v1/tracks/{id}/exports`: buy a track's FLAC, MIDI or stems once, then download them."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict

from beatbun.api.audio import ranged_response
from beatbun.api.deps import CurrentApiCaller, RuntimeDep
from beatbun.billing.pricing import ExportKind
from beatbun.i18n import N_
from beatbun.runtime.base import BlobStream, ByteRange, Runtime
from beatbun.tracks.exports import (
    ExportOffer,
    buy_export,
    export_gone,
    export_offers,
    get_export,
    offers_for,
)
from beatbun.tracks.service import AudioRange
from beatbun.tracks.store import get_track

router = APIRouter(prefix="/api/v1")


class ExportOrder(BaseModel):
    """What `POST /api/v1/tracks/{id}/exports` buys."""

    model_config = ConfigDict(extra="forbid")

    kind: ExportKind


class ExportFile(BaseModel):
    # The stem's name for stems ("drums", "bass", "harmony", "lead", "pads"), else null.
    stem: str | None
    url: str
    file_name: str


class ExportItem(BaseModel):
    kind: ExportKind
    # Credits it costs; once bought, later downloads are free.
    price: int
    available: bool
    # Why it cannot be bought (English); null when it can.
    unavailable_reason: str | None
    # "not_bought", or the bought export's state: "pending" while it is being made, "ready".
    status: Literal["not_bought", "pending", "ready"]
    id: str | None
    # Bytes stored (the five stems together); null until ready.
    size_bytes: int | None
    bought_at: int | None
    files: list[ExportFile]


class ExportList(BaseModel):
    track_id: str
    data: list[ExportItem]


@router.get(
    "/tracks/{track_id}/exports",
    summary=N_("List a track's exports"),
    description=N_(
        "FLAC, MIDI and stems for the track: each with its price, whether it can be bought, "
        "and once bought, its download URLs. Needs the read scope."
    ),
)
async def read_exports(track_id: str, caller: CurrentApiCaller, runtime: RuntimeDep) -> ExportList:
    caller.require("read")
    track = await get_track(runtime.db, account_id=caller.account.id, track_id=track_id)
    offers = (await export_offers(runtime, [track]))[track.id]
    return ExportList(track_id=track.id, data=[export_item(track.id, offer) for offer in offers])


@router.post(
    "/tracks/{track_id}/exports",
    status_code=201,
    summary=N_("Buy a track export"),
    description=N_(
        'Buy the track\'s FLAC, MIDI or stems ({"kind": "flac"}, "midi" or "stems"): charged '
        "once, made at once and stored with the track's audio for as long as it is kept. "
        "Answers 201 when bought now and 200, charging nothing, when it was bought before. "
        "Stems and MIDI exist for tracks of the built-in composer only. Needs the generate scope."
    ),
)
async def create_export(
    track_id: str,
    order: ExportOrder,
    response: Response,
    caller: CurrentApiCaller,
    runtime: RuntimeDep,
) -> ExportItem:
    caller.require("generate")
    purchase = await buy_export(runtime, account=caller.account, track_id=track_id, kind=order.kind)
    if not purchase.created:
        response.status_code = 200
    track = await get_track(runtime.db, account_id=caller.account.id, track_id=track_id)
    offer = next(
        offer for offer in offers_for(track, [purchase.export]) if offer.kind == order.kind
    )
    return export_item(track.id, offer)


@router.get(
    "/tracks/{track_id}/exports/{kind}",
    summary=N_("Download a FLAC or MIDI export"),
    description=N_(
        "The bought FLAC or MIDI file, whole or in HTTP ranges, as an attachment. Needs the "
        "read scope."
    ),
)
@router.head("/tracks/{track_id}/exports/{kind}", include_in_schema=False)
async def read_export_file(
    track_id: str,
    kind: Literal["flac", "midi"],
    request: Request,
    caller: CurrentApiCaller,
    runtime: RuntimeDep,
) -> Response:
    caller.require("read")
    return await export_response(
        request, runtime, account_id=caller.account.id, track_id=track_id, kind=kind
    )


@router.get(
    "/tracks/{track_id}/exports/stems/{stem}",
    summary=N_("Download a stem"),
    description=N_(
        "One bought stem (drums, bass, harmony, lead or pads) as a WAV, whole or in HTTP "
        "ranges, as an attachment. Stems are taken before the master bus: they sum to the "
        "mix before its loudness gain and limiter. Needs the read scope."
    ),
)
@router.head("/tracks/{track_id}/exports/stems/{stem}", include_in_schema=False)
async def read_export_stem(
    track_id: str, stem: str, request: Request, caller: CurrentApiCaller, runtime: RuntimeDep
) -> Response:
    caller.require("read")
    return await export_response(
        request, runtime, account_id=caller.account.id, track_id=track_id, kind="stems", stem=stem
    )


def export_item(track_id: str, offer: ExportOffer) -> ExportItem:
    export = offer.export
    ready = export is not None and export.status == "ready"
    return ExportItem(
        kind=offer.kind,
        price=offer.price,
        available=offer.unavailable is None,
        unavailable_reason=offer.unavailable,
        status="not_bought" if export is None else "ready" if ready else "pending",
        id=None if export is None else export.id,
        size_bytes=export.size_bytes if export is not None and ready else None,
        bought_at=None if export is None else export.created_at,
        files=[
            ExportFile(
                stem=download.stem,
                url=f"/api/v1/tracks/{track_id}/{download.path}",
                file_name=download.file_name,
            )
            for download in offer.downloads
        ],
    )


async def export_response(
    request: Request,
    runtime: Runtime,
    *,
    account_id: str,
    track_id: str,
    kind: ExportKind,
    stem: str | None = None,
) -> Response:
    """A bought export (or one stem) served like the audio: ranges, If-None-Match, HEAD.

    Raises NotFound when it was not bought or is gone, RangeNotSatisfiable for a bad range.
    """
    track, stored, key = await get_export(
        runtime, account_id=account_id, track_id=track_id, kind=kind, stem=stem
    )

    async def opened(requested: AudioRange | None) -> BlobStream:
        range_ = (
            None
            if requested is None
            else ByteRange(offset=requested.start, length=requested.length)
        )
        stream = await runtime.blobs.stream(key, range=range_)
        if stream is None:  # removed between the head and the read
            raise export_gone(kind, track_id=track.id)
        return stream

    return await ranged_response(
        request,
        stored,
        opened,
        media_type=stored.http_metadata.content_type or "application/octet-stream",
        disposition=stored.http_metadata.content_disposition or "attachment",
        cache_control="private, no-store",
    )
