"""Guard: every cookie any page sets is declared in the registry, and optional ones need consent.

Crawls every GET page a visitor can reach, logged out and logged in, before any choice, after
Reject all and after Accept all, plus the form posts that set cookies.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
import pytest

from beatbun.consent.registry import find_item
from beatbun.main import create_app
from beatbun.runtime.base import Runtime
from tests.conftest import LiveServer
from tests.visitors import Visitor, signed_in

# Server-sent event streams stay open; they set no cookies of their own.
EVENT_STREAMS = frozenset({"/studio/events"})


def _pages() -> tuple[str, ...]:
    """Every GET path without parameters, read off the app's schema, so new pages are crawled too."""
    paths = create_app(runtime_factory=_no_runtime).openapi()["paths"]
    return tuple(
        path
        for path, operations in paths.items()
        if "get" in operations
        and "{" not in path
        and not path.startswith("/api/")
        and path not in EVENT_STREAMS
    )


def _no_runtime(env: object) -> Runtime:
    raise RuntimeError("Reading the schema builds no runtime.")


PAGES = _pages()
ALLOWED = {
    "none": {"necessary"},
    "reject_all": {"necessary"},
    "accept_all": {"necessary", "performance", "functionality", "marketing"},
}


def assert_declared(response: httpx.Response, allowed: set[str]) -> None:
    for header in response.headers.get_list("set-cookie"):
        name = header.split("=", 1)[0]
        item = find_item(name, kind="cookie")
        assert item is not None, f"{response.url} sets undeclared cookie {name!r}"
        if "Max-Age=0" not in header:
            assert item.category in allowed, f"{response.url} sets {name!r} without consent"


def crawl(visitor: Visitor, pages: tuple[str, ...], allowed: set[str]) -> None:
    for path in pages:
        response = visitor.get(path)
        # Account pages answer 401 when logged out and token pages 422 without a token.
        assert response.status_code < 500, path
        assert_declared(response, allowed)


def consent(visitor: Visitor, choice: str, allowed: set[str]) -> None:
    if choice != "none":
        data = {"choice": choice, "source": "banner", "next": "/"}
        assert_declared(visitor.post("/consent", data, csrf_from="/"), allowed)
    display = {"theme": "dark", "language": "de"}
    assert_declared(visitor.post("/preferences/display", display, csrf_from="/"), allowed)


@pytest.mark.parametrize("choice", ["none", "reject_all", "accept_all"])
def test_logged_out_pages_set_only_declared_and_allowed_cookies(
    shared_live_server: LiveServer, choice: str
) -> None:
    visitor = Visitor(shared_live_server.url)
    crawl(visitor, PAGES, {"necessary"})
    consent(visitor, choice, ALLOWED[choice])
    crawl(visitor, PAGES, ALLOWED[choice])


@pytest.mark.parametrize("choice", ["none", "reject_all", "accept_all"])
def test_logged_in_pages_set_only_declared_and_allowed_cookies(
    shared_live_server: LiveServer, choice: str
) -> None:
    assert "/account/sessions" in PAGES and "/privacy/choices" in PAGES
    server = shared_live_server
    visitor = signed_in(server.url, server.state_dir, f"{uuid.uuid4().hex[:12]}@example.com")
    consent(visitor, choice, ALLOWED[choice])
    crawl(visitor, PAGES, ALLOWED[choice])
    assert_declared(visitor.post("/logout"), ALLOWED[choice])


def test_no_script_writes_cookies() -> None:
    """Cookies come only from the server: Safari caps script-set ones at seven days."""
    scripts = sorted(
        (Path(__file__).resolve().parents[2] / "public" / "static" / "js").glob("*.js")
    )
    assert scripts
    for script in scripts:
        assert "document.cookie" not in script.read_text(), script.name
