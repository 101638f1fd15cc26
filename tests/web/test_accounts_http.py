"""Account flows over HTTP against the real local server (one server per module, see conftest)."""

from __future__ import annotations

import re
import time
import uuid

import httpx
import pyotp

from tests.conftest import LiveServer
from tests.mail_waits import wait_for_mail
from tests.visitors import (
    PASSWORD,
    Visitor,
    enable_totp,
    last_link,
    log_in,
    outbox,
    sign_up,
    signed_in,
    verify,
)


def _email() -> str:
    return f"{uuid.uuid4().hex[:12]}@example.com"


def test_signup_verify_login_logout(shared_live_server: LiveServer) -> None:
    server, address = shared_live_server, _email()
    visitor = Visitor(server.url)
    assert sign_up(visitor, address).headers["location"] == "/signup/sent"
    # The link logs this browser in; a login afterwards replaces that session.
    assert verify(visitor, server.state_dir, address).headers["location"] == "/studio"
    login = log_in(visitor, address)
    assert login.status_code == 303 and login.headers["location"] == "/studio"
    cookie = next(
        h for h in login.headers.get_list("set-cookie") if h.startswith("__Host-session=")
    )
    assert {"Secure", "HttpOnly", "SameSite=Lax", "Path=/"} <= set(cookie.split("; "))
    assert len(visitor.cookies["__Host-session"]) >= 43  # 256 bits, base64url
    account = visitor.get("/account")
    assert account.status_code == 200 and address in account.text
    assert account.headers["cache-control"] == "no-store"
    logout = visitor.post("/logout")
    assert logout.status_code == 303
    assert logout.headers["clear-site-data"] == '"cache", "storage"'
    assert visitor.get("/account").status_code == 401


def test_logout_revokes_the_token_server_side(shared_live_server: LiveServer) -> None:
    visitor = signed_in(shared_live_server.url, shared_live_server.state_dir, _email())
    token = visitor.cookies["__Host-session"]
    visitor.post("/logout")
    replay = httpx.get(
        shared_live_server.url + "/account", headers={"Cookie": f"__Host-session={token}"}
    )
    assert replay.status_code == 401


def test_session_token_from_before_login_is_dead_after_it(shared_live_server: LiveServer) -> None:
    server, address = shared_live_server, _email()
    visitor = signed_in(server.url, server.state_dir, address)
    before = visitor.cookies["__Host-session"]
    assert log_in(visitor, address).status_code == 303
    assert visitor.cookies["__Host-session"] != before
    stale = httpx.get(server.url + "/account", headers={"Cookie": f"__Host-session={before}"})
    assert stale.status_code == 401


def test_verification_link_is_single_use(shared_live_server: LiveServer) -> None:
    server, address = shared_live_server, _email()
    visitor = Visitor(server.url)
    sign_up(visitor, address)
    assert verify(visitor, server.state_dir, address).status_code == 303
    again = verify(visitor, server.state_dir, address)
    assert again.status_code == 422 and "already used" in again.text


def test_verification_page_sends_no_referrer(shared_live_server: LiveServer) -> None:
    server, address = shared_live_server, _email()
    visitor = Visitor(server.url)
    sign_up(visitor, address)
    page = visitor.get(last_link(server.state_dir, address))
    assert page.status_code == 200 and page.headers["referrer-policy"] == "no-referrer"


def test_bogus_verification_token_is_refused(shared_live_server: LiveServer) -> None:
    response = Visitor(shared_live_server.url).post("/verify-email", {"token": "nope"})
    assert response.status_code == 422 and "not valid" in response.text


def test_under_13_is_refused_and_nothing_is_stored(shared_live_server: LiveServer) -> None:
    server, address = shared_live_server, _email()
    response = sign_up(Visitor(server.url), address, birth_date="2020-01-01")
    assert response.status_code == 403 and "You cannot create an account" in response.text
    assert outbox(server.state_dir, address) == []
    assert log_in(Visitor(server.url), address).status_code == 401


def test_minor_needs_a_parent_address(shared_live_server: LiveServer) -> None:
    server, address, parent = shared_live_server, _email(), _email()
    visitor = Visitor(server.url)
    missing = sign_up(visitor, address, birth_date="2012-01-01")
    assert missing.status_code == 422 and 'aria-invalid="true"' in missing.text
    ok = sign_up(visitor, address, birth_date="2012-01-01", parent_email=parent)
    assert ok.status_code == 303
    assert "/parent/" in wait_for_mail(server.state_dir, parent)[-1]


def test_login_does_not_reveal_whether_an_email_exists(shared_live_server: LiveServer) -> None:
    server, known = shared_live_server, _email()
    signed_in(server.url, server.state_dir, known)
    wrong_password = log_in(Visitor(server.url), known, "not the right password at all")
    unknown_email = log_in(Visitor(server.url), _email(), "not the right password at all")
    assert wrong_password.status_code == unknown_email.status_code == 401
    strip = lambda text: re.sub(r'(value|nonce)="[^"]*"', "", text)  # noqa: E731 (echoed fields and nonces differ)
    assert strip(wrong_password.text) == strip(unknown_email.text)


def test_signup_with_a_taken_email_looks_the_same(shared_live_server: LiveServer) -> None:
    server, address = shared_live_server, _email()
    assert sign_up(Visitor(server.url), address).headers["location"] == "/signup/sent"
    again = sign_up(Visitor(server.url), address)
    assert again.headers["location"] == "/signup/sent"
    # The verification link, then the notice to the owner.
    assert "already has" in wait_for_mail(server.state_dir, address, count=2)[-1]


def test_cross_origin_post_is_refused(shared_live_server: LiveServer) -> None:
    visitor = Visitor(shared_live_server.url)
    response = visitor.post(
        "/login", {"email": "a@b.co", "password": "x"}, headers={"Origin": "https://evil.example"}
    )
    assert response.status_code == 403 and "other sites" in response.text
    fetch_site = visitor.post(
        "/login", {"email": "a@b.co", "password": "x"}, headers={"Sec-Fetch-Site": "cross-site"}
    )
    assert fetch_site.status_code == 403


def test_post_without_csrf_token_is_refused(shared_live_server: LiveServer) -> None:
    visitor = signed_in(shared_live_server.url, shared_live_server.state_dir, _email())
    response = visitor.post("/account/name", {"display_name": "X", "csrf_token": "forged"})
    assert response.status_code == 403 and "form has expired" in response.text


def test_security_headers_on_pages(shared_live_server: LiveServer) -> None:
    response = httpx.get(shared_live_server.url + "/login")
    csp = response.headers["content-security-policy"]
    for part in (
        "'strict-dynamic'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "https://checkout.stripe.com",
        "https://billing.stripe.com",
    ):
        assert part in csp
    assert "unsafe-inline" not in csp and re.search(r"'nonce-[\w-]{16,}'", csp)
    assert httpx.get(shared_live_server.url + "/login").headers["content-security-policy"] != csp
    assert response.headers["strict-transport-security"] == "max-age=63072000; includeSubDomains"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert response.headers["cross-origin-opener-policy"] == "same-origin"
    assert "camera=()" in response.headers["permissions-policy"]
    assert "server" not in response.headers and "x-powered-by" not in response.headers


def test_malformed_fields_give_422_with_messages(shared_live_server: LiveServer) -> None:
    visitor = Visitor(shared_live_server.url)
    cases = {
        "email": {"email": "not-an-email"},
        "birth_date": {"birth_date": "31/12/1990"},
        "display_name": {"display_name": "   "},
        "password": {"password": "short"},
    }
    for field, bad in cases.items():
        data = {
            "email": _email(),
            "password": PASSWORD,
            "display_name": "Ok",
            "birth_date": "1990-01-01",
            **bad,
        }
        response = visitor.post("/signup", data)
        assert response.status_code == 422, field
        assert f'id="{field}-error"' in response.text, field
    common = visitor.post(
        "/signup",
        {
            "email": _email(),
            "password": "123456789987654321",
            "display_name": "Ok",
            "birth_date": "1990-01-01",
        },
    )
    assert common.status_code == 422 and "common or breached" in common.text


def test_totp_login_needs_a_code_and_refuses_a_wrong_one(shared_live_server: LiveServer) -> None:
    server, address = shared_live_server, _email()
    visitor = signed_in(server.url, server.state_dir, address)
    # Enrolment spends a step somewhere in [before, after]; a slow machine may cross a boundary.
    before = time.time()
    secret, codes = enable_totp(visitor)
    after = time.time()
    assert len(codes) == 10
    visitor.post("/logout")
    assert log_in(visitor, address).headers["location"] == "/login/code"
    pending = visitor.cookies["__Host-session"]
    assert visitor.get("/account").status_code == 401
    wrong = visitor.post("/login/code", {"code": "000000"})
    assert wrong.status_code == 422 and "not valid" in wrong.text
    # Steps up to the one spent on enrolment are refused (no replay); one step of drift is allowed.
    assert visitor.post("/login/code", {"code": pyotp.TOTP(secret).at(before)}).status_code == 422
    next_step = pyotp.TOTP(secret).at(after + 30)
    assert visitor.post("/login/code", {"code": next_step}).status_code == 303
    assert visitor.cookies["__Host-session"] != pending
    assert visitor.get("/account").status_code == 200


def test_recovery_code_works_once(shared_live_server: LiveServer) -> None:
    server, address = shared_live_server, _email()
    visitor = signed_in(server.url, server.state_dir, address)
    _, codes = enable_totp(visitor)
    visitor.post("/logout")
    log_in(visitor, address)
    assert visitor.post("/login/code", {"code": codes[0]}).status_code == 303
    visitor.post("/logout")
    log_in(visitor, address)
    assert visitor.post("/login/code", {"code": codes[0]}).status_code == 422


def test_disabling_totp_needs_a_fresh_code(shared_live_server: LiveServer) -> None:
    server, address = shared_live_server, _email()
    visitor = signed_in(server.url, server.state_dir, address)
    before = time.time()
    secret, _ = enable_totp(visitor)
    # Steps up to the enrolment code's are used up, so they cannot switch it off.
    reused = visitor.post(
        "/account/two-step/disable",
        {"current_password": PASSWORD, "code": pyotp.TOTP(secret).at(before)},
    )
    assert reused.status_code == 422 and 'id="code-error"' in reused.text
    assert "is <strong>on</strong>" in visitor.get("/account/two-step").text


def test_disabling_totp_with_a_wrong_password_names_the_password_field(
    shared_live_server: LiveServer,
) -> None:
    server, address = shared_live_server, _email()
    visitor = signed_in(server.url, server.state_dir, address)
    _, codes = enable_totp(visitor)
    wrong = visitor.post(
        "/account/two-step/disable",
        {"current_password": "not the right password at all", "code": codes[0]},
    )
    assert wrong.status_code == 422
    assert 'id="current_password-error">Your password is not correct.<' in wrong.text
    assert "is <strong>on</strong>" in visitor.get("/account/two-step").text


def test_disabling_totp_with_a_short_password_names_the_password_field(
    shared_live_server: LiveServer,
) -> None:
    server, address = shared_live_server, _email()
    visitor = signed_in(server.url, server.state_dir, address)
    _, codes = enable_totp(visitor)
    short = "short pw 1"
    changed = visitor.post(
        "/account/password",
        {"current_password": PASSWORD, "new_password": short, "code": codes[0]},
    )
    assert changed.status_code == 303
    refused = visitor.post(
        "/account/two-step/disable", {"current_password": short, "code": codes[1]}
    )
    assert refused.status_code == 422
    assert 'id="current_password-error">Your password is shorter than 15' in refused.text
    assert "is <strong>on</strong>" in visitor.get("/account/two-step").text


def test_password_hint_gives_the_minimum_for_the_account(shared_live_server: LiveServer) -> None:
    server = shared_live_server
    visitor = signed_in(server.url, server.state_dir, _email())
    assert "At least 15 characters." in visitor.get("/account").text
    enable_totp(visitor)
    assert "At least 8 characters." in visitor.get("/account").text


def test_api_key_authenticates_bearer_and_revocation_ends_it(
    shared_live_server: LiveServer,
) -> None:
    server = shared_live_server
    visitor = signed_in(server.url, server.state_dir, _email())
    created = visitor.post("/account/api-keys", {"name": "script", "scopes": "read"})
    assert created.status_code == 201
    key = re.search(r'id="new-api-key">(bbk_[\w-]+)<', created.text).group(1)  # type: ignore[union-attr]
    assert key[:12] in visitor.get("/account/api-keys").text
    assert key not in visitor.get("/account/api-keys").text
    me = httpx.get(server.url + "/api/v1/me", headers={"Authorization": f"Bearer {key}"})
    assert me.status_code == 200 and me.json()["scopes"] == ["read"]
    assert me.headers["cache-control"] == "no-store"
    key_id = re.search(
        r"/account/api-keys/(\w+)/revoke", visitor.get("/account/api-keys").text
    ).group(1)  # type: ignore[union-attr]
    assert visitor.post(f"/account/api-keys/{key_id}/revoke").status_code == 303
    revoked = httpx.get(server.url + "/api/v1/me", headers={"Authorization": f"Bearer {key}"})
    assert revoked.status_code == 401 and revoked.json()["error"] == "invalid_api_key"


def test_api_refuses_cookies_and_keys_in_urls(shared_live_server: LiveServer) -> None:
    server = shared_live_server
    visitor = signed_in(server.url, server.state_dir, _email())
    by_cookie = visitor.get("/api/v1/me")
    assert by_cookie.status_code == 401 and by_cookie.headers["www-authenticate"].startswith(
        "Bearer"
    )
    in_query = httpx.get(server.url + "/api/v1/me?api_key=bbk_x")
    assert in_query.status_code == 400 and in_query.json()["error"] == "api_key_in_url"


def test_api_key_does_not_open_pages(shared_live_server: LiveServer) -> None:
    server = shared_live_server
    visitor = signed_in(server.url, server.state_dir, _email())
    created = visitor.post("/account/api-keys", {"name": "s", "scopes": "read"})
    key = re.search(r'id="new-api-key">(bbk_[\w-]+)<', created.text).group(1)  # type: ignore[union-attr]
    assert (
        httpx.get(server.url + "/account", headers={"Authorization": f"Bearer {key}"}).status_code
        == 401
    )


def test_password_reset_ends_sessions_and_token_is_single_use(
    shared_live_server: LiveServer,
) -> None:
    server, address = shared_live_server, _email()
    visitor = signed_in(server.url, server.state_dir, address)
    other = Visitor(server.url)
    assert other.post("/forgot-password", {"email": address}).status_code == 200
    wait_for_mail(server.state_dir, address, count=2)  # verification, then reset
    token = last_link(server.state_dir, address).split("token=", 1)[1]
    new = "a brand new passphrase for reset"
    assert other.post("/reset-password", {"token": token, "new_password": new}).status_code == 303
    assert visitor.get("/account").status_code == 401
    assert other.post("/reset-password", {"token": token, "new_password": new}).status_code == 422
    assert log_in(Visitor(server.url), address, new).status_code == 303


def test_forgot_password_answers_unknown_emails_the_same(shared_live_server: LiveServer) -> None:
    server, known = shared_live_server, _email()
    signed_in(server.url, server.state_dir, known)
    a = Visitor(server.url).post("/forgot-password", {"email": known})
    b = Visitor(server.url).post("/forgot-password", {"email": _email()})
    assert a.status_code == b.status_code == 200
    strip = lambda text: re.sub(r'(value|nonce)="[^"]*"', "", text)  # noqa: E731
    assert strip(a.text) == strip(b.text)


def test_sessions_list_and_end_others(shared_live_server: LiveServer) -> None:
    server, address = shared_live_server, _email()
    first = signed_in(server.url, server.state_dir, address)
    second = Visitor(server.url, user_agent="OtherDevice/2.0")
    log_in(second, address)
    listing = first.get("/account/sessions")
    assert "OtherDevice/2.0" in listing.text and "This device" in listing.text
    assert first.post("/account/sessions/others/end").status_code == 303
    assert second.get("/account").status_code == 401
    assert first.get("/account").status_code == 200
    assert "All other sessions ended" in first.get("/account/security-log").text


def test_profile_changes_and_security_log(shared_live_server: LiveServer) -> None:
    server, address = shared_live_server, _email()
    visitor = signed_in(server.url, server.state_dir, address)
    assert visitor.post("/account/name", {"display_name": "Renamed"}).status_code == 303
    assert "Renamed" in visitor.get("/account").text
    new_address = _email()
    wrong = visitor.post(
        "/account/email", {"new_email": new_address, "current_password": "wrong wrong wrong"}
    )
    assert wrong.status_code == 422
    assert (
        visitor.post(
            "/account/email", {"new_email": new_address, "current_password": PASSWORD}
        ).status_code
        == 303
    )
    token = last_link(server.state_dir, new_address).split("token=", 1)[1]
    assert visitor.post("/account/email/confirm", {"token": token}).status_code == 303
    assert new_address in visitor.get("/account").text
    changed = visitor.post(
        "/account/password",
        {"current_password": PASSWORD, "new_password": "another long passphrase here"},
    )
    assert changed.status_code == 303
    log = visitor.get("/account/security-log").text
    for label in (
        "Account created",
        "Logged in",
        "Display name changed",
        "Email address changed",
        "Password changed",
    ):
        assert label in log


def test_outbox_page_lists_mail(shared_live_server: LiveServer) -> None:
    server, address = shared_live_server, _email()
    sign_up(Visitor(server.url), address)
    wait_for_mail(server.state_dir, address)
    page = httpx.get(server.url + "/dev/outbox")
    assert page.status_code == 200 and address in page.text
