"""Buying and downloading a track's exports from the library and the track page.

Each export is offered as a button with its price that opens a confirmation (`<details>`, as
deleting does); confirming posts the form (CSRF as every form), and the page it returns to
lists the download links. A failed purchase shows the track page with the error.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from beatbun.api.deps import CurrentAccount, RuntimeDep
from beatbun.api.exports import export_response
from beatbun.billing.pricing import EXPORT_KINDS, ExportKind
from beatbun.errors import AppError, InvalidInput
from beatbun.i18n import N_
from beatbun.tracks.exports import buy_export
from beatbun.web.forms import form_values, see_other
from beatbun.web.tracks import page_back, render_track_page

router = APIRouter()


@router.post("/tracks/{track_id}/exports", response_model=None)
async def buy(
    track_id: str, request: Request, account: CurrentAccount, runtime: RuntimeDep
) -> Response:
    form = form_values(await request.form())
    try:
        kind = _kind_of(form.get("kind", ""))
        await buy_export(runtime, account=account, track_id=track_id, kind=kind)
    except AppError as exc:
        return await render_track_page(request, runtime, account, track_id=track_id, error=exc)
    return see_other(f"{page_back(form, default=f'/tracks/{track_id}')}#exports-{track_id}")


@router.get("/tracks/{track_id}/exports/{kind}")
@router.head("/tracks/{track_id}/exports/{kind}", include_in_schema=False)
async def download(
    track_id: str, kind: str, request: Request, account: CurrentAccount, runtime: RuntimeDep
) -> Response:
    return await export_response(
        request, runtime, account_id=account.id, track_id=track_id, kind=_kind_of(kind)
    )


@router.get("/tracks/{track_id}/exports/stems/{stem}")
@router.head("/tracks/{track_id}/exports/stems/{stem}", include_in_schema=False)
async def download_stem(
    track_id: str, stem: str, request: Request, account: CurrentAccount, runtime: RuntimeDep
) -> Response:
    return await export_response(
        request, runtime, account_id=account.id, track_id=track_id, kind="stems", stem=stem
    )


def _kind_of(value: str) -> ExportKind:
    for kind in EXPORT_KINDS:
        if kind == value:
            return kind
    raise InvalidInput(
        N_("Choose FLAC, MIDI or stems, not '%(kind)s'."),
        code="invalid_export_kind",
        params={"kind": value},
    )
