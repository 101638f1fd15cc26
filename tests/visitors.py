"""An HTTP client that behaves like a browser towards the live server's account pages.

httpx keeps `Secure` cookies away from http://127.0.0.1 (browsers treat loopback as secure,
http.cookiejar does not), so this client keeps its own cookies and sends them itself. It also
sends the same-origin `Origin` a browser would, and reads CSRF tokens out of forms.
"""

from __future__ import annotations

import email
import email.policy
import re
import time
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pyotp
from playwright.sync_api import BrowserContext, Page, expect

if TYPE_CHECKING:
    from tests.conftest import LiveServer

CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')
LINK = re.compile(r"(https?://\S+)")
PASSWORD = "correct horse battery staple"


class Visitor:
    def __init__(self, base_url: str, *, user_agent: str = "TestBrowser/1.0") -> None:
        self.base_url = base_url
        self.cookies: dict[str, str] = {}
        self.user_agent = user_agent

    def get(self, path: str, **kwargs: object) -> httpx.Response:
        return self._send("GET", path, **kwargs)

    def post(
        self,
        path: str,
        data: dict[str, str] | None = None,
        *,
        csrf_from: str | None = None,
        **kwargs: object,
    ) -> httpx.Response:
        """POST a form like a browser: same-origin Origin, the CSRF token of `csrf_from` (or `path`)."""
        form = dict(data or {})
        form.setdefault("csrf_token", self.csrf(csrf_from or "/login"))
        headers = {"Origin": self.base_url, **dict(kwargs.pop("headers", {}) or {})}  # type: ignore[call-overload]
        return self._send("POST", path, data=form, headers=headers, **kwargs)

    def csrf(self, path: str = "/login") -> str:
        """The CSRF token a page hands this visitor (bound to its session or CSRF cookie)."""
        found = CSRF_INPUT.search(self.get(path).text)
        return found.group(1) if found else ""

    def _send(self, method: str, path: str, **kwargs: object) -> httpx.Response:
        headers = {"User-Agent": self.user_agent, **dict(kwargs.pop("headers", {}) or {})}  # type: ignore[call-overload]
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        # A client per request: nothing is left open between tests.
        response = httpx.request(method, self.base_url + path, headers=headers, **kwargs)  # type: ignore[arg-type]
        for header in response.headers.get_list("set-cookie"):
            name, _, rest = header.partition("=")
            value = rest.split(";", 1)[0]
            if "Max-Age=0" in header or not value:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value
        return response


def outbox(state_dir: Path, to: str, *, at_least: int = 0, timeout: float = 10.0) -> list[str]:
    """Bodies of the `.eml` files the local mailer wrote to `to`, oldest first.

    With `at_least`, waits up to `timeout` seconds for that many: the server sends queued
    mail after answering.
    """
    deadline = time.monotonic() + timeout
    while True:
        bodies = []
        for path in sorted((state_dir / "outbox").glob("*.eml")):
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            if message["To"] == to:
                bodies.append(message.get_body(preferencelist=("plain",)).get_content())  # type: ignore[union-attr]
        if len(bodies) >= at_least or time.monotonic() > deadline:
            return bodies
        time.sleep(0.02)


def last_link(state_dir: Path, to: str, *, count: int = 1) -> str:
    """The path and query of the last link mailed to `to`, once `count` mails have come."""
    bodies = outbox(state_dir, to, at_least=count)
    assert len(bodies) >= count, f"{len(bodies)} mail(s) to {to}, expected {count}"
    url = httpx.URL(LINK.findall(bodies[-1])[0])
    return f"{url.path}?{url.query.decode()}"


def sign_up(
    visitor: Visitor, email_address: str, *, birth_date: str = "1990-05-04", **extra: str
) -> httpx.Response:
    data = {
        "email": email_address,
        "password": PASSWORD,
        "display_name": "Test Person",
        "birth_date": birth_date,
        **extra,
    }
    return visitor.post("/signup", data)


def verify(visitor: Visitor, state_dir: Path, email_address: str) -> httpx.Response:
    link = last_link(state_dir, email_address)
    token = link.split("token=", 1)[1]
    return visitor.post("/verify-email", {"token": token})


def log_in(visitor: Visitor, email_address: str, password: str = PASSWORD) -> httpx.Response:
    return visitor.post("/login", {"email": email_address, "password": password})


def signed_in(base_url: str, state_dir: Path, email_address: str) -> Visitor:
    visitor = Visitor(base_url)
    assert sign_up(visitor, email_address).status_code == 303
    assert verify(visitor, state_dir, email_address).status_code == 303
    assert log_in(visitor, email_address).status_code == 303
    return visitor


def confirm_password(
    visitor: Visitor, password: str = PASSWORD, *, then: str = "/account/two-step"
) -> httpx.Response:
    """Re-authenticate the visitor's session (the password step two-step changes need)."""
    return visitor.post("/account/confirm-password", {"current_password": password, "next": then})


def enable_totp(visitor: Visitor) -> tuple[str, list[str]]:
    """Confirm the password, start enrolment, turn TOTP on; returns the secret and the codes."""
    assert confirm_password(visitor).status_code == 303
    assert visitor.post("/account/two-step/setup").status_code == 303
    page = visitor.get("/account/two-step")
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', page.text).group(1)  # type: ignore[union-attr]
    done = visitor.post("/account/two-step", {"code": pyotp.TOTP(secret).now()})
    assert done.status_code == 200, done.text
    codes = re.findall(r"<li><code>([a-z0-9-]+)</code></li>", done.text)
    return secret, codes


def sign_in_browser(context: BrowserContext, server: LiveServer, email_address: str) -> Visitor:
    """Sign up and in over HTTP, then hand the session cookie to the browser context."""
    visitor = signed_in(server.url, server.state_dir, email_address)
    hand_session_to(context, visitor)
    return visitor


def hand_session_to(context: BrowserContext, visitor: Visitor) -> None:
    """Give the browser context the session cookie the visitor logged in with."""
    context.add_cookies(
        [
            {
                "name": "__Host-session",
                "value": visitor.cookies["__Host-session"],
                "domain": "127.0.0.1",
                "path": "/",
                "secure": True,
                "httpOnly": True,
                "sameSite": "Lax",
            }
        ]
    )


def sign_up_in_browser(page: Page, base_url: str, address: str) -> None:
    """Fill in the sign-up form `page` shows, then confirm the address from the local outbox."""
    page.get_by_label("Email address").fill(address)
    page.get_by_label("Display name").fill("New Person")
    page.get_by_label("Date of birth").fill("1991-02-03")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your inbox")
    page.goto(base_url + "/dev/outbox")
    link = page.get_by_role("link", name="/verify-email?token=").first.get_attribute("href") or ""
    # Mailed links use PUBLIC_URL (port 8787); the test server listens on its own port.
    page.goto(base_url + link[link.index("/verify-email") :])
    page.get_by_role("button", name="Confirm my email address").click()
