"""With two-step verification on, changing the email address or password needs a fresh code."""

from __future__ import annotations

import time
import uuid

import httpx
import pyotp
import pytest

from tests.conftest import LiveServer
from tests.mail_waits import wait_for_mail
from tests.visitors import PASSWORD, Visitor, enable_totp, log_in, outbox, signed_in

NEW_PASSWORD = "another long passphrase here"


def _email() -> str:
    return f"{uuid.uuid4().hex[:12]}@example.com"


def _with_totp(server: LiveServer) -> tuple[Visitor, str, str]:
    address = _email()
    visitor = signed_in(server.url, server.state_dir, address)
    secret, _ = enable_totp(visitor)
    return visitor, address, secret


def _fresh_code(secret: str) -> str:
    # Enrolment spent the current step; the next one is within the allowed drift.
    return pyotp.TOTP(secret).at(time.time() + 30)


def _change_email(visitor: Visitor, new_address: str, code: str) -> httpx.Response:
    form = {"new_email": new_address, "current_password": PASSWORD, "code": code}
    return visitor.post("/account/email", form, csrf_from="/account")


def _change_password(visitor: Visitor, code: str) -> httpx.Response:
    form = {"current_password": PASSWORD, "new_password": NEW_PASSWORD, "code": code}
    return visitor.post("/account/password", form, csrf_from="/account")


@pytest.mark.parametrize(
    "code",
    [
        "",  # no code at all
        "000000",  # a wrong code
    ],
)
def test_email_change_with_totp_without_a_valid_code_is_refused(
    shared_live_server: LiveServer, code: str
) -> None:
    visitor, _, _ = _with_totp(shared_live_server)
    new_address = _email()
    response = _change_email(visitor, new_address, code)
    assert response.status_code == 422
    assert 'id="code-error"' in response.text and "not valid" in response.text
    assert outbox(shared_live_server.state_dir, new_address) == []


def test_email_change_with_totp_and_a_valid_code_mails_the_link(
    shared_live_server: LiveServer,
) -> None:
    visitor, _, secret = _with_totp(shared_live_server)
    new_address = _email()
    response = _change_email(visitor, new_address, _fresh_code(secret))
    assert response.status_code == 303 and response.headers["location"] == "/account?saved=email"
    [mail] = wait_for_mail(shared_live_server.state_dir, new_address)
    assert "/account/email/confirm?token=" in mail


@pytest.mark.parametrize(
    "code",
    [
        "",  # no code at all
        "000000",  # a wrong code
    ],
)
def test_password_change_with_totp_without_a_valid_code_is_refused(
    shared_live_server: LiveServer, code: str
) -> None:
    visitor, address, _ = _with_totp(shared_live_server)
    response = _change_password(visitor, code)
    assert response.status_code == 422
    assert 'id="code-error"' in response.text and "not valid" in response.text
    assert log_in(Visitor(shared_live_server.url), address).headers["location"] == "/login/code"


def test_password_change_with_totp_and_a_valid_code_sets_it(
    shared_live_server: LiveServer,
) -> None:
    visitor, address, secret = _with_totp(shared_live_server)
    response = _change_password(visitor, _fresh_code(secret))
    assert response.status_code == 303
    assert response.headers["location"] == "/account?saved=password"
    assert log_in(Visitor(shared_live_server.url), address, NEW_PASSWORD).status_code == 303
