"""Marketing email consent: double opt-in, withdrawal from anywhere, the proof rows, and the
SQL condition every marketing send checks."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest

from beatbun.accounts.models import Account
from beatbun.accounts.store import get_account
from beatbun.errors import (
    Conflict,
    DatabaseError,
    InvalidInput,
    NotFound,
    PermissionDenied,
    ProcessingRestricted,
    TooManyRequests,
)
from beatbun.mail.drain import send_queued_mail
from beatbun.mail.mailqueue import SERVICE
from beatbun.mail.marketing import (
    CONFIRM_PATH,
    MAX_REQUESTS,
    confirm_marketing,
    request_marketing,
    withdraw_marketing,
)
from beatbun.mail.marketingrules import MARKETING_ALLOWED_SQL
from beatbun.mail.marketingstatus import (
    CONFIRM_SECONDS,
    WORDING_VERSION,
    marketing_history,
    marketing_status,
)
from beatbun.privacy.erasure import erase_account
from beatbun.privacy.objections import Objections, set_objections
from beatbun.runtime.base import Outbox
from beatbun_local.runtime import LocalRuntime
from tests.factories import CLIENT, create_account, create_verified_account
from tests.fakes import ManualClock

ASK_IP, ASK_AGENT = "192.0.2.10", "Asking/1.0"
CLICK_IP, CLICK_AGENT = "198.51.100.20", "Clicking/2.0"
LINK = re.compile(r"https?://\S+")
# A 13 to 17 year old's account, as the accounts table allows one.
MINOR = "age_group = 'minor', parent_email = 'parent@example.com', parent_named_at = 1"


async def _ask(runtime: LocalRuntime, account: Account) -> str:
    """Ask for marketing email; the token of the confirmation link that was queued."""
    assert await request_marketing(runtime, account, language="en", ip=ASK_IP, user_agent=ASK_AGENT)
    body = await (
        runtime.db.prepare(
            "SELECT body FROM mail_queue WHERE account_id = ? AND kind = 'marketing_confirm'"
            " ORDER BY rowid DESC LIMIT 1"
        )
        .bind(account.id)
        .first("body")
    )
    url = urlsplit(LINK.findall(str(body))[0])
    assert url.path == CONFIRM_PATH
    return str(parse_qs(url.query)["token"][0])


async def _opted_in(runtime: LocalRuntime, email: str = "person@example.com") -> Account:
    account = await create_verified_account(runtime, email=email)
    await confirm_marketing(
        runtime, await _ask(runtime, account), ip=CLICK_IP, user_agent=CLICK_AGENT
    )
    return await get_account(runtime.db, account.id)


async def _rows(runtime: LocalRuntime, account_id: str) -> list[dict[str, object]]:
    rows = (
        await runtime.db.prepare(
            "SELECT action, source, wording_version, email, campaign_id, ip, user_agent"
            " FROM marketing_consents WHERE account_id = ? ORDER BY rowid"
        )
        .bind(account_id)
        .all()
    ).results
    return [dict(row) for row in rows]


async def _set(runtime: LocalRuntime, account_id: str, sql: str) -> Account:
    await runtime.db.prepare(f"UPDATE accounts SET {sql} WHERE id = ?").bind(account_id).run()
    return await get_account(runtime.db, account_id)


async def test_request_records_the_request_and_queues_a_confirmation(
    runtime: LocalRuntime,
) -> None:
    account = await create_verified_account(runtime)
    await _ask(runtime, account)
    assert await _rows(runtime, account.id) == [
        {
            "action": "requested",
            "source": "email_settings",
            "wording_version": WORDING_VERSION,
            "email": account.email,
            "campaign_id": None,
            "ip": ASK_IP,
            "user_agent": ASK_AGENT,
        }
    ]
    queued = await (
        runtime.db.prepare(
            "SELECT recipient, priority, kind, html FROM mail_queue WHERE account_id = ?"
        )
        .bind(account.id)
        .first()
    )
    assert queued is not None
    assert (queued["recipient"], queued["priority"]) == (account.email, SERVICE)
    assert CONFIRM_PATH in str(queued["html"])
    assert (await get_account(runtime.db, account.id)).marketing_opt_in_at is None
    history = await marketing_history(runtime.db, account.id)
    assert marketing_status(account, history, now=runtime.clock.now()).state == "pending"


async def test_confirmation_mail_goes_out_with_text_and_html(runtime: LocalRuntime) -> None:
    account = await create_verified_account(runtime)
    token = await _ask(runtime, account)
    await send_queued_mail(runtime)
    assert isinstance(runtime.mailer, Outbox)
    sent = [m for m in runtime.mailer.messages() if "product updates" in m.subject]
    assert len(sent) == 1
    assert sent[0].to == account.email
    assert token in sent[0].text
    assert token in sent[0].html


async def test_confirm_turns_marketing_on_with_proof_of_the_click(
    runtime: LocalRuntime, clock: ManualClock
) -> None:
    account = await create_verified_account(runtime)
    token = await _ask(runtime, account)
    clock.advance(3600)
    assert (
        await confirm_marketing(runtime, token, ip=CLICK_IP, user_agent=CLICK_AGENT) == account.id
    )
    stored = await get_account(runtime.db, account.id)
    assert stored.marketing_opt_in_at == int(clock.now())
    confirmed = (await _rows(runtime, account.id))[-1]
    assert confirmed == {
        "action": "confirmed",
        "source": "confirmation_link",
        "wording_version": WORDING_VERSION,
        "email": account.email,
        "campaign_id": None,
        "ip": CLICK_IP,
        "user_agent": CLICK_AGENT,
    }
    history = await marketing_history(runtime.db, account.id)
    assert [r.action for r in history] == ["confirmed", "requested"]
    assert marketing_status(stored, history, now=clock.now()).state == "on"


async def test_confirm_twice_succeeds_with_one_record(runtime: LocalRuntime) -> None:
    account = await create_verified_account(runtime)
    token = await _ask(runtime, account)
    await confirm_marketing(runtime, token, ip=CLICK_IP, user_agent=CLICK_AGENT)
    assert (
        await confirm_marketing(runtime, token, ip=CLICK_IP, user_agent=CLICK_AGENT) == account.id
    )
    assert [r["action"] for r in await _rows(runtime, account.id)] == ["requested", "confirmed"]


async def test_request_when_on_already_writes_nothing(runtime: LocalRuntime) -> None:
    account = await _opted_in(runtime)
    assert not await request_marketing(
        runtime, account, language="en", ip=ASK_IP, user_agent=ASK_AGENT
    )
    assert len(await _rows(runtime, account.id)) == 2


async def test_confirm_after_the_window_is_expired(
    runtime: LocalRuntime, clock: ManualClock
) -> None:
    account = await create_verified_account(runtime)
    token = await _ask(runtime, account)
    clock.advance(CONFIRM_SECONDS + 1)
    with pytest.raises(InvalidInput) as caught:
        await confirm_marketing(runtime, token, ip=CLICK_IP, user_agent=CLICK_AGENT)
    assert caught.value.code == "expired_link"
    assert (await get_account(runtime.db, account.id)).marketing_opt_in_at is None
    assert (
        marketing_status(
            account, await marketing_history(runtime.db, account.id), now=clock.now()
        ).state
        == "off"
    )


@pytest.mark.parametrize(
    "token",
    [
        "",
        "nodot",
        "0123456789abcdef0123456789abcdef.forged",
        # Not ASCII: compared as bytes, refused like any other forgery.
        "é.é",
    ],
)
async def test_confirm_with_a_forged_token_is_invalid(runtime: LocalRuntime, token: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        await confirm_marketing(runtime, token, ip=CLICK_IP, user_agent=CLICK_AGENT)
    assert caught.value.code == "invalid_link"


async def test_a_newer_request_replaces_the_older_link(runtime: LocalRuntime) -> None:
    account = await create_verified_account(runtime)
    first = await _ask(runtime, account)
    second = await _ask(runtime, account)
    with pytest.raises(InvalidInput) as caught:
        await confirm_marketing(runtime, first, ip=CLICK_IP, user_agent=CLICK_AGENT)
    assert caught.value.code == "replaced_link"
    assert await confirm_marketing(runtime, second, ip=CLICK_IP, user_agent=CLICK_AGENT)


async def test_cancelling_a_pending_request_retires_its_link(runtime: LocalRuntime) -> None:
    account = await create_verified_account(runtime)
    token = await _ask(runtime, account)
    assert await withdraw_marketing(runtime, account.id, source="email_settings")
    with pytest.raises(InvalidInput) as caught:
        await confirm_marketing(runtime, token, ip=CLICK_IP, user_agent=CLICK_AGENT)
    assert caught.value.code == "replaced_link"
    assert (await get_account(runtime.db, account.id)).marketing_opt_in_at is None


async def test_a_link_sent_to_a_former_address_is_refused(runtime: LocalRuntime) -> None:
    account = await create_verified_account(runtime)
    token = await _ask(runtime, account)
    await _set(runtime, account.id, "email = 'new@example.com'")
    with pytest.raises(InvalidInput) as caught:
        await confirm_marketing(runtime, token, ip=CLICK_IP, user_agent=CLICK_AGENT)
    assert caught.value.code == "replaced_link"


@pytest.mark.parametrize(
    ("change", "error", "code"),
    [
        (MINOR, PermissionDenied, "marketing_adults_only"),
        ("email_verified_at = NULL", PermissionDenied, "email_unverified"),
        ("objects_to_marketing = 1", Conflict, "marketing_objected"),
        ("restricted_at = 1", ProcessingRestricted, "account_restricted"),
        ("erasure_due_at = 1", PermissionDenied, "account_locked"),
    ],
)
async def test_request_is_refused_when_the_account_may_not_opt_in(
    runtime: LocalRuntime, change: str, error: type[Exception], code: str
) -> None:
    account = await _set(runtime, (await create_verified_account(runtime)).id, change)
    with pytest.raises(error) as caught:
        await request_marketing(runtime, account, language="en", ip=ASK_IP, user_agent=ASK_AGENT)
    assert getattr(caught.value, "code", None) == code
    assert await _rows(runtime, account.id) == []


async def test_request_checks_the_stored_account_not_the_one_passed(
    runtime: LocalRuntime,
) -> None:
    account = await create_verified_account(runtime)
    await _set(runtime, account.id, "objects_to_marketing = 1")  # objected in another tab
    with pytest.raises(Conflict):
        await request_marketing(runtime, account, language="en", ip=ASK_IP, user_agent=ASK_AGENT)
    assert await _rows(runtime, account.id) == []


async def test_request_for_an_account_gone_meanwhile_is_not_found(runtime: LocalRuntime) -> None:
    account = await create_verified_account(runtime)
    await erase_account(runtime, account.id)  # erased while its page was open
    with pytest.raises(NotFound):
        await request_marketing(runtime, account, language="en", ip=ASK_IP, user_agent=ASK_AGENT)
    assert await _rows(runtime, account.id) == []


async def test_confirm_is_refused_once_the_account_objected(runtime: LocalRuntime) -> None:
    account = await create_verified_account(runtime)
    token = await _ask(runtime, account)
    await _set(runtime, account.id, "objects_to_marketing = 1")
    with pytest.raises(Conflict):
        await confirm_marketing(runtime, token, ip=CLICK_IP, user_agent=CLICK_AGENT)
    assert (await get_account(runtime.db, account.id)).marketing_opt_in_at is None


async def test_requests_are_limited_per_day(runtime: LocalRuntime, clock: ManualClock) -> None:
    account = await create_verified_account(runtime)
    for _ in range(MAX_REQUESTS):
        await _ask(runtime, account)
    with pytest.raises(TooManyRequests) as caught:
        await request_marketing(runtime, account, language="en", ip=ASK_IP, user_agent=ASK_AGENT)
    assert caught.value.code == "too_many_marketing_requests"
    assert len(await _rows(runtime, account.id)) == MAX_REQUESTS
    clock.advance(86400 + 1)
    await _ask(runtime, account)


async def test_withdraw_turns_marketing_off_at_once_and_records_it(
    runtime: LocalRuntime,
) -> None:
    account = await _opted_in(runtime)
    assert await withdraw_marketing(
        runtime, account.id, source="one_click", ip=CLICK_IP, user_agent=CLICK_AGENT
    )
    assert (await get_account(runtime.db, account.id)).marketing_opt_in_at is None
    last = (await _rows(runtime, account.id))[-1]
    assert (last["action"], last["source"], last["ip"]) == ("withdrawn", "one_click", CLICK_IP)


async def test_withdraw_when_off_records_nothing(runtime: LocalRuntime) -> None:
    account = await create_verified_account(runtime)
    assert not await withdraw_marketing(runtime, account.id, source="one_click")
    assert not await withdraw_marketing(runtime, "0" * 32, source="complaint")
    assert await _rows(runtime, account.id) == []


async def test_withdraw_from_a_campaign_counts_the_unsubscribe(runtime: LocalRuntime) -> None:
    account = await _opted_in(runtime)
    await runtime.db.prepare(
        "INSERT INTO campaigns (id, name, status, created_at, updated_at)"
        " VALUES ('c1', 'Spring', 'sending', 0, 0)"
    ).run()
    await withdraw_marketing(runtime, account.id, source="one_click", campaign_id="c1")
    other = await _opted_in(runtime, "other@example.com")
    await withdraw_marketing(runtime, other.id, source="unsubscribe_page", campaign_id="c1")
    counted = await (
        runtime.db.prepare("SELECT unsubscribed FROM mail_topics WHERE topic = 'campaign:c1'")
    ).first("unsubscribed")
    assert counted == 2
    assert (await _rows(runtime, account.id))[-1]["campaign_id"] == "c1"


async def test_withdraw_naming_an_unknown_campaign_counts_nothing(runtime: LocalRuntime) -> None:
    account = await _opted_in(runtime)
    assert await withdraw_marketing(runtime, account.id, source="one_click", campaign_id="nope")
    assert (await _rows(runtime, account.id))[-1]["campaign_id"] is None
    topics = await runtime.db.prepare("SELECT COUNT(*) AS n FROM mail_topics").first("n")
    assert topics == 0


async def test_consent_records_cannot_be_rewritten(runtime: LocalRuntime) -> None:
    account = await _opted_in(runtime)
    with pytest.raises(DatabaseError):
        await (
            runtime.db.prepare("UPDATE marketing_consents SET ip = '' WHERE account_id = ?")
            .bind(account.id)
            .run()
        )


async def test_objection_on_the_privacy_page_withdraws_on_the_record(
    runtime: LocalRuntime,
) -> None:
    account = await _opted_in(runtime)
    await set_objections(
        runtime, account, Objections(False, True, False), client=CLIENT, language="en"
    )
    stored = await get_account(runtime.db, account.id)
    assert stored.marketing_opt_in_at is None
    last = (await _rows(runtime, account.id))[-1]
    assert (last["action"], last["source"], last["ip"]) == ("withdrawn", "objection", CLIENT.ip)


async def test_other_objections_leave_marketing_alone(runtime: LocalRuntime) -> None:
    account = await _opted_in(runtime)
    await set_objections(
        runtime, account, Objections(True, False, False), client=CLIENT, language="en"
    )
    assert (await get_account(runtime.db, account.id)).marketing_opt_in_at is not None
    assert len(await _rows(runtime, account.id)) == 2


async def _may_market(runtime: LocalRuntime, account_id: str) -> bool:
    found = await (
        runtime.db.prepare(
            f"SELECT COUNT(*) AS n FROM accounts a WHERE a.id = ? AND {MARKETING_ALLOWED_SQL}"
        )
        .bind(account_id)
        .first("n")
    )
    return bool(found)


async def test_marketing_is_allowed_for_a_confirmed_adult(runtime: LocalRuntime) -> None:
    account = await _opted_in(runtime)
    assert await _may_market(runtime, account.id)


@pytest.mark.parametrize(
    "change",
    [
        "objects_to_marketing = 1",
        "restricted_at = 1",
        # A minor's row can only get here by hand: minors cannot opt in.
        MINOR,
        "email_verified_at = NULL",
        "erasure_due_at = 1",
        "marketing_opt_in_at = NULL",
    ],
)
async def test_marketing_is_not_allowed(runtime: LocalRuntime, change: str) -> None:
    account = await _opted_in(runtime)
    await _set(runtime, account.id, change)
    assert not await _may_market(runtime, account.id)


async def test_an_unverified_account_never_gets_a_confirmation(runtime: LocalRuntime) -> None:
    account = await create_account(runtime)
    with pytest.raises(PermissionDenied):
        await request_marketing(runtime, account, language="en", ip=ASK_IP, user_agent=ASK_AGENT)
    queued = await (
        runtime.db.prepare(
            "SELECT COUNT(*) AS n FROM mail_queue WHERE account_id = ? AND kind = 'marketing_confirm'"
        )
        .bind(account.id)
        .first("n")
    )
    assert queued == 0
