"""`public/_headers`: the parser, the project's file, and the local server applying it."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from beatbun_local.headers_file import HeaderRule, headers_for, parse_headers
from tests.conftest import LiveServer

PUBLIC = Path(__file__).resolve().parents[2] / "public"
# Page headers that do not depend on the response; the CSP differs on purpose (nonce vs none).
SHARED_WITH_PAGES = (
    "strict-transport-security",
    "x-content-type-options",
    "referrer-policy",
    "cross-origin-opener-policy",
    "permissions-policy",
    "x-frame-options",
)


def test_parse_headers_reads_rules_in_order() -> None:
    text = "# comment\n/static/*\n  X-One: 1\n  Cache-Control: max-age=60\n\n/a\n  ! X-One\n"
    assert parse_headers(text) == [
        HeaderRule("/static/*", (("x-one", "1"), ("cache-control", "max-age=60"))),
        HeaderRule("/a", (), ("x-one",)),
    ]


@pytest.mark.parametrize(
    "text",
    [
        "  X-One: 1\n",  # a header before any pattern
        "/a\n  no colon here\n",
        "https://example.com/*\n  X-One: 1\n",  # absolute URLs name a host; locally there is one
    ],
)
def test_parse_headers_malformed_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="_headers line"):
        parse_headers(text)


@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [
        ("/*", "/static/css/app.css", True),
        ("/static/*", "/static/img/icon.svg", True),
        ("/static/*", "/staticky", False),
        ("/img/:name.svg", "/img/icon.svg", True),
        ("/img/:name.svg", "/img/a/icon.svg", False),  # a placeholder is one segment
        ("/a.css", "/aXcss", False),  # dots are literal
    ],
)
def test_header_rule_matches(pattern: str, path: str, expected: bool) -> None:
    assert HeaderRule(pattern, ()).matches(path) is expected


def test_headers_for_joins_a_name_set_by_several_rules() -> None:
    rules = parse_headers("/*\n  Link: <a>\n/x\n  Link: <b>\n")
    assert headers_for(rules, "/x") == ({"link": "<a>, <b>"}, set())


def test_headers_for_detach_drops_an_earlier_rules_header() -> None:
    rules = parse_headers("/*\n  X-One: 1\n  X-Two: 2\n/x\n  ! X-One\n")
    assert headers_for(rules, "/x") == ({"x-two": "2"}, {"x-one"})


def test_public_headers_file_gives_assets_a_locked_down_csp() -> None:
    rules = parse_headers((PUBLIC / "_headers").read_text(encoding="utf-8"))
    headers, _ = headers_for(rules, "/static/css/app.css")
    assert headers["content-security-policy"] == (
        "default-src 'none'; style-src 'self'; img-src 'self'; frame-ancestors 'none'"
    )


async def test_public_headers_file_matches_page_headers(client: httpx.AsyncClient) -> None:
    rules = parse_headers((PUBLIC / "_headers").read_text(encoding="utf-8"))
    asset_headers, _ = headers_for(rules, "/static/css/app.css")
    page = await client.get("/login")
    assert {name: asset_headers[name] for name in SHARED_WITH_PAGES} == {
        name: page.headers[name] for name in SHARED_WITH_PAGES
    }


def test_static_asset_carries_security_headers(shared_live_server: LiveServer) -> None:
    response = httpx.get(shared_live_server.url + "/static/css/app.css")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/css")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["strict-transport-security"].startswith("max-age=63072000")
    assert response.headers["content-security-policy"].startswith("default-src 'none'")
    assert "camera=()" in response.headers["permissions-policy"]


def test_headers_file_is_not_served(shared_live_server: LiveServer) -> None:
    response = httpx.get(shared_live_server.url + "/_headers")
    assert response.status_code == 404
    assert "Strict-Transport-Security" not in response.text
