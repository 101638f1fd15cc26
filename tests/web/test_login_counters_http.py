"""Login counters over HTTP on the real server: the code counter and the hard stop (#12).

A module of its own, so its server's per-address failure count starts at zero.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
import time
import uuid

import pyotp

from beatbun.accounts.lockout import HARD_STOP_FAILURES
from beatbun.accounts.throttle import FREE_FAILURES, MAX_DELAY
from tests.conftest import LiveServer
from tests.mail_waits import wait_for_mail
from tests.visitors import PASSWORD, Visitor, last_link, log_in, signed_in

WRONG = "not the right password at all"
NEW_PASSWORD = "a brand new passphrase after the lock"


def _email() -> str:
    return f"{uuid.uuid4().hex[:12]}@example.com"


def _sql(server: LiveServer, statement: str, *params: object) -> None:
    with sqlite3.connect(server.state_dir / "d1" / "DB.sqlite") as db:
        db.execute(statement, params)


def _strip(text: str) -> str:
    return re.sub(r'(value|nonce)="[^"]*"', "", text)


def test_a_right_password_gives_no_new_code_guesses(shared_live_server: LiveServer) -> None:
    server, address = shared_live_server, _email()
    signed_in(server.url, server.state_dir, address)
    totp = pyotp.TOTP(pyotp.random_base32())
    # A plaintext key, as stored before keys were sealed; still read.
    _sql(server, "UPDATE accounts SET totp_secret = ? WHERE email = ?", totp.secret, address)
    for _ in range(FREE_FAILURES["code"]):
        visitor = Visitor(server.url)
        assert log_in(visitor, address).headers["location"] == "/login/code"
        assert visitor.post("/login/code", {"code": "000000"}).status_code == 422
    # The password is right again, but the code counter is not cleared by it.
    visitor = Visitor(server.url)
    assert log_in(visitor, address).headers["location"] == "/login/code"
    held = visitor.post("/login/code", {"code": totp.now()})
    assert held.status_code == 429 and int(held.headers["retry-after"]) >= 1


def test_a_locked_login_answers_as_a_wrong_password_until_reset(
    shared_live_server: LiveServer,
) -> None:
    server, address = shared_live_server, _email()
    signed_in(server.url, server.state_dir, address)
    # 99 failures behind the account, the last long enough ago to try again now.
    subject = "account:" + hashlib.sha256(address.encode()).hexdigest()
    _sql(
        server,
        "INSERT INTO login_failures (subject, failures, last_failure_at) VALUES (?, ?, ?)",
        subject,
        HARD_STOP_FAILURES - 1,
        time.time() - MAX_DELAY - 1,
    )
    visitor = Visitor(server.url)
    wrong = log_in(visitor, address, WRONG)
    assert wrong.status_code == 401
    notice = wait_for_mail(server.state_dir, address, count=2)[-1]
    assert "100 times in a row" in notice
    # The next try waits out the throttle's delay; pretend it did.
    _sql(server, "UPDATE login_failures SET last_failure_at = ?", time.time() - MAX_DELAY - 1)
    right = log_in(visitor, address, PASSWORD)
    assert right.status_code == 401
    assert _strip(right.text) == _strip(wrong.text)
    # The owner resets the password by email, which lifts the lock.
    assert visitor.post("/forgot-password", {"email": address}).status_code == 200
    wait_for_mail(server.state_dir, address, count=3)
    token = last_link(server.state_dir, address).split("token=", 1)[1]
    reset = visitor.post("/reset-password", {"token": token, "new_password": NEW_PASSWORD})
    assert reset.status_code == 303
    _sql(server, "UPDATE login_failures SET last_failure_at = ?", time.time() - MAX_DELAY - 1)
    assert log_in(Visitor(server.url), address, NEW_PASSWORD).headers["location"] == "/studio"
