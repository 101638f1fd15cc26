"""Turn errors into responses: JSON for `/api`, an error page for everything else.

API callers read `{"error": code, "message": ..., "field": ...}` with English messages (`field`
only when one input is to blame); pages, and the JSON their scripts ask for, say the same in
the reader's language.

`UnexpectedErrors` answers any other exception the same way, as a 500: Starlette's own last
resort (`ServerErrorMiddleware`) sits outside our middleware, so its plain-text 500 would leave
without the security headers.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import (
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
)
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from beatbun.api.deps import API_PREFIX
from beatbun.errors import AccountLocked, AppError, RuntimeFailure
from beatbun.i18n import N_, translate
from beatbun.privacy.notices import PRIVACY_PAGE
from beatbun.web.choices import language_of, load_choices
from beatbun.web.i18n import SERVICE_TROUBLE, error_text, error_title
from beatbun.web.shell import load_shell
from beatbun.web.templates import templates

NOTHING_HERE = N_("Nothing is at %(path)s.")
CHECK_FIELD = N_("Check %(field)s and try again.")
UNREADABLE = N_("The request could not be read.")
INTERNAL_ERROR = "internal_error"
INTERNAL_MESSAGE = "Something went wrong on our side. Try again in a moment."

logger = logging.getLogger(__name__)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _app_error)  # type: ignore[arg-type]
    app.add_exception_handler(HTTPException, _http_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _validation_error)  # type: ignore[arg-type]


async def _app_error(request: Request, exc: AppError) -> Response:
    if isinstance(exc, AccountLocked) and _wants_page(request):
        # A locked account's every page leads to where it can cancel its deletion.
        return RedirectResponse(PRIVACY_PAGE, status_code=303)
    if not isinstance(exc, RuntimeFailure):
        await _load_page_state(request)
    # Some errors carry headers their status needs (Retry-After on 429, WWW-Authenticate on 401).
    headers: dict[str, str] | None = getattr(exc, "headers", None)
    text = error_text(exc, language_of(request))
    field: str | None = getattr(exc, "field", None)
    return _respond(request, exc.status, exc.code, exc.message, text, field=field, headers=headers)


async def _http_error(request: Request, exc: HTTPException) -> Response:
    await _load_page_state(request)
    code = HTTPStatus(exc.status_code).phrase.lower().replace(" ", "_")
    language = language_of(request)
    if exc.status_code == 404:
        params = {"path": request.url.path}
        message, text = NOTHING_HERE % params, translate(language, NOTHING_HERE, params)
    else:
        message = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
        text = error_title(exc.status_code, language)
    return _respond(request, exc.status_code, code, message, text, headers=exc.headers)


async def _validation_error(request: Request, exc: RequestValidationError) -> Response:
    first = exc.errors()[0] if exc.errors() else {}
    where = ".".join(str(part) for part in first.get("loc", ()) if part != "body")
    message = f"{where}: {first.get('msg', 'invalid value')}" if where else "Invalid request."
    language = language_of(request)
    if where:
        text = translate(language, CHECK_FIELD, {"field": where})
    else:
        text = translate(language, UNREADABLE)
    return _respond(request, 422, "invalid_input", message, text)


async def _load_page_state(request: Request) -> None:
    """Who is logged in, their choices and balance, for an error page's shell.

    A request that matched no route (a 404) never ran the global dependencies; one that did
    keeps what they loaded. A platform failure skips this: the page must not need the database.
    """
    if _is_api(request):
        return
    if getattr(request.state, "choices", None) is None:
        await load_choices(request)
    await load_shell(request)


def _is_api(request: Request) -> bool:
    return request.url.path.startswith(API_PREFIX) or request.url.path == "/healthz"


def _wants_page(request: Request) -> bool:
    return not _is_api(request) and "application/json" not in request.headers.get("accept", "")


def _respond(
    request: Request,
    status: int,
    code: str,
    message: str,
    text: str,
    *,
    field: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """`message` is the API's English; `text` says the same to the reader of a page."""
    body = {"error": code, "message": message} | ({"field": field} if field else {})
    if _is_api(request):
        return JSONResponse(body, status_code=status, headers=headers)
    # Scripts that enhance a page ask for JSON so they can show the message themselves.
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse(body | {"message": text}, status_code=status, headers=headers)
    page: HTMLResponse = templates.TemplateResponse(
        request,
        "errors/error.html",
        {"status": status, "title": error_title(status, language_of(request)), "message": text},
        status_code=status,
        headers=headers,
    )
    return page


class UnexpectedErrors:
    """ASGI middleware: an exception no handler took becomes our 500, logged with its traceback.

    Install it inside `SecurityHeaders`, so the 500 gets every security header. Once a
    response has started (a stream failing midway) nothing can replace it: the exception is
    logged and re-raised for the server to close the connection.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_tracking(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, send_tracking)
        except Exception:
            logger.exception("Unhandled error in %s %s", scope.get("method"), scope.get("path"))
            if started:
                raise
            response = _internal_error(Request(scope, receive))
            await response(scope, receive, send)


def _internal_error(request: Request) -> Response:
    try:
        language = language_of(request)
        text = translate(language, SERVICE_TROUBLE)
        return _respond(request, 500, INTERNAL_ERROR, INTERNAL_MESSAGE, text)
    except Exception:
        # The page itself could not be rendered (the failure may be what it needs): say it plainly.
        logger.exception("The error page for %s could not be rendered", request.url.path)
        if request.url.path.startswith(API_PREFIX):
            return JSONResponse({"error": INTERNAL_ERROR, "message": INTERNAL_MESSAGE}, 500)
        return PlainTextResponse(INTERNAL_MESSAGE, status_code=500)
