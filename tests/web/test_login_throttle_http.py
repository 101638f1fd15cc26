"""Login throttling over HTTP against the real server.

A module of its own, so its server's per-address failure count starts at zero.
"""

from __future__ import annotations

import time
import uuid

import httpx

from beatbun.accounts.throttle import FREE_FAILURES
from tests.conftest import LiveServer
from tests.visitors import PASSWORD, Visitor, signed_in

WRONG = "not the right password at all"


def _throttled(server: LiveServer) -> tuple[Visitor, str, httpx.Response]:
    """Spend an account's free failures, then try once more at once."""
    address = f"{uuid.uuid4().hex[:12]}@example.com"
    signed_in(server.url, server.state_dir, address)
    visitor = Visitor(server.url)
    # One token for every attempt, so no page load sits between the last failure and the retry.
    token = visitor.csrf("/login")
    form = {"email": address, "csrf_token": token}
    for _ in range(FREE_FAILURES["account"]):
        assert visitor.post("/login", {**form, "password": WRONG}).status_code == 401
    return visitor, address, visitor.post("/login", {**form, "password": PASSWORD})


def test_login_after_allowed_failures_answers_429_with_retry_after(
    shared_live_server: LiveServer,
) -> None:
    _, _, response = _throttled(shared_live_server)
    assert response.status_code == 429
    assert response.headers["retry-after"] == "1"
    assert "Too many failed attempts. Try again in 1 second." in response.text


def test_login_after_the_delay_succeeds(shared_live_server: LiveServer) -> None:
    visitor, address, refused = _throttled(shared_live_server)
    time.sleep(int(refused.headers["retry-after"]) + 0.2)
    response = visitor.post("/login", {"email": address, "password": PASSWORD})
    assert response.status_code == 303 and response.headers["location"] == "/studio"
