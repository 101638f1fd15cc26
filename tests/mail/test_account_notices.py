"""The account's own service notices, read back from the local outbox as they were delivered.

Sign-in from a new device, two-step verification, password and address changes, and the
privacy notices (export ready, deletion scheduled and done): the right recipient, the account's
language, text and HTML, no marketing headers, one mail per event, and the caps.
"""

from __future__ import annotations

import re
import time
import uuid

import pyotp
import pytest

from beatbun.accounts import devices, profile, secondfactor, service, sessions
from beatbun.accounts.models import Account, Client
from beatbun.accounts.notify import security_notice
from beatbun.accounts.store import get_account
from beatbun.consent.preferences import DisplayPreferences, save_account_preferences
from beatbun.mail import catalogue, drain, mailqueue
from beatbun.mail.notices import HOUR
from beatbun.privacy.erasure import erase_account, request_erasure
from beatbun.runtime.base import MailMessage
from beatbun_local.runtime import LocalRuntime
from tests.conftest import LiveServer
from tests.factories import CLIENT, PASSWORD, create_verified_account, turn_on_two_step
from tests.fakes import ManualClock
from tests.mail_waits import wait_for_mail
from tests.privacy.exporting import confirmed_session, ready_export
from tests.visitors import Visitor, log_in, outbox, signed_in

FIREFOX_WINDOWS = Client(
    ip="192.0.2.20",
    user_agent="Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
)
SAFARI_IPHONE = Client(
    ip="192.0.2.21",
    user_agent=(
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15"
        " (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1"
    ),
)
CHROME_ANDROID = Client(
    ip="192.0.2.22",
    user_agent=(
        "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko)"
        " Chrome/131.0.0.0 Mobile Safari/537.36"
    ),
)


async def _delivered(runtime: LocalRuntime) -> list[MailMessage]:
    """Send what is queued, then everything in the outbox, newest first."""
    while await drain.send_queued_mail(runtime):
        pass
    return runtime.mailer.messages()


def _about(messages: list[MailMessage], subject: str) -> list[MailMessage]:
    return [message for message in messages if subject in message.subject]


async def _queued(runtime: LocalRuntime, kind: str) -> list[dict[str, object]]:
    rows = (
        await runtime.db.prepare(
            "SELECT recipient, account_id, priority, html, headers FROM mail_queue WHERE kind = ?"
        )
        .bind(kind)
        .all()
    ).results
    return [dict(row) for row in rows]


async def _sign_in(runtime: LocalRuntime, account: Account, client: Client) -> None:
    outcome = await service.log_in(
        runtime,
        email=account.email,
        password=PASSWORD,
        client=client,
        previous_token=None,
        language="en",
    )
    assert not outcome.needs_second_factor


def _assert_service_mail(message: MailMessage, *, to: str) -> None:
    assert message.to == to
    assert message.text.endswith("\n") and "%(" not in message.subject + message.text
    assert message.html.lower().startswith("<!doctype html>") and message.subject in message.html
    # Service notices are not marketing: nothing to unsubscribe from.
    assert not [name for name, _ in message.headers if name.lower().startswith("list-")]


# The catalogue


def test_catalogue_kinds_are_unique_and_caps_fit_the_queue_retention() -> None:
    kinds = [notice.kind for notice in catalogue.NOTICES]
    assert len(kinds) == len(set(kinds))
    for notice in catalogue.NOTICES:
        assert re.fullmatch(r"[a-z0-9_]+", notice.kind), notice.kind
        assert notice.label and notice.mail.subject and notice.mail.body
        # The cap is counted over the queue's rows, which are kept this long.
        assert 0 <= notice.cap_seconds <= mailqueue.KEEP_SENT_SECONDS, notice.kind
    assert {"sign_in", "two_step", "password_changed", "email_changed"} <= set(kinds)
    assert {"export_ready", "erasure_scheduled", "erasure_done"} <= set(kinds)


def test_second_texts_keep_the_kind_and_cap_of_their_notice() -> None:
    for variant in (catalogue.TWO_STEP_OFF, catalogue.RECOVERY_CODES):
        assert (variant.kind, variant.cap_seconds) == ("two_step", 0.0)
        assert variant.mail != catalogue.TWO_STEP.mail


# Devices


@pytest.mark.parametrize(
    ("user_agent", "device"),
    [
        (FIREFOX_WINDOWS.user_agent, "Firefox on Windows"),
        (SAFARI_IPHONE.user_agent, "Safari on iPhone"),
        (CHROME_ANDROID.user_agent, "Chrome on Android"),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like"
            " Gecko) Version/18.1 Safari/605.1.15",
            "Safari on Mac",
        ),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)"
            " Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
            "Edge on Windows",
        ),
        (
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko)"
            " Chrome/131.0.0.0 Safari/537.36",
            "Chrome on Linux",
        ),
        (
            "Mozilla/5.0 (iPad; CPU OS 17_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like"
            " Gecko) FxiOS/133.0 Mobile/15E148 Safari/605.1.15",
            "Firefox on iPad",
        ),
        (
            "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko)"
            " Chrome/131.0.0.0 Safari/537.36",
            "Chrome on ChromeOS",
        ),
        (
            "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko)"
            " SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36",
            "Samsung Internet on Android",
        ),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)"
            " Chrome/131.0.0.0 Safari/537.36 OPR/115.0.0.0",
            "Opera on Windows",
        ),
    ],
)
def test_device_names_a_browser_and_a_system_people_recognise(user_agent: str, device: str) -> None:
    assert devices.device_of(user_agent).label("en") == device
    assert devices.device_of(user_agent).key == device


def test_an_unrecognised_user_agent_still_names_a_device() -> None:
    unknown = devices.device_of("curl/8.5.0")
    assert unknown.label("en") == "An unknown browser on an unknown system"
    assert unknown.key == "? on ?"
    # A new version of the same browser is not a new device.
    newer = FIREFOX_WINDOWS.user_agent.replace("133.0", "134.0")
    assert devices.device_of(newer) == devices.device_of(FIREFOX_WINDOWS.user_agent)


# Sign-in from a new device


async def test_first_sign_in_after_sign_up_sends_no_notice(runtime: LocalRuntime) -> None:
    account = await create_verified_account(runtime)
    await _sign_in(runtime, account, FIREFOX_WINDOWS)
    await _sign_in(runtime, account, FIREFOX_WINDOWS)

    assert not _about(await _delivered(runtime), "New sign-in")
    known = (
        await runtime.db.prepare("SELECT device FROM sign_in_devices WHERE account_id = ?")
        .bind(account.id)
        .raw()
    )
    assert known == [["Firefox on Windows"]]


async def test_sign_in_from_a_new_device_mails_the_owner_in_their_language(
    runtime: LocalRuntime,
) -> None:
    account = await create_verified_account(runtime)
    await _sign_in(runtime, account, FIREFOX_WINDOWS)
    await save_account_preferences(
        runtime.db,
        account_id=account.id,
        preferences=DisplayPreferences(theme="dark", language="fr"),
        now=runtime.clock.now(),
    )
    await _sign_in(runtime, account, SAFARI_IPHONE)

    [mail] = _about(await _delivered(runtime), "Nouvelle connexion")
    _assert_service_mail(mail, to=account.email)
    # The owner's language, not the request's ("en" above): the HTML says which it is in.
    assert '<html lang="fr">' in mail.html
    assert "Safari sur iPhone" in mail.text and "2027-01-15 08:00 (UTC)" in mail.text
    assert re.search(r"http://127.0.0.1:8787/forgot-password\s", mail.text)
    [row] = await _queued(runtime, "sign_in")
    assert row["account_id"] == account.id and row["priority"] == mailqueue.SERVICE


async def test_every_new_device_is_reported_and_known_ones_are_not(
    runtime: LocalRuntime, clock: ManualClock
) -> None:
    account = await create_verified_account(runtime)
    await _sign_in(runtime, account, FIREFOX_WINDOWS)
    await _sign_in(runtime, account, SAFARI_IPHONE)
    # A second new device minutes later is told too: a cap would hide it, then know it for good.
    clock.advance(60)
    await _sign_in(runtime, account, CHROME_ANDROID)
    told = _about(await _delivered(runtime), "New sign-in")
    assert [
        ("Chrome on Android" in mail.text, "Safari on iPhone" in mail.text) for mail in told
    ] == [
        (True, False),
        (False, True),
    ]

    # Devices seen before are not told again, within the hour or after it.
    await _sign_in(runtime, account, CHROME_ANDROID)
    await _sign_in(runtime, account, FIREFOX_WINDOWS)
    clock.advance(HOUR)
    await _sign_in(runtime, account, SAFARI_IPHONE)
    assert len(_about(await _delivered(runtime), "New sign-in")) == 2
    await _sign_in(runtime, account, Client(ip="192.0.2.23", user_agent="curl/8.5.0"))
    [newest, *_] = _about(await _delivered(runtime), "New sign-in")
    assert "An unknown browser on an unknown system" in newest.text
    assert len(await _queued(runtime, "sign_in")) == 3


async def test_a_sign_in_is_one_event_however_often_it_is_recorded(
    runtime: LocalRuntime,
) -> None:
    account = await create_verified_account(runtime)
    await _sign_in(runtime, account, FIREFOX_WINDOWS)
    session, _ = await sessions.create_session(
        runtime.db, account_id=account.id, stage="full", client=SAFARI_IPHONE, now=0
    )
    await (
        runtime.db.prepare("DELETE FROM sign_in_devices WHERE device = ?")
        .bind("Safari on iPhone")
        .run()
    )
    for _ in range(2):
        await devices.record_sign_in(
            runtime, account, session_id=session.id, client=SAFARI_IPHONE, language="en"
        )
        # As if the device had been forgotten in between: still the same sign-in.
        await (
            runtime.db.prepare("DELETE FROM sign_in_devices WHERE device = ?")
            .bind("Safari on iPhone")
            .run()
        )
    assert len(_about(await _delivered(runtime), "New sign-in")) == 1


async def test_two_step_sign_in_records_the_device_after_the_code(
    runtime: LocalRuntime,
) -> None:
    account = await create_verified_account(runtime)
    await _sign_in(runtime, account, FIREFOX_WINDOWS)
    secret = await _turn_on_two_step(runtime, account)
    outcome = await service.log_in(
        runtime,
        email=account.email,
        password=PASSWORD,
        client=SAFARI_IPHONE,
        previous_token=None,
        language="en",
    )
    assert outcome.needs_second_factor
    assert not _about(await _delivered(runtime), "New sign-in")

    found = await sessions.find_session_and_account(
        runtime.db, outcome.token, now=runtime.clock.now()
    )
    assert found is not None
    await service.complete_login(
        runtime,
        found[0],
        found[1],
        code=pyotp.TOTP(secret).at(runtime.clock.now() + 30),
        client=SAFARI_IPHONE,
    )
    [mail] = _about(await _delivered(runtime), "New sign-in")
    assert mail.to == account.email and "Safari on iPhone" in mail.text


# Two-step verification, password, address


async def _turn_on_two_step(runtime: LocalRuntime, account: Account) -> str:
    return await turn_on_two_step(runtime, account, await confirmed_session(runtime, account))


async def test_two_step_on_off_and_new_codes_each_mail_the_owner(
    runtime: LocalRuntime, clock: ManualClock
) -> None:
    account = await create_verified_account(runtime)
    secret = await _turn_on_two_step(runtime, account)
    account = await get_account(runtime.db, account.id)
    session = await confirmed_session(runtime, account)
    await secondfactor.regenerate_recovery_codes(
        runtime, account, session, client=CLIENT, language="en"
    )
    clock.advance(30)
    await secondfactor.disable_totp(
        runtime,
        account,
        session,
        password=PASSWORD,
        code=pyotp.TOTP(secret).at(clock.now()),
        client=CLIENT,
        language="en",
    )

    delivered = await _delivered(runtime)
    for subject in ("verification is on", "New recovery codes", "verification is off"):
        [mail] = _about(delivered, subject)
        _assert_service_mail(mail, to=account.email)
    # One kind, no cap: three changes within a minute are three mails.
    rows = await _queued(runtime, "two_step")
    assert [row["account_id"] for row in rows] == [account.id] * 3


async def test_password_change_and_reset_mail_the_owner(runtime: LocalRuntime) -> None:
    account = await create_verified_account(runtime)
    session = await confirmed_session(runtime, account)
    await profile.change_password(
        runtime,
        account,
        session,
        current_password=PASSWORD,
        new_password="another long passphrase here",
        code="",
        client=CLIENT,
        language="en",
    )
    [changed] = _about(await _delivered(runtime), "password of your Beat Bun account")
    _assert_service_mail(changed, to=account.email)
    assert "changed on 2027-01-15 08:00 (UTC)" in changed.text

    await profile.request_password_reset(runtime, email=account.email, client=CLIENT, language="en")
    link = _about(await _delivered(runtime), "Reset your")[0].text
    token = re.findall(r"token=(\S+)", link)[0]
    await profile.reset_password(
        runtime, token=token, new_password="a third long passphrase", code="", client=CLIENT
    )
    assert len(_about(await _delivered(runtime), "password of your Beat Bun account")) == 2
    assert len(await _queued(runtime, "password_changed")) == 2


async def test_address_change_tells_the_old_address_and_the_new(runtime: LocalRuntime) -> None:
    account = await create_verified_account(runtime, email="old@example.com")
    await profile.request_email_change(
        runtime,
        account,
        new_email="new@example.com",
        password=PASSWORD,
        code="",
        client=CLIENT,
        language="en",
    )
    link = _about(await _delivered(runtime), "Confirm your new email")[0].text
    token = re.findall(r"token=(\S+)", link)[0]
    await profile.confirm_email_change(runtime, token, client=CLIENT, language="en")

    told = _about(await _delivered(runtime), "email address of your Beat Bun account was changed")
    assert sorted(mail.to for mail in told) == ["new@example.com", "old@example.com"]
    for mail in told:
        _assert_service_mail(mail, to=mail.to)
        assert "from old@example.com to new@example.com" in mail.text
        assert re.search(r"http://127.0.0.1:8787/login\s", mail.text)
    rows = await _queued(runtime, "email_changed")
    assert [row["account_id"] for row in rows] == [account.id] * 2


async def test_the_same_event_queued_twice_is_one_mail(runtime: LocalRuntime) -> None:
    account = await create_verified_account(runtime)
    for event in ("change-1", "change-1", "change-2"):
        await security_notice(
            runtime, catalogue.TWO_STEP, account, event=event, language="en"
        ).run()
    assert len(_about(await _delivered(runtime), "verification is on")) == 2


# Privacy notices


async def test_export_ready_is_a_tagged_notice_to_the_owner(runtime: LocalRuntime) -> None:
    account = await create_verified_account(runtime)
    session = await confirmed_session(runtime, account)
    await ready_export(runtime, account, session)

    [ready] = _about(await _delivered(runtime), "data export is ready")
    _assert_service_mail(ready, to=account.email)
    [row] = await _queued(runtime, "export_ready")
    assert row["account_id"] == account.id


async def test_erasure_scheduled_and_done_are_tagged_notices(runtime: LocalRuntime) -> None:
    account = await create_verified_account(runtime)
    session = await confirmed_session(runtime, account)
    await request_erasure(
        runtime, account, session, password=PASSWORD, code="", client=CLIENT, language="en"
    )
    [scheduled] = _about(await _delivered(runtime), "will be deleted on")
    _assert_service_mail(scheduled, to=account.email)
    [row] = await _queued(runtime, "erasure_scheduled")
    assert row["account_id"] == account.id

    await erase_account(runtime, account.id)
    [done] = _about(await _delivered(runtime), "account was deleted")
    _assert_service_mail(done, to=account.email)
    # The last mail names no account: nothing of the erased account is left in the queue.
    [row] = await _queued(runtime, "erasure_done")
    assert row["account_id"] is None and row["recipient"] == ""


# Over HTTP


def test_a_login_from_a_new_browser_is_mailed_after_the_answer(
    shared_live_server: LiveServer,
) -> None:
    server, address = shared_live_server, f"{uuid.uuid4().hex[:12]}@example.com"
    signed_in(server.url, server.state_dir, address)
    assert len(outbox(server.state_dir, address)) == 1  # the address's confirmation only

    firefox = Visitor(server.url, user_agent=FIREFOX_WINDOWS.user_agent)
    assert log_in(firefox, address).status_code == 303
    bodies = wait_for_mail(server.state_dir, address, count=2)
    assert "Firefox on Windows" in bodies[-1]
    # The same browser again is no news.
    assert log_in(firefox, address).status_code == 303
    time.sleep(1.0)  # a mail would have been flushed after the answer by now
    assert len(outbox(server.state_dir, address)) == 2
