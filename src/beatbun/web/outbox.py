"""`/dev/outbox`: the local mailer's messages, for developers; a 404 in production.

Each message's HTML version is served on its own (`/dev/outbox/<n>.html`, `n` counting from
the newest) under a policy of its own, so it shows as a mail client shows it: its inline
styles and `data:` images, no script, nothing fetched, and an origin of its own (`sandbox`).
The page frames it by `src`; every other page keeps the site's strict policy.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from beatbun.api.deps import RuntimeDep
from beatbun.errors import NotFound
from beatbun.errors_http import NOTHING_HERE
from beatbun.runtime.base import MailMessage, Outbox, Runtime
from beatbun.web.templates import templates

MAIL_HTML_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'; sandbox"
)

router = APIRouter()


@router.get("/dev/outbox", response_class=HTMLResponse)
async def outbox(request: Request, runtime: RuntimeDep) -> HTMLResponse:
    page: HTMLResponse = templates.TemplateResponse(
        request, "dev/outbox.html", {"messages": _messages(request, runtime)}
    )
    return page


@router.get("/dev/outbox/{number}.html", response_class=HTMLResponse)
async def outbox_html(number: int, request: Request, runtime: RuntimeDep) -> HTMLResponse:
    messages = _messages(request, runtime)
    if not 1 <= number <= len(messages) or not messages[number - 1].html:
        raise NotFound(NOTHING_HERE, params={"path": request.url.path})
    return HTMLResponse(
        messages[number - 1].html,
        headers={"content-security-policy": MAIL_HTML_POLICY, "x-frame-options": "SAMEORIGIN"},
    )


def _messages(request: Request, runtime: Runtime) -> list[MailMessage]:
    """The outbox, newest first; NotFound in production or without a local outbox."""
    mailer = runtime.mailer
    if runtime.settings.is_production or not isinstance(mailer, Outbox):
        raise NotFound(NOTHING_HERE, params={"path": request.url.path})
    return mailer.messages()
