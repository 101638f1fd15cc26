"""A minor's account opens only through their parent's own link (real SQLite, local outbox)."""

from __future__ import annotations

import re

import pytest

from beatbun.accounts import service
from beatbun.accounts.passwords import hash_password
from beatbun.accounts.registration import SignUpForm, sign_up, verify_email
from beatbun.accounts.store import get_account
from beatbun.accounts.tokens import hash_token, new_id
from beatbun.errors import AccountInactive, InvalidFields, NotFound, TooYoung
from beatbun.mail.drain import send_queued_mail
from beatbun.privacy import guardians, mail
from beatbun.runtime.base import SqlValue
from beatbun_local.runtime import LocalRuntime
from tests.factories import CLIENT, PASSWORD
from tests.fakes import ManualClock
from tests.privacy.teens import PARENT, TEEN, TEEN_BIRTH_DATE, mails_to, parent_token, sign_up_teen

# The clock starts in January 2027: 11 years old.
CHILD_BIRTH_DATE = "2016-01-01"


async def _log_in(runtime: LocalRuntime) -> service.LoginOutcome:
    return await service.log_in(
        runtime, email=TEEN, password=PASSWORD, client=CLIENT, previous_token=None
    )


async def _count(runtime: LocalRuntime, sql: str, *params: str) -> int:
    return int(await runtime.db.prepare(sql).bind(*params).first("n"))


async def _snapshot(runtime: LocalRuntime) -> dict[str, list[dict[str, SqlValue]]]:
    tables = await runtime.db.prepare(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    ).all()
    snapshot = {}
    for row in tables.results:
        name = str(row["name"])
        rows = await runtime.db.prepare(f'SELECT * FROM "{name}"').all()
        snapshot[name] = [dict(found) for found in rows.results]
    return snapshot


async def test_teen_sign_up_leaves_the_account_inactive_and_mails_the_parent_a_link(
    runtime: LocalRuntime,
) -> None:
    account = await sign_up_teen(runtime)

    assert account.age_group == "minor" and not account.is_active
    assert not account.can_spend_credits
    token = parent_token(runtime)
    guardian = await guardians.guardian_for_token(runtime, token)
    assert (guardian.account_id, guardian.email, guardian.consented_at) == (
        account.id,
        PARENT,
        None,
    )
    stored = await runtime.db.prepare("SELECT access_hash FROM guardians").first("access_hash")
    # Only the token's digest is stored, and the queued mail forgets its text once sent.
    assert stored == hash_token(token)
    assert await _count(runtime, "SELECT count(*) AS n FROM mail_queue WHERE body != ''") == 0
    # The parent's link is its own kind of mail, and no account's: the parent has none.
    queued = await runtime.db.prepare(
        "SELECT kind, account_id FROM mail_queue WHERE idempotency_key LIKE 'parent-link:%'"
    ).all()
    assert queued.results == [{"kind": "parent_link", "account_id": None}]
    parent_mail = mails_to(runtime, PARENT)[0]
    assert "Sam (teen@example.com)" in parent_mail.text
    assert "if nobody agrees within 30 days, the sign-up is deleted" in parent_mail.text


async def test_parent_mail_is_composed_in_the_language_of_the_sign_up(
    runtime: LocalRuntime,
) -> None:
    await sign_up_teen(runtime, language="fr")

    token = parent_token(runtime)
    expected = mail.PARENT_CONSENT_REQUEST.compose(
        to=PARENT,
        language="fr",
        site=runtime.settings.site_name,
        child="Sam",
        child_email=TEEN,
        link=f"{runtime.settings.public_url}/parent/{token}",
        days="30",
    )
    [sent] = mails_to(runtime, PARENT)
    assert (sent.subject, sent.text.replace("\r\n", "\n")) == (expected.subject, expected.text)


async def test_teen_verifying_the_address_gets_no_session(runtime: LocalRuntime) -> None:
    account = await sign_up_teen(runtime)
    link = next(m.text for m in mails_to(runtime, TEEN) if "verify-email" in m.text)
    token = re.search(r"token=([A-Za-z0-9_-]+)", link).group(1)  # type: ignore[union-attr]

    assert await verify_email(runtime, token, client=CLIENT) is None
    assert (await get_account(runtime.db, account.id)).is_verified
    assert await _count(runtime, "SELECT count(*) AS n FROM sessions") == 0


async def test_teen_login_before_consent_is_refused_without_a_session(
    runtime: LocalRuntime,
) -> None:
    await sign_up_teen(runtime)

    with pytest.raises(AccountInactive) as refused:
        await _log_in(runtime)
    assert refused.value.code == "parent_consent_pending"
    # The link went out at sign-up, less than a day ago: no new one.
    assert refused.value.link_sent is False
    assert await _count(runtime, "SELECT count(*) AS n FROM sessions") == 0


async def test_wrong_password_of_a_waiting_teen_says_only_wrong_credentials(
    runtime: LocalRuntime,
) -> None:
    await sign_up_teen(runtime)

    with pytest.raises(service.InvalidCredentials):
        await service.log_in(
            runtime, email=TEEN, password="not the password", client=CLIENT, previous_token=None
        )


async def test_parent_consent_opens_the_account_and_tells_the_teen(
    runtime: LocalRuntime, clock: ManualClock
) -> None:
    account = await sign_up_teen(runtime)
    token = parent_token(runtime)
    clock.advance(3600)

    await guardians.consent_as_parent(runtime, token, name="Alex Parent", declaration=True)
    await send_queued_mail(runtime)

    guardian = await guardians.guardian_for_token(runtime, token)
    assert guardian.consent_name == "Alex Parent"
    assert guardian.declaration_version == guardians.DECLARATION_VERSION
    assert guardian.consented_at == clock.now()
    opened = await get_account(runtime.db, account.id)
    assert opened.parent_consented_at == int(clock.now()) and opened.is_active
    assert any("Log in here" in m.text for m in mails_to(runtime, TEEN))
    assert (await _log_in(runtime)).token
    kinds = (
        await runtime.db.prepare(
            "SELECT kind FROM security_events WHERE account_id = ? ORDER BY id"
        )
        .bind(account.id)
        .all()
    )
    assert "parent_consented" in [row["kind"] for row in kinds.results]


async def test_child_data_shows_the_account_as_the_parent_sees_it(
    runtime: LocalRuntime,
) -> None:
    account = await sign_up_teen(runtime)
    token = parent_token(runtime)
    await guardians.consent_as_parent(runtime, token, name="Alex Parent", declaration=True)

    data = await guardians.child_data(runtime, await guardians.guardian_for_token(runtime, token))

    assert data.account.id == account.id and data.account.is_active
    assert data.tracks == [] and data.requests == [] and data.balance == 0
    assert [event.kind for event in data.events] == [
        "parent_consented",
        "parent_link_sent",
        "signed_up",
    ]


async def test_consenting_twice_keeps_the_first_consent(
    runtime: LocalRuntime, clock: ManualClock
) -> None:
    await sign_up_teen(runtime)
    token = parent_token(runtime)
    await guardians.consent_as_parent(runtime, token, name="Alex Parent", declaration=True)
    first = await guardians.guardian_for_token(runtime, token)
    clock.advance(60)

    await guardians.consent_as_parent(runtime, token, name="Someone Else", declaration=True)
    await send_queued_mail(runtime)

    assert await guardians.guardian_for_token(runtime, token) == first
    assert len([m for m in mails_to(runtime, TEEN) if "Log in here" in m.text]) == 1


@pytest.mark.parametrize(
    ("name", "declaration", "fields"),
    [
        ("", False, ["name", "declaration"]),
        ("Alex Parent", False, ["declaration"]),
        ("   ", True, ["name"]),
        ("Alex\u0000Parent", True, ["name"]),  # a control character
        ("A" * (guardians.MAX_NAME + 1), True, ["name"]),
    ],
)
async def test_consent_without_name_or_declaration_is_refused_and_changes_nothing(
    runtime: LocalRuntime, name: str, declaration: bool, fields: list[str]
) -> None:
    account = await sign_up_teen(runtime)
    token = parent_token(runtime)

    with pytest.raises(InvalidFields) as refused:
        await guardians.consent_as_parent(runtime, token, name=name, declaration=declaration)

    assert [problem.field for problem in refused.value.problems] == fields
    assert (await guardians.guardian_for_token(runtime, token)).consented_at is None
    assert not (await get_account(runtime.db, account.id)).is_active


@pytest.mark.parametrize("token", ["", "garbled", "A" * 43, "../../etc/passwd"])
async def test_unknown_tokens_are_not_found(runtime: LocalRuntime, token: str) -> None:
    await sign_up_teen(runtime)

    with pytest.raises(NotFound):
        await guardians.guardian_for_token(runtime, token)
    with pytest.raises(NotFound):
        await guardians.consent_as_parent(runtime, token, name="Alex", declaration=True)


async def test_resending_is_limited_and_a_new_link_replaces_the_old(
    runtime: LocalRuntime, clock: ManualClock
) -> None:
    account = await sign_up_teen(runtime)
    first = parent_token(runtime)
    resend = guardians.RESEND_SECONDS

    assert not await guardians.send_parent_link(
        runtime, account, language="en", unless_sent_within=resend
    )
    clock.advance(resend)
    assert await guardians.send_parent_link(
        runtime, account, language="en", unless_sent_within=resend
    )
    await send_queued_mail(runtime)

    assert len(mails_to(runtime, PARENT)) == 2
    second = parent_token(runtime)
    assert (await guardians.guardian_for_token(runtime, second)).account_id == account.id
    with pytest.raises(NotFound):
        await guardians.guardian_for_token(runtime, first)


async def test_link_is_not_replaced_after_consent(
    runtime: LocalRuntime, clock: ManualClock
) -> None:
    account = await sign_up_teen(runtime)
    token = parent_token(runtime)
    await guardians.consent_as_parent(runtime, token, name="Alex Parent", declaration=True)
    clock.advance(guardians.REFRESH_SECONDS)

    # The account is active now; even a stale copy of it changes nothing.
    assert not await guardians.send_parent_link(
        runtime, account, language="en", unless_sent_within=0
    )
    assert (await guardians.guardian_for_token(runtime, token)).has_consented


async def test_minor_from_before_parents_consented_gets_a_link_at_login(
    runtime: LocalRuntime, clock: ManualClock
) -> None:
    # An account made when the teen ticked the box themselves: a parent named, no link.
    password_hash = await hash_password(
        PASSWORD, kdf=runtime.kdf, pepper=runtime.settings.password_pepper
    )
    now = int(clock.now())
    await (
        runtime.db.prepare(
            "INSERT INTO accounts (id, email, display_name, birth_date, age_group, parent_email,"
            " parent_named_at, password_hash, email_verified_at, created_at)"
            " VALUES (?, ?, 'Sam', ?, 'minor', ?, ?, ?, ?, ?)"
        )
        .bind(new_id(), TEEN, TEEN_BIRTH_DATE, PARENT, now, password_hash, now, now)
        .run()
    )

    with pytest.raises(AccountInactive) as first:
        await _log_in(runtime)
    with pytest.raises(AccountInactive) as again:
        await _log_in(runtime)
    clock.advance(guardians.REFRESH_SECONDS)
    with pytest.raises(AccountInactive) as next_day:
        await _log_in(runtime)
    await send_queued_mail(runtime)

    assert (first.value.link_sent, again.value.link_sent, next_day.value.link_sent) == (
        True,
        False,
        True,
    )
    assert len(mails_to(runtime, PARENT)) == 2
    assert await _count(runtime, "SELECT count(*) AS n FROM sessions") == 0


async def test_under_13_sign_up_is_refused_and_leaves_nothing(runtime: LocalRuntime) -> None:
    before = await _snapshot(runtime)
    form = SignUpForm(
        email="child@example.com",
        password=PASSWORD,
        display_name="Kid",
        birth_date=CHILD_BIRTH_DATE,
        parent_email=PARENT,
    )

    with pytest.raises(TooYoung) as refused:
        await sign_up(runtime, form, client=CLIENT)
    await send_queued_mail(runtime)

    assert "13" not in refused.value.message
    assert await _snapshot(runtime) == before
    assert runtime.mailer.messages() == []


def test_resend_ticket_names_its_account_until_it_expires() -> None:
    secret, now = "s3cret", 1_800_000_000.0
    ticket = guardians.resend_ticket(secret, account_id="abc123", now=now)

    assert guardians.account_of_ticket(secret, ticket, now=now) == "abc123"
    assert guardians.account_of_ticket("other", ticket, now=now) is None
    assert guardians.account_of_ticket(secret, ticket.replace("abc123", "abc124"), now=now) is None
    later = now + guardians.TICKET_SECONDS + 1
    assert guardians.account_of_ticket(secret, ticket, now=later) is None
    assert guardians.account_of_ticket(secret, "garbled", now=now) is None
