"""The "Privacy & data" page and its forms, through the app: login, CSRF, re-authentication,
each right carried out and shown, bad input answered next to its field."""

from __future__ import annotations

import dataclasses
import io
import re
import zipfile

import httpx
import pyotp
import pytest

from beatbun.accounts import secondfactor, sessions
from beatbun.consent.registry import CONSENT_COOKIE
from beatbun.privacy import erasure
from beatbun.privacy.inventory import CATEGORIES
from beatbun_local.runtime import LocalRuntime
from tests.factories import CLIENT, PASSWORD
from tests.fakes import ManualClock
from tests.web.owners import Owner, signed_in_owner

PAGE = "/account/privacy"
CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')
DOWNLOAD = re.compile(r'id="export-download" href="(/account/privacy/exports/[0-9a-f]+)"')
# Every form of the page, with a valid body where one is needed.
POSTS = [
    (f"{PAGE}/export", {"export_password": PASSWORD}),
    (f"{PAGE}/exports/e1", {"export_password": PASSWORD}),
    (f"{PAGE}/objections", {"analytics": "on"}),
    (f"{PAGE}/restriction", {"reason": "I dispute my data."}),
    (f"{PAGE}/restriction/lift", {}),
    (f"{PAGE}/erasure", {"current_password": PASSWORD}),
    (f"{PAGE}/erasure/cancel", {}),
]


async def _owner(
    runtime: LocalRuntime, client: httpx.AsyncClient, email: str = "person@example.com"
) -> Owner:
    return await signed_in_owner(runtime, client, home=PAGE, email=email)


def _section(page: httpx.Response, section_id: str) -> str:
    found = re.search(rf'<section [^>]*id="{section_id}".*?</section>', page.text, re.S)
    assert found, page.text
    return found.group(0)


async def _requests(runtime: LocalRuntime, account_id: str) -> list[tuple[str, str]]:
    rows = await (
        runtime.db.prepare(
            "SELECT kind, status FROM privacy_requests WHERE account_id = ? ORDER BY created_at"
        )
        .bind(account_id)
        .all()
    )
    return [(str(row["kind"]), str(row["status"])) for row in rows.results]


async def _export_in_state(runtime: LocalRuntime, owner: Owner, status: str) -> None:
    """An export request of `owner`'s, made now, in `status`."""
    await (
        runtime.db.prepare(
            "INSERT INTO privacy_requests (id, account_id, kind, status, created_at)"
            " VALUES ('e1', ?, 'export', ?, ?)"
        )
        .bind(owner.account.id, status, int(runtime.clock.now()))
        .run()
    )


async def _ready_export(runtime: LocalRuntime, owner: Owner) -> str:
    """Ask for an export with the password confirmed; the download link once it is built."""
    await owner.confirm_password()
    requested = await owner.post(f"{PAGE}/export")
    assert requested.status_code == 303, requested.text
    link = DOWNLOAD.search((await owner.page()).text)
    assert link, "the export is built right after the answer"
    return link.group(1)


# --- the page ----------------------------------------------------------------------------------


async def test_privacy_page_needs_a_login(client: httpx.AsyncClient) -> None:
    page = await client.get(PAGE)
    assert page.status_code == 401
    assert f'href="/login?next={PAGE}"' in page.text


async def test_privacy_page_is_in_the_account_sidebar(
    runtime: LocalRuntime, client: httpx.AsyncClient
) -> None:
    owner = await _owner(runtime, client)
    account_page = await owner.page("/account")
    assert f'<a href="{PAGE}">Privacy & data</a>' in account_page.text
    page = await owner.page()
    assert page.status_code == 200
    assert f'<a href="{PAGE}" aria-current="page">Privacy & data</a>' in page.text
    assert "<h1>Privacy & data</h1>" in page.text


async def test_privacy_page_lists_what_we_hold_as_the_policy_groups_it(
    runtime: LocalRuntime, client: httpx.AsyncClient
) -> None:
    owner = await _owner(runtime, client)
    held = _section(await owner.page(), "data")
    # Catalog text goes out as written (its translations are reviewed), like every `_()`.
    for category in CATEGORIES:
        assert f"<summary>{category.label}</summary>" in held
        assert category.what in held and category.kept in held


async def test_privacy_page_of_a_new_account_offers_every_right(
    runtime: LocalRuntime, client: httpx.AsyncClient
) -> None:
    owner = await _owner(runtime, client)
    page = await owner.page()
    assert 'data-export-state="none"' in page.text and ">Request an export</button>" in page.text
    for purpose in ("analytics", "marketing", "prompt_use"):
        assert re.search(rf'id="object-{purpose}" name="{purpose}" value="on" [^>]*>', page.text)
        assert f'id="object-{purpose}" name="{purpose}" value="on" checked' not in page.text
    assert 'id="reason" name="reason"' in _section(page, "restriction")
    assert 'id="current_password" name="current_password" type="password"' in page.text
    assert 'id="code"' not in page.text  # no two-step verification on this account
    assert "You have made no requests yet." in _section(page, "requests")
    assert 'href="/privacy/choices">Change cookie choices</a>' in _section(page, "cookies")


async def test_privacy_page_summarises_this_browsers_cookie_choices(
    runtime: LocalRuntime, client: httpx.AsyncClient
) -> None:
    owner = await _owner(runtime, client)
    assert "not made a choice in this browser" in _section(await owner.page(), "cookies")
    chosen = await owner.post("/consent", {"choice": "custom", "performance": "on"})
    assert chosen.status_code == 303
    [consent] = [
        header.split(";", 1)[0]
        for header in chosen.headers.get_list("set-cookie")
        if header.startswith(f"{CONSENT_COOKIE}=")
    ]
    owner.headers["Cookie"] += f"; {consent}"
    cookies = _section(await owner.page(), "cookies")
    assert re.search(r"Performance</span> <strong class=\"pill pill--on\">Allowed<", cookies)
    assert re.search(r"Marketing</span> <strong class=\"pill\">Off<", cookies)


@pytest.mark.parametrize(("path", "data"), POSTS)
async def test_privacy_forms_need_a_login(
    client: httpx.AsyncClient, path: str, data: dict[str, str]
) -> None:
    page = await client.get("/login")
    cookie = page.headers["set-cookie"].split(";", 1)[0]
    csrf = CSRF_INPUT.search(page.text)
    assert csrf
    response = await client.post(
        path,
        data={**data, "csrf_token": csrf.group(1)},
        headers={"Cookie": cookie, "Origin": "http://testserver"},
    )
    assert response.status_code == 401


@pytest.mark.parametrize(("path", "data"), POSTS)
async def test_privacy_forms_without_the_csrf_token_change_nothing(
    runtime: LocalRuntime, client: httpx.AsyncClient, path: str, data: dict[str, str]
) -> None:
    owner = await _owner(runtime, client)
    await owner.confirm_password()
    response = await client.post(path, data=data, headers=owner.headers)
    assert response.status_code == 403
    assert await _requests(runtime, owner.account.id) == []
    stored = await owner.stored(runtime)
    assert not stored.objects_to_analytics and not stored.is_restricted


async def _password_confirmations(runtime: LocalRuntime, account_id: str) -> int:
    row = await (
        runtime.db.prepare(
            "SELECT COUNT(*) AS n FROM security_events"
            " WHERE account_id = ? AND kind = 'password_confirmed'"
        )
        .bind(account_id)
        .first()
    )
    assert row
    return int(row["n"])


# --- export ------------------------------------------------------------------------------------


async def test_export_form_past_the_password_window_carries_the_password_field(
    runtime: LocalRuntime, client: httpx.AsyncClient, clock: ManualClock
) -> None:
    owner = await _owner(runtime, client)
    export = _section(await owner.page(), "export")
    assert 'action="/account/privacy/export"' in export
    assert '<label for="export_password">Confirm your password to request your export</label>' in (
        export
    )
    await owner.confirm_password()
    export = _section(await owner.page(), "export")
    assert 'id="export_password"' not in export and 'id="export-request"' in export
    clock.advance(5 * 60 + 1)
    assert 'id="export_password"' in _section(await owner.page(), "export")


async def test_export_requested_with_the_password_confirms_and_asks_in_one_step(
    runtime: LocalRuntime, client: httpx.AsyncClient
) -> None:
    owner = await _owner(runtime, client)
    response = await owner.post(f"{PAGE}/export", {"export_password": PASSWORD})
    assert response.status_code == 303
    assert response.headers["location"] == f"{PAGE}?done=export_requested#export"
    assert await _requests(runtime, owner.account.id) == [("export", "ready")]
    # As the confirmation page does it: the session stamped, the security log told.
    assert await _password_confirmations(runtime, owner.account.id) == 1
    export = _section(await owner.page(response.headers["location"]), "export")
    assert 'id="export_password"' not in export and 'id="export-download" href=' in export


@pytest.mark.parametrize(
    ("typed", "says"),
    [("", "Type your password here to go on."), ("not my password", "password is not correct")],
)
async def test_export_without_the_right_password_is_refused_next_to_its_field(
    runtime: LocalRuntime, client: httpx.AsyncClient, typed: str, says: str
) -> None:
    owner = await _owner(runtime, client)
    response = await owner.post(f"{PAGE}/export", {"export_password": typed})
    assert response.status_code == 422
    export = _section(response, "export")
    assert re.search(rf'<p class="field-error" id="export_password-error">[^<]*{says}', export)
    assert 'href="#export_password"' in response.text  # the error summary leads to the field
    # Shown at the form's address, the page keeps its place in the sidebar.
    assert f'<a href="{PAGE}" aria-current="page">Privacy & data</a>' in response.text
    assert await _requests(runtime, owner.account.id) == []
    assert await _password_confirmations(runtime, owner.account.id) == 0


async def test_export_requested_is_built_at_once_and_offered_for_download(
    runtime: LocalRuntime, client: httpx.AsyncClient
) -> None:
    owner = await _owner(runtime, client)
    await owner.confirm_password()
    response = await owner.post(f"{PAGE}/export")
    assert response.status_code == 303
    assert response.headers["location"] == f"{PAGE}?done=export_requested#export"
    assert await _requests(runtime, owner.account.id) == [("export", "ready")]
    page = await owner.page(response.headers["location"])
    export = _section(page, "export")
    assert 'data-export-state="ready"' in export
    assert re.search(r"is ready: [0-9.]+ KB, available until <time [^>]+>2027-01-22 ", export)
    # Built before the page was asked for: it says so, and not that it is being built.
    assert "your export is already built" in export and "Export requested" not in export
    assert ">Request a new export</button>" in export
    history = _section(page, "requests")
    assert "Data export" in history and "Ready to download" in history


async def test_export_download_streams_the_zip_as_an_attachment(
    runtime: LocalRuntime, client: httpx.AsyncClient
) -> None:
    owner = await _owner(runtime, client)
    link = await _ready_export(runtime, owner)
    download = await owner.page(link)
    assert download.status_code == 200
    assert download.headers["content-type"] == "application/zip"
    assert download.headers["content-disposition"] == (
        'attachment; filename="beatbun-data-2027-01-15.zip"'
    )
    assert int(download.headers["content-length"]) == len(download.content)
    assert "no-store" in download.headers["cache-control"]
    with zipfile.ZipFile(io.BytesIO(download.content)) as archive:
        assert archive.testzip() is None and archive.namelist()


async def test_export_download_after_the_password_window_confirms_and_downloads_at_once(
    runtime: LocalRuntime, client: httpx.AsyncClient, clock: ManualClock
) -> None:
    owner = await _owner(runtime, client)
    link = await _ready_export(runtime, owner)
    clock.advance(5 * 60 + 1)
    export = _section(await owner.page(), "export")
    assert f'action="{link}"' in export and 'id="export-download" href=' not in export
    assert '<label for="export_password">Confirm your password to download your export' in export
    # The new-export button of the same form goes to its own route.
    assert 'formaction="/account/privacy/export">Request a new export</button>' in export
    # A kept link leads to that form.
    kept = await owner.page(link)
    assert (kept.status_code, kept.headers["location"]) == (303, f"{PAGE}#export")
    wrong = await owner.post(link, {"export_password": "not my password"})
    assert wrong.status_code == 422 and 'id="export_password-error"' in wrong.text
    confirmed = await owner.post(link, {"export_password": PASSWORD})
    assert (confirmed.status_code, confirmed.headers["location"]) == (303, link)
    download = await owner.page(link)
    assert download.status_code == 200
    assert download.headers["content-type"] == "application/zip"


async def test_export_of_another_account_is_not_found(
    runtime: LocalRuntime, client: httpx.AsyncClient
) -> None:
    owner = await _owner(runtime, client)
    link = await _ready_export(runtime, owner)
    stranger = await _owner(runtime, client, email="stranger@example.com")
    await stranger.confirm_password()
    response = await stranger.page(link)
    assert response.status_code == 404
    assert "PK" not in response.text[:2]


async def test_export_asked_twice_in_a_day_is_refused_in_its_section(
    runtime: LocalRuntime, client: httpx.AsyncClient
) -> None:
    owner = await _owner(runtime, client)
    await _ready_export(runtime, owner)
    again = await owner.post(f"{PAGE}/export")
    assert again.status_code == 429
    assert re.search(
        r'<p class="field-error" id="export-error">[^<]+</p>', _section(again, "export")
    )
    assert 'href="#export"' in again.text  # the error summary leads to the section
    assert await _requests(runtime, owner.account.id) == [("export", "ready")]


@pytest.mark.parametrize(
    ("status", "says", "offers_a_new_one"),
    [
        ("pending", "is being built", False),
        ("building", "is being built", False),
        ("expired", "has expired and was deleted", True),
        ("failed", "could not be built", True),
    ],
)
async def test_export_state_is_shown_in_its_section(
    runtime: LocalRuntime,
    client: httpx.AsyncClient,
    status: str,
    says: str,
    offers_a_new_one: bool,
) -> None:
    owner = await _owner(runtime, client)
    await _export_in_state(runtime, owner, status)
    export = _section(await owner.page(), "export")
    assert f'data-export-state="{status}"' in export and says in export
    assert ('id="export-request"' in export) == offers_a_new_one
    assert 'id="export-download"' not in export


@pytest.mark.parametrize(
    ("status", "notice"),
    [("pending", "Export requested."), ("building", "Export requested."), ("failed", None)],
)
async def test_export_requested_notice_agrees_with_the_export_state(
    runtime: LocalRuntime, client: httpx.AsyncClient, status: str, notice: str | None
) -> None:
    owner = await _owner(runtime, client)
    await _export_in_state(runtime, owner, status)
    export = _section(await owner.page(f"{PAGE}?done=export_requested"), "export")
    shown = re.findall(r'<p class="notice" role="status">([^<]+)</p>', export)
    assert shown == ([] if notice is None else [f"{notice} We email you too when it is ready."])


# --- objections --------------------------------------------------------------------------------


async def test_objections_saved_take_effect_and_show_switched_on(
    runtime: LocalRuntime, client: httpx.AsyncClient
) -> None:
    owner = await _owner(runtime, client)
    response = await owner.post(f"{PAGE}/objections", {"analytics": "on", "prompt_use": "on"})
    assert response.status_code == 303
    assert response.headers["location"] == f"{PAGE}?done=objections_saved#objections"
    stored = await owner.stored(runtime)
    assert (
        stored.objects_to_analytics,
        stored.objects_to_marketing,
        stored.objects_to_prompt_use,
    ) == (True, False, True)
    section = _section(await owner.page(response.headers["location"]), "objections")
    assert "Your choices are saved" in section
    assert 'id="object-analytics" name="analytics" value="on" aria-describedby' in section
    assert re.search(r'id="object-analytics"[^>]* checked', section)
    assert not re.search(r'id="object-marketing"[^>]* checked', section)
    assert re.search(r'id="object-prompt_use"[^>]* checked', section)


async def test_objections_withdrawn_by_saving_the_switches_off(
    runtime: LocalRuntime, client: httpx.AsyncClient
) -> None:
    owner = await _owner(runtime, client)
    await owner.post(f"{PAGE}/objections", {"marketing": "on"})
    assert (await owner.post(f"{PAGE}/objections", {})).status_code == 303
    assert not (await owner.stored(runtime)).objects_to_marketing


# --- restriction -------------------------------------------------------------------------------


async def test_restriction_without_a_reason_is_refused_next_to_the_field(
    runtime: LocalRuntime, client: httpx.AsyncClient
) -> None:
    owner = await _owner(runtime, client)
    response = await owner.post(f"{PAGE}/restriction", {"reason": "   "})
    assert response.status_code == 422
    assert re.search(r'<p class="field-error" id="reason-error">[^<]+</p>', response.text)
    assert 'aria-describedby="reason-hint reason-error" aria-invalid="true"' in response.text
    assert not (await owner.stored(runtime)).is_restricted


async def test_restriction_with_a_reason_is_in_force_until_lifted(
    runtime: LocalRuntime, client: httpx.AsyncClient
) -> None:
    owner = await _owner(runtime, client)
    response = await owner.post(f"{PAGE}/restriction", {"reason": "I dispute <my> data."})
    assert response.status_code == 303
    assert response.headers["location"] == f"{PAGE}?done=restricted#restriction"
    assert (await owner.stored(runtime)).is_restricted
    page = await owner.page(response.headers["location"])
    section = _section(page, "restriction")
    assert "We emailed you a confirmation." in section
    assert re.search(r'Restricted since <time datetime="2027-01-15T[0-9:]+Z">', section)
    # The objections say the restriction already stops what they would.
    assert "none of these uses happens" in _section(page, "objections")
    assert "I dispute &lt;my&gt; data." in section
    lifted = await owner.post(f"{PAGE}/restriction/lift")
    assert lifted.status_code == 303
    assert lifted.headers["location"] == f"{PAGE}?done=restriction_lifted#restriction"
    assert not (await owner.stored(runtime)).is_restricted
    assert "none of these uses happens" not in (await owner.page()).text
    assert await _requests(runtime, owner.account.id) == [("restriction", "lifted")]


@pytest.mark.parametrize(
    ("path", "section"),
    [(f"{PAGE}/restriction/lift", "restriction"), (f"{PAGE}/erasure/cancel", "erasure")],
)
async def test_undoing_what_is_not_in_force_is_refused_in_its_section(
    runtime: LocalRuntime, client: httpx.AsyncClient, path: str, section: str
) -> None:
    owner = await _owner(runtime, client)
    response = await owner.post(path)
    assert response.status_code == 409
    assert re.search(rf'<p class="field-error" id="{section}-error">[^<]+</p>', response.text)
    assert f'<li><a href="#{section}">' in response.text


# --- erasure -----------------------------------------------------------------------------------


async def test_erasure_with_a_wrong_password_is_refused_next_to_the_field(
    runtime: LocalRuntime, client: httpx.AsyncClient
) -> None:
    owner = await _owner(runtime, client)
    response = await owner.post(f"{PAGE}/erasure", {"current_password": "not my password"})
    assert response.status_code == 422
    assert re.search(r'<p class="field-error" id="current_password-error">[^<]+</p>', response.text)
    assert not (await owner.stored(runtime)).is_erasure_scheduled


async def test_erasure_requested_locks_the_account_until_cancelled(
    runtime: LocalRuntime, client: httpx.AsyncClient
) -> None:
    owner = await _owner(runtime, client)
    response = await owner.post(f"{PAGE}/erasure", {"current_password": PASSWORD})
    assert response.status_code == 303
    assert response.headers["location"] == f"{PAGE}?done=erasure_requested#erasure"
    assert (await owner.stored(runtime)).erasure_due_at == 1_800_000_000 + 7 * 86400
    page = await owner.page(response.headers["location"])
    # The deletion leads the page while it is scheduled.
    assert page.text.index('id="erasure"') < page.text.index('id="data"')
    erasure = _section(page, "erasure")
    assert re.search(r'will be deleted on <time datetime="2027-01-22T[0-9:]+Z">', erasure)
    assert 'id="erasure-cancel"' in erasure and 'id="current_password"' not in erasure
    # The heading says what is scheduled; the notice, what we did about it.
    assert erasure.count("Deletion scheduled") == 1 and "a link that cancels" in erasure
    # A locked account has nothing to play: no docked player to restore a refused track.
    assert "data-player" not in page.text
    # Locked meanwhile: other pages lead here; the policies and cookie choices stay open.
    assert (await owner.page("/account")).headers["location"] == PAGE
    assert 'href="/privacy/choices">Change cookie choices' in page.text
    for open_page in ("/privacy", "/cookies", "/privacy/choices"):
        assert (await owner.page(open_page)).status_code == 200
    cancelled = await owner.post(f"{PAGE}/erasure/cancel")
    assert cancelled.status_code == 303
    assert cancelled.headers["location"] == f"{PAGE}?done=erasure_cancelled#erasure"
    assert not (await owner.stored(runtime)).is_erasure_scheduled
    assert await _requests(runtime, owner.account.id) == [("erasure", "cancelled")]
    assert "Deletion cancelled." in (await owner.page(cancelled.headers["location"])).text


async def test_erasure_asked_by_a_parent_is_shown_without_a_cancel_button(
    runtime: LocalRuntime, client: httpx.AsyncClient
) -> None:
    owner = await _owner(runtime, client)
    await erasure.request_erasure_by_parent(runtime, owner.account.id, language="en")
    page = await owner.page()
    section = _section(page, "erasure")
    assert "Your parent or guardian asked for this." in section
    assert 'id="erasure-cancel"' not in section
    assert "Account deletion (by your parent or guardian)" in _section(page, "requests")


async def test_erasure_with_two_step_on_needs_the_code(
    runtime: LocalRuntime, client: httpx.AsyncClient, clock: ManualClock
) -> None:
    owner = await _owner(runtime, client)
    secret = await _turn_on_two_step(runtime, owner)
    page = await owner.page()
    assert 'id="code" name="code"' in _section(page, "erasure")
    refused = await owner.post(f"{PAGE}/erasure", {"current_password": PASSWORD, "code": ""})
    assert refused.status_code == 422
    assert 'id="code-error"' in refused.text
    assert not (await owner.stored(runtime)).is_erasure_scheduled
    clock.advance(30)  # enrolment spent this step's code
    code = pyotp.TOTP(secret).at(clock.now())
    accepted = await owner.post(f"{PAGE}/erasure", {"current_password": PASSWORD, "code": code})
    assert accepted.status_code == 303
    assert (await owner.stored(runtime)).is_erasure_scheduled


async def _turn_on_two_step(runtime: LocalRuntime, owner: Owner) -> str:
    """Two-step verification on, and a fresh session for `owner` (turning it on rotates it)."""
    session, _ = await sessions.create_session(
        runtime.db,
        account_id=owner.account.id,
        stage="full",
        client=CLIENT,
        now=runtime.clock.now(),
    )
    session = dataclasses.replace(session, reauthenticated_at=runtime.clock.now())
    await sessions.mark_reauthenticated(runtime.db, session.id, now=runtime.clock.now())
    await secondfactor.start_totp_enrollment(runtime, owner.account, session)
    account = await owner.stored(runtime)
    secret = await secondfactor.pending_totp_secret(runtime, account)
    assert secret
    _, token = await secondfactor.confirm_totp(
        runtime,
        account,
        session,
        code=pyotp.TOTP(secret).at(runtime.clock.now()),
        client=CLIENT,
        language="en",
    )
    owner.headers["Cookie"] = f"__Host-session={token}"
    return secret


# --- history -----------------------------------------------------------------------------------


async def test_history_lists_every_request_newest_first_with_its_status(
    runtime: LocalRuntime, client: httpx.AsyncClient, clock: ManualClock
) -> None:
    owner = await _owner(runtime, client)
    await owner.post(f"{PAGE}/restriction", {"reason": "Checking my data."})
    clock.advance(60)
    await owner.post(f"{PAGE}/restriction/lift")
    clock.advance(60)
    await owner.post(f"{PAGE}/erasure", {"current_password": PASSWORD})
    rows = re.findall(
        r"<tr>\s*<td[^>]*>([^<]+)</td>.*?pill--(\w+)",
        _section(await owner.page(), "requests"),
        re.S,
    )
    assert rows == [("Account deletion", "scheduled"), ("Restriction of processing", "lifted")]
