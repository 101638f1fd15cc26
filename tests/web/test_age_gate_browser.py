"""The age gate in Chromium: a refused date blocks the browser (not another one), and a teen
logs in only after the parent consented through the mailed link."""

from __future__ import annotations

from datetime import date

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect

from tests.conftest import SCREENSHOTS, LiveServer, shoot_light_and_dark
from tests.visitors import PASSWORD

pytestmark = pytest.mark.browser

FOLDER = SCREENSHOTS / "age-gate"
VIEWPORTS: tuple[ViewportSize, ...] = (
    {"width": 1440, "height": 900},
    {"width": 390, "height": 844},
)
TODAY = date.today()
TWELVE = TODAY.replace(year=TODAY.year - 12, day=1).isoformat()
FIFTEEN = TODAY.replace(year=TODAY.year - 15, day=1).isoformat()
THIRTY = TODAY.replace(year=TODAY.year - 30, day=1).isoformat()


def _shoot(page: Page, name: str) -> None:
    for viewport in VIEWPORTS:
        page.set_viewport_size(viewport)
        shoot_light_and_dark(page, FOLDER, f"{name}-{viewport['width']}")
    page.set_viewport_size(VIEWPORTS[0])


def _fill_sign_up(page: Page, *, email: str, birth_date: str, parent_email: str = "") -> None:
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Display name").fill("Sam")
    page.get_by_label("Date of birth").fill(birth_date)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    if parent_email:
        page.get_by_label("Parent or guardian's email").fill(parent_email)
    page.get_by_role("button", name="Sign up").click()


def _mailed_link(page: Page, base_url: str, path: str) -> None:
    """Open the newest mailed link to `path` (mails carry PUBLIC_URL; the server has its port)."""
    page.goto(base_url + "/dev/outbox")
    link = page.get_by_role("link", name=path).first.get_attribute("href") or ""
    page.goto(base_url + link[link.index(path) :])


def _log_in(page: Page, base_url: str, email: str) -> None:
    page.goto(base_url + "/login")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_refused_birth_date_blocks_this_browser_but_not_a_fresh_one(
    live_server: LiveServer, browser: Browser
) -> None:
    url = live_server.url
    context = browser.new_context(viewport=VIEWPORTS[0])
    page = context.new_page()
    page.goto(url + "/signup")
    _shoot(page, "signup")
    _fill_sign_up(page, email="kid@example.com", birth_date=TWELVE)
    expect(page.get_by_role("heading", level=1)).to_have_text("You cannot create an account")
    _shoot(page, "refused")

    # Back to the form, as a child would to try another date: the block is there instead.
    page.go_back()
    expect(page.get_by_role("heading", level=1)).to_have_text("You cannot create an account")
    expect(page.get_by_label("Date of birth")).to_have_count(0)
    # Sending the form with an adult's date anyway, from this browser, is refused too.
    token = page.locator('input[name="csrf_token"]').first.input_value()
    retry = page.request.post(
        url + "/signup",
        form={
            "csrf_token": token,
            "email": "kid@example.com",
            "display_name": "Sam",
            "birth_date": THIRTY,
            "password": PASSWORD,
        },
        headers={"Origin": url},
    )
    assert retry.status == 403 and "You cannot create an account" in retry.text()
    page.goto(url + "/dev/outbox")
    expect(page.get_by_text("No mail yet.")).to_be_visible()
    context.close()

    fresh = browser.new_context(viewport=VIEWPORTS[0])
    other = fresh.new_page()
    other.goto(url + "/signup")
    _fill_sign_up(other, email="adult@example.com", birth_date=THIRTY)
    expect(other.get_by_role("heading", level=1)).to_have_text("Check your inbox")
    fresh.close()


def test_teen_logs_in_only_after_the_parent_consents_through_the_link(
    live_server: LiveServer, browser: Browser
) -> None:
    url, teen_email = live_server.url, "teen@example.com"
    errors: list[str] = []
    teen = browser.new_context(viewport=VIEWPORTS[0]).new_page()
    teen.on("pageerror", lambda error: errors.append(str(error)))
    teen.goto(url + "/signup")
    _fill_sign_up(teen, email=teen_email, birth_date=FIFTEEN, parent_email="parent@example.com")
    expect(teen.get_by_role("heading", level=1)).to_have_text("Check your inbox")
    _mailed_link(teen, url, "/verify-email?token=")
    teen.get_by_role("button", name="Confirm my email address").click()
    # Confirmed, but not logged in: the account waits for the parent.
    expect(teen.get_by_role("heading", level=1)).to_have_text("Log in")
    _log_in(teen, url, teen_email)
    expect(teen.get_by_role("heading", level=1)).to_have_text("Waiting for your parent or guardian")
    teen.get_by_role("button", name="Send my parent the link again").click()
    expect(teen.get_by_role("status")).to_contain_text("only a few minutes ago")
    _shoot(teen, "waiting")
    teen.goto(url + "/studio")
    expect(teen.get_by_role("heading", level=1)).to_have_text("Log in needed")

    parent = browser.new_context(viewport=VIEWPORTS[0]).new_page()
    parent.on("pageerror", lambda error: errors.append(str(error)))
    _mailed_link(parent, url, "/parent/")
    expect(parent.get_by_role("heading", level=1)).to_have_text("Sam wants to use Beat Bun")
    expect(parent.get_by_text(f"Sam ({teen_email}) signed up")).to_be_visible()
    _shoot(parent, "parent-consent")
    parent.get_by_label("Your full name").fill("Alex Parent")
    parent.get_by_role("button", name="Give consent").click()
    expect(parent.locator("#declaration-error")).to_be_visible()
    _shoot(parent, "parent-consent-error")
    parent.get_by_label("I am the parent or legal guardian of Sam").check()
    parent.get_by_role("button", name="Give consent").click()
    expect(parent.get_by_role("heading", level=1)).to_have_text("Sam's account")
    expect(parent.get_by_text("You gave your consent as Alex Parent")).to_be_visible()

    _log_in(teen, url, teen_email)
    expect(teen.get_by_role("heading", level=1)).to_have_text("Studio")

    parent.reload()
    expect(parent.get_by_role("cell", name="Parent or guardian gave consent")).to_be_visible()
    _shoot(parent, "parent-child")
    parent.get_by_role("button", name="Delete this account").click()
    expect(parent.get_by_role("heading", name="This account will be deleted")).to_be_visible()
    _shoot(parent, "parent-deletion-scheduled")
    parent.get_by_role("button", name="Cancel deletion").click()
    expect(parent.get_by_role("button", name="Delete this account")).to_be_visible()
    assert errors == []


def test_parent_who_does_not_agree_deletes_the_sign_up(
    live_server: LiveServer, browser: Browser
) -> None:
    url, teen_email = live_server.url, "teen@example.com"
    errors: list[str] = []
    teen = browser.new_context(viewport=VIEWPORTS[0]).new_page()
    teen.goto(url + "/signup")
    _fill_sign_up(teen, email=teen_email, birth_date=FIFTEEN, parent_email="parent@example.com")
    expect(teen.get_by_role("heading", level=1)).to_have_text("Check your inbox")

    parent = browser.new_context(viewport=VIEWPORTS[0]).new_page()
    parent.on("pageerror", lambda error: errors.append(str(error)))
    _mailed_link(parent, url, "/parent/")
    link = parent.url
    delete = parent.get_by_role("button", name="Delete the sign-up")
    expect(delete).to_be_hidden()
    # Saying no takes a second step: the summary opens the confirmation.
    parent.get_by_text("I do not agree — delete this sign-up").click()
    expect(parent.get_by_text("Delete the sign-up of Sam (teen@example.com) now?")).to_be_visible()
    _shoot(parent, "parent-decline")
    delete.click()
    expect(parent.get_by_role("heading", level=1)).to_have_text("The sign-up was deleted")
    _shoot(parent, "parent-declined")
    assert parent.goto(link).status == 404  # type: ignore[union-attr]

    parent.goto(url + "/dev/outbox")
    notice = parent.locator("article.mail").first
    expect(notice).to_contain_text("To: teen@example.com")
    expect(notice).to_contain_text("did not agree")
    _log_in(teen, url, teen_email)
    expect(teen.get_by_text("The email or password is incorrect.")).to_be_visible()
    assert errors == []
