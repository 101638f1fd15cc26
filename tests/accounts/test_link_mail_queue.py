"""Link mails go through the mail queue: a provider that refuses never fails the request.

The sign-up form is posted to the app in process, whose after-response flush meets a provider
that refuses the first try (HTTP 500, or 429 "slow down"); the cron's drain delivers it later,
once, and the link in it still logs in the browser that signed up and leads where it started.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest

from beatbun.accounts import profile
from beatbun.accounts.store import find_account_by_email
from beatbun.accounts.tokens import hash_token
from beatbun.mail import drain, mailqueue, sending
from beatbun.runtime.base import MailError, MailMessage, MailRateLimited, Row
from beatbun_local.mail import LocalOutbox
from beatbun_local.runtime import LocalRuntime
from tests.factories import CLIENT, PASSWORD, create_verified_account
from tests.fakes import ManualClock

OWN = "http://testserver"
CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')
ADDRESS = "new.person@example.com"
VERIFY_SUBJECT = "Confirm your email address for Beat Bun"


class RefusesFirst:
    """A provider that refuses its first message (`refusal`), then hands all to the outbox."""

    def __init__(self, outbox: LocalOutbox, refusal: MailError) -> None:
        self.outbox = outbox
        self.refusal = refusal
        self.tries = 0

    async def send(self, message: MailMessage) -> str:
        self.tries += 1
        if self.tries == 1:
            raise self.refusal
        return await self.outbox.send(message)


@pytest.fixture
def outbox(runtime: LocalRuntime) -> Iterator[LocalOutbox]:
    original = runtime.mailer
    yield original
    runtime.mailer = original


async def _browser(client: httpx.AsyncClient) -> tuple[str, str]:
    """A browser's CSRF cookie header and the sign-up form's token."""
    page = await client.get("/signup")
    found = CSRF_INPUT.search(page.text)
    assert found
    return f"__Host-csrf={page.cookies['__Host-csrf']}", found.group(1)


async def _sign_up(client: httpx.AsyncClient, cookie: str, token: str) -> httpx.Response:
    form = {
        "email": ADDRESS,
        "password": PASSWORD,
        "display_name": "New Person",
        "birth_date": "1990-05-04",
        "next": "/pricing",
        "csrf_token": token,
    }
    return await client.post(
        "/signup", data=form, headers={"Cookie": cookie, "Origin": OWN, "Accept": "text/html"}
    )


async def _queued(runtime: LocalRuntime, kind: str) -> list[Row]:
    result = await (
        runtime.db.prepare(
            "SELECT account_id, recipient, body, html, link_browser_hash, sent_at, attempts"
            " FROM mail_queue WHERE kind = ?"
        )
        .bind(kind)
        .all()
    )
    return result.results


@pytest.mark.parametrize(
    "refusal",
    [
        MailError("HTTP 500 internal_server_error"),
        MailRateLimited("HTTP 429 rate_limit_exceeded", retry_after=2.0),
    ],
    ids=["refused", "rate_limited"],
)
async def test_sign_up_succeeds_and_its_link_arrives_once_when_the_provider_refuses_first(
    runtime: LocalRuntime,
    client: httpx.AsyncClient,
    clock: ManualClock,
    outbox: LocalOutbox,
    refusal: MailError,
) -> None:
    provider = RefusesFirst(outbox, refusal)
    runtime.mailer = provider  # type: ignore[assignment]
    cookie, token = await _browser(client)

    answer = await _sign_up(client, cookie, token)

    assert answer.status_code == 303 and answer.headers["location"] == "/signup/sent"
    assert provider.tries == 1 and outbox.messages() == []  # the flush met the refusal
    account = await find_account_by_email(runtime.db, ADDRESS)
    assert account is not None
    [row] = await _queued(runtime, "verify")
    assert row["account_id"] == account.id and row["sent_at"] is None
    assert f"token={mailqueue.LINK_TOKEN_MARK}&next=%2Fpricing" in str(row["body"])

    clock.advance(sending.backoff_seconds(1))
    assert await drain.drain_mail(runtime, budget_seconds=1) == 1
    assert await drain.drain_mail(runtime, budget_seconds=1) == 0

    [message] = outbox.messages()
    assert message.to == ADDRESS and message.subject == VERIFY_SUBJECT
    assert mailqueue.LINK_TOKEN_MARK not in message.text + message.html
    link = re.search(r"http://\S+/verify-email\?\S+", message.text)
    assert link and link.group(0) in message.html.replace("&amp;", "&")
    query = httpx.URL(link.group(0)).params
    assert query["next"] == "/pricing"
    # The try that failed issued the token; the one that went through carries the same one.
    tokens = (await runtime.db.prepare("SELECT token_hash FROM email_tokens").all()).results
    assert tokens == [{"token_hash": hash_token(query["token"])}]
    # The browser that signed up is logged in by the link and taken where it started.
    verified = await client.post(
        "/verify-email",
        data={"token": query["token"], "next": query["next"], "csrf_token": token},
        headers={"Cookie": cookie, "Origin": OWN},
    )
    assert verified.status_code == 303 and verified.headers["location"] == "/pricing"
    assert "__Host-session=" in verified.headers.get("set-cookie", "")


async def test_link_rows_carry_their_kind_account_and_browser(
    runtime: LocalRuntime, client: httpx.AsyncClient
) -> None:
    cookie, token = await _browser(client)
    await _sign_up(client, cookie, token)
    account = await find_account_by_email(runtime.db, ADDRESS)
    assert account is not None
    browser_hash = hash_token(cookie.split("=", 1)[1])
    [row] = await _queued(runtime, "verify")
    assert row["link_browser_hash"] == browser_hash and row["sent_at"] is not None
    [stored] = (await runtime.db.prepare("SELECT browser_hash FROM email_tokens").all()).results
    assert stored["browser_hash"] == browser_hash

    # The same address again: the owner is told, tagged with their account.
    cookie, token = await _browser(client)
    assert (await _sign_up(client, cookie, token)).status_code == 303
    [notice] = await _queued(runtime, "already_registered")
    assert notice["account_id"] == account.id and notice["recipient"] == ADDRESS
    assert notice["sent_at"] is not None


async def test_email_change_and_reset_links_are_queued_with_their_kind(
    runtime: LocalRuntime,
) -> None:
    account = await create_verified_account(runtime)
    await profile.request_email_change(
        runtime,
        account,
        new_email="moved@example.com",
        password=PASSWORD,
        code="",
        client=CLIENT,
        language="en",
    )
    await profile.request_password_reset(runtime, email=account.email, client=CLIENT, language="en")
    await profile.request_password_reset(
        runtime, email="nobody@example.com", client=CLIENT, language="en"
    )
    [change] = await _queued(runtime, "change_email")
    assert change["account_id"] == account.id and change["recipient"] == "moved@example.com"
    assert change["html"] and mailqueue.LINK_TOKEN_MARK in str(change["html"])
    # Known and unknown addresses each write one row; only the known one names an account.
    known, unknown = sorted(
        await _queued(runtime, "reset"), key=lambda row: row["account_id"] is None
    )
    assert known["account_id"] == account.id and known["sent_at"] is None
    assert unknown["account_id"] is None and unknown["recipient"] == ""
    assert unknown["sent_at"] is not None
    # No usable link is stored before sending: the sender issues the tokens.
    tokens = await runtime.db.prepare("SELECT purpose FROM email_tokens").all()
    assert tokens.results == []
