"""The one Jinja2 environment for every page (autoescaping on, as `Jinja2Templates` sets it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates

from beatbun.api.deps import runtime_of

TEMPLATES_DIR = Path(__file__).parent / "templates"


def _site(request: Request) -> dict[str, Any]:
    return {"site_name": runtime_of(request).settings.site_name}


templates = Jinja2Templates(directory=TEMPLATES_DIR, context_processors=[_site])
