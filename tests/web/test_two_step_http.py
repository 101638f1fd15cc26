"""Two-step changes on the real local server: a recent password, an email, the offer to end
other sessions, GET pages that write nothing, and TOTP keys sealed in D1."""

from __future__ import annotations

import asyncio
import re
import sqlite3
import time
import uuid
from pathlib import Path

import pyotp

from beatbun.accounts.sealing import open_text
from beatbun.settings import Settings
from beatbun_local.cipher import CryptographyCipher
from tests.conftest import LiveServer
from tests.visitors import (
    PASSWORD,
    Visitor,
    confirm_password,
    enable_totp,
    log_in,
    outbox,
    signed_in,
)

PROMPT = "/account/confirm-password?next=/account/two-step"
SETUP_PROMPT = "/account/confirm-password?next=/account/two-step/setup"
SECRET_ON_PAGE = re.compile(r'id="totp-secret">([A-Z2-7]+)<')
CODES_ON_PAGE = re.compile(r"<li><code>([a-z0-9-]+)</code></li>")


def _email() -> str:
    return f"{uuid.uuid4().hex[:12]}@example.com"


def _db(server: LiveServer) -> sqlite3.Connection:
    connection = sqlite3.connect(server.state_dir / "d1" / "DB.sqlite")
    connection.row_factory = sqlite3.Row
    return connection


def _account_row(server: LiveServer, address: str) -> dict[str, object]:
    with _db(server) as connection:
        row = connection.execute("SELECT * FROM accounts WHERE email = ?", (address,)).fetchone()
    connection.close()
    return dict(row)


def _age_password_confirmation(server: LiveServer, address: str) -> None:
    """Make every confirmation of the account's sessions older than the 5-minute window."""
    with _db(server) as connection:
        connection.execute(
            "UPDATE sessions SET reauthenticated_at = reauthenticated_at - 301"
            " WHERE account_id = (SELECT id FROM accounts WHERE email = ?)",
            (address,),
        )
    connection.close()


def _set_totp_secret(server: LiveServer, address: str, value: str) -> None:
    with _db(server) as connection:
        connection.execute("UPDATE accounts SET totp_secret = ? WHERE email = ?", (value, address))
    connection.close()


def _mail_containing(state_dir: Path, to: str, text: str, timeout: float = 5.0) -> str:
    deadline = time.monotonic() + timeout
    while True:
        found = [body for body in outbox(state_dir, to) if text in body]
        if found or time.monotonic() > deadline:
            break
        time.sleep(0.02)
    assert found, f"no mail to {to} containing {text!r}"
    return found[-1]


def _opened(server_settings: Settings, account_id: str, stored: str) -> str:
    # The live server runs with the development DATA_KEYS placeholder, as Settings() does.
    return asyncio.run(
        open_text(CryptographyCipher(), server_settings, stored, context=f"totp:{account_id}")
    )


def _start_enrolment(visitor: Visitor) -> str:
    assert confirm_password(visitor).status_code == 303
    assert visitor.post("/account/two-step/setup").status_code == 303
    found = SECRET_ON_PAGE.search(visitor.get("/account/two-step").text)
    assert found is not None
    return found.group(1)


def _second_session(server: LiveServer, address: str, recovery_code: str | None = None) -> Visitor:
    other = Visitor(server.url, user_agent="OtherBrowser/2.0")
    assert log_in(other, address).status_code == 303
    if recovery_code is not None:
        assert other.post("/login/code", {"code": recovery_code}).status_code == 303
    assert other.get("/account").status_code == 200
    return other


def test_two_step_page_writes_nothing_to_d1(shared_live_server: LiveServer) -> None:
    server, address = shared_live_server, _email()
    visitor = signed_in(server.url, server.state_dir, address)
    before = _account_row(server, address)
    stale = visitor.get("/account/two-step")
    assert stale.status_code == 200 and SETUP_PROMPT in stale.text
    assert confirm_password(visitor).status_code == 303
    fresh = visitor.get("/account/two-step")
    assert fresh.status_code == 200 and 'action="/account/two-step/setup"' in fresh.text
    assert "totp-secret" not in fresh.text
    assert _account_row(server, address) == before


def test_setup_without_a_recent_password_goes_to_the_prompt_then_works(
    shared_live_server: LiveServer,
) -> None:
    server, address = shared_live_server, _email()
    visitor = signed_in(server.url, server.state_dir, address)
    refused = visitor.post("/account/two-step/setup")
    assert refused.status_code == 303 and refused.headers["location"] == SETUP_PROMPT
    assert _account_row(server, address)["totp_pending_secret"] is None
    prompt = visitor.get(SETUP_PROMPT)
    assert prompt.status_code == 200 and '<label for="current_password">' in prompt.text
    setup = "/account/two-step/setup"
    wrong = confirm_password(visitor, "not the right password at all", then=setup)
    assert wrong.status_code == 422 and 'id="current_password-error"' in wrong.text
    # The right password carries on with what was asked for: the key is on the page.
    confirmed = confirm_password(visitor, then=setup)
    assert confirmed.status_code == 303 and confirmed.headers["location"] == "/account/two-step"
    assert SECRET_ON_PAGE.search(visitor.get("/account/two-step").text)


def test_password_prompt_never_sends_people_off_site(shared_live_server: LiveServer) -> None:
    server = shared_live_server
    visitor = signed_in(server.url, server.state_dir, _email())
    confirmed = visitor.post(
        "/account/confirm-password",
        {"current_password": PASSWORD, "next": "https://evil.example/account/two-step"},
    )
    assert confirmed.status_code == 303 and confirmed.headers["location"] == "/account/two-step"


def test_turning_on_with_a_stale_password_goes_to_the_prompt_then_works(
    shared_live_server: LiveServer,
) -> None:
    server, address = shared_live_server, _email()
    visitor = signed_in(server.url, server.state_dir, address)
    secret = _start_enrolment(visitor)
    _age_password_confirmation(server, address)
    code = pyotp.TOTP(secret).now()
    refused = visitor.post("/account/two-step", {"code": code})
    assert refused.status_code == 303 and refused.headers["location"] == PROMPT
    assert _account_row(server, address)["totp_secret"] is None
    assert confirm_password(visitor).status_code == 303
    # The pending key survived the detour: the same app entry still works.
    done = visitor.post("/account/two-step", {"code": code})
    assert done.status_code == 200 and len(CODES_ON_PAGE.findall(done.text)) == 10


def test_totp_secret_in_d1_is_sealed_and_opens_to_the_key(shared_live_server: LiveServer) -> None:
    server, address = shared_live_server, _email()
    visitor = signed_in(server.url, server.state_dir, address)
    secret, _ = enable_totp(visitor)
    row = _account_row(server, address)
    stored = str(row["totp_secret"])
    assert stored != secret and secret not in stored and stored.startswith("v1:")
    assert _opened(Settings(), str(row["id"]), stored) == secret


def test_turning_on_mails_the_owner_and_ending_other_sessions_works(
    shared_live_server: LiveServer,
) -> None:
    server, address = shared_live_server, _email()
    visitor = signed_in(server.url, server.state_dir, address)
    other = _second_session(server, address)
    secret = _start_enrolment(visitor)
    done = visitor.post("/account/two-step", {"code": pyotp.TOTP(secret).now()})
    assert done.status_code == 200
    assert 'action="/account/sessions/others/end"' in done.text
    assert "where your account is logged in: 1." in done.text
    _mail_containing(server.state_dir, address, "Two-step verification was turned on")
    ended = visitor.post("/account/sessions/others/end", csrf_from="/account/sessions")
    assert ended.status_code == 303
    assert other.get("/account").status_code == 401
    assert visitor.get("/account").status_code == 200


def test_turning_off_needs_the_password_mails_and_offers_to_end_other_sessions(
    shared_live_server: LiveServer,
) -> None:
    server, address = shared_live_server, _email()
    visitor = signed_in(server.url, server.state_dir, address)
    _, codes = enable_totp(visitor)
    other = _second_session(server, address, recovery_code=codes[0])
    refused = visitor.post("/account/two-step/disable", {"code": codes[1]})
    assert refused.status_code == 422 and 'id="current_password-error"' in refused.text
    assert _account_row(server, address)["totp_secret"] is not None
    off = visitor.post(
        "/account/two-step/disable", {"current_password": PASSWORD, "code": codes[2]}
    )
    assert off.status_code == 303 and off.headers["location"] == "/account/two-step?turned=off"
    assert _account_row(server, address)["totp_secret"] is None
    _mail_containing(server.state_dir, address, "Two-step verification was turned off")
    page = visitor.get(off.headers["location"])
    assert 'action="/account/sessions/others/end"' in page.text
    assert visitor.post("/account/sessions/others/end").status_code == 303
    assert other.get("/account").status_code == 401


def test_new_recovery_codes_need_a_recent_password_and_replace_the_old(
    shared_live_server: LiveServer,
) -> None:
    server, address = shared_live_server, _email()
    visitor = signed_in(server.url, server.state_dir, address)
    _, old_codes = enable_totp(visitor)
    _age_password_confirmation(server, address)
    refused = visitor.post("/account/two-step/recovery-codes")
    assert refused.status_code == 303 and refused.headers["location"] == PROMPT
    assert PROMPT in visitor.get("/account/two-step").text
    assert confirm_password(visitor).status_code == 303
    made = visitor.post("/account/two-step/recovery-codes")
    new_codes = CODES_ON_PAGE.findall(made.text)
    assert made.status_code == 200 and len(new_codes) == 10 and not set(new_codes) & set(old_codes)
    _mail_containing(server.state_dir, address, "New recovery codes were made")
    visitor.post("/logout")
    log_in(visitor, address)
    assert visitor.post("/login/code", {"code": old_codes[0]}).status_code == 422
    assert visitor.post("/login/code", {"code": new_codes[0]}).status_code == 303


def test_legacy_plaintext_secret_still_logs_in_and_is_resealed(
    shared_live_server: LiveServer,
) -> None:
    server, address = shared_live_server, _email()
    visitor = signed_in(server.url, server.state_dir, address)
    secret, _ = enable_totp(visitor)
    _set_totp_secret(server, address, secret)  # as stored before migration 0032
    visitor.post("/logout")
    assert log_in(visitor, address).headers["location"] == "/login/code"
    # Enrolment spent the current step; the next one is within the allowed drift.
    next_code = pyotp.TOTP(secret).at(time.time() + 30)
    assert visitor.post("/login/code", {"code": next_code}).status_code == 303
    row = _account_row(server, address)
    stored = str(row["totp_secret"])
    assert stored.startswith("v1:") and _opened(Settings(), str(row["id"]), stored) == secret
