"""`/docs/api`: a server-rendered API reference that the strict CSP lets render cleanly."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from babel.messages.extract import extract_from_dir
from fastapi import FastAPI
from markupsafe import escape
from playwright.sync_api import ConsoleMessage, Page

from beatbun.i18n import translate
from beatbun.web.api_docs import Operation, list_operations
from tests.conftest import LiveServer
from tests.visitors import signed_in

API_SOURCE = Path(__file__).resolve().parents[2] / "src" / "beatbun" / "api"


# Over HTTP, not in-process: the session's Playwright loop would starve async tests here.
def test_api_docs_lists_the_api_operations(shared_live_server: LiveServer) -> None:
    response = httpx.get(shared_live_server.url + "/docs/api")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "<code>GET /api/v1/me</code>" in response.text
    assert 'href="/api/openapi.json"' in response.text


def test_api_docs_loads_no_third_party_scripts(shared_live_server: LiveServer) -> None:
    response = httpx.get(shared_live_server.url + "/docs/api")
    assert "cdn.jsdelivr.net" not in response.text and "swagger" not in response.text.lower()
    # The page's only scripts are the site's own, each carrying this response's nonce.
    nonce = response.headers["content-security-policy"].split("'nonce-", 1)[1].split("'", 1)[0]
    scripts = re.findall(r"<script[^>]*>", response.text)
    assert all(
        f'nonce="{nonce}"' in tag or 'type="application/json"' in tag or 'type="text/plain"' in tag
        for tag in scripts
    )
    assert "'strict-dynamic'" in response.headers["content-security-policy"]


def test_the_old_address_redirects_to_the_reference(shared_live_server: LiveServer) -> None:
    response = httpx.get(shared_live_server.url + "/api/docs")
    assert (response.status_code, response.headers["location"]) == (308, "/docs/api")


def test_the_reference_is_a_page_of_the_signed_in_visitor(shared_live_server: LiveServer) -> None:
    visitor = signed_in(shared_live_server.url, shared_live_server.state_dir, "docs@example.com")
    page = visitor.get("/docs/api")
    assert 'action="/logout"' in page.text and 'href="/login"' not in page.text
    # Its display form carries this session's CSRF token, so choosing a theme there works.
    chosen = visitor.post(
        "/preferences/display", {"theme": "dark", "language": "en"}, csrf_from="/docs/api"
    )
    assert chosen.status_code == 303


def test_openapi_schema_is_still_served(shared_live_server: LiveServer) -> None:
    response = httpx.get(shared_live_server.url + "/api/openapi.json")
    assert response.status_code == 200 and "/api/v1/me" in response.json()["paths"]


def test_api_docs_are_in_the_readers_language(shared_live_server: LiveServer) -> None:
    french = httpx.get(shared_live_server.url + "/docs/api", headers={"Accept-Language": "fr"})
    schema = httpx.get(shared_live_server.url + "/api/openapi.json").json()
    operations = list_operations(schema, "en")
    assert len(operations) >= 10
    for operation in operations:
        summary = translate("fr", operation.summary)
        assert summary != operation.summary, operation.path
        assert str(escape(summary)) in french.text
        assert str(escape(operation.summary)) not in french.text
    # The schema itself stays English for tools.
    assert schema["paths"]["/api/v1/me"]["get"]["summary"] == "Who this key belongs to"


def test_every_api_operation_is_described_in_catalog_strings(app: FastAPI) -> None:
    marked = {message for _, _, message, *_ in extract_from_dir(API_SOURCE)}
    for operation in list_operations(app.openapi(), "en"):
        assert {operation.summary, operation.description} <= marked, operation.path


def test_list_operations_keeps_only_api_paths() -> None:
    schema = {
        "paths": {
            "/login": {"post": {"summary": "Login"}},
            "/api/v1/me": {
                "get": {"summary": "Me", "description": "Who the key belongs to."},
                "parameters": [],  # path-level, not an operation
            },
        }
    }
    assert list_operations(schema, "en") == [
        Operation(
            method="GET", path="/api/v1/me", summary="Me", description="Who the key belongs to."
        )
    ]


@pytest.mark.browser
def test_api_docs_renders_in_chromium_without_console_errors(
    shared_live_server: LiveServer, page: Page
) -> None:
    errors: list[str] = []

    def keep_error(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(message.text)

    page.on("console", keep_error)
    page.on("pageerror", lambda error: errors.append(str(error)))
    response = page.goto(shared_live_server.url + "/docs/api")
    assert response is not None and response.status == 200
    assert page.get_by_role("heading", level=1).inner_text() == "API reference"
    assert errors == []


def test_api_docs_show_how_to_preview_a_plan(shared_live_server: LiveServer) -> None:
    page = httpx.get(shared_live_server.url + "/docs/api").text
    assert "<code>POST /api/v1/plans</code>" in page
    example = page.split('id="plans-heading"', 1)[1].split("</section>", 1)[0]
    assert f"curl -X POST {shared_live_server.url}/api/v1/plans" in example
    assert '"prompt": "ruhiges Klavier, 70 bpm"' in example  # literal template text
