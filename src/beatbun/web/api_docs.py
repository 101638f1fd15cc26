"""`/docs/api`: the API reference as a plain page, read from the app's own OpenAPI schema.

It is a page like any other (session, consent, display choices), so it lives outside `/api/`,
where requests are API calls; `/api/docs` only redirects here.

Swagger UI needs CDN scripts and an inline script, which the CSP forbids; this page needs
neither, and links to `/api/openapi.json` for tools. The schema stays English; each route's
`summary` and `description` are `N_` strings, so this page shows them in the reader's language.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from beatbun.api.deps import API_PREFIX
from beatbun.i18n import translate
from beatbun.web.choices import language_of
from beatbun.web.templates import templates

router = APIRouter()
REFERENCE_PATH = "/docs/api"
METHODS = ("get", "post", "put", "patch", "delete")


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    summary: str
    description: str


@router.get("/api/docs", include_in_schema=False)
async def api_reference_redirect() -> RedirectResponse:
    return RedirectResponse(REFERENCE_PATH, status_code=308)


@router.get(REFERENCE_PATH, response_class=HTMLResponse, include_in_schema=False)
async def api_reference(request: Request) -> HTMLResponse:
    operations = list_operations(request.app.openapi(), language_of(request))
    page: HTMLResponse = templates.TemplateResponse(
        request, "api/docs.html", {"operations": operations, "openapi_url": request.app.openapi_url}
    )
    return page


def list_operations(schema: dict[str, Any], language: str) -> list[Operation]:
    """The `/api/` operations of an OpenAPI schema, in path order, their text in `language`."""
    return [
        Operation(
            method=method.upper(),
            path=path,
            summary=_translated(language, spec.get("summary")),
            description=_translated(language, spec.get("description")),
        )
        for path, item in sorted(schema.get("paths", {}).items())
        if path.startswith(API_PREFIX)
        for method, spec in item.items()
        if method in METHODS
    ]


def _translated(language: str, text: object) -> str:
    # gettext("") is the catalog's header, not an empty text.
    return translate(language, text) if isinstance(text, str) and text else ""
