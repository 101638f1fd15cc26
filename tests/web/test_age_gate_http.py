"""The age gate over HTTP: a refused date blocks the browser for a day and keeps nothing; a
teen's account waits for the parent, who consents (and may later delete) through their link."""

from __future__ import annotations

import re
import sqlite3
import uuid
from pathlib import Path

import httpx
import pytest

from beatbun.accounts import apikeys, sessions
from beatbun.accounts.registration import SignUpForm, sign_up
from beatbun.accounts.store import find_account_by_email
from beatbun.consent.registry import AGE_REFUSED_COOKIE, AGE_REFUSED_MAX_AGE
from beatbun_local.runtime import LocalRuntime
from tests.conftest import LiveServer
from tests.factories import CLIENT, PASSWORD, create_verified_account
from tests.mail_waits import wait_for_mail
from tests.visitors import Visitor, log_in, outbox, verify
from tests.visitors import sign_up as sign_up_over_http

CHILD_BIRTH_DATE = "2019-03-14"  # 7 years old (under 13 at any date this runs)
TEEN_BIRTH_DATE = "2011-06-01"  # 15 in 2026
ADULT_BIRTH_DATE = "1996-01-01"
REFUSED = "You cannot create an account"
WAITING = "Waiting for your parent or guardian"
PARENT_LINK = re.compile(r"https?://\S+(/parent/[A-Za-z0-9_-]+)")


def _email() -> str:
    return f"{uuid.uuid4().hex[:12]}@example.com"


def _rows(server: LiveServer) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table of the server's D1 database."""
    with sqlite3.connect(server.state_dir / "d1" / "DB.sqlite") as db:
        names = [
            row[0]
            for row in db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        return {name: db.execute(f'SELECT * FROM "{name}"').fetchall() for name in names}


def _erasure_due(server: LiveServer, email: str) -> int | None:
    with sqlite3.connect(server.state_dir / "d1" / "DB.sqlite") as db:
        row = db.execute("SELECT erasure_due_at FROM accounts WHERE email = ?", (email,)).fetchone()
    return None if row[0] is None else int(row[0])


def _account_exists(server: LiveServer, email: str) -> bool:
    with sqlite3.connect(server.state_dir / "d1" / "DB.sqlite") as db:
        return db.execute("SELECT 1 FROM accounts WHERE email = ?", (email,)).fetchone() is not None


def _visible_text(page: httpx.Response) -> str:
    """The main region's text, without tags (and so without tokens in attributes)."""
    main = page.text.split("<main", 1)[1].split("</main>", 1)[0]
    return re.sub(r"<[^>]*>", " ", main)


def _outbox_files(server: LiveServer) -> list[Path]:
    return sorted((server.state_dir / "outbox").glob("*.eml"))


def test_signup_form_hints_at_no_age(shared_live_server: LiveServer) -> None:
    page = Visitor(shared_live_server.url).get("/signup")
    assert page.status_code == 200
    assert "13" not in _visible_text(page)
    assert "parental_consent" not in page.text


def test_refused_birth_date_answers_neutrally_and_sets_a_day_long_cookie(
    shared_live_server: LiveServer,
) -> None:
    refused = sign_up_over_http(
        Visitor(shared_live_server.url), _email(), birth_date=CHILD_BIRTH_DATE
    )
    assert refused.status_code == 403
    assert REFUSED in refused.text
    assert "13" not in _visible_text(refused) and CHILD_BIRTH_DATE not in refused.text
    [cookie] = [
        c for c in refused.headers.get_list("set-cookie") if c.startswith(AGE_REFUSED_COOKIE)
    ]
    assert f"Max-Age={AGE_REFUSED_MAX_AGE}" in cookie
    assert all(part in cookie for part in ("Secure", "HttpOnly", "SameSite=Lax", "Path=/"))
    # Its value is an expiry and a signature: nothing the person typed.
    assert re.fullmatch(rf"{AGE_REFUSED_COOKIE}=\d+\.[0-9a-f]{{64}}", cookie.split(";", 1)[0])


def test_retry_with_an_adult_date_from_the_same_browser_is_blocked(
    shared_live_server: LiveServer,
) -> None:
    server, address = shared_live_server, _email()
    visitor = Visitor(server.url)
    assert sign_up_over_http(visitor, address, birth_date=CHILD_BIRTH_DATE).status_code == 403

    page = visitor.get("/signup")
    retry = visitor.post(
        "/signup",
        {
            "email": address,
            "password": PASSWORD,
            "display_name": "Test Person",
            "birth_date": ADULT_BIRTH_DATE,
            "csrf_token": visitor.csrf("/login"),
        },
    )

    assert page.status_code == 403 and REFUSED in page.text and 'action="/signup"' not in page.text
    assert retry.status_code == 403 and REFUSED in retry.text
    assert outbox(server.state_dir, address) == []
    assert log_in(Visitor(server.url), address).status_code == 401


def test_another_browser_can_still_sign_up(shared_live_server: LiveServer) -> None:
    server = shared_live_server
    sign_up_over_http(Visitor(server.url), _email(), birth_date=CHILD_BIRTH_DATE)
    assert sign_up_over_http(Visitor(server.url), _email()).status_code == 303


def test_logging_out_keeps_the_block(shared_live_server: LiveServer) -> None:
    visitor = Visitor(shared_live_server.url)
    sign_up_over_http(visitor, _email(), birth_date=CHILD_BIRTH_DATE)
    visitor.post("/logout")
    assert AGE_REFUSED_COOKIE in visitor.cookies
    assert visitor.get("/signup").status_code == 403


@pytest.mark.parametrize(
    "value",
    [
        "9999999999.0000000000000000000000000000000000000000000000000000000000000000",  # forged
        "1.abc",  # long expired and unsigned
        "garbage",
    ],
)
def test_forged_or_expired_cookie_blocks_nothing(
    shared_live_server: LiveServer, value: str
) -> None:
    visitor = Visitor(shared_live_server.url)
    visitor.cookies[AGE_REFUSED_COOKIE] = value
    assert visitor.get("/signup").status_code == 200
    assert sign_up_over_http(visitor, _email()).status_code == 303


def test_refusal_stores_logs_and_mails_nothing(live_server: LiveServer) -> None:
    address = f"kid-{uuid.uuid4().hex[:8]}@example.com"
    visitor = Visitor(live_server.url)
    visitor.get("/signup")
    before, mails = _rows(live_server), _outbox_files(live_server)

    sign_up_over_http(visitor, address, birth_date=CHILD_BIRTH_DATE, parent_email=_email())
    # The server has answered and flushed whatever it would: the mail queue runs after replies.
    visitor.get("/healthz")

    assert _rows(live_server) == before
    assert _outbox_files(live_server) == mails
    log = live_server.log_path.read_text()
    assert "POST /signup" in log  # the log is the one the server writes to
    assert address not in log and CHILD_BIRTH_DATE not in log


def test_teen_waits_for_the_parent_who_consents_through_the_link(
    shared_live_server: LiveServer,
) -> None:
    server, teen, parent = shared_live_server, _email(), _email()
    visitor = Visitor(server.url)
    assert (
        sign_up_over_http(
            visitor, teen, birth_date=TEEN_BIRTH_DATE, parent_email=parent
        ).status_code
        == 303
    )
    # Confirming the address does not log the teen in.
    confirmed = verify(visitor, server.state_dir, teen)
    assert confirmed.headers["location"].startswith("/login?verified=1")
    assert "__Host-session" not in visitor.cookies

    waiting = log_in(visitor, teen)
    assert waiting.status_code == 403 and WAITING in waiting.text
    assert "If nobody agrees within 30 days" in waiting.text
    assert "__Host-session" not in visitor.cookies
    again = visitor.post("/login/parent-link", {"ticket": _ticket(waiting)})
    assert again.status_code == 403 and "only a few minutes ago" in again.text
    assert len(outbox(server.state_dir, parent)) == 1

    link = _parent_link(server, parent)
    parent_browser = Visitor(server.url)
    consent_page = parent_browser.get(link)
    assert consent_page.status_code == 200
    assert consent_page.headers["referrer-policy"] == "no-referrer"
    assert "Test Person" in consent_page.text and teen in consent_page.text
    unticked = parent_browser.post(link, {"name": "Alex Parent"}, csrf_from=link)
    assert unticked.status_code == 422 and 'id="declaration-error"' in unticked.text
    assert log_in(Visitor(server.url), teen).status_code == 403

    given = parent_browser.post(link, {"name": "Alex Parent", "declaration": "yes"}, csrf_from=link)
    assert given.status_code == 303 and given.headers["location"] == link
    summary = parent_browser.get(link)
    assert "Alex Parent" in summary.text and "Delete this account" in summary.text
    assert any("Log in here" in body for body in wait_for_mail(server.state_dir, teen, count=2))
    assert log_in(visitor, teen).status_code == 303
    assert "__Host-session" in visitor.cookies


def test_consent_form_without_the_csrf_token_is_refused(shared_live_server: LiveServer) -> None:
    server, parent = shared_live_server, _email()
    sign_up_over_http(
        Visitor(server.url), _email(), birth_date=TEEN_BIRTH_DATE, parent_email=parent
    )
    link = _parent_link(server, parent)
    refused = httpx.post(
        server.url + link,
        data={"name": "Alex Parent", "declaration": "yes"},
        headers={"Origin": server.url},
    )
    assert refused.status_code == 403


def test_parent_can_delete_only_after_consenting_and_can_cancel(
    shared_live_server: LiveServer,
) -> None:
    server, teen, parent = shared_live_server, _email(), _email()
    sign_up_over_http(Visitor(server.url), teen, birth_date=TEEN_BIRTH_DATE, parent_email=parent)
    link = _parent_link(server, parent)
    parent_browser = Visitor(server.url)

    early = parent_browser.post(f"{link}/erasure", csrf_from=link)
    assert early.status_code == 303 and _erasure_due(server, teen) is None
    parent_browser.post(link, {"name": "Alex Parent", "declaration": "yes"}, csrf_from=link)
    scheduled = parent_browser.post(f"{link}/erasure", csrf_from=link)
    assert scheduled.status_code == 303 and _erasure_due(server, teen) is not None
    assert "Cancel deletion" in parent_browser.get(link).text
    parent_browser.post(f"{link}/erasure/cancel", csrf_from=link)
    assert _erasure_due(server, teen) is None


def test_parent_who_does_not_agree_deletes_the_sign_up_at_once(
    shared_live_server: LiveServer,
) -> None:
    server, teen, parent = shared_live_server, _email(), _email()
    sign_up_over_http(Visitor(server.url), teen, birth_date=TEEN_BIRTH_DATE, parent_email=parent)
    link = _parent_link(server, parent)
    parent_browser = Visitor(server.url)
    page = parent_browser.get(link)
    assert "I do not agree — delete this sign-up" in page.text
    assert f'action="{link}/decline"' in page.text
    assert "within 30 days" in _visible_text(page)

    forged = httpx.post(f"{server.url}{link}/decline", headers={"Origin": server.url})
    assert forged.status_code == 403 and _account_exists(server, teen)

    declined = parent_browser.post(f"{link}/decline", csrf_from=link)
    assert declined.status_code == 303 and declined.headers["location"] == "/parent/declined"
    assert declined.headers["referrer-policy"] == "no-referrer"
    assert not _account_exists(server, teen)
    done = parent_browser.get("/parent/declined")
    assert done.status_code == 200 and "The sign-up was deleted" in done.text
    assert parent_browser.get(link).status_code == 404
    assert parent_browser.post(f"{link}/decline", csrf_from="/login").status_code == 404
    notice = wait_for_mail(server.state_dir, teen, count=2)[-1]
    assert "did not agree" in notice
    assert log_in(Visitor(server.url), teen).status_code == 401


def test_parent_who_consented_cannot_decline(shared_live_server: LiveServer) -> None:
    server, teen, parent = shared_live_server, _email(), _email()
    sign_up_over_http(Visitor(server.url), teen, birth_date=TEEN_BIRTH_DATE, parent_email=parent)
    link = _parent_link(server, parent)
    parent_browser = Visitor(server.url)
    parent_browser.post(link, {"name": "Alex Parent", "declaration": "yes"}, csrf_from=link)

    refused = parent_browser.post(f"{link}/decline", csrf_from=link)

    assert refused.status_code == 409 and "You have already agreed" in refused.text
    assert _account_exists(server, teen) and _erasure_due(server, teen) is None


@pytest.mark.parametrize("token", ["nope", "A" * 43, "%2e%2e"])
def test_unknown_parent_links_are_not_found(shared_live_server: LiveServer, token: str) -> None:
    assert Visitor(shared_live_server.url).get(f"/parent/{token}").status_code == 404


async def test_api_key_of_a_waiting_teen_is_refused(
    runtime: LocalRuntime, client: httpx.AsyncClient
) -> None:
    teen = await _teen(runtime)
    _, secret = await apikeys.create_api_key(
        runtime.db, account_id=teen, name="script", scopes=["read"], now=runtime.clock.now()
    )

    answer = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})

    assert answer.status_code == 403
    assert answer.json()["error"] == "parent_consent_pending"


async def test_session_from_before_the_change_stops_working(
    runtime: LocalRuntime, client: httpx.AsyncClient
) -> None:
    # A minor whose account was active under the old rule (they ticked the box themselves).
    account = await create_verified_account(runtime)
    _, token = await sessions.create_session(
        runtime.db, account_id=account.id, stage="full", client=CLIENT, now=runtime.clock.now()
    )
    client.cookies.set("__Host-session", token)
    assert (await client.get("/account")).status_code == 200
    await (
        runtime.db.prepare(
            "UPDATE accounts SET age_group = 'minor', parent_email = ?, parent_named_at = 1"
            " WHERE id = ?"
        )
        .bind("parent@example.com", account.id)
        .run()
    )

    assert (await client.get("/account")).status_code == 401


async def _teen(runtime: LocalRuntime) -> str:
    form = SignUpForm(
        email="teen@example.com",
        password=PASSWORD,
        display_name="Sam",
        birth_date="2012-01-01",
        parent_email="parent@example.com",
    )
    await sign_up(runtime, form, client=CLIENT)
    account = await find_account_by_email(runtime.db, "teen@example.com")
    assert account is not None
    await (
        runtime.db.prepare("UPDATE accounts SET email_verified_at = 1 WHERE id = ?")
        .bind(account.id)
        .run()
    )
    return account.id


def _parent_link(server: LiveServer, parent: str) -> str:
    """The path of the newest link mailed to `parent` (the queue is flushed after answering)."""
    found = PARENT_LINK.search(wait_for_mail(server.state_dir, parent)[-1])
    assert found is not None
    return found.group(1)


def _ticket(page: httpx.Response) -> str:
    found = re.search(r'name="ticket" value="([^"]+)"', page.text)
    assert found is not None
    return found.group(1)
