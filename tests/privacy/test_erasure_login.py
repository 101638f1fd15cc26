"""A locked account can still log in: the login lands it on the privacy page, where it can
cancel its deletion, and logging out stays open to it."""

from __future__ import annotations

import re

import httpx

from beatbun.privacy.erasure import request_erasure
from beatbun_local.runtime import LocalRuntime
from tests.factories import CLIENT, PASSWORD
from tests.privacy.erasure_setup import leaver

CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')
CSRF_COOKIE = re.compile(r"__Host-csrf=([^;]+)")
SESSION_COOKIE = re.compile(r"__Host-session=([^;]+)")
ORIGIN = "http://testserver"


async def test_a_locked_account_logs_in_to_the_privacy_page(
    runtime: LocalRuntime, client: httpx.AsyncClient
) -> None:
    who = await leaver(runtime, tracks=0)
    await request_erasure(
        runtime, who.account, who.session, password=PASSWORD, code="", client=CLIENT, language="en"
    )
    form = await client.get("/login")
    token = CSRF_INPUT.search(form.text)
    browser = CSRF_COOKIE.search(form.headers["set-cookie"])
    assert token and browser
    cookie = f"__Host-csrf={browser.group(1)}"
    answer = await client.post(
        "/login",
        data={"email": who.account.email, "password": PASSWORD, "csrf_token": token.group(1)},
        headers={"Cookie": cookie, "Origin": ORIGIN},
    )
    assert answer.status_code == 303
    session = SESSION_COOKIE.search(answer.headers["set-cookie"])
    assert session
    logged_in = {"Cookie": f"{cookie}; __Host-session={session.group(1)}", "Origin": ORIGIN}
    landing = await client.get(answer.headers["location"], headers=logged_in)
    assert (landing.status_code, landing.headers["location"]) == (303, "/account/privacy")
    privacy = await client.get("/account/privacy", headers=logged_in)
    assert privacy.status_code == 200
    # Logging out is open too: the session ends.
    out_token = CSRF_INPUT.search(privacy.text)
    assert out_token
    out = await client.post("/logout", data={"csrf_token": out_token.group(1)}, headers=logged_in)
    assert out.status_code == 303
    assert (await client.get("/account/privacy", headers=logged_in)).status_code == 401
