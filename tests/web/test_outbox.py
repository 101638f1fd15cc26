"""`/dev/outbox` exists for developers only."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from beatbun.generation.queue import UserQueue
from beatbun.main import create_app
from beatbun.runtime.base import MailMessage
from beatbun.settings import Settings
from beatbun_local.runtime import LocalRuntime
from tests.fakes import ManualClock

# Production refuses placeholder secrets, so these stand in for real ones.
PRODUCTION_ENV = {
    "ENVIRONMENT": "production",
    "APP_SECRET": "test-app-secret-" + "a" * 32,
    "PASSWORD_PEPPER": "test-pepper-" + "b" * 32,
    "MAIL_API_KEY": "test-mail-key",
    "STRIPE_SECRET_KEY": "test-stripe-key",
    "STRIPE_WEBHOOK_SECRET": "test-webhook-secret",
    "DATA_KEYS": "test-data-key-" + "c" * 32,
}


def test_outbox_in_production_is_not_found(tmp_path: Path) -> None:
    settings = Settings.from_env(PRODUCTION_ENV)
    runtime = LocalRuntime.open(
        tmp_path / "state", settings=settings, user_queue=UserQueue, clock=ManualClock()
    )
    try:
        # Its own thread and loop: in tests/web the session's Playwright loop holds this one.
        with ThreadPoolExecutor(max_workers=1) as pool:
            response = pool.submit(asyncio.run, _get(runtime, "/dev/outbox")).result()
            html = pool.submit(asyncio.run, _get(runtime, "/dev/outbox/1.html")).result()
    finally:
        runtime.close()
    assert response.status_code == 404
    assert "Nothing is at /dev/outbox." in response.text
    assert html.status_code == 404


async def _get(runtime: LocalRuntime, path: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=create_app(runtime=runtime))
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as client:
        return await client.get(path)


async def test_outbox_shows_headers_and_the_html_version_sandboxed(
    runtime: LocalRuntime, client: httpx.AsyncClient
) -> None:
    await runtime.mailer.send(
        MailMessage(
            to="a@example.com",
            subject="News",
            text="Hello.\n",
            html='<p>Hello <b>you</b>.</p><script>alert("x")</script>',
            headers=(("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),),
        )
    )
    response = await client.get("/dev/outbox")
    assert response.status_code == 200
    assert "List-Unsubscribe-Post" in response.text
    assert "List-Unsubscribe=One-Click" in response.text
    # The HTML is framed from its own route, in a sandbox that runs no script.
    assert '<iframe sandbox src="/dev/outbox/1.html"' in response.text
    assert "<script>alert" not in response.text


async def test_a_message_s_html_is_served_with_only_inline_styles_allowed(
    runtime: LocalRuntime, client: httpx.AsyncClient
) -> None:
    html = '<p style="color: #c2410c">Hello.</p><script>alert("x")</script>'
    await runtime.mailer.send(MailMessage(to="a@example.com", subject="Old", text="Old.\n"))
    await runtime.mailer.send(
        MailMessage(to="a@example.com", subject="New", text="Hi.\n", html=html)
    )
    response = await client.get("/dev/outbox/1.html")
    assert response.status_code == 200 and response.text.rstrip("\n") == html
    assert response.headers["content-security-policy"] == (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:;"
        " frame-ancestors 'self'; sandbox"
    )
    assert response.headers["x-frame-options"] == "SAMEORIGIN"
    # Every other page keeps the site's policy; a message without HTML, or none, is not found.
    page = await client.get("/dev/outbox")
    assert "style-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    for missing in ("/dev/outbox/2.html", "/dev/outbox/3.html", "/dev/outbox/0.html"):
        assert (await client.get(missing)).status_code == 404
