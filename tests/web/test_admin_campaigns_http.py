"""The operators' pages over HTTP: hidden from everyone else, and a campaign from draft to
preview, test send and sending, with its counts."""

from __future__ import annotations

import email
import email.policy
import re
import sqlite3
import time
import uuid

from tests.conftest import LiveServer
from tests.mail_waits import wait_for_mail
from tests.visitors import Visitor, signed_in

CAMPAIGN_FORM = {
    "name": "Stems launch",
    "subject_en": "Stems are here",
    "body_en": "Hello!\n\nSplit any track into **stems**. <script>alert(1)</script>",
    "subject_de": "Stems sind da",
    "body_de": "Hallo!\n\nZerlege jeden Track in **Stems**.",
    "subject_fr": "",
    "body_fr": "",
}


def _address() -> str:
    return f"{uuid.uuid4().hex[:12]}@example.com"


def _sql(server: LiveServer, sql: str, *params: object) -> list[tuple[object, ...]]:
    with sqlite3.connect(server.state_dir / "d1" / "DB.sqlite") as db:
        return db.execute(sql, params).fetchall()


def _operator(server: LiveServer) -> tuple[Visitor, str]:
    address = _address()
    visitor = signed_in(server.url, server.state_dir, address)
    _sql(server, "UPDATE accounts SET is_admin = 1 WHERE email = ?", address)
    return visitor, address


def _mails_to(server: LiveServer, to: str) -> list[email.message.EmailMessage]:
    found = []
    for path in sorted((server.state_dir / "outbox").glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if message["To"] == to:
            found.append(message)
    return found


def _untouched(server: LiveServer, campaign_id: str, number: int) -> list[object]:
    """What a refused admin request could have changed: campaigns, the ticket, mail."""
    return [
        _sql(server, "SELECT COUNT(*) FROM campaigns"),
        _sql(server, "SELECT name, status FROM campaigns WHERE id = ?", campaign_id),
        _sql(server, "SELECT status FROM support_tickets WHERE number = ?", number),
        _sql(server, "SELECT COUNT(*) FROM support_messages"),
        _sql(server, "SELECT COUNT(*) FROM mail_queue"),
    ]


def test_admin_pages_and_actions_are_not_found_for_visitors_and_members(
    shared_live_server: LiveServer,
) -> None:
    """Every /admin page and form, with a real campaign and ticket behind it, is a 404 for
    anyone but an operator, and changes nothing."""
    server = shared_live_server
    operator, _ = _operator(server)
    created = operator.post("/admin/campaigns", CAMPAIGN_FORM, csrf_from="/admin/campaigns/new")
    campaign = created.headers["location"].split("?")[0]
    member = signed_in(server.url, server.state_dir, _address())
    opened = member.post(
        "/help/tickets",
        {"category": "billing", "subject": "Refund?", "message": "Please refund me."},
        csrf_from="/help",
    )
    number = int(opened.headers["location"].split("?")[0].rsplit("/", 1)[1])
    ticket = f"/admin/support/{number}"
    pages = ("/admin", "/admin/campaigns", "/admin/campaigns/new", campaign, "/admin/support")
    actions = {
        "/admin/campaigns": CAMPAIGN_FORM,
        campaign: {**CAMPAIGN_FORM, "name": "Renamed"},
        f"{campaign}/test": {"language": "en"},
        f"{campaign}/send": {"confirm": "yes"},
        f"{ticket}/reply": {"message": "Sure, refunded!"},
        f"{ticket}/close": {},
    }
    before = _untouched(server, campaign.rsplit("/", 1)[1], number)

    visitor = Visitor(server.url)
    for who, token_page in ((visitor, "/login"), (member, "/account")):
        for path in (*pages, ticket):
            assert who.get(path).status_code == 404, path
        for path, form in actions.items():
            assert who.post(path, form, csrf_from=token_page).status_code == 404, path
    assert _untouched(server, campaign.rsplit("/", 1)[1], number) == before
    assert 'href="/admin"' not in member.get("/account").text


def test_operator_finds_the_admin_index_from_the_account_area(
    shared_live_server: LiveServer,
) -> None:
    operator, _ = _operator(shared_live_server)
    assert 'href="/admin"' in operator.get("/account").text
    index = operator.get("/admin")
    assert index.status_code == 200
    for link in ("/admin/analytics", "/admin/campaigns", "/admin/support"):
        assert f'href="{link}"' in index.text
    assert "Tickets people open from Help" in index.text


def test_campaign_with_wrong_fields_is_refused_and_nothing_is_stored(
    shared_live_server: LiveServer,
) -> None:
    server = shared_live_server
    operator, _ = _operator(server)
    before = _sql(server, "SELECT COUNT(*) FROM campaigns")
    form = {**CAMPAIGN_FORM, "body_en": "", "body_de": ""}
    refused = operator.post("/admin/campaigns", form, csrf_from="/admin/campaigns/new")
    assert refused.status_code == 422
    assert (
        refused.text.count("Write the email for this language.") == 4
    )  # English and German: summary and field
    assert 'id="body_en" name="body_en"' in refused.text and 'aria-invalid="true"' in refused.text
    assert 'value="Stems are here"' in refused.text  # what was typed is kept
    assert _sql(server, "SELECT COUNT(*) FROM campaigns") == before


def test_campaign_from_draft_to_preview_test_send_and_counts(
    shared_live_server: LiveServer,
) -> None:
    server = shared_live_server
    operator, operator_address = _operator(server)
    reader_address = _address()
    signed_in(server.url, server.state_dir, reader_address)
    _sql(server, "UPDATE accounts SET marketing_opt_in_at = 1 WHERE email = ?", reader_address)

    created = operator.post("/admin/campaigns", CAMPAIGN_FORM, csrf_from="/admin/campaigns/new")
    assert created.status_code == 303
    path = created.headers["location"].split("?")[0]
    page = operator.get(path)
    assert (
        page.status_code == 200 and "Draft saved." in operator.get(created.headers["location"]).text
    )
    # Both languages previewed; typed HTML shows as text.
    assert page.text.count('class="card mail-preview"') == 2
    assert (
        "<strong>stems</strong>" in page.text
        and "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    )
    assert "Accounts that may receive it now: " in page.text
    assert "Send a test to see it in a mail client." in page.text

    tested = operator.post(f"{path}/test", {"language": "de"}, csrf_from=path)
    assert tested.status_code == 303
    [body] = wait_for_mail(server.state_dir, operator_address, count=2)[1:]
    assert body.startswith("Hallo!") and "/email/unsubscribe/" in body
    [test_mail] = [m for m in _mails_to(server, operator_address) if "[Test]" in m["Subject"]]
    assert test_mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    unconfirmed = operator.post(f"{path}/send", {}, csrf_from=path)
    assert unconfirmed.status_code == 422
    assert "Tick the box to confirm" in unconfirmed.text
    assert _sql(server, "SELECT status FROM campaigns WHERE id = ?", path.rsplit("/", 1)[1]) == [
        ("draft",)
    ]

    started = operator.post(f"{path}/send", {"confirm": "yes"}, csrf_from=path)
    assert started.status_code == 303
    server.run_mail_cron()
    wait_for_mail(server.state_dir, reader_address, count=2)
    [campaign_mail] = [
        message
        for message in _mails_to(server, reader_address)
        if message["Subject"] == "Stems are here"
    ]
    unsubscribe = re.fullmatch(r"<(.+)>", str(campaign_mail["List-Unsubscribe"]))
    assert unsubscribe and "/email/unsubscribe/" in unsubscribe.group(1)
    assert unsubscribe.group(1) in campaign_mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]

    counts = _wait_for_counts(operator, path, sent=1)
    assert counts["queued"] == 1 and counts["sent"] == 1 and counts["complained"] == 0
    listing = operator.get("/admin/campaigns")
    assert "Stems launch" in listing.text and "Queued in full" in listing.text
    # Sent: the preview no longer invites a test.
    sent_page = operator.get(path).text
    assert "As readers got it" in sent_page and "Send a test" not in sent_page
    # Once sending, the draft can no longer change.
    late = operator.post(
        path, {**CAMPAIGN_FORM, "name": "Renamed"}, csrf_from="/admin/campaigns/new"
    )
    assert late.status_code == 409 and "can no longer change" in late.text


def _wait_for_counts(visitor: Visitor, path: str, *, sent: int) -> dict[str, int]:
    deadline = time.monotonic() + 10
    while True:
        page = visitor.get(path).text
        counts = {
            name: int(value) for name, value in re.findall(r'data-count="(\w+)">(\d+)<', page)
        }
        if counts.get("sent", 0) >= sent or time.monotonic() > deadline:
            return counts
        time.sleep(0.05)
