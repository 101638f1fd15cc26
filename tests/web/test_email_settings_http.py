"""The email settings page, the confirmation link's page and the unsubscribe link, over HTTP:
through the app for the pages, and against the live server for RFC 8058 one-click."""

from __future__ import annotations

import html
import re
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from beatbun.accounts.models import Account
from beatbun.accounts.store import get_account
from beatbun.i18n import translate
from beatbun.mail.catalogue import NOTICES
from beatbun.mail.marketing import CONFIRM_PATH
from beatbun.mail.marketingrules import unsubscribe_url
from beatbun.runtime.base import Outbox
from beatbun.settings import Settings
from beatbun_local.runtime import LocalRuntime
from tests.conftest import LiveServer, running_live_server
from tests.factories import create_verified_account
from tests.mail_waits import wait_for_mail
from tests.visitors import signed_in
from tests.web.owners import Owner, signed_in_owner

PAGE = "/account/email"
CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')
CONFIRM_LINK = re.compile(r"https?://\S+(/email/confirm-marketing\?token=[A-Za-z0-9._%-]+)")
ONE_CLICK = {"List-Unsubscribe": "One-Click"}


async def _owner(runtime: LocalRuntime, client: httpx.AsyncClient, *, change: str = "") -> Owner:
    owner = await signed_in_owner(
        runtime, client, home=PAGE, email=f"{uuid.uuid4().hex[:10]}@example.com"
    )
    if change:
        await (
            runtime.db.prepare(f"UPDATE accounts SET {change} WHERE id = ?")
            .bind(owner.account.id)
            .run()
        )
    return owner


async def _confirm_path(runtime: LocalRuntime, account: Account) -> str:
    """The path of the one confirmation link mailed to the account (sent after the answer,
    by the page's background task)."""
    assert isinstance(runtime.mailer, Outbox)
    links = [
        found.group(1)
        for message in runtime.mailer.messages()
        if message.to == account.email and (found := CONFIRM_LINK.search(message.text))
    ]
    assert len(links) == 1, links
    return links[0]


async def _opted_in(runtime: LocalRuntime, client: httpx.AsyncClient) -> Owner:
    owner = await _owner(runtime, client)
    assert (await owner.post(f"{PAGE}/marketing", {"choice": "on"})).status_code == 303
    token = (await _confirm_path(runtime, owner.account)).split("token=", 1)[1]
    confirmed = await owner.post(CONFIRM_PATH, {"token": token})
    assert confirmed.status_code == 303, confirmed.text
    return owner


async def _actions(runtime: LocalRuntime, account_id: str) -> list[tuple[str, str]]:
    rows = (
        await runtime.db.prepare(
            "SELECT action, source FROM marketing_consents WHERE account_id = ? ORDER BY rowid"
        )
        .bind(account_id)
        .all()
    ).results
    return [(str(row["action"]), str(row["source"])) for row in rows]


def _unsubscribe_path(settings: Settings, account_id: str, campaign_id: str | None = None) -> str:
    url = urlsplit(unsubscribe_url(settings, account_id, campaign_id=campaign_id))
    return f"{url.path}?{url.query}" if url.query else url.path


def _text(page: httpx.Response) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page.text)))


async def test_email_page_needs_a_login(client: httpx.AsyncClient) -> None:
    page = await client.get(PAGE)
    assert page.status_code == 401
    assert f'href="/login?next={PAGE}"' in page.text


async def test_email_page_lists_every_service_notice_and_marketing_off(
    runtime: LocalRuntime, client: httpx.AsyncClient
) -> None:
    owner = await _owner(runtime, client)
    page = await owner.page()
    assert page.status_code == 200
    text = _text(page)
    for notice in NOTICES:
        assert translate("en", notice.label) in text
    assert "Always on" in text
    assert "Global Privacy Control (GPC)" in text
    assert 'id="marketing-on"' in page.text
    assert f'<a href="{PAGE}" aria-current="page">Email</a>' in page.text


async def test_turning_marketing_on_sends_a_link_and_shows_pending(
    runtime: LocalRuntime, client: httpx.AsyncClient
) -> None:
    owner = await _owner(runtime, client)
    turned = await owner.post(f"{PAGE}/marketing", {"choice": "on"})
    assert turned.status_code == 303
    assert turned.headers["location"] == f"{PAGE}?done=confirm_sent#marketing"
    page = await owner.page(turned.headers["location"])
    assert "Waiting for your confirmation" in page.text
    assert "We emailed you a link." in _text(page)
    assert await _actions(runtime, owner.account.id) == [("requested", "email_settings")]
    assert (await get_account(runtime.db, owner.account.id)).marketing_opt_in_at is None


async def test_turning_marketing_on_without_the_csrf_token_is_refused(
    runtime: LocalRuntime, client: httpx.AsyncClient
) -> None:
    owner = await _owner(runtime, client)
    refused = await client.post(f"{PAGE}/marketing", data={"choice": "on"}, headers=owner.headers)
    assert refused.status_code == 403
    assert await _actions(runtime, owner.account.id) == []


async def test_a_bad_choice_is_answered_on_the_page(
    runtime: LocalRuntime, client: httpx.AsyncClient
) -> None:
    owner = await _owner(runtime, client)
    page = await owner.post(f"{PAGE}/marketing", {"choice": "maybe"})
    assert page.status_code == 422
    assert "Choose on or off." in page.text
    assert await _actions(runtime, owner.account.id) == []


async def test_confirmation_link_page_changes_nothing_until_confirmed(
    runtime: LocalRuntime, client: httpx.AsyncClient
) -> None:
    owner = await _owner(runtime, client)
    await owner.post(f"{PAGE}/marketing", {"choice": "on"})
    page = await client.get(await _confirm_path(runtime, owner.account))
    assert page.status_code == 200
    assert page.headers["referrer-policy"] == "no-referrer"
    assert 'id="confirm-marketing"' in page.text
    assert (await get_account(runtime.db, owner.account.id)).marketing_opt_in_at is None


async def test_confirming_turns_marketing_on_and_shows_it(
    runtime: LocalRuntime, client: httpx.AsyncClient
) -> None:
    owner = await _opted_in(runtime, client)
    page = await owner.page(f"{PAGE}?done=marketing_on")
    assert "Confirmed: product updates and offers are on." in page.text
    assert 'id="marketing-off"' in page.text
    text = _text(page)
    assert "Turned on (link confirmed)" in text
    assert "Asked for (confirmation link sent)" in text
    assert (await get_account(runtime.db, owner.account.id)).marketing_opt_in_at is not None


async def test_confirming_from_another_browser_shows_the_confirmed_page(
    runtime: LocalRuntime, client: httpx.AsyncClient
) -> None:
    owner = await _owner(runtime, client)
    await owner.post(f"{PAGE}/marketing", {"choice": "on"})
    path = await _confirm_path(runtime, owner.account)
    other = {"Origin": "http://testserver"}
    link_page = await client.get(path, headers=other)
    csrf = CSRF_INPUT.search(link_page.text)
    assert csrf
    cookie = link_page.headers["set-cookie"].split(";", 1)[0]
    done = await client.post(
        CONFIRM_PATH,
        data={"token": path.split("token=", 1)[1], "csrf_token": csrf.group(1)},
        headers={**other, "Cookie": cookie},
    )
    assert done.status_code == 200
    assert "Product updates and offers are on" in done.text
    assert (await get_account(runtime.db, owner.account.id)).marketing_opt_in_at is not None


async def test_confirming_a_forged_link_is_refused_on_the_page(
    runtime: LocalRuntime, client: httpx.AsyncClient
) -> None:
    owner = await _owner(runtime, client)
    page = await owner.post(CONFIRM_PATH, {"token": "0" * 32 + ".forged"})
    assert page.status_code == 422
    assert "This link is not valid." in page.text
    assert await _actions(runtime, owner.account.id) == []


async def test_turning_marketing_on_when_it_is_on_sends_nothing_and_says_so(
    runtime: LocalRuntime, client: httpx.AsyncClient
) -> None:
    owner = await _opted_in(runtime, client)
    again = await owner.post(f"{PAGE}/marketing", {"choice": "on"})
    assert again.status_code == 303
    assert again.headers["location"] == f"{PAGE}?done=marketing_on#marketing"
    assert await _actions(runtime, owner.account.id) == [
        ("requested", "email_settings"),
        ("confirmed", "confirmation_link"),
    ]
    await _confirm_path(runtime, owner.account)  # still the one link


async def test_turning_marketing_off_takes_effect_at_once(
    runtime: LocalRuntime, client: httpx.AsyncClient
) -> None:
    owner = await _opted_in(runtime, client)
    turned = await owner.post(f"{PAGE}/marketing", {"choice": "off"})
    assert turned.status_code == 303
    assert (await get_account(runtime.db, owner.account.id)).marketing_opt_in_at is None
    assert (await _actions(runtime, owner.account.id))[-1] == ("withdrawn", "email_settings")


async def test_a_minor_is_told_why_and_cannot_turn_marketing_on(
    runtime: LocalRuntime, client: httpx.AsyncClient
) -> None:
    owner = await _owner(
        runtime,
        client,
        change="age_group = 'minor', parent_email = 'p@example.com', parent_named_at = 1,"
        " parent_consented_at = 1",
    )
    page = await owner.page()
    assert "for adults only" in page.text
    assert 'id="marketing-on"' not in page.text
    refused = await owner.post(f"{PAGE}/marketing", {"choice": "on"})
    assert refused.status_code == 403
    assert "for adults only" in refused.text
    assert await _actions(runtime, owner.account.id) == []


async def test_an_objection_is_explained_with_a_link_to_the_privacy_page(
    runtime: LocalRuntime, client: httpx.AsyncClient
) -> None:
    owner = await _owner(runtime, client, change="objects_to_marketing = 1")
    page = await owner.page()
    blocked = re.search(r'id="marketing-blocked">(.*?)</p>', page.text, re.S)
    assert blocked
    assert "You objected to marketing" in blocked.group(1)
    assert 'href="/account/privacy"' in blocked.group(1)


async def test_unsubscribe_link_shows_a_button_and_changes_nothing(
    runtime: LocalRuntime, client: httpx.AsyncClient
) -> None:
    owner = await _opted_in(runtime, client)
    path = _unsubscribe_path(runtime.settings, owner.account.id)
    page = await client.get(path)
    assert page.status_code == 200
    assert page.headers["referrer-policy"] == "no-referrer"
    assert f'action="{path}"' in page.text
    assert (await get_account(runtime.db, owner.account.id)).marketing_opt_in_at is not None


async def test_unsubscribe_button_unsubscribes_without_a_session(
    runtime: LocalRuntime, client: httpx.AsyncClient
) -> None:
    owner = await _opted_in(runtime, client)
    path = _unsubscribe_path(runtime.settings, owner.account.id)
    done = await client.post(path, data={})
    assert done.status_code == 200
    assert "You are unsubscribed" in done.text
    assert (await get_account(runtime.db, owner.account.id)).marketing_opt_in_at is None
    assert (await _actions(runtime, owner.account.id))[-1] == ("withdrawn", "unsubscribe_page")


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_unsubscribe_with_a_wrong_token_is_not_found(
    runtime: LocalRuntime, client: httpx.AsyncClient, method: str
) -> None:
    owner = await _opted_in(runtime, client)
    other = await create_verified_account(runtime, email="other@example.com")
    # Another account's valid token does not fit this account.
    path = _unsubscribe_path(runtime.settings, other.id).replace(other.id, owner.account.id)
    answer = await client.request(method, path, data=ONE_CLICK if method == "POST" else None)
    assert answer.status_code == 404
    assert (await get_account(runtime.db, owner.account.id)).marketing_opt_in_at is not None


async def test_only_unsubscribe_links_skip_the_csrf_check(
    runtime: LocalRuntime, client: httpx.AsyncClient
) -> None:
    owner = await _opted_in(runtime, client)
    path = _unsubscribe_path(runtime.settings, owner.account.id)
    # The unsubscribe route with an id that is no account id's shape, and the other forms.
    for near_miss in (path.replace(owner.account.id, "X" * 32), CONFIRM_PATH, f"{PAGE}/marketing"):
        refused = await client.post(near_miss, data={**ONE_CLICK, "choice": "off"})
        assert refused.status_code == 403, near_miss
        assert "This form has expired" in refused.text
    assert (await get_account(runtime.db, owner.account.id)).marketing_opt_in_at is not None


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    yield from running_live_server(tmp_path)


def _db(server: LiveServer) -> sqlite3.Connection:
    return sqlite3.connect(server.state_dir / "d1" / "DB.sqlite")


def test_one_click_post_without_cookies_unsubscribes(server: LiveServer) -> None:
    """RFC 8058 §3.2: the mail app POSTs `List-Unsubscribe=One-Click` to the header's URL,
    with no cookies and no other context."""
    email = f"{uuid.uuid4().hex[:10]}@example.com"
    visitor = signed_in(server.url, server.state_dir, email)
    assert visitor.post(f"{PAGE}/marketing", {"choice": "on"}, csrf_from=PAGE).status_code == 303
    bodies = wait_for_mail(server.state_dir, email, count=2)
    found = CONFIRM_LINK.search(bodies[-1])
    assert found, bodies[-1]
    token = found.group(1).split("token=", 1)[1]
    assert visitor.post(CONFIRM_PATH, {"token": token}, csrf_from=found.group(1)).status_code == 303
    with _db(server) as db:
        account_id, opted_in = db.execute(
            "SELECT id, marketing_opt_in_at FROM accounts WHERE email = ?", (email,)
        ).fetchone()
        db.execute(
            "INSERT INTO campaigns (id, name, status, created_at, updated_at)"
            " VALUES ('c7', 'Autumn', 'sending', 0, 0)"
        )
    assert opted_in is not None
    path = _unsubscribe_path(Settings(), account_id, campaign_id="c7")
    with httpx.Client(base_url=server.url) as raw:
        answer = raw.post(path, data=ONE_CLICK)
    assert answer.status_code == 200
    with _db(server) as db:
        assert db.execute(
            "SELECT marketing_opt_in_at FROM accounts WHERE id = ?", (account_id,)
        ).fetchone() == (None,)
        assert db.execute(
            "SELECT action, source, campaign_id FROM marketing_consents WHERE account_id = ?"
            " ORDER BY rowid DESC LIMIT 1",
            (account_id,),
        ).fetchone() == ("withdrawn", "one_click", "c7")
        assert db.execute(
            "SELECT unsubscribed FROM mail_topics WHERE topic = 'campaign:c7'"
        ).fetchone() == (1,)
