"""The public profile: edited on /account, shown on the page of a shared track, and only there."""

from __future__ import annotations

import re

import httpx
import pytest
from markupsafe import escape

from beatbun.accounts.models import Account
from beatbun.accounts.sessions import create_session
from beatbun.accounts.store import get_account
from beatbun.i18n import translate
from beatbun.tracks.sharing import share_track
from beatbun_local.runtime import LocalRuntime
from tests.factories import CLIENT, create_verified_account
from tests.tracks.conftest import make_tracks

CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')
ARTIST = re.compile(r'<section class="artist".*?</section>', re.S)


async def _owner(runtime: LocalRuntime) -> tuple[Account, dict[str, str]]:
    account = await create_verified_account(runtime)
    _, token = await create_session(
        runtime.db, account_id=account.id, stage="full", client=CLIENT, now=runtime.clock.now()
    )
    # A browser sends its Origin with every form post; a session's post without one is refused.
    return account, {"Cookie": f"__Host-session={token}", "Origin": "http://testserver"}


async def _save(
    client: httpx.AsyncClient, headers: dict[str, str], **fields: str
) -> httpx.Response:
    page = await client.get("/account", headers=headers)
    csrf = CSRF_INPUT.search(page.text)
    assert csrf
    form = {"artist_name": "", "bio": "", "link": "", **fields, "csrf_token": csrf.group(1)}
    return await client.post("/account/profile", data=form, headers=headers)


async def _shared_page(client: httpx.AsyncClient, runtime: LocalRuntime, account: Account) -> str:
    (track,) = await make_tracks(runtime, account_id=account.id, count=1)
    token = await share_track(runtime.db, account_id=account.id, track_id=track.id)
    page = await client.get(f"/s/{token}")  # a stranger: no cookie
    assert page.status_code == 200
    return page.text


async def _kinds(runtime: LocalRuntime, account_id: str) -> list[str]:
    rows = await (
        runtime.db.prepare("SELECT kind FROM security_events WHERE account_id = ? ORDER BY id")
        .bind(account_id)
        .all()
    )
    return [str(row["kind"]) for row in rows.results]


async def test_profile_form_on_the_account_page_starts_empty(
    runtime: LocalRuntime, client: httpx.AsyncClient
) -> None:
    _, headers = await _owner(runtime)
    page = await client.get("/account", headers=headers)
    assert page.status_code == 200
    assert '<h2 id="profile-title">Public profile</h2>' in page.text
    for label in ("Artist name", "Short bio", "Link"):
        assert f">{label}</label>" in page.text
    assert 'id="artist_name" name="artist_name" type="text" value=""' in page.text
    assert "None" not in page.text


async def test_profile_saved_is_stored_logged_and_shown_back(
    runtime: LocalRuntime, client: httpx.AsyncClient
) -> None:
    account, headers = await _owner(runtime)
    response = await _save(
        client,
        headers,
        artist_name="  DJ Bun ",
        bio="Lo-fi from Leipzig.\r\nSince 2019.",
        link="https://bun.example/music",
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/account?saved=profile#profile"
    stored = await get_account(runtime.db, account.id)
    assert (stored.artist_name, stored.bio, stored.link) == (
        "DJ Bun",
        "Lo-fi from Leipzig.\nSince 2019.",
        "https://bun.example/music",
    )
    assert (await _kinds(runtime, account.id))[-1] == "profile_changed"
    page = await client.get(response.headers["location"], headers=headers)
    assert "Profile saved." in page.text
    assert 'value="DJ Bun"' in page.text and "Since 2019.</textarea>" in page.text
    log = await client.get("/account/security-log", headers=headers)
    assert "Public profile changed" in log.text


async def test_profile_link_without_a_scheme_gets_https(
    runtime: LocalRuntime, client: httpx.AsyncClient
) -> None:
    account, headers = await _owner(runtime)
    assert (await _save(client, headers, link="bun.example/me")).status_code == 303
    assert (await get_account(runtime.db, account.id)).link == "https://bun.example/me"


async def test_profile_fields_saved_empty_are_removed(
    runtime: LocalRuntime, client: httpx.AsyncClient
) -> None:
    account, headers = await _owner(runtime)
    await _save(client, headers, artist_name="DJ Bun", bio="Beats.", link="https://bun.example")
    assert (await _save(client, headers, bio="Beats.")).status_code == 303
    stored = await get_account(runtime.db, account.id)
    assert (stored.artist_name, stored.bio, stored.link) == (None, "Beats.", None)


async def test_profile_saved_unchanged_logs_nothing(
    runtime: LocalRuntime, client: httpx.AsyncClient
) -> None:
    account, headers = await _owner(runtime)
    await _save(client, headers, artist_name="DJ Bun")
    before = await _kinds(runtime, account.id)
    assert (await _save(client, headers, artist_name="DJ Bun ")).status_code == 303
    assert await _kinds(runtime, account.id) == before


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"artist_name": "x" * 61}, "artist_name", "at most 60 characters for your artist name"),
        ({"artist_name": "DJ\u200bBun"}, "artist_name", "invisible or control characters"),
        ({"bio": "b" * 301}, "bio", "at most 300 characters for your bio (now 301)"),
        ({"bio": "tab\there"}, "bio", "invisible or control characters"),
        ({"link": "http://bun.example"}, "link", "starts with https://"),
        ({"link": "javascript:alert(1)"}, "link", "starts with https://"),
        ({"link": "https://bun.example/" + "a" * 181}, "link", "at most 200 characters"),
        # Credentials in a link disguise where it leads.
        ({"link": "https://bank.example@evil.example"}, "link", "like https://example.com"),
        ({"link": "https://localhost/me"}, "link", "like https://example.com"),
        ({"link": "https://bun.example/a b"}, "link", "like https://example.com"),
    ],
)
async def test_profile_bad_input_is_refused_next_to_its_field_and_nothing_is_stored(
    runtime: LocalRuntime,
    client: httpx.AsyncClient,
    fields: dict[str, str],
    field: str,
    message: str,
) -> None:
    account, headers = await _owner(runtime)
    response = await _save(client, headers, **{"artist_name": "Kept", **fields})
    assert response.status_code == 422
    error = re.search(rf'<p class="field-error" id="{field}-error">([^<]*)</p>', response.text)
    assert error and message in error.group(1)
    assert f'aria-describedby="{field}-hint {field}-error"' in response.text
    assert (await get_account(runtime.db, account.id)).artist_name is None
    # What was typed stays in the form, to be corrected.
    if field == "link":
        assert f'value="{fields["link"]}"'.replace("&", "&amp;") in response.text


async def test_profile_every_wrong_field_is_named_at_once(
    runtime: LocalRuntime, client: httpx.AsyncClient
) -> None:
    _, headers = await _owner(runtime)
    response = await _save(
        client, headers, artist_name="x" * 61, bio="b" * 301, link="http://bun.example"
    )
    assert response.status_code == 422
    for field in ("artist_name", "bio", "link"):
        assert f'id="{field}-error"' in response.text
        assert f'<li><a href="#{field}">' in response.text


@pytest.mark.parametrize("language", ["de", "fr"])
async def test_profile_errors_are_in_the_readers_language(
    runtime: LocalRuntime, client: httpx.AsyncClient, language: str
) -> None:
    _, headers = await _owner(runtime)
    response = await _save(
        client, {**headers, "Accept-Language": language}, link="http://bun.example"
    )
    assert response.status_code == 422
    assert f'<html lang="{language}"' in response.text
    expected = translate(language, "Use a link that starts with https://.")
    assert f'<p class="field-error" id="link-error">{escape(expected)}</p>' in response.text


async def test_profile_change_needs_a_login(client: httpx.AsyncClient) -> None:
    page = await client.get("/login")
    cookie = page.headers["set-cookie"].split(";", 1)[0]
    csrf = CSRF_INPUT.search(page.text)
    assert csrf
    response = await client.post(
        "/account/profile",
        data={"artist_name": "DJ Bun", "csrf_token": csrf.group(1)},
        headers={"Cookie": cookie, "Origin": "http://testserver"},
    )
    assert response.status_code == 401


async def test_profile_change_without_the_csrf_token_is_refused(
    runtime: LocalRuntime, client: httpx.AsyncClient
) -> None:
    account, headers = await _owner(runtime)
    response = await client.post("/account/profile", data={"artist_name": "X"}, headers=headers)
    assert response.status_code == 403
    assert (await get_account(runtime.db, account.id)).artist_name is None


async def test_shared_track_shows_the_owners_profile(
    runtime: LocalRuntime, client: httpx.AsyncClient
) -> None:
    account, headers = await _owner(runtime)
    await _save(
        client,
        headers,
        artist_name="DJ <Bun>",
        bio="Lo-fi from Leipzig.\nSince 2019.",
        link="https://bun.example/music?a=1&b=2",
    )
    page = await _shared_page(client, runtime, account)
    assert '<p class="artist__byline">by DJ &lt;Bun&gt;</p>' in page
    artist = ARTIST.search(page)
    assert artist, page
    assert "About DJ &lt;Bun&gt;" in artist.group(0)
    assert "Lo-fi from Leipzig.\nSince 2019." in artist.group(0)
    assert (
        '<a href="https://bun.example/music?a=1&amp;b=2" rel="nofollow ugc noopener"'
        in artist.group(0)
    )
    assert account.email not in page and "Test Person" not in page


async def test_shared_track_without_a_profile_shows_nothing_of_its_owner(
    runtime: LocalRuntime, client: httpx.AsyncClient
) -> None:
    account, _ = await _owner(runtime)
    page = await _shared_page(client, runtime, account)
    assert 'class="artist' not in page
    assert account.email not in page and "Test Person" not in page


async def test_shared_track_with_only_an_artist_name_shows_the_byline_alone(
    runtime: LocalRuntime, client: httpx.AsyncClient
) -> None:
    account, headers = await _owner(runtime)
    await _save(client, headers, artist_name="DJ Bun")
    page = await _shared_page(client, runtime, account)
    assert '<p class="artist__byline">by DJ Bun</p>' in page
    assert ARTIST.search(page) is None


async def test_shared_track_with_only_a_bio_has_a_neutral_heading(
    runtime: LocalRuntime, client: httpx.AsyncClient
) -> None:
    account, headers = await _owner(runtime)
    await _save(client, headers, bio="Beats.")
    artist = ARTIST.search(await _shared_page(client, runtime, account))
    assert artist and "About the artist" in artist.group(0) and "Beats." in artist.group(0)
    assert "<a href" not in artist.group(0)
