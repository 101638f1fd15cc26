"""Turn errors into responses: JSON for `/api`, an error page for everything else."""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.exceptions import HTTPException

from beatbun.errors import AppError
from beatbun.web.templates import templates

API_PREFIX = "/api/"


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _app_error)  # type: ignore[arg-type]
    app.add_exception_handler(HTTPException, _http_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _validation_error)  # type: ignore[arg-type]


async def _app_error(request: Request, exc: AppError) -> Response:
    # Some errors carry headers their status needs (Retry-After on 429, WWW-Authenticate on 401).
    headers: dict[str, str] | None = getattr(exc, "headers", None)
    return _respond(request, exc.status, exc.code, exc.message, headers=headers)


async def _http_error(request: Request, exc: HTTPException) -> Response:
    code = HTTPStatus(exc.status_code).phrase.lower().replace(" ", "_")
    message = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
    if exc.status_code == 404:
        message = f"Nothing is at {request.url.path}."
    return _respond(request, exc.status_code, code, message, headers=exc.headers)


async def _validation_error(request: Request, exc: RequestValidationError) -> Response:
    first = exc.errors()[0] if exc.errors() else {}
    where = ".".join(str(part) for part in first.get("loc", ()) if part != "body")
    message = f"{where}: {first.get('msg', 'invalid value')}" if where else "Invalid request."
    return _respond(request, 422, "invalid_input", message)


def _respond(
    request: Request,
    status: int,
    code: str,
    message: str,
    *,
    headers: Mapping[str, str] | None = None,
) -> Response:
    # Scripts that enhance a page ask for JSON so they can show the message themselves.
    wants_json = "application/json" in request.headers.get("accept", "")
    if request.url.path.startswith(API_PREFIX) or request.url.path == "/healthz" or wants_json:
        return JSONResponse(
            {"error": code, "message": message}, status_code=status, headers=headers
        )
    page: HTMLResponse = templates.TemplateResponse(
        request,
        "errors/error.html",
        {"status": status, "title": HTTPStatus(status).phrase, "message": message},
        status_code=status,
        headers=headers,
    )
    return page
