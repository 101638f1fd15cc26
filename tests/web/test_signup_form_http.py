"""The sign-up form as a person meets it: every problem at once, and a link that logs them in."""

from __future__ import annotations

import re
import time
import uuid
from pathlib import Path

import httpx

from tests.conftest import LiveServer, running_live_server
from tests.visitors import (
    PASSWORD,
    Visitor,
    enable_totp,
    last_link,
    log_in,
    outbox,
    sign_up,
    verify,
)

FIELD_ERROR = re.compile(r'<p class="field-error" id="([a-z_]+)-error">([^<]*)</p>')


def _address() -> str:
    return f"{uuid.uuid4().hex[:12]}@example.com"


def _post(visitor: Visitor, **fields: str) -> httpx.Response:
    """The sign-up form with only `fields` filled (an adult's birth date unless given)."""
    return visitor.post("/signup", {"birth_date": "1990-01-01", **fields}, csrf_from="/signup")


def _field_errors(page: httpx.Response) -> dict[str, str]:
    return dict(FIELD_ERROR.findall(page.text))


def test_empty_form_flags_every_required_field(shared_live_server: LiveServer) -> None:
    visitor = Visitor(shared_live_server.url)
    page = _post(visitor, birth_date="")
    assert page.status_code == 422
    errors = _field_errors(page)
    assert set(errors) == {"email", "display_name", "birth_date", "password"}
    assert errors["birth_date"] == "Enter your date of birth: day, month and year."
    assert errors["password"] == "Choose a password."
    assert page.text.count('aria-invalid="true"') == 4
    summary = page.text.split('id="error-summary"', 1)[1].split("</ul>", 1)[0]
    # In the form's order, top to bottom.
    assert re.findall(r'href="#([a-z_]+)"', summary) == [
        "email",
        "display_name",
        "birth_date",
        "password",
    ]


def test_unreadable_date_names_the_format_the_field_shows(shared_live_server: LiveServer) -> None:
    visitor = Visitor(shared_live_server.url)
    page = sign_up(visitor, _address(), birth_date="31/05/1990")
    assert page.status_code == 422
    assert "YYYY-MM-DD" in _field_errors(page)["birth_date"]
    assert 'placeholder="YYYY-MM-DD"' in page.text


def test_minor_without_a_parent_hears_about_the_parent(shared_live_server: LiveServer) -> None:
    visitor = Visitor(shared_live_server.url)
    page = sign_up(visitor, _address(), birth_date="2012-01-01")
    assert page.status_code == 422
    errors = _field_errors(page)
    assert errors == {
        "parent_email": "You are under 18: enter the email address of a parent or guardian."
    }


def test_minor_with_a_mistyped_parent_address_hears_about_the_parent(
    shared_live_server: LiveServer,
) -> None:
    visitor = Visitor(shared_live_server.url)
    page = sign_up(
        visitor,
        _address(),
        birth_date="2012-01-01",
        parent_email="not-an-address",
    )
    assert _field_errors(page) == {
        "parent_email": "Enter your parent&#39;s or guardian&#39;s email address like"
        " name@example.com."
    }


def test_short_password_never_mentions_a_second_factor(shared_live_server: LiveServer) -> None:
    visitor = Visitor(shared_live_server.url)
    page = _post(visitor, email=_address(), password="short", display_name="A")
    message = _field_errors(page)["password"]
    assert message == "Use at least 15 characters; a few unrelated words work well."
    assert "factor" not in page.text.split('id="password-error"', 1)[1].split("</p>", 1)[0]


def test_password_survives_an_error_in_another_field(shared_live_server: LiveServer) -> None:
    visitor = Visitor(shared_live_server.url)
    page = sign_up(visitor, _address(), display_name="")
    assert page.status_code == 422
    assert set(_field_errors(page)) == {"display_name"}
    field = re.search(r'<input id="password"[^>]*>', page.text, re.S)
    assert field is not None
    assert f'value="{PASSWORD}"' in field.group(0)
    assert 'autocomplete="new-password"' in field.group(0)
    assert page.headers["cache-control"] == "no-store"


def test_refused_password_is_not_sent_back(shared_live_server: LiveServer) -> None:
    visitor = Visitor(shared_live_server.url)
    page = _post(visitor, email=_address(), password="tooshort", birth_date="")
    assert "tooshort" not in page.text


def test_verifying_the_address_logs_in_and_opens_the_studio(
    shared_live_server: LiveServer,
) -> None:
    server, address = shared_live_server, _address()
    visitor = Visitor(server.url)
    assert sign_up(visitor, address).status_code == 303
    assert "__Host-session" not in visitor.cookies
    answer = verify(visitor, server.state_dir, address)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/studio"
    assert "__Host-session" in visitor.cookies
    assert visitor.get("/account").status_code == 200


def test_verifying_returns_to_the_page_sign_up_started_from(
    shared_live_server: LiveServer,
) -> None:
    server, address = shared_live_server, _address()
    visitor = Visitor(server.url)
    assert sign_up(visitor, address, next="/pricing").status_code == 303
    link = last_link(server.state_dir, address)
    assert link.startswith("/verify-email?token=") and link.endswith("&next=%2Fpricing")
    assert 'name="next" value="/pricing"' in visitor.get(link).text
    token = link.split("token=", 1)[1].split("&", 1)[0]
    answer = visitor.post("/verify-email", {"token": token, "next": "/pricing"})
    assert answer.headers["location"] == "/pricing"


def test_verifying_in_another_browser_confirms_without_logging_in(
    shared_live_server: LiveServer,
) -> None:
    # Someone signs up with another person's address and a password of their own; the owner
    # of the mailbox confirms it. Logged straight in, the owner would use an account whose
    # password someone else knows; on the login page they find they must reset it.
    server, address = shared_live_server, _address()
    squatter = Visitor(server.url)
    assert sign_up(squatter, address).status_code == 303
    owner = Visitor(server.url)
    answer = verify(owner, server.state_dir, address)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?verified=1&next=/studio"
    assert "__Host-session" not in owner.cookies
    assert "Your email address is confirmed." in owner.get(answer.headers["location"]).text


def test_verifying_with_two_step_on_asks_for_a_login(shared_live_server: LiveServer) -> None:
    server, address = shared_live_server, _address()
    first = Visitor(server.url)
    assert sign_up(first, address).status_code == 303
    assert log_in(first, address).status_code == 303
    verification = last_link(server.state_dir, address)
    enable_totp(first)
    stranger = Visitor(server.url)
    answer = stranger.post("/verify-email", {"token": verification.split("token=", 1)[1]})
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?verified=1&next=/studio"
    assert "__Host-session" not in stranger.cookies
    assert "Your email address is confirmed." in stranger.get(answer.headers["location"]).text


def test_sign_up_page_keeps_where_it_came_from(shared_live_server: LiveServer) -> None:
    visitor = Visitor(shared_live_server.url)
    page = visitor.get("/signup", params={"next": "/tracks"})
    assert 'name="next" value="/tracks"' in page.text
    assert 'href="/login?next=/tracks"' in page.text
    refused = _post(visitor, next="/tracks")
    assert 'name="next" value="/tracks"' in refused.text


def test_too_many_sign_ups_from_one_address_answer_429_with_the_form_kept(
    tmp_path: Path,
) -> None:
    server = next(running_live_server(tmp_path, env={"SIGN_UPS_PER_ADDRESS": "2"}))
    try:
        visitor = Visitor(server.url)
        for _ in range(2):
            assert (
                _post(visitor, email=_address(), display_name="Ann", password=PASSWORD).status_code
                == 303
            )
        address = _address()
        page = _post(visitor, email=address, display_name="Ann", password=PASSWORD)
        assert page.status_code == 429
        assert page.headers["retry-after"] == "1"
        assert "Too many sign-ups from this network. Try again in 1 second." in page.text
        assert f'value="{address}"' in page.text and 'value="Ann"' in page.text
        # Nothing was kept: once the wait is over, the same address signs up afresh.
        time.sleep(1.2)
        assert (
            _post(visitor, email=address, display_name="Ann", password=PASSWORD).status_code == 303
        )
        assert last_link(server.state_dir, address).startswith("/verify-email?")
        assert len(outbox(server.state_dir, address)) == 1
    finally:
        server.stop()
