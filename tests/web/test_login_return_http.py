"""A login started from another page goes back there, and never to another site."""

from __future__ import annotations

import time
import uuid

import pyotp
import pytest

from tests.conftest import LiveServer
from tests.visitors import PASSWORD, Visitor, enable_totp, sign_up, signed_in, verify


def _verified(server: LiveServer) -> tuple[Visitor, str]:
    visitor, address = Visitor(server.url), f"{uuid.uuid4().hex[:12]}@example.com"
    assert sign_up(visitor, address).status_code == 303
    assert verify(visitor, server.state_dir, address).status_code == 303
    return visitor, address


@pytest.mark.parametrize(
    ("asked", "lands_on"),
    [
        ("/pricing", "/pricing"),
        ("/tracks?sort=name", "/tracks?sort=name"),  # any page of ours, with its query
        ("", "/studio"),
        ("https://evil.example/pricing", "/studio"),  # another site
        ("//evil.example", "/studio"),  # scheme-relative
        ("/\\evil.example", "/studio"),  # browsers read the backslash as a slash
        ("/\t/evil.example", "/studio"),  # browsers drop the tab, leaving //evil.example
    ],
)
def test_login_returns_to_the_page_it_came_from(
    shared_live_server: LiveServer, asked: str, lands_on: str
) -> None:
    visitor, address = _verified(shared_live_server)
    page = visitor.get("/login", params={"next": asked})
    assert f'name="next" value="{lands_on}"' in page.text
    answer = visitor.post(
        "/login", {"email": address, "password": PASSWORD, "next": asked}, csrf_from="/login"
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == lands_on


def test_login_with_two_step_returns_after_the_code(shared_live_server: LiveServer) -> None:
    server = shared_live_server
    address = f"{uuid.uuid4().hex[:12]}@example.com"
    first = signed_in(server.url, server.state_dir, address)
    secret, _ = enable_totp(first)
    visitor = Visitor(server.url)
    answer = visitor.post("/login", {"email": address, "password": PASSWORD, "next": "/pricing"})
    assert answer.headers["location"] == "/login/code?next=/pricing"
    # The next step's code: the current one was spent turning two-step on (no replays).
    code = pyotp.TOTP(secret).at(time.time() + 30)
    done = visitor.post("/login/code", {"code": code, "next": "/pricing"}, csrf_from="/login/code")
    assert done.status_code == 303
    assert done.headers["location"] == "/pricing"
