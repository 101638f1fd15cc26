"""Erasure: requested with the password, locked through a grace period that can be cancelled,
then carried out by the cron, after which nothing of the account is left anywhere."""

from __future__ import annotations

import httpx
import pyotp
import pytest

from beatbun.accounts import reauth
from beatbun.accounts.security_log import list_events
from beatbun.accounts.store import get_account
from beatbun.billing.credits import open_wallet
from beatbun.errors import (
    Conflict,
    DatabaseError,
    InvalidInput,
    PermissionDenied,
    TooManyRequests,
)
from beatbun.generation.models import GenerationRequest
from beatbun.generation.service import submit_generation
from beatbun.generation.store import get_job
from beatbun.mail.drain import send_queued_mail
from beatbun.privacy.erasure import (
    GRACE_SECONDS,
    REQUESTS_PER_DAY,
    cancel_erasure,
    erase_account,
    erase_due_accounts,
    request_erasure,
    request_erasure_by_parent,
)
from beatbun.privacy.requests import list_requests
from beatbun.scheduled import run_scheduled
from beatbun_local.runtime import LocalRuntime
from tests.factories import CLIENT, PASSWORD, create_account, turn_on_two_step
from tests.fakes import ManualClock
from tests.privacy.erasure_setup import Leaver, leaver, teen_leaver
from tests.privacy.traces import Erased, in_ledger, queue_tables, traces
from tests.tracks.conftest import stored_keys

PRIVACY_PAGE = "/account/privacy"


async def _schedule(runtime: LocalRuntime, who: Leaver) -> None:
    account = await get_account(runtime.db, who.account.id)
    await request_erasure(
        runtime, account, who.session, password=PASSWORD, code="", client=CLIENT, language="en"
    )


async def _wallet(runtime: LocalRuntime, account_id: str) -> int:
    return (await open_wallet(runtime.db, account_id, now=runtime.clock.now())).balance


async def test_request_schedules_after_the_grace_period_and_tells_the_person(
    runtime: LocalRuntime, clock: ManualClock
) -> None:
    who = await leaver(runtime, tracks=0)
    await _schedule(runtime, who)
    account = await get_account(runtime.db, who.account.id)
    assert account.erasure_due_at == int(clock.now()) + GRACE_SECONDS
    (request, *_) = await list_requests(runtime.db, who.account.id)
    assert (request.kind, request.status, request.requested_by) == ("erasure", "scheduled", "owner")
    assert request.due_at == account.erasure_due_at
    kinds = [event.kind for event in await list_events(runtime.db, who.account.id)]
    assert kinds[:2] == ["erasure_requested", "password_confirmed"]
    await send_queued_mail(runtime)
    mail = runtime.mailer.messages()[0]
    assert mail.to == who.account.email
    assert "/account/privacy" in mail.text and "2027-01-22" in mail.text


async def test_request_with_a_wrong_password_schedules_nothing(runtime: LocalRuntime) -> None:
    who = await leaver(runtime, tracks=0)
    with pytest.raises(InvalidInput) as raised:
        await request_erasure(
            runtime,
            who.account,
            who.session,
            password="not the password",
            code="",
            client=CLIENT,
            language="en",
        )
    assert raised.value.field == "current_password"
    account = await get_account(runtime.db, who.account.id)
    assert account.erasure_due_at is None
    assert [r for r in await list_requests(runtime.db, who.account.id) if r.kind == "erasure"] == []


async def test_request_while_scheduled_conflicts(runtime: LocalRuntime) -> None:
    who = await leaver(runtime, tracks=0)
    await _schedule(runtime, who)
    with pytest.raises(Conflict) as raised:
        await _schedule(runtime, who)
    assert raised.value.code == "erasure_scheduled"


async def test_requests_past_the_daily_limit_are_refused(runtime: LocalRuntime) -> None:
    who = await leaver(runtime, tracks=0)
    for _ in range(REQUESTS_PER_DAY):
        await _schedule(runtime, who)
        await cancel_erasure(runtime, who.account.id, client=CLIENT, language="en")
    with pytest.raises(TooManyRequests) as raised:
        await _schedule(runtime, who)
    assert raised.value.code == "too_many_erasure_requests"
    account = await get_account(runtime.db, who.account.id)
    assert account.erasure_due_at is None


async def test_request_cancels_waiting_jobs_with_their_refund(runtime: LocalRuntime) -> None:
    who = await leaver(runtime, tracks=0)
    before = await _wallet(runtime, who.account.id)
    request = GenerationRequest.parse({"prompt": "waiting", "duration_seconds": 5})
    submitted = await submit_generation(
        runtime, account_id=who.account.id, request=request, idempotency_key=None
    )
    assert await _wallet(runtime, who.account.id) < before
    await _schedule(runtime, who)
    job = await get_job(runtime.db, account_id=who.account.id, job_id=submitted.job.id)
    assert job.status == "canceled"
    assert await _wallet(runtime, who.account.id) == before


async def test_cancel_unlocks_and_tells_the_person(runtime: LocalRuntime) -> None:
    who = await leaver(runtime, tracks=0)
    await _schedule(runtime, who)
    await cancel_erasure(runtime, who.account.id, client=CLIENT, language="en")
    account = await get_account(runtime.db, who.account.id)
    assert account.erasure_due_at is None
    (request, *_) = await list_requests(runtime.db, who.account.id)
    assert request.status == "cancelled"
    kinds = [event.kind for event in await list_events(runtime.db, who.account.id)]
    assert kinds[0] == "erasure_cancelled"
    await send_queued_mail(runtime)
    assert "cancelled" in runtime.mailer.messages()[0].subject


async def test_cancel_without_a_scheduled_erasure_conflicts(runtime: LocalRuntime) -> None:
    who = await leaver(runtime, tracks=0)
    with pytest.raises(Conflict) as raised:
        await cancel_erasure(runtime, who.account.id, client=CLIENT, language="en")
    assert raised.value.code == "no_erasure_scheduled"


async def test_locked_account_sees_only_the_privacy_page(
    runtime: LocalRuntime, client: httpx.AsyncClient
) -> None:
    who = await leaver(runtime, tracks=1)
    assert who.share_token is not None
    await _schedule(runtime, who)
    for page in ("/studio", "/tracks", f"/tracks/{who.tracks[0].id}", "/account", "/"):
        response = await client.get(page, headers=who.browser)
        assert response.status_code == 303, page
        assert response.headers["location"] == PRIVACY_PAGE
    # The privacy page itself is not redirected, nor is the password confirmation it uses,
    # the policies, or support (a person leaving may still need help).
    for page in (PRIVACY_PAGE, "/account/confirm-password", "/terms", "/help"):
        assert (await client.get(page, headers=who.browser)).status_code == 200, page
    # A page's script asking for JSON is told why instead of being redirected.
    scripted = await client.get("/studio", headers={**who.browser, "Accept": "application/json"})
    assert scripted.status_code == 403
    assert scripted.json()["error"] == "account_locked"
    # API keys are refused, generation with them too.
    me = await client.get("/api/v1/me", headers=who.api)
    assert (me.status_code, me.json()["error"]) == (403, "account_locked")
    made = await client.post(
        "/api/v1/generations", headers=who.api, json={"prompt": "x", "duration_seconds": 5}
    )
    assert (made.status_code, made.json()["error"]) == (403, "account_locked")
    # The shared track's page and audio answer as a revoked link would.
    assert (await client.get(f"/s/{who.share_token}")).status_code == 404
    assert (await client.get(f"/s/{who.share_token}/audio")).status_code == 404


async def test_cancel_opens_everything_again(
    runtime: LocalRuntime, client: httpx.AsyncClient
) -> None:
    who = await leaver(runtime, tracks=1)
    await _schedule(runtime, who)
    await cancel_erasure(runtime, who.account.id, client=CLIENT, language="en")
    assert (await client.get("/studio", headers=who.browser)).status_code == 200
    assert (await client.get("/api/v1/me", headers=who.api)).status_code == 200
    assert (await client.get(f"/s/{who.share_token}")).status_code == 200


async def test_cron_before_the_grace_period_ends_erases_nothing(
    runtime: LocalRuntime, clock: ManualClock
) -> None:
    who = await leaver(runtime, tracks=0)
    await _schedule(runtime, who)
    clock.advance(GRACE_SECONDS - 1)
    assert await erase_due_accounts(runtime) == 0
    assert (await get_account(runtime.db, who.account.id)).is_erasure_scheduled


async def test_erasure_leaves_nothing_of_the_account(
    runtime: LocalRuntime, clock: ManualClock, client: httpx.AsyncClient
) -> None:
    who = await leaver(runtime)
    erased = Erased(account_id=who.account.id, email=who.account.email)
    bystander = await leaver(runtime, email="staying@example.com", tracks=1)
    keys_before = await stored_keys(runtime)
    assert any(who.account.id in key for key in keys_before)
    # Asked, cancelled, asked again: the second request is the one that runs.
    await _schedule(runtime, who)
    await cancel_erasure(runtime, who.account.id, client=CLIENT, language="en")
    await _schedule(runtime, who)
    clock.advance(GRACE_SECONDS)
    await run_scheduled(runtime, cron="0 * * * *", scheduled_time=clock.now())
    await send_queued_mail(runtime)  # the closing mail, after which the queue forgets the address

    assert await traces(runtime, erased) == []
    assert queue_tables(runtime, who.account.id) == []
    keys = await stored_keys(runtime)
    assert in_ledger(keys, who.account.id)
    assert not in_ledger(keys, bystander.account.id)
    # Everything of the other account is still there.
    assert {key for key in keys_before if bystander.account.id in key} <= keys
    assert (await client.get(f"/s/{bystander.share_token}")).status_code == 200
    assert (await client.get("/api/v1/me", headers=bystander.api)).status_code == 200
    # The closing mail went to the address, in the account's language.
    done = runtime.mailer.messages()[0]
    assert done.to == who.account.email
    assert done.subject == "Dein Beat Bun-Konto wurde gelöscht"
    # What tax law keeps: the payment, without its link (which named the person), until the
    # end of the tenth calendar year after it was made (2027 + 10: 2038-01-01).
    retained = (await runtime.db.prepare("SELECT * FROM retained_payments").all()).results
    assert [(row["amount"], row["kept_until"]) for row in retained] == [(500, 2_145_916_800)]
    assert str(retained[0]["reference"]).startswith("cs_test_")


async def test_former_ids_and_links_answer_not_found(
    runtime: LocalRuntime, clock: ManualClock, client: httpx.AsyncClient
) -> None:
    who = await leaver(runtime, tracks=1)
    await _schedule(runtime, who)
    clock.advance(GRACE_SECONDS)
    await erase_due_accounts(runtime)
    bystander = await leaver(runtime, email="staying@example.com", tracks=0)
    track_id = who.tracks[0].id
    assert (await client.get(f"/s/{who.share_token}")).status_code == 404
    assert (await client.get(f"/s/{who.share_token}/audio")).status_code == 404
    for path in (f"/tracks/{track_id}", f"/tracks/{track_id}/audio"):
        assert (await client.get(path, headers=bystander.browser)).status_code == 404
    assert (
        await client.get(f"/api/v1/tracks/{track_id}", headers=bystander.api)
    ).status_code == 404
    # The erased account's own credentials are gone with it.
    assert (await client.get("/api/v1/me", headers=who.api)).status_code == 401
    studio = await client.get("/studio", headers=who.browser)
    assert studio.status_code != 200


async def test_signing_up_again_starts_a_fresh_account(
    runtime: LocalRuntime, clock: ManualClock
) -> None:
    who = await leaver(runtime, tracks=0)
    await _schedule(runtime, who)
    clock.advance(GRACE_SECONDS)
    await erase_due_accounts(runtime)
    again = await create_account(runtime, email=who.account.email)
    assert again.id != who.account.id
    assert again.erasure_due_at is None
    assert await list_requests(runtime.db, again.id) == []
    assert await _wallet(runtime, again.id) >= 0


async def test_erase_account_twice_changes_nothing_more(runtime: LocalRuntime) -> None:
    who = await leaver(runtime, tracks=1)
    erased = Erased(account_id=who.account.id, email=who.account.email)
    await erase_account(runtime, who.account.id)
    await erase_account(runtime, who.account.id)
    await send_queued_mail(runtime)
    assert await traces(runtime, erased) == []
    # Erased without a request of the person's: nobody is told.
    assert [m for m in runtime.mailer.messages() if "gelöscht" in m.subject] == []


async def test_the_append_only_tables_refuse_deletes_outside_an_erasure(
    runtime: LocalRuntime,
) -> None:
    who = await leaver(runtime, tracks=0)
    await _wallet(runtime, who.account.id)  # the monthly grant: a ledger row
    await _schedule(runtime, who)  # scheduled is not erasing: the evidence stays
    for sql in (
        "DELETE FROM consent_records WHERE subject = 'account:' || ?",
        "DELETE FROM credit_ledger WHERE account_id = ?",
    ):
        with pytest.raises(DatabaseError, match="append-only"):
            await runtime.db.prepare(sql).bind(who.account.id).run()


async def _with_two_step(runtime: LocalRuntime, who: Leaver) -> str:
    """Turn two-step on for `who`; the TOTP secret."""
    session = await reauth.confirm_password(
        runtime, who.account, who.session, password=PASSWORD, client=CLIENT
    )
    return await turn_on_two_step(runtime, who.account, session)


async def test_with_two_step_on_the_current_code_is_needed_too(
    runtime: LocalRuntime, clock: ManualClock
) -> None:
    who = await leaver(runtime, tracks=0)
    secret = await _with_two_step(runtime, who)
    clock.advance(60)  # the next time step: the enrolment's code cannot be replayed
    account = await get_account(runtime.db, who.account.id)
    for wrong in ("", "000000"):
        with pytest.raises(InvalidInput):
            await request_erasure(
                runtime,
                account,
                who.session,
                password=PASSWORD,
                code=wrong,
                client=CLIENT,
                language="en",
            )
    assert (await get_account(runtime.db, who.account.id)).erasure_due_at is None
    clock.advance(60)  # past the delay the wrong codes earned
    await request_erasure(
        runtime,
        account,
        who.session,
        password=PASSWORD,
        code=pyotp.TOTP(secret).at(clock.now()),
        client=CLIENT,
        language="en",
    )
    assert (await get_account(runtime.db, who.account.id)).is_erasure_scheduled


async def test_a_parent_can_ask_and_cancel_and_is_told_both_times(runtime: LocalRuntime) -> None:
    who = await teen_leaver(runtime)
    request = await request_erasure_by_parent(runtime, who.account.id, language="en")
    assert (request.requested_by, request.status) == ("parent", "scheduled")
    await cancel_erasure(runtime, who.account.id, client=None, language="en", by="parent")
    await send_queued_mail(runtime)
    told = sorted(
        (m.to, "cancelled" in m.subject) for m in runtime.mailer.messages() if "delet" in m.subject
    )
    assert told == [
        ("leaving@example.com", False),
        ("leaving@example.com", True),
        ("parent@example.com", False),
        ("parent@example.com", True),
    ]


async def test_only_the_parent_cancels_an_erasure_the_parent_asked_for(
    runtime: LocalRuntime,
) -> None:
    who = await leaver(runtime, tracks=0)
    await (
        runtime.db.prepare(
            "UPDATE accounts SET age_group = 'minor', parent_email = 'parent@example.com',"
            " parent_named_at = created_at, parent_consented_at = created_at WHERE id = ?"
        )
        .bind(who.account.id)
        .run()
    )
    await request_erasure_by_parent(runtime, who.account.id, language="en")
    with pytest.raises(PermissionDenied) as refused:
        await cancel_erasure(runtime, who.account.id, client=CLIENT, language="en")
    assert refused.value.code == "erasure_asked_by_parent"
    assert (await get_account(runtime.db, who.account.id)).is_erasure_scheduled
    [request] = [r for r in await list_requests(runtime.db, who.account.id) if r.kind == "erasure"]
    assert request.status == "scheduled"
    await cancel_erasure(runtime, who.account.id, client=None, language="en", by="parent")
    assert not (await get_account(runtime.db, who.account.id)).is_erasure_scheduled


async def test_an_export_under_way_defers_the_erasure_to_the_next_run(
    runtime: LocalRuntime, clock: ManualClock
) -> None:
    who = await leaver(runtime, tracks=0)
    erased = Erased(account_id=who.account.id, email=who.account.email)
    await _schedule(runtime, who)
    await (
        runtime.db.prepare(
            "INSERT INTO privacy_requests (id, account_id, kind, status, created_at)"
            " VALUES ('building-one', ?, 'export', 'building', ?)"
        )
        .bind(who.account.id, int(clock.now()))
        .run()
    )
    clock.advance(GRACE_SECONDS)
    assert await erase_due_accounts(runtime) == 0
    # Claimed all the same: it can no longer be cancelled, and stays locked.
    with pytest.raises(Conflict):
        await cancel_erasure(runtime, who.account.id, client=CLIENT, language="en")
    assert (await get_account(runtime.db, who.account.id)).erasure_due_at == 0
    await (
        runtime.db.prepare("UPDATE privacy_requests SET status = 'ready' WHERE id = 'building-one'")
        .bind()
        .run()
    )
    assert await erase_due_accounts(runtime) == 1
    await send_queued_mail(runtime)
    assert await traces(runtime, erased) == []
