"""Helpers every account page shares: re-rendering a form with its errors, the client."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.datastructures import FormData

from beatbun.accounts.models import MAX_USER_AGENT, Client
from beatbun.errors import AppError, InvalidFields, InvalidInput
from beatbun.web.choices import language_of
from beatbun.web.i18n import error_text
from beatbun.web.templates import templates

Text = Annotated[str, Form()]
# Pages reached by links that carry a token must not leak it through Referer.
NO_REFERRER = {"Referrer-Policy": "no-referrer"}


def render_form(
    request: Request,
    template: str,
    *,
    error: AppError | None = None,
    values: Mapping[str, str] | None = None,
    context: Mapping[str, Any] | None = None,
) -> HTMLResponse:
    """The page again, with the error's status and its text next to its field (or in the summary)."""
    errors: dict[str, str] = {}
    language = language_of(request)
    problems = error.problems if isinstance(error, InvalidFields) else [error] if error else []
    for problem in problems:
        errors.setdefault(getattr(problem, "field", None) or "form", error_text(problem, language))
    page: HTMLResponse = templates.TemplateResponse(
        request,
        template,
        {"errors": errors, "values": dict(values or {}), **(context or {})},
        status_code=error.status if error else 200,
    )
    return page


def render_token_page(
    request: Request,
    template: str,
    *,
    token: str,
    error: InvalidInput | None = None,
    context: Mapping[str, Any] | None = None,
) -> HTMLResponse:
    """A page whose URL or form holds a one-time token: no Referer leaves it."""
    page = render_form(request, template, error=error, values={"token": token}, context=context)
    page.headers.update(NO_REFERRER)
    return page


def see_other(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


def client_of(request: Request) -> Client:
    """The address Cloudflare saw on Workers (`env` is there), the socket's peer locally."""
    if request.scope.get("env") is not None:
        ip = request.headers.get("cf-connecting-ip", "")
    else:
        ip = request.client.host if request.client else ""
    return Client(ip=ip, user_agent=request.headers.get("user-agent", "")[:MAX_USER_AGENT])


def form_values(form: FormData) -> dict[str, str]:
    """A posted form's text fields by name (the last of a repeated one); uploads are left out."""
    return {name: value for name, value in form.items() if isinstance(value, str)}
