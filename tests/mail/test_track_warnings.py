"""Warnings that free-plan tracks will be deleted, as the cron queues them and owners get them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from beatbun.accounts.models import Account
from beatbun.consent.preferences import DisplayPreferences, save_account_preferences
from beatbun.mail.notices import DAY, HOUR
from beatbun.scheduled import MAIL_CRON, MAIL_TASKS, TASKS, run_scheduled
from beatbun.settings import Settings
from beatbun.tracks import warnings
from beatbun.tracks.warnings import warn_expiring_tracks
from beatbun_local.runtime import LocalRuntime
from tests.factories import clone_track, create_verified_account
from tests.fakes import ManualClock
from tests.mail.delivery import assert_service_mail, delivered
from tests.tracks.conftest import make_tracks

IN_3_DAYS = "will be deleted in 3 days"
TOMORROW = "will be deleted tomorrow"


@pytest.fixture
def settings() -> Settings:
    # The mail rate is not under test here: a high one sends everything in the clock's second.
    return Settings(environment="test", mail_rate_per_second=1000)


async def _tracks(
    runtime: LocalRuntime, account: Account, expiring: dict[str, float | None]
) -> dict[str, str]:
    """Tracks titled as `expiring`'s keys, deleted that many seconds from now (None: kept)."""
    [first] = await make_tracks(runtime, account_id=account.id, count=1)
    ids = [first.id, *await clone_track(runtime, first, copies=len(expiring) - 1)]
    now = runtime.clock.now()
    for track_id, (title, seconds) in zip(ids, expiring.items(), strict=True):
        await (
            runtime.db.prepare("UPDATE tracks SET title = ?, expires_at = ? WHERE id = ?")
            .bind(title, None if seconds is None else int(now + seconds), track_id)
            .run()
        )
    return dict(zip(expiring, ids, strict=True))


def _day(runtime: LocalRuntime, seconds: float) -> str:
    return datetime.fromtimestamp(int(runtime.clock.now() + seconds), tz=UTC).date().isoformat()


async def test_tracks_3_days_from_deletion_are_listed_in_one_email(runtime: LocalRuntime) -> None:
    account = await create_verified_account(runtime)
    await _tracks(
        runtime,
        account,
        {"Late <b>night</b>": 2.8 * DAY, "Morning rain": 2.5 * DAY, "Later": 5 * DAY, "Kept": None},
    )
    assert await warn_expiring_tracks(runtime) == 1

    [mail] = await delivered(runtime, IN_3_DAYS)
    assert_service_mail(mail, to=account.email)
    # Soonest first, each with its day; tracks further off and kept tracks are not listed.
    listed = [line for line in mail.text.splitlines() if line.startswith("- ")]
    assert listed == [
        f"- Morning rain ({_day(runtime, 2.5 * DAY)})",
        f"- Late <b>night</b> ({_day(runtime, 2.8 * DAY)})",
    ]
    assert f"{runtime.settings.public_url}/pricing" in mail.text
    assert "Late &lt;b&gt;night&lt;/b&gt;" in mail.html and "<b>night" not in mail.html
    assert f'href="{runtime.settings.public_url}/pricing"' in mail.html


async def test_the_same_tracks_are_warned_again_a_day_before(
    runtime: LocalRuntime, clock: ManualClock
) -> None:
    account = await create_verified_account(runtime)
    await _tracks(runtime, account, {"Morning rain": 2.5 * DAY, "Late night": 2.8 * DAY})
    await warn_expiring_tracks(runtime)

    for _ in range(60):  # the hourly runs until both are gone
        clock.advance(HOUR)
        await warn_expiring_tracks(runtime)

    [first] = await delivered(runtime, IN_3_DAYS)
    assert "Morning rain" in first.text and "Late night" in first.text
    # Each track a day before its own deletion; the second waited out the first email's cap.
    last = await delivered(runtime, TOMORROW)
    assert sorted("Late night" in mail.text for mail in last) == [False, True]
    for mail in last:
        assert_service_mail(mail, to=account.email)
        assert ("Morning rain" in mail.text) != ("Late night" in mail.text)


async def test_running_again_queues_nothing_new(runtime: LocalRuntime) -> None:
    account = await create_verified_account(runtime)
    await _tracks(runtime, account, {"Morning rain": 2.5 * DAY})
    assert await warn_expiring_tracks(runtime) == 1
    assert await warn_expiring_tracks(runtime) == 0
    assert len(await delivered(runtime, IN_3_DAYS)) == 1


async def test_a_track_entering_the_window_later_has_its_own_email_after_the_cap(
    runtime: LocalRuntime, clock: ManualClock
) -> None:
    account = await create_verified_account(runtime)
    await _tracks(runtime, account, {"First": 2.5 * DAY, "Second": 3 * DAY + 2 * HOUR})
    await warn_expiring_tracks(runtime)
    clock.advance(3 * HOUR)  # "Second" is 3 days away now, within the cap of the first email
    assert await warn_expiring_tracks(runtime) == 0

    clock.advance(17 * HOUR)
    assert await warn_expiring_tracks(runtime) == 1
    first, second = sorted(await delivered(runtime, IN_3_DAYS), key=lambda m: "Second" in m.text)
    assert "First" in first.text and "Second" not in first.text
    assert "Second" in second.text and "First" not in second.text


async def test_a_track_first_seen_within_a_day_gets_only_the_last_warning(
    runtime: LocalRuntime,
) -> None:
    account = await create_verified_account(runtime)
    await _tracks(runtime, account, {"Soon": 20 * HOUR})
    await warn_expiring_tracks(runtime)
    assert await delivered(runtime, IN_3_DAYS) == []
    [mail] = await delivered(runtime, TOMORROW)
    assert f"- Soon ({_day(runtime, 20 * HOUR)})" in mail.text


async def test_an_account_scheduled_for_deletion_is_not_warned(runtime: LocalRuntime) -> None:
    account = await create_verified_account(runtime)
    await _tracks(runtime, account, {"Morning rain": 2.5 * DAY})
    await (
        runtime.db.prepare("UPDATE accounts SET erasure_due_at = ? WHERE id = ?")
        .bind(int(runtime.clock.now() + 7 * DAY), account.id)
        .run()
    )
    assert await warn_expiring_tracks(runtime) == 0


async def test_a_long_list_names_the_first_tracks_and_counts_the_rest(
    runtime: LocalRuntime,
) -> None:
    account = await create_verified_account(runtime)
    count = warnings.LISTED + 3
    await _tracks(runtime, account, {f"Track {n:02d}": 2 * DAY + n * 60 for n in range(count)})
    await warn_expiring_tracks(runtime)
    [mail] = await delivered(runtime, IN_3_DAYS)
    listed = [line for line in mail.text.splitlines() if line.startswith("- ")]
    assert len(listed) == warnings.LISTED
    assert listed[0].startswith("- Track 00 ")
    assert "+ 3 more in your library" in mail.text


async def test_each_owner_gets_their_own_list_in_their_language(runtime: LocalRuntime) -> None:
    ana = await create_verified_account(runtime, email="ana@example.com")
    bo = await create_verified_account(runtime, email="bo@example.com")
    await save_account_preferences(
        runtime.db,
        account_id=bo.id,
        preferences=DisplayPreferences(theme="dark", language="fr"),
        now=runtime.clock.now(),
    )
    await _tracks(runtime, ana, {"Ana's song": 2.5 * DAY})
    await _tracks(runtime, bo, {"Bo's song": 2.5 * DAY})
    assert await warn_expiring_tracks(runtime) == 2

    # Any subject: the French catalog words it its own way.
    mails = {mail.to: mail for mail in await delivered(runtime, "") if "'s song" in mail.text}
    assert_service_mail(mails[ana.email], to=ana.email)
    assert "Ana's song" in mails[ana.email].text and "Bo's" not in mails[ana.email].text
    assert_service_mail(mails[bo.email], to=bo.email, language="fr")
    assert "Bo's song" in mails[bo.email].text


async def test_a_backlog_warns_the_soonest_deletions_first(
    runtime: LocalRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(warnings, "ACCOUNTS_PER_RUN", 2)
    accounts = sorted(
        [await create_verified_account(runtime, email=f"owner{n}@example.com") for n in range(3)],
        key=lambda account: account.id,
    )
    # The lowest account id has the furthest deletion: an order by id would warn it first.
    for account, hours in zip(accounts, (60, 40, 50), strict=True):
        await _tracks(runtime, account, {f"{account.email} song": hours * HOUR})

    assert await warn_expiring_tracks(runtime) == 2
    first = {mail.to for mail in await delivered(runtime, IN_3_DAYS)}
    assert first == {accounts[1].email, accounts[2].email}
    assert await warn_expiring_tracks(runtime) == 1
    assert len(await delivered(runtime, IN_3_DAYS)) == 3


async def test_the_mail_cron_runs_the_warnings(runtime: LocalRuntime) -> None:
    assert warn_expiring_tracks in MAIL_TASKS and warn_expiring_tracks not in TASKS
    account = await create_verified_account(runtime)
    await _tracks(runtime, account, {"Morning rain": 2.5 * DAY})
    await run_scheduled(runtime, cron=MAIL_CRON, scheduled_time=runtime.clock.now())
    [mail] = await delivered(runtime, IN_3_DAYS)
    assert mail.to == account.email
