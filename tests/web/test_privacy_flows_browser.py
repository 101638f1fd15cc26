"""The privacy rights in Chromium, on the real local server: an export downloaded and opened,
an account deleted (asked, cancelled, asked again, carried out by the cron a week later) and
searched for everywhere afterwards, and each objection and the restriction shown to stop what
they stop. Screenshots of the privacy page's states go to test-results/privacy/.
"""

from __future__ import annotations

import html
import io
import json
import re
import sqlite3
import time
import uuid
import zipfile
from collections.abc import Awaitable, Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import jsonschema  # type: ignore[import-untyped]
import pyotp
import pytest
import soundfile  # type: ignore[import-untyped]
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Request,
    Response,
    Route,
    expect,
)

from beatbun.accounts.apikeys import create_api_key
from beatbun.privacy.erasure import GRACE_SECONDS
from beatbun.privacy.exportschema import SCHEMA_PATH
from beatbun.scheduled import MAIL_CRON, run_scheduled
from beatbun_local.runtime import LocalRuntime
from tests.conftest import LiveServer, running_live_server
from tests.factories import create_verified_account
from tests.privacy.traces import Erased, queue_tables, traces
from tests.visitors import (
    PASSWORD,
    Visitor,
    enable_totp,
    hand_session_to,
    log_in,
    sign_in_browser,
    sign_up_in_browser,
    signed_in,
)
from tests.web.privacy_browser import DESKTOP, on_state, shoot_state, traces_in_bucket_files

pytestmark = pytest.mark.browser

PRIVACY = "/account/privacy"
TAG = "https://tags.example.com/tag.js"
DAY = 86400


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One server for the module; every test signs up its own account. Its marketing partner's
    tag is configured, so the marketing objection has something to remove."""
    yield from running_live_server(
        tmp_path_factory.mktemp("privacy"), env={"MARKETING_TAG_URL": TAG}
    )


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    made = browser.new_context(viewport=DESKTOP, accept_downloads=True)
    yield made
    made.close()


def _address() -> str:
    return f"{uuid.uuid4().hex[:10]}@example.com"


def _watch(page: Page) -> list[str]:
    """Script errors, console errors and the page's own requests that failed (a page the test
    opens and checks the status of is none of them)."""
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))

    def console(message: ConsoleMessage) -> None:
        # A failed request is noted below, with its address.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            problems.append(message.text)

    def response(answer: Response) -> None:
        if answer.status >= 400 and answer.request.resource_type != "document":
            problems.append(f"{answer.status} {urlsplit(answer.url).path}")

    page.on("console", console)
    page.on("response", response)
    return problems


def _db(server: LiveServer, sql: str, *params: object) -> list[tuple[object, ...]]:
    with sqlite3.connect(server.state_dir / "d1" / "DB.sqlite") as db:
        return db.execute(sql, params).fetchall()


def _make_track(page: Page, prompt: str) -> None:
    """Make a 5-second track in the studio and wait until it is done."""
    done = page.locator('[data-jobs] [data-status="succeeded"]').count()
    page.get_by_label("Describe your track").fill(prompt)
    page.get_by_label("Length (seconds, 5 to 300)").fill("5")
    page.get_by_role("button", name="Make it").click()
    expect(page.locator('[data-jobs] [data-status="succeeded"]')).to_have_count(
        done + 1, timeout=20_000
    )


def _to_privacy_page(page: Page) -> None:
    """From anywhere, as a person would: the account, then its "Privacy & data" entry."""
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Account").click()
    page.locator("nav.account-nav").get_by_role("link", name="Privacy & data").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Privacy & data")


def _dismiss_banner(page: Page, choice: str = "Reject all") -> None:
    button = page.get_by_role("button", name=choice)
    if button.count():
        button.first.click()
        page.wait_for_load_state()


def test_export_downloads_a_zip_that_validates_and_holds_every_tracks_audio(
    server: LiveServer, context: BrowserContext, tmp_path: Path
) -> None:
    address = _address()
    page = context.new_page()
    errors = _watch(page)
    page.goto(server.url + "/signup")
    _dismiss_banner(page)
    sign_up_in_browser(page, server.url, address)
    expect(page.get_by_role("heading", level=1)).to_have_text("Studio")
    _make_track(page, "warm lo-fi piano in the rain")
    _make_track(page, "bright marimba groove")

    _to_privacy_page(page)
    # The form asks for the password itself: one step confirms it and asks.
    page.get_by_label("Confirm your password to request your export").fill(PASSWORD)
    page.get_by_role("button", name="Request an export").click()
    # One notice, true to the state the page shows: being built, or built already.
    notice = page.locator("#export .notice")
    expect(notice).to_have_count(1)
    if page.locator('[data-export-state="ready"]').count():
        expect(notice).to_have_text("Request received, and your export is already built.")
    else:
        expect(notice).to_have_text("Export requested. We email you too when it is ready.")
    # privacy.js follows the build and swaps the link in without a reload.
    link = page.get_by_role("link", name=re.compile(r"^Download export \(\d"))
    expect(link).to_be_visible(timeout=20_000)
    with page.expect_download() as downloading:
        link.click()
    saved = tmp_path / downloading.value.suggested_filename
    downloading.value.save_as(saved)
    assert re.fullmatch(r"beatbun-data-\d{4}-\d{2}-\d{2}\.zip", saved.name)

    archive = zipfile.ZipFile(saved)
    assert archive.testzip() is None
    schema = page.request.get(server.url + SCHEMA_PATH).json()
    jsonschema.Draft202012Validator.check_schema(schema)
    data = _json(archive, "data.json")
    jsonschema.Draft202012Validator(schema).validate(data)
    assert data["account"]["email"] == address
    prompts = {track["prompt"]: track for track in data["tracks"]}
    assert set(prompts) == {"warm lo-fi piano in the rain", "bright marimba groove"}
    for track in prompts.values():
        samples, rate = soundfile.read(io.BytesIO(archive.read(track["audio_file"])))
        assert samples.shape[0] == pytest.approx(5 * rate, rel=0.01)
        assert abs(samples).max() > 0.01  # music, not silence
    summary = archive.read("summary.html").decode()
    assert all(html.escape(track["title"]) in summary for track in data["tracks"])
    shoot_state(page, "export-ready", focus="#export")

    # Past the password window the download form asks for it and starts the download at once.
    _db(
        server,
        "UPDATE sessions SET reauthenticated_at = reauthenticated_at - 600 WHERE account_id ="
        " (SELECT id FROM accounts WHERE email = ?)",
        address,
    )
    page.reload()
    expect(page.get_by_role("link", name=re.compile("^Download export"))).to_have_count(0)
    page.get_by_label("Confirm your password to download your export").fill(PASSWORD)
    with page.expect_download() as again:
        page.get_by_role("button", name=re.compile(r"^Download export \(\d")).click()
    assert again.value.suggested_filename == saved.name
    assert again.value.path().read_bytes() == saved.read_bytes()
    expect(page.get_by_role("heading", level=1)).to_have_text("Privacy & data")
    shoot_state(page, "export-ready-reauth", focus="#export")

    page.goto(server.url + "/dev/outbox")
    mails = page.locator("article.mail").filter(has_text=f"To: {address}")
    expect(mails.filter(has_text="Your Beat Bun data export is ready")).to_have_count(1)
    assert errors == []


def _json(archive: zipfile.ZipFile, name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(archive.read(name))
    return loaded


def _ask_for_deletion(page: Page) -> None:
    page.get_by_label("Your password", exact=True).fill(PASSWORD)
    _ask_for(page)


def _ask_for(page: Page) -> None:
    page.get_by_role("button", name="Delete my account").click()
    expect(page.get_by_role("heading", name="Deletion scheduled")).to_be_visible()


def _path(page: Page) -> str:
    return urlsplit(page.url).path


def test_erasure_cancelled_then_carried_out_leaves_nothing_and_the_address_signs_up_anew(
    server: LiveServer, browser: Browser, context: BrowserContext
) -> None:
    address = _address()
    public = browser.new_context().request  # someone the link was shared with
    sign_in_browser(context, server, address)
    page = context.new_page()
    errors = _watch(page)
    page.goto(server.url + "/studio")
    _dismiss_banner(page)
    _make_track(page, "slow ambient drones")
    page.goto(server.url + "/tracks")
    page.locator("[data-track-row] .track__title a").first.click()
    track_page = _path(page)
    page.get_by_role("button", name="Make a public link").click()
    shared = "/s/" + page.locator("[data-share-url]").input_value().split("/s/", 1)[1]
    ((account_id,),) = _db(server, "SELECT id FROM accounts WHERE email = ?", address)

    _to_privacy_page(page)
    asked_at = time.time()
    _ask_for_deletion(page)
    expect(page.get_by_role("status")).to_contain_text("a link that cancels the deletion")
    due = page.locator("#erasure time").first.get_attribute("datetime") or ""
    due_at = datetime.fromisoformat(due.replace("Z", "+00:00")).timestamp()
    assert asked_at + GRACE_SECONDS - 60 <= due_at <= time.time() + GRACE_SECONDS
    shoot_state(page, "erasure-scheduled", focus="#erasure")
    # Locked: every other page leads back here, and the shared track is gone for now.
    for path in ("/studio", "/tracks", track_page, "/account", "/billing"):
        page.goto(server.url + path)
        assert _path(page) == PRIVACY, path
    assert public.get(server.url + shared).status == 404

    page.get_by_role("button", name="Cancel the deletion").click()
    expect(page.get_by_role("status")).to_contain_text("Deletion cancelled.")
    page.goto(server.url + "/studio")
    expect(page.get_by_role("heading", level=1)).to_have_text("Studio")
    assert public.get(server.url + shared).status == 200

    _to_privacy_page(page)
    _ask_for_deletion(page)
    # A locked account has no docked player, so nothing asked for its (refused) tracks.
    expect(page.locator("[data-player]")).to_have_count(0)
    assert errors == []
    # A week and a day later, the cron carries it out; then nothing of the account is left.
    erased = Erased(account_id=str(account_id), email=address)
    on_state(server.state_dir, _hourly_cron, later=GRACE_SECONDS + DAY)
    # Its mail goes with the next mail run (at today's time: the server's send rate is shared,
    # and a run in the future would book its next free slot a week ahead for everyone).
    on_state(server.state_dir, _mail_cron)
    assert on_state(server.state_dir, lambda runtime: _traces(runtime, erased)) == []
    assert traces_in_bucket_files(server.state_dir, erased.needles) == []

    # The session went with the account.
    assert page.goto(server.url + PRIVACY).status == 401  # type: ignore[union-attr]
    page.get_by_role("main").get_by_role("link", name="Log in").click()
    page.get_by_label("Email address").fill(address)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_text("The email or password is incorrect.")).to_be_visible()
    assert page.goto(server.url + shared).status == 404  # type: ignore[union-attr]
    assert public.get(f"{server.url}{shared}/audio").status == 404
    page.goto(server.url + "/dev/outbox")
    mails = page.locator("article.mail").filter(has_text=f"To: {address}")
    expect(mails.filter(has_text="Your Beat Bun account was deleted")).to_have_count(1)

    # The same address signs up again: a new account, with nothing of the old one.
    page.goto(server.url + "/signup")
    sign_up_in_browser(page, server.url, address)
    expect(page.get_by_role("heading", level=1)).to_have_text("Studio")
    ((new_id,),) = _db(server, "SELECT id FROM accounts WHERE email = ?", address)
    assert new_id != account_id
    assert page.goto(server.url + track_page).status == 404  # type: ignore[union-attr]
    page.goto(server.url + "/tracks")
    assert page.locator("[data-track-row]").count() == 0


def test_erasure_with_two_step_on_needs_the_current_code(
    server: LiveServer, context: BrowserContext
) -> None:
    visitor = signed_in(server.url, server.state_dir, _address())
    secret, _ = enable_totp(visitor)  # which starts a new session
    hand_session_to(context, visitor)
    page = context.new_page()
    errors = _watch(page)
    page.goto(server.url + PRIVACY)
    _dismiss_banner(page)
    page.get_by_label("Your password", exact=True).fill(PASSWORD)
    page.get_by_label("Verification code").fill("000000")
    page.get_by_role("button", name="Delete my account").click()
    expect(page.get_by_role("alert")).to_be_visible()
    expect(page.locator("#code-error")).to_contain_text("That code is not valid.")
    expect(page.get_by_role("heading", name="Delete your account")).to_be_visible()
    page.goto(server.url + "/studio")  # not locked
    expect(page.get_by_role("heading", level=1)).to_have_text("Studio")

    page.goto(server.url + PRIVACY)
    page.get_by_label("Your password", exact=True).fill(PASSWORD)
    # The enrolment used the current step; the next one is within the allowed drift.
    page.get_by_label("Verification code").fill(pyotp.TOTP(secret).at(time.time() + 30))
    _ask_for(page)
    page.get_by_role("button", name="Cancel the deletion").click()
    expect(page.get_by_role("status")).to_contain_text("Deletion cancelled.")
    assert errors == []


async def _hourly_cron(runtime: LocalRuntime) -> None:
    await run_scheduled(runtime, cron="0 * * * *", scheduled_time=runtime.clock.now())


async def _mail_cron(runtime: LocalRuntime) -> None:
    await run_scheduled(runtime, cron=MAIL_CRON, scheduled_time=runtime.clock.now())


async def _traces(runtime: LocalRuntime, erased: Erased) -> list[str]:
    """What the account left in D1 and the bucket (P's scan), and its queue's storage."""
    found = await traces(runtime, erased)
    return found + [f"UserQueue.{table}" for table in queue_tables(runtime, erased.account_id)]


ANALYTICS_ROWS = (
    "SELECT (SELECT coalesce(sum(events), 0) FROM analytics_counts)"
    " + (SELECT coalesce(sum(events), 0) FROM analytics_measurements)"
    " + (SELECT COUNT(*) FROM analytics_visitors)"
)
PROMPT = "kalimba lullaby at dawn"


class Tagged:
    """The marketing partner's tag, served in its place: which pages loaded it."""

    def __init__(self, context: BrowserContext) -> None:
        self.loads = 0
        context.route(TAG, self._serve)

    def _serve(self, route: Route) -> None:
        self.loads += 1
        route.fulfill(status=200, content_type="text/javascript", body="window.tagged = true;")


def _analytics_rows(server: LiveServer) -> int:
    ((rows,),) = _db(server, ANALYTICS_ROWS)
    return int(str(rows))


def _visit_measured(page: Page, server: LiveServer, path: str) -> None:
    """Open `path` and wait for analytics.js's page view to be answered."""
    with page.expect_response("**/analytics/events") as counted:
        page.goto(server.url + path)
    assert counted.value.status == 204


def _visit_unmeasured(page: Page, server: LiveServer, path: str) -> list[str]:
    """Open `path` and what it sent to /analytics (nothing, the page left its script out);
    then what the server does with a page view sent anyway, as a tab opened earlier would."""
    sent: list[str] = []

    def note(request: Request) -> None:
        if "/analytics" in request.url:
            sent.append(request.url)

    page.on("request", note)
    page.goto(server.url + path)
    page.wait_for_load_state("networkidle")
    status = page.evaluate(
        """async () => (await fetch("/analytics/events", {
            method: "POST",
            headers: {"content-type": "application/json",
                      "x-csrf-token": document.querySelector('input[name="csrf_token"]').value},
            body: JSON.stringify({kind: "page_view", label: location.pathname}),
        })).status"""
    )
    page.remove_listener("request", note)
    assert status == 204
    return sent


def _object_to(page: Page, server: LiveServer, *purposes: str) -> None:
    """Set the objection switches on the privacy page: `purposes` on, the others off."""
    page.goto(server.url + PRIVACY)
    for name in ("Analytics", "Marketing", "Use of your prompts"):
        page.get_by_role("switch", name=name).set_checked(name in purposes)
    page.get_by_role("button", name="Save my objections").click()
    expect(page.get_by_role("status").filter(has_text="Your choices are saved")).to_be_visible()
    for name in ("Analytics", "Marketing", "Use of your prompts"):
        expect(page.get_by_role("switch", name=name)).to_be_checked(checked=name in purposes)


def _marketing_tags(page: Page) -> int:
    count: int = page.evaluate(f"document.querySelectorAll('script[src=\"{TAG}\"]').length")
    return count


def test_each_objection_stops_its_purpose_until_withdrawn(
    server: LiveServer, browser: Browser, context: BrowserContext
) -> None:
    tagged = Tagged(context)
    address = _address()
    sign_in_browser(context, server, address)
    page = context.new_page()
    errors = _watch(page)
    page.goto(server.url + "/studio")
    # Performance and marketing cookies allowed in this browser.
    with page.expect_request("**/analytics/events"):
        page.get_by_role("button", name="Accept all").first.click()
    _make_track(page, PROMPT)

    # Analytics: counted, then not (the script is left out, a page view sent anyway is
    # dropped), then counted again once the objection is withdrawn.
    before = _analytics_rows(server)
    _visit_measured(page, server, "/tracks")
    assert _analytics_rows(server) > before
    _object_to(page, server, "Analytics")
    objected = _analytics_rows(server)
    for path in ("/tracks", "/pricing", "/studio"):
        assert _visit_unmeasured(page, server, path) == [f"{server.url}/analytics/events"]
    assert _analytics_rows(server) == objected
    _object_to(page, server)
    _visit_measured(page, server, "/tracks")
    assert _analytics_rows(server) > objected

    # Marketing: the partner's tag loads with marketing consent, and not after the objection.
    loads = tagged.loads
    page.goto(server.url + "/pricing")
    expect(page.locator(f'script[src="{TAG}"]')).to_have_count(1)
    assert tagged.loads == loads + 1
    _object_to(page, server, "Marketing")
    loads = tagged.loads
    for path in ("/pricing", "/tracks", "/"):
        page.goto(server.url + path)
        page.wait_for_load_state("networkidle")
        assert _marketing_tags(page) == 0 and f'data-src="{TAG}"' not in page.content()
    assert tagged.loads == loads
    _object_to(page, server)
    page.goto(server.url + "/pricing")
    expect(page.locator(f'script[src="{TAG}"]')).to_have_count(1)

    # Use of prompts: two more accounts and this one asked for the same word, enough for the
    # operators' "What people ask for" panel to show it, until this account objects.
    operator = browser.new_context(viewport=DESKTOP)
    operator_email = on_state(server.state_dir, _people_asking(server))
    hand_session_to(operator, _logged_in(server, operator_email))
    panel = operator.new_page()
    panel.goto(server.url + "/admin/analytics")
    words = panel.locator('[data-panel="prompt-words"] tbody tr')
    expect(words.filter(has_text="kalimba")).to_have_text(re.compile(r"kalimba\s*3\s*3"))
    _object_to(page, server, "Use of your prompts")
    panel.reload()
    expect(words.filter(has_text="kalimba")).to_have_count(0)
    _object_to(page, server)
    panel.reload()
    expect(words.filter(has_text="kalimba")).to_have_count(1)
    operator.close()
    assert errors == []


def _people_asking(server: LiveServer) -> Callable[[LocalRuntime], Awaitable[str]]:
    """Two more accounts that ask for `PROMPT` through the API, and an operator; the
    operator's address."""

    async def made(runtime: LocalRuntime) -> str:
        async with httpx.AsyncClient(base_url=server.url) as api:
            for _ in range(2):
                person = await create_verified_account(runtime, email=_address())
                _, secret = await create_api_key(
                    runtime.db,
                    account_id=person.id,
                    name="cli",
                    scopes=["generate"],
                    now=runtime.clock.now(),
                )
                asked = await api.post(
                    "/api/v1/generations",
                    json={"prompt": PROMPT, "duration_seconds": 5},
                    headers={"Authorization": f"Bearer {secret}"},
                )
                assert asked.status_code == 201, asked.text
        operator = await create_verified_account(runtime, email=_address())
        await (
            runtime.db.prepare("UPDATE accounts SET is_admin = 1 WHERE id = ?")
            .bind(operator.id)
            .run()
        )
        return operator.email

    return made


def _logged_in(server: LiveServer, email: str) -> Visitor:
    visitor = Visitor(server.url)
    assert log_in(visitor, email).status_code == 303
    return visitor


LEDGER = "SELECT COUNT(*) FROM credit_ledger WHERE account_id = ?"


def _balance(page: Page) -> str:
    return page.locator("[data-balance]").inner_text()


def test_restriction_stops_generation_without_charging_until_lifted(
    server: LiveServer, context: BrowserContext
) -> None:
    address = _address()
    sign_in_browser(context, server, address)
    ((account_id,),) = _db(server, "SELECT id FROM accounts WHERE email = ?", address)
    page = context.new_page()
    errors = _watch(page)
    page.goto(server.url + "/studio")
    _dismiss_banner(page)
    _to_privacy_page(page)
    page.get_by_label("Why do you want to restrict processing?").fill(
        "I dispute how my prompts are used."
    )
    page.get_by_role("button", name="Restrict processing").click()
    expect(page.get_by_role("status")).to_contain_text("We emailed you a confirmation.")
    expect(page.locator(".privacy-reason")).to_have_text("I dispute how my prompts are used.")
    # The objections say the restriction already stops what they would.
    expect(page.locator("#objections")).to_contain_text("none of these uses happens")
    shoot_state(page, "restriction-on", focus="#restriction")

    page.goto(server.url + "/studio")
    balance, ledger = _balance(page), _db(server, LEDGER, account_id)
    page.get_by_label("Describe your track").fill("restricted rain")
    page.get_by_label("Length (seconds, 5 to 300)").fill("5")
    page.get_by_role("button", name="Make it").click()
    refusal = page.locator("[data-form-message]")
    expect(refusal).to_contain_text("Processing of your account is restricted")
    expect(refusal).not_to_contain_text("/account/privacy")
    expect(refusal.get_by_role("link", name="Open your Privacy & data page")).to_have_attribute(
        "href", "/account/privacy#restriction"
    )
    # Below "Make it", but brought into the window and focused.
    expect(refusal).to_be_focused()
    expect(refusal).to_be_in_viewport(ratio=1)
    assert page.locator("[data-jobs] [data-job]").count() == 0
    shoot_state(page, "studio-restricted", focus="[data-form-message]")
    page.reload()
    assert (_balance(page), _db(server, LEDGER, account_id)) == (balance, ledger)

    _to_privacy_page(page)
    page.get_by_role("button", name="Lift the restriction").click()
    expect(page.get_by_role("status")).to_contain_text("The restriction is lifted.")
    page.goto(server.url + "/studio")
    _make_track(page, "unrestricted rain")
    page.reload()
    assert int(_balance(page)) < int(balance)
    assert errors == ["403 /studio"]  # the refused submission
