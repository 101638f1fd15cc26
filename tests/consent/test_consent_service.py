"""Consent rules on a local runtime: lifetime, policy version, GPC, append-only storage."""

from __future__ import annotations

import httpx
import pytest

from beatbun.consent.models import Choice, ConsentRecord, ConsentState
from beatbun.consent.registry import CONSENT_MAX_AGE
from beatbun.consent.service import (
    POLICY_VERSION,
    find_current_record,
    record_choice,
    resolve_consent,
)
from beatbun.consent.store import insert_record
from beatbun.errors import StorageError
from beatbun_local.runtime import LocalRuntime
from tests.fakes import ManualClock

DEVICE = "device:test-device"
ACCOUNT = "account:test-account"
BANNER = "data-consent-banner"


async def test_consent_within_six_months_is_in_force(
    runtime: LocalRuntime, clock: ManualClock
) -> None:
    await record_choice(
        runtime.db, subject=DEVICE, choice=Choice(), source="banner", gpc=False, now=clock.now()
    )
    clock.advance(CONSENT_MAX_AGE - 1)
    assert await find_current_record(runtime.db, DEVICE, now=clock.now()) is not None


async def test_consent_older_than_six_months_asks_again(
    runtime: LocalRuntime, clock: ManualClock
) -> None:
    await record_choice(
        runtime.db, subject=DEVICE, choice=Choice(), source="banner", gpc=False, now=clock.now()
    )
    clock.advance(CONSENT_MAX_AGE)
    assert await find_current_record(runtime.db, DEVICE, now=clock.now()) is None


async def test_a_newer_choice_on_the_device_wins_when_it_logs_in(
    runtime: LocalRuntime, clock: ManualClock
) -> None:
    await _choose(runtime, ACCOUNT, Choice.everything(), clock)
    clock.advance(60)
    await _choose(runtime, DEVICE, Choice(), clock)  # "Reject all", then logging in
    state = await _resolve(runtime, clock, account=True)
    assert state.record is not None and state.record.choice == Choice()
    assert state.record.subject == ACCOUNT and state.record.source == "sync"


async def test_a_choice_made_while_logged_in_stays_with_the_device_after_the_session(
    runtime: LocalRuntime, clock: ManualClock
) -> None:
    await _choose(runtime, DEVICE, Choice.everything(), clock)
    await _resolve(runtime, clock, account=True)  # logged in: the account adopts it
    clock.advance(60)
    await _choose(runtime, ACCOUNT, Choice(), clock)  # withdrawn while logged in
    await _resolve(runtime, clock, account=True)
    after_session = await _resolve(runtime, clock, account=False)
    assert after_session.record is not None and after_session.record.choice == Choice()


@pytest.mark.parametrize("gpc", [False, True])
async def test_copies_do_not_restart_the_six_months(
    runtime: LocalRuntime, clock: ManualClock, gpc: bool
) -> None:
    await _choose(runtime, DEVICE, Choice.everything(), clock)
    clock.advance(CONSENT_MAX_AGE - 10)
    copied = await _resolve(runtime, clock, account=True, gpc=gpc)  # a 'sync' (and 'gpc') copy
    assert copied.record is not None and copied.record.source == ("gpc" if gpc else "sync")
    clock.advance(10)
    assert (await _resolve(runtime, clock, account=True, gpc=gpc)).needs_prompt
    assert (await _resolve(runtime, clock, account=False, gpc=gpc)).needs_prompt


async def _choose(runtime: LocalRuntime, subject: str, choice: Choice, clock: ManualClock) -> None:
    await record_choice(
        runtime.db, subject=subject, choice=choice, source="banner", gpc=False, now=clock.now()
    )


async def _resolve(
    runtime: LocalRuntime, clock: ManualClock, *, account: bool, gpc: bool = False
) -> ConsentState:
    return await resolve_consent(
        runtime.db,
        device=DEVICE,
        account_id=ACCOUNT.removeprefix("account:") if account else None,
        gpc=gpc,
        now=clock.now(),
    )


async def test_consent_under_an_older_policy_version_asks_again(
    runtime: LocalRuntime, clock: ManualClock
) -> None:
    await insert_record(runtime.db, _record(policy_version="2020-01-01", at=clock.now()))
    assert await find_current_record(runtime.db, DEVICE, now=clock.now()) is None


@pytest.mark.parametrize(
    ("source", "gpc", "asked", "kept", "override"),
    [
        ("banner", False, True, True, False),
        ("banner", True, True, False, False),  # the banner cannot overrule the signal
        ("preferences", True, True, True, True),  # told of the conflict there, opted in anyway
        ("preferences", True, False, False, False),
    ],
)
async def test_record_choice_applies_gpc_to_marketing(
    runtime: LocalRuntime,
    clock: ManualClock,
    source: str,
    gpc: bool,
    asked: bool,
    kept: bool,
    override: bool,
) -> None:
    record = await record_choice(
        runtime.db,
        subject=DEVICE,
        choice=Choice(marketing=asked),
        source="banner" if source == "banner" else "preferences",
        gpc=gpc,
        now=clock.now(),
    )
    assert (record.choice.marketing, record.gpc_override) == (kept, override)


async def test_resolve_consent_with_gpc_records_an_opt_out(
    runtime: LocalRuntime, clock: ManualClock
) -> None:
    await record_choice(
        runtime.db,
        subject=DEVICE,
        choice=Choice.everything(),
        source="banner",
        gpc=False,
        now=clock.now(),
    )
    state = await resolve_consent(
        runtime.db, device=DEVICE, account_id=None, gpc=True, now=clock.now()
    )
    assert state.record is not None and state.record.source == "gpc"
    assert state.allowed == ("necessary", "performance", "functionality")


@pytest.mark.parametrize(
    "statement",
    ["UPDATE consent_records SET marketing = 1", "DELETE FROM consent_records"],
)
async def test_consent_records_refuse_changes(
    runtime: LocalRuntime, clock: ManualClock, statement: str
) -> None:
    await insert_record(runtime.db, _record(policy_version=POLICY_VERSION, at=clock.now()))
    with pytest.raises(StorageError, match="append-only"):
        await runtime.db.prepare(statement).run()


async def test_expired_consent_shows_the_banner_again(
    runtime: LocalRuntime, clock: ManualClock, client: httpx.AsyncClient
) -> None:
    await insert_record(runtime.db, _record(policy_version=POLICY_VERSION, at=clock.now()))
    cookie = {"Cookie": f"__Host-consent={DEVICE}"}
    assert BANNER not in (await client.get("/", headers=cookie)).text
    clock.advance(CONSENT_MAX_AGE)
    assert BANNER in (await client.get("/", headers=cookie)).text


async def test_outdated_policy_version_shows_the_banner_again(
    runtime: LocalRuntime, clock: ManualClock, client: httpx.AsyncClient
) -> None:
    await insert_record(runtime.db, _record(policy_version="2020-01-01", at=clock.now()))
    response = await client.get("/", headers={"Cookie": f"__Host-consent={DEVICE}"})
    assert BANNER in response.text


async def test_expired_consent_expires_the_optional_cookies(
    runtime: LocalRuntime, clock: ManualClock, client: httpx.AsyncClient
) -> None:
    await insert_record(runtime.db, _record(policy_version=POLICY_VERSION, at=clock.now()))
    clock.advance(CONSENT_MAX_AGE)
    response = await client.get(
        "/", headers={"Cookie": f"__Host-consent={DEVICE}; __Host-perf=abc; __Host-prefs=dark.de"}
    )
    expired = {
        h.split("=", 1)[0] for h in response.headers.get_list("set-cookie") if "Max-Age=0" in h
    }
    assert expired == {"__Host-perf", "__Host-prefs"}
    assert '<html lang="de" data-theme="dark">' in response.text


def _record(*, policy_version: str, at: float) -> ConsentRecord:
    return ConsentRecord(
        id=f"r-{at}-{policy_version}",
        subject=DEVICE,
        policy_version=policy_version,
        choice=Choice.everything(),
        source="banner",
        gpc_override=False,
        recorded_at=at,
        given_at=at,
    )
