"""Every response carries the security headers, an unexpected error's 500 included, and a page
that hands out a CSRF token is never stored by a cache."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from fastapi import FastAPI
from fastapi.responses import StreamingResponse

from beatbun.main import create_app
from beatbun_local.runtime import LocalRuntime

SECURITY_HEADERS = {
    "strict-transport-security": "max-age=63072000; includeSubDomains",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
    "referrer-policy": "strict-origin-when-cross-origin",
}


class Broken(Exception):
    """What a bug looks like to the app: an exception no handler knows."""


async def _boom() -> None:
    raise Broken("the database row had no title")


async def _stream_then_fail() -> StreamingResponse:
    async def chunks() -> AsyncIterator[bytes]:
        yield b"first"
        raise Broken("midway")

    return StreamingResponse(chunks())


@pytest.fixture
def broken_app(runtime: LocalRuntime) -> FastAPI:
    app = create_app(runtime=runtime)
    app.add_api_route("/boom", _boom)
    app.add_api_route("/api/v1/boom", _boom, methods=["POST"])
    app.add_api_route("/stream-boom", _stream_then_fail)
    return app


@pytest.fixture
async def broken_client(broken_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=broken_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


@pytest.fixture
def errors_logged(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    with caplog.at_level(logging.ERROR, logger="beatbun.errors_http"):
        yield caplog


def _assert_security_headers(response: httpx.Response) -> None:
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get(name) == value, name
    csp = response.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "'nonce-" in csp
    assert "camera=()" in response.headers["permissions-policy"]


async def test_unexpected_error_on_a_page_renders_the_error_page_with_security_headers(
    broken_client: httpx.AsyncClient, errors_logged: pytest.LogCaptureFixture
) -> None:
    response = await broken_client.get("/boom")
    assert response.status_code == 500
    assert response.headers["content-type"].startswith("text/html")
    assert "Something went wrong on our side" in response.text
    assert "the database row had no title" not in response.text
    _assert_security_headers(response)


async def test_unexpected_error_on_a_page_speaks_the_readers_language(
    broken_client: httpx.AsyncClient, errors_logged: pytest.LogCaptureFixture
) -> None:
    response = await broken_client.get("/boom", headers={"Accept-Language": "de"})
    assert response.status_code == 500
    assert 'lang="de"' in response.text


async def test_unexpected_error_on_the_api_answers_json_with_security_headers(
    broken_client: httpx.AsyncClient, errors_logged: pytest.LogCaptureFixture
) -> None:
    response = await broken_client.post("/api/v1/boom")
    assert response.status_code == 500
    assert response.json() == {
        "error": "internal_error",
        "message": "Something went wrong on our side. Try again in a moment.",
    }
    _assert_security_headers(response)


async def test_unexpected_error_is_logged_with_its_traceback(
    broken_client: httpx.AsyncClient, errors_logged: pytest.LogCaptureFixture
) -> None:
    await broken_client.get("/boom")
    [record] = [r for r in errors_logged.records if r.exc_info]
    assert "GET /boom" in record.getMessage()
    assert record.exc_info is not None and isinstance(record.exc_info[1], Broken)


async def test_unexpected_error_when_the_error_page_fails_too_is_plain_text_with_headers(
    broken_client: httpx.AsyncClient,
    errors_logged: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def unrenderable(*args: object, **kwargs: object) -> None:
        raise Broken("the template is gone")

    monkeypatch.setattr("beatbun.errors_http._respond", unrenderable)
    response = await broken_client.get("/boom")
    assert response.status_code == 500
    assert response.text == "Something went wrong on our side. Try again in a moment."
    _assert_security_headers(response)
    assert len([r for r in errors_logged.records if r.exc_info]) == 2


async def test_unexpected_error_after_the_response_started_is_logged_and_raised(
    broken_client: httpx.AsyncClient, errors_logged: pytest.LogCaptureFixture
) -> None:
    # Nothing can replace a response already on its way; the server closes the connection.
    with pytest.raises(Broken):
        await broken_client.get("/stream-boom")
    assert any(r.exc_info for r in errors_logged.records)


@pytest.mark.parametrize("path", ["/login", "/signup", "/forgot-password"])
async def test_token_page_for_a_new_visitor_is_not_stored(
    client: httpx.AsyncClient, path: str
) -> None:
    response = await client.get(path)
    assert response.status_code == 200
    assert "__Host-csrf" in response.cookies
    assert response.headers["cache-control"] == "no-store"


@pytest.mark.parametrize("path", ["/login", "/signup", "/forgot-password"])
async def test_token_page_for_a_visitor_with_a_csrf_cookie_is_not_stored(
    client: httpx.AsyncClient, path: str
) -> None:
    first = await client.get(path)
    cookie = f"__Host-csrf={first.cookies['__Host-csrf']}"
    again = await client.get(path, headers={"Cookie": cookie})
    assert again.status_code == 200
    # No new cookie is needed, and it is the token on the page that keeps it out of caches.
    assert "set-cookie" not in again.headers
    assert 'name="csrf_token"' in again.text
    assert again.headers["cache-control"] == "no-store"


async def test_response_without_a_token_or_credentials_may_be_cached(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/.well-known/gpc.json")
    assert response.status_code == 200
    assert "cache-control" not in response.headers
    _assert_security_headers(response)
