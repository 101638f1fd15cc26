"""`/dev/outbox`: the local mailer's messages, for developers; a 404 in production."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from beatbun.api.deps import RuntimeDep
from beatbun.errors import NotFound
from beatbun.errors_http import NOTHING_HERE
from beatbun.runtime.base import Outbox
from beatbun.web.templates import templates

router = APIRouter()


@router.get("/dev/outbox", response_class=HTMLResponse)
async def outbox(request: Request, runtime: RuntimeDep) -> HTMLResponse:
    mailer = runtime.mailer
    if runtime.settings.is_production or not isinstance(mailer, Outbox):
        raise NotFound(NOTHING_HERE, params={"path": request.url.path})
    page: HTMLResponse = templates.TemplateResponse(
        request, "dev/outbox.html", {"messages": mailer.messages()}
    )
    return page
