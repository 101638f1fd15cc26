"""Account pages and emails in the visitor's language, over HTTP against the real local server.

Services write English source strings; a German visitor must read them in German (the error
next to the form, the security log, the emails the request caused), while an API caller keeps
the English message and its stable code.
"""

from __future__ import annotations

import email
import email.policy
import re
import uuid
from email.message import EmailMessage
from pathlib import Path

import httpx
import pytest

from tests.conftest import LiveServer
from tests.mail_waits import wait_for_mail
from tests.visitors import Visitor, sign_up, signed_in, verify

WRONG = "not the right password at all"
GERMAN = {"Accept-Language": "de"}


def _email() -> str:
    return f"{uuid.uuid4().hex[:12]}@example.com"


def _choose_language(visitor: Visitor, language: str) -> Visitor:
    """Pick the language from the display preferences, as a visitor does on any page."""
    chosen = visitor.post(
        "/preferences/display", {"theme": "light", "language": language}, csrf_from="/"
    )
    assert chosen.status_code == 303
    return visitor


def _last_mail(state_dir: Path, to: str) -> EmailMessage:
    """The newest `.eml` the local mailer wrote to `to`."""
    for path in sorted((state_dir / "outbox").glob("*.eml"), reverse=True):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if message["To"] == to:
            return message
    raise AssertionError(f"No mail to {to}")


def _body(message: EmailMessage) -> str:
    return str(message.get_body(preferencelist=("plain",)).get_content())  # type: ignore[union-attr]


def test_wrong_password_is_told_in_german(shared_live_server: LiveServer) -> None:
    server, address = shared_live_server, _email()
    signed_in(server.url, server.state_dir, address)
    visitor = Visitor(server.url)
    form = {"email": address, "password": WRONG, "csrf_token": visitor.csrf("/login")}
    page = visitor.post("/login", form, headers=GERMAN)
    assert page.status_code == 401
    assert '<html lang="de"' in page.text
    assert "<h2>Bitte korrigieren</h2>" in page.text
    assert "E-Mail-Adresse oder Passwort ist falsch." in page.text
    assert "The email or password is incorrect." not in page.text


def test_api_caller_keeps_the_english_message_and_its_code(shared_live_server: LiveServer) -> None:
    response = httpx.get(
        shared_live_server.url + "/api/v1/me",
        headers={"Authorization": "Bearer bbk_not-a-key", **GERMAN},
    )
    assert response.status_code == 401
    assert response.json() == {
        "error": "invalid_api_key",
        "message": "The API key is not valid or was revoked.",
    }


def test_api_caller_reads_an_english_message_with_its_values_filled_in(
    shared_live_server: LiveServer,
) -> None:
    server = shared_live_server
    visitor = _choose_language(signed_in(server.url, server.state_dir, _email()), "de")
    created = visitor.post(
        "/account/api-keys", {"name": "script", "scopes": "read"}, csrf_from="/account/api-keys"
    )
    key = re.search(r'id="new-api-key">(bbk_[\w-]+)<', created.text).group(1)  # type: ignore[union-attr]
    response = httpx.post(
        server.url + "/api/v1/generations",
        headers={"Authorization": f"Bearer {key}", **GERMAN},
        json={},
    )
    assert response.status_code == 403
    assert response.json() == {
        "error": "insufficient_scope",
        "message": "This API key lacks the 'generate' scope.",
    }


@pytest.mark.parametrize(
    ("language", "subject", "opening"),
    [
        ("en", "Confirm your email address for Beat Bun", "Welcome to Beat Bun!"),
        ("de", "Bestätige deine E-Mail-Adresse für Beat Bun", "Willkommen bei Beat Bun!"),
        ("fr", "Confirme ton adresse e-mail pour Beat Bun", "Bienvenue sur Beat Bun !"),
    ],
)
def test_signup_sends_the_verification_email_in_the_visitors_language(
    shared_live_server: LiveServer, language: str, subject: str, opening: str
) -> None:
    server, address = shared_live_server, _email()
    visitor = _choose_language(Visitor(server.url), language)
    assert sign_up(visitor, address).headers["location"] == "/signup/sent"
    wait_for_mail(server.state_dir, address)
    mail = _last_mail(server.state_dir, address)
    assert mail["Subject"] == subject
    assert _body(mail).startswith(opening)
    # The link survives translation and still verifies the address.
    assert verify(visitor, server.state_dir, address).headers["location"] == "/studio"


def test_reset_email_follows_the_request_not_the_signup(shared_live_server: LiveServer) -> None:
    server, address = shared_live_server, _email()
    signed_in(server.url, server.state_dir, address)
    visitor = _choose_language(Visitor(server.url), "fr")
    sent = visitor.post("/forgot-password", {"email": address}, csrf_from="/forgot-password")
    assert sent.status_code == 200
    wait_for_mail(server.state_dir, address, count=2)  # verification, then reset
    mail = _last_mail(server.state_dir, address)
    assert mail["Subject"] == "Réinitialise ton mot de passe Beat Bun"
    assert "/reset-password?token=" in _body(mail) and "ton mot de passe reste" in _body(mail)


def test_security_log_speaks_german(shared_live_server: LiveServer) -> None:
    server, address = shared_live_server, _email()
    visitor = _choose_language(signed_in(server.url, server.state_dir, address), "de")
    log = visitor.get("/account/security-log").text
    for label in ("Konto erstellt", "E-Mail-Adresse bestätigt", "Angemeldet"):
        assert f">{label}</td>" in log
    assert "Account created" not in log and "Logged in" not in log
