"""`/api/docs`: the API reference as a plain page, read from the app's own OpenAPI schema.

Swagger UI needs CDN scripts and an inline script, which the CSP forbids; this page needs
neither, and links to `/api/openapi.json` for tools.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from beatbun.api.deps import API_PREFIX
from beatbun.web.templates import templates

router = APIRouter()
METHODS = ("get", "post", "put", "patch", "delete")


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    summary: str
    description: str


@router.get("/api/docs", response_class=HTMLResponse, include_in_schema=False)
async def api_reference(request: Request) -> HTMLResponse:
    operations = list_operations(request.app.openapi())
    page: HTMLResponse = templates.TemplateResponse(
        request, "api/docs.html", {"operations": operations, "openapi_url": request.app.openapi_url}
    )
    return page


def list_operations(schema: dict[str, Any]) -> list[Operation]:
    """The `/api/` operations of an OpenAPI schema, in path order."""
    return [
        Operation(
            method=method.upper(),
            path=path,
            summary=str(spec.get("summary", "")),
            description=str(spec.get("description", "")),
        )
        for path, item in sorted(schema.get("paths", {}).items())
        if path.startswith(API_PREFIX)
        for method, spec in item.items()
        if method in METHODS
    ]
