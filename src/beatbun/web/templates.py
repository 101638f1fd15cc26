"""The one Jinja2 environment for every page (autoescaping on, as `Jinja2Templates` sets it)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates

from beatbun.api.deps import runtime_of
from beatbun.web.choices import choices_context
from beatbun.web.security import csrf_token
from beatbun.web.shell import shell_context

TEMPLATES_DIR = Path(__file__).parent / "templates"


def _site(request: Request) -> dict[str, Any]:
    visitor = getattr(request.state, "visitor", None)
    return {
        **choices_context(request),
        **shell_context(request),
        "site_name": runtime_of(request).settings.site_name,
        "csp_nonce": getattr(request.state, "csp_nonce", ""),
        "csrf_token": lambda: csrf_token(request),
        "current_account": visitor.full_account if visitor else None,
    }


def _utc(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M")


templates = Jinja2Templates(directory=TEMPLATES_DIR, context_processors=[_site])
# `{% trans %}` and `_()`; the per-request callables come from `_site`, these only back them up.
templates.env.add_extension("jinja2.ext.i18n")
templates.env.install_null_translations(newstyle=True)  # type: ignore[attr-defined]
templates.env.filters["utc"] = _utc
