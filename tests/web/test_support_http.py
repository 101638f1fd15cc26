"""The Help pages and the operators' support inbox over HTTP: forms, errors and who sees what."""

from __future__ import annotations

import re

import httpx
import pytest

from beatbun_local.runtime import LocalRuntime
from tests.privacy.members import Member, count, csrf, member
from tests.support.conftest import failed_job

TICKETS = "SELECT COUNT(*) AS n FROM support_tickets"
MESSAGES = "SELECT COUNT(*) AS n FROM support_messages"
SUPPORT_MAIL = "SELECT COUNT(*) AS n FROM mail_queue WHERE kind = 'support'"
GOOD = {"category": "billing", "subject": "Charged twice", "message": "My card shows two charges."}


async def _operator(runtime: LocalRuntime) -> Member:
    who = await member(runtime, "operator@example.com")
    await (
        runtime.db.prepare("UPDATE accounts SET is_admin = 1 WHERE id = ?")
        .bind(who.account_id)
        .run()
    )
    return who


async def _post(
    client: httpx.AsyncClient, who: Member, path: str, data: dict[str, str], page: str = "/help"
) -> httpx.Response:
    form = {"csrf_token": await csrf(client, who, page), **data}
    return await client.post(path, data=form, headers=who.headers)


async def _written(runtime: LocalRuntime) -> tuple[int, int, int]:
    return (
        await count(runtime, TICKETS),
        await count(runtime, MESSAGES),
        await count(runtime, SUPPORT_MAIL),
    )


async def test_help_page_needs_a_signed_in_account(client: httpx.AsyncClient) -> None:
    response = await client.get("/help")
    assert response.status_code in (303, 401)
    assert "Charged twice" not in response.text


async def test_header_has_help_marked_current_on_the_help_page(
    client: httpx.AsyncClient, runtime: LocalRuntime
) -> None:
    who = await member(runtime)
    page = await client.get("/help", headers=who.headers)
    assert page.status_code == 200
    assert '<a href="/help" aria-current="page">Help</a>' in page.text
    studio = await client.get("/studio", headers=who.headers)
    assert '<a href="/help">Help</a>' in studio.text


async def test_failed_job_in_the_studio_links_to_help_with_the_job(
    client: httpx.AsyncClient, runtime: LocalRuntime
) -> None:
    who = await member(runtime)
    job_id = await failed_job(runtime, who.account_id)
    studio = await client.get("/studio", headers=who.headers)
    assert f'href="/help?job={job_id}"' in studio.text
    page = await client.get(f"/help?job={job_id}", headers=who.headers)
    assert f'<option value="job:{job_id}" selected>Job: stormy synthwave</option>' in page.text
    assert '<option value="track" selected>' in page.text


async def test_someone_elses_job_is_not_offered(
    client: httpx.AsyncClient, runtime: LocalRuntime
) -> None:
    owner = await member(runtime, "owner@example.com")
    job_id = await failed_job(runtime, owner.account_id)
    other = await member(runtime, "other@example.com")
    page = await client.get(f"/help?job={job_id}", headers=other.headers)
    assert page.status_code == 200 and job_id not in page.text


async def test_opening_a_ticket_answers_303_to_its_thread(
    client: httpx.AsyncClient, runtime: LocalRuntime
) -> None:
    who = await member(runtime)
    response = await _post(client, who, "/help/tickets", GOOD)
    assert response.status_code == 303
    assert response.headers["location"] == "/help/tickets/1001?done=opened"
    thread = await client.get("/help/tickets/1001?done=opened", headers=who.headers)
    assert "Your request is sent. We emailed you a confirmation with its number." in thread.text
    assert "Charged twice" in thread.text and "My card shows two charges." in thread.text
    assert "Ticket 1001" in thread.text
    listing = await client.get("/help", headers=who.headers)
    assert '<a class="ticket-row__subject" href="/help/tickets/1001">Charged twice</a>' in (
        listing.text
    )
    assert await _written(runtime) == (1, 1, 1)


async def test_bad_fields_are_shown_next_to_them_and_what_was_typed_is_kept(
    client: httpx.AsyncClient, runtime: LocalRuntime
) -> None:
    who = await member(runtime)
    typed = {"category": "", "subject": "", "message": "A long story <b>with markup</b>"}
    response = await _post(client, who, "/help/tickets", typed)
    assert response.status_code == 422
    assert 'id="category-error">Choose what your request is about.</p>' in response.text
    assert 'id="subject-error">Give your request a subject.</p>' in response.text
    assert "A long story &lt;b&gt;with markup&lt;/b&gt;</textarea>" in response.text
    assert '<div class="error-summary" role="alert"' in response.text
    assert await _written(runtime) == (0, 0, 0)


async def test_someone_elses_reference_is_refused_by_the_form(
    client: httpx.AsyncClient, runtime: LocalRuntime
) -> None:
    owner = await member(runtime, "owner@example.com")
    job_id = await failed_job(runtime, owner.account_id)
    other = await member(runtime, "other@example.com")
    response = await _post(client, other, "/help/tickets", {**GOOD, "reference": f"job:{job_id}"})
    assert response.status_code == 422
    assert "Choose one of your own tracks or jobs, or none." in response.text
    assert 'value="Charged twice"' in response.text
    assert await _written(runtime) == (0, 0, 0)


async def test_form_without_its_csrf_token_is_refused(
    client: httpx.AsyncClient, runtime: LocalRuntime
) -> None:
    who = await member(runtime)
    response = await client.post("/help/tickets", data=GOOD, headers=who.headers)
    assert response.status_code == 403
    assert await _written(runtime) == (0, 0, 0)


async def test_too_many_tickets_answers_429_and_keeps_the_text(
    client: httpx.AsyncClient, runtime: LocalRuntime
) -> None:
    who = await member(runtime)
    for _ in range(5):
        assert (await _post(client, who, "/help/tickets", GOOD)).status_code == 303
    response = await _post(client, who, "/help/tickets", {**GOOD, "subject": "Sixth"})
    assert response.status_code == 429
    assert "You can open at most 5 tickets an hour. Try again later." in response.text
    assert 'value="Sixth"' in response.text
    assert await count(runtime, TICKETS) == 5


@pytest.mark.parametrize(
    "number",
    [
        "1001",  # someone else's
        "9999",  # nobody's
        "abc",  # not a number
        "\uff11\uff10\uff10\uff11",  # full-width digits are not a ticket number
    ],
)
async def test_other_tickets_are_not_found(
    client: httpx.AsyncClient, runtime: LocalRuntime, number: str
) -> None:
    owner = await member(runtime, "owner@example.com")
    assert (await _post(client, owner, "/help/tickets", GOOD)).status_code == 303
    other = await member(runtime, "other@example.com")
    assert (await client.get(f"/help/tickets/{number}", headers=other.headers)).status_code == 404
    reply = await _post(client, other, f"/help/tickets/{number}/reply", {"message": "Hi"})
    assert reply.status_code == 404
    assert await count(runtime, MESSAGES) == 1


async def test_empty_reply_is_refused_next_to_its_field(
    client: httpx.AsyncClient, runtime: LocalRuntime
) -> None:
    who = await member(runtime)
    await _post(client, who, "/help/tickets", GOOD)
    response = await _post(client, who, "/help/tickets/1001/reply", {"message": "  "})
    assert response.status_code == 422
    assert 'id="message-error">Write your message.</p>' in response.text
    assert await count(runtime, MESSAGES) == 1
    sent = await _post(client, who, "/help/tickets/1001/reply", {"message": "Any news?"})
    assert sent.status_code == 303
    assert sent.headers["location"] == "/help/tickets/1001?done=replied#reply"


@pytest.mark.parametrize("path", ["/admin/support", "/admin/support/1001"])
async def test_support_inbox_is_not_found_for_members_and_visitors(
    client: httpx.AsyncClient, runtime: LocalRuntime, path: str
) -> None:
    who = await member(runtime)
    await _post(client, who, "/help/tickets", GOOD)
    assert (await client.get(path, headers=who.headers)).status_code == 404
    assert (await client.get(path)).status_code == 404


async def test_members_cannot_answer_or_close_tickets(
    client: httpx.AsyncClient, runtime: LocalRuntime
) -> None:
    who = await member(runtime)
    await _post(client, who, "/help/tickets", GOOD)
    answer = await _post(client, who, "/admin/support/1001/reply", {"message": "Sure, refunded!"})
    close = await _post(client, who, "/admin/support/1001/close", {})
    assert (answer.status_code, close.status_code) == (404, 404)
    assert await _written(runtime) == (1, 1, 1)
    thread = await client.get("/help/tickets/1001", headers=who.headers)
    assert "Waiting for us" in thread.text


async def test_operator_sees_the_inbox_with_the_privacy_deadline(
    client: httpx.AsyncClient, runtime: LocalRuntime
) -> None:
    who = await member(runtime)
    await _post(client, who, "/help/tickets", {**GOOD, "category": "privacy", "subject": "Copy"})
    operator = await _operator(runtime)
    inbox = await client.get("/admin/support", headers=operator.headers)
    assert inbox.status_code == 200
    assert '<a href="/admin/support/1001">Copy</a>' in inbox.text
    assert "person@example.com" in inbox.text
    assert re.search(r"Answer due 2027-02-14 08:00 UTC, days left: 30", inbox.text)


async def test_operator_answers_and_closes(
    client: httpx.AsyncClient, runtime: LocalRuntime
) -> None:
    who = await member(runtime)
    await _post(client, who, "/help/tickets", GOOD)
    operator = await _operator(runtime)
    page = "/admin/support/1001"
    empty = await _post(client, operator, f"{page}/reply", {"message": ""}, page=page)
    assert empty.status_code == 422 and "Write your message." in empty.text
    answered = await _post(client, operator, f"{page}/reply", {"message": "Refunded."}, page=page)
    assert answered.status_code == 303 and answered.headers["location"] == f"{page}?done=answered"
    closed = await _post(client, operator, f"{page}/close", {}, page=page)
    assert closed.status_code == 303
    again = await _post(client, operator, f"{page}/close", {}, page=page)
    assert again.status_code == 409 and "Ticket 1001 is already closed." in again.text
    thread = await client.get("/help/tickets/1001", headers=who.headers)
    assert "Refunded." in thread.text and "Closed" in thread.text
    assert "Writing opens this request again." in thread.text
    assert await _written(runtime) == (1, 2, 3)


async def test_an_unanswered_privacy_request_cannot_be_closed(
    client: httpx.AsyncClient, runtime: LocalRuntime
) -> None:
    who = await member(runtime)
    await _post(client, who, "/help/tickets", {**GOOD, "category": "privacy"})
    operator = await _operator(runtime)
    page = "/admin/support/1001"
    shown = await client.get(page, headers=operator.headers)
    assert "A privacy request closes only after you answered it." in shown.text
    refused = await _post(client, operator, f"{page}/close", {}, page=page)
    assert refused.status_code == 409
    assert "Ticket 1001 is a privacy request: answer it before you close it" in refused.text
    assert await _written(runtime) == (1, 1, 1)
    answered = await _post(client, operator, f"{page}/reply", {"message": "Done."}, page=page)
    assert answered.status_code == 303
    closed = await _post(client, operator, f"{page}/close", {}, page=page)
    assert closed.status_code == 303 and closed.headers["location"] == f"{page}?done=closed"
