"""A support ticket's round trip in Chromium on the real local server: a user opens a ticket
from a job the music service refused, gets the confirmation with its number, an operator answers it from the
inbox, the user reads the answer in the thread and in the mail, the operator closes it.
Screenshots at 1440x900 and 390x844 go to test-results/screenshots/support-*.png.
"""

from __future__ import annotations

import sqlite3
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.conftest import LiveServer, running_live_server, screenshot
from tests.generation.providers.fake_elevenlabs import FakeElevenLabs, serve, server_env
from tests.visitors import outbox, sign_in_browser

pytestmark = pytest.mark.browser

VIEWPORTS = {"desktop": {"width": 1440, "height": 900}, "phone": {"width": 390, "height": 844}}


@pytest.fixture
def refusing_model() -> Iterator[FakeElevenLabs]:
    """The music model's stand-in, refusing the next prompt as ElevenLabs documents it."""
    fake = FakeElevenLabs()
    fake.answer_next(400, {"detail": {"status": "bad_prompt", "message": "Refused."}})
    yield from serve(fake)


@pytest.fixture
def server(tmp_path: Path, refusing_model: FakeElevenLabs) -> Iterator[LiveServer]:
    yield from running_live_server(tmp_path, env=server_env(refusing_model))


def _database(server: LiveServer) -> sqlite3.Connection:
    return sqlite3.connect(server.state_dir / "d1" / "DB.sqlite")


def _mail_saying(server: LiveServer, address: str, text: str) -> str:
    """The body of the mail to `address` that says `text`, once the server has sent it."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        found = [body for body in outbox(server.state_dir, address) if text in body]
        if found:
            assert len(found) == 1, found
            return found[0]
        time.sleep(0.05)
    raise AssertionError(f"No mail to {address} says {text!r}")


def _make_operator(server: LiveServer, address: str) -> None:
    with _database(server) as db:
        db.execute("UPDATE accounts SET is_admin = 1 WHERE email = ?", (address,))


def _context(browser: Browser, server: LiveServer, address: str, size: str) -> BrowserContext:
    context = browser.new_context(viewport=VIEWPORTS[size])  # type: ignore[arg-type]
    sign_in_browser(context, server, address)
    return context


def _shoot(page: Page, name: str) -> None:
    """The page at both sizes: the phone shot from the same URL in a phone-sized viewport."""
    screenshot(page, f"support-{name}-desktop")
    page.set_viewport_size(VIEWPORTS["phone"])  # type: ignore[arg-type]
    screenshot(page, f"support-{name}-phone")
    page.set_viewport_size(VIEWPORTS["desktop"])  # type: ignore[arg-type]


def test_ticket_round_trip_between_user_and_operator(browser: Browser, server: LiveServer) -> None:
    user_address = f"user-{uuid.uuid4().hex[:8]}@example.com"
    operator_address = f"operator-{uuid.uuid4().hex[:8]}@example.com"
    user_context = _context(browser, server, user_address, "desktop")
    operator_context = _context(browser, server, operator_address, "desktop")
    _make_operator(server, operator_address)
    user, operator = user_context.new_page(), operator_context.new_page()

    # The user: a job the music service refuses, then a ticket about it from its row.
    user.goto(server.url + "/studio")
    user.get_by_label("Describe your track").fill("stormy synthwave")
    user.get_by_label("Length (seconds, 5 to 300)").fill("5")
    user.get_by_role("button", name="Make it").click()
    job = user.locator('[data-jobs] [data-status="failed"]')
    expect(job).to_contain_text("The music service refused this prompt")
    job_id = job.get_attribute("data-job")
    job.get_by_role("link", name="Get help").click()  # added live by the studio's script
    expect(user.get_by_role("heading", level=1)).to_have_text("Help")
    expect(user.get_by_label("What is it about?")).to_have_value("track")
    expect(user.get_by_label("Track or job (optional)")).to_have_value(f"job:{job_id}")
    _shoot(user, "help")
    user.get_by_label("Subject").fill("My track failed")
    user.get_by_label("Message").fill("The studio says the music service is unavailable.")
    user.get_by_role("button", name="Send request").click()
    expect(user.get_by_role("status").first).to_have_text(
        "Your request is sent. We emailed you a confirmation with its number."
    )
    expect(user.get_by_role("heading", level=1)).to_have_text("My track failed")
    expect(user.locator(".support-meta").first).to_contain_text("Ticket 1001")
    expect(user.locator(".support-meta").nth(1)).to_contain_text("stormy synthwave")
    confirmation = _mail_saying(server, user_address, "is ticket 1001")
    assert "My track failed" in confirmation and "/help/tickets/1001" in confirmation

    # The operator: the inbox, the ticket, an answer.
    operator.goto(server.url + "/admin/support")
    expect(operator.get_by_role("heading", level=1)).to_have_text("Support")
    row = operator.locator('[data-ticket="1001"]')
    expect(row).to_contain_text(user_address)
    expect(row).to_contain_text("Waiting for us")
    _shoot(operator, "inbox")
    row.get_by_role("link", name="My track failed").click()
    expect(operator.locator(".support-meta").nth(1)).to_have_text(
        f"From Test Person ({user_address}), writing in English"
    )
    expect(operator.locator(".support-meta").nth(2)).to_contain_text("failed (prompt_refused)")
    operator.get_by_label("Your answer (emailed to the customer)").fill(
        "Sorry about that: the prompt named an artist; your credits were refunded."
    )
    operator.get_by_role("button", name="Send answer").click()
    expect(operator.get_by_role("status").first).to_have_text(
        "Your answer is sent and emailed to the customer."
    )
    _shoot(operator, "operator-ticket")

    # The user: the answer in the thread and in the mail.
    user.goto(server.url + "/help/tickets/1001")
    answer = user.locator(".message--operator")
    expect(answer).to_contain_text("the prompt named an artist")
    expect(answer).to_contain_text("Beat Bun support")
    expect(user.locator(".support-meta").first).to_contain_text("Answered")
    answered = _mail_saying(server, user_address, "We answered your request")
    assert "the prompt named an artist; your credits were refunded." in answered
    _shoot(user, "thread")

    # The operator closes it; the user sees it closed and may write again.
    operator.get_by_role("button", name="Close ticket").click()
    expect(operator.get_by_role("status").first).to_have_text(
        "The ticket is closed and the customer told."
    )
    expect(operator.get_by_role("button", name="Close ticket")).to_have_count(0)
    user.goto(server.url + "/help")
    expect(user.locator(".ticket-row")).to_contain_text("Closed")
    closing = _mail_saying(server, user_address, "We closed your request")
    assert "(ticket 1001)" in closing
    user_context.close()
    operator_context.close()


def test_help_page_errors_keep_the_text_and_take_focus(
    browser: Browser, server: LiveServer
) -> None:
    address = f"user-{uuid.uuid4().hex[:8]}@example.com"
    context = _context(browser, server, address, "phone")
    page = context.new_page()
    page.goto(server.url + "/help")
    page.get_by_label("Message").fill("Something is wrong with my invoice.")
    page.get_by_role("button", name="Send request").click()
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("Choose what your request is about.")
    expect(summary).to_contain_text("Give your request a subject.")
    expect(summary).to_be_focused()
    expect(page.get_by_label("Message")).to_have_value("Something is wrong with my invoice.")
    expect(page.get_by_label("Subject")).to_have_attribute("aria-invalid", "true")
    screenshot(page, "support-help-errors-phone")
    context.close()
