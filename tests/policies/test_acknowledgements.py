"""Which policy changes an account still has to acknowledge, and acknowledging them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from beatbun.accounts.models import Account
from beatbun.errors import UnknownPolicyVersion
from beatbun.policies.acknowledgements import acknowledge, pending_notices
from beatbun.policies.versions import History, PolicyVersion
from beatbun_local.runtime import LocalRuntime
from tests.factories import create_account
from tests.fakes import ManualClock

BEFORE = datetime(2027, 1, 1, tzinfo=UTC).timestamp()
AFTER = datetime(2027, 1, 12, tzinfo=UTC).timestamp()
PRIVACY_3 = PolicyVersion(version="3.0", effective="2027-01-10", summary="New.", significant=True)
TERMS_2 = PolicyVersion(version="2.0", effective="2027-01-10", summary="New.", significant=True)
TERMS_1 = PolicyVersion(version="1.0", effective="2026-01-01", summary="First.", significant=False)
COOKIES_2 = PolicyVersion(version="c2", effective="2027-01-10", summary="New.", significant=True)
HISTORY: History = {"privacy": (PRIVACY_3,), "cookies": (COOKIES_2,), "terms": (TERMS_2, TERMS_1)}


async def _acknowledged_at(runtime: LocalRuntime, account_id: str) -> dict[str, float]:
    rows = (
        await runtime.db.prepare(
            "SELECT document, version, acknowledged_at FROM policy_notices WHERE account_id = ?"
        )
        .bind(account_id)
        .all()
    ).results
    return {
        str(row["document"]) + ":" + str(row["version"]): float(str(row["acknowledged_at"]))
        for row in rows
    }


async def _joined_before_the_changes(runtime: LocalRuntime, clock: ManualClock) -> Account:
    """An account made before the changes took effect, with the clock moved to after them."""
    clock.advance(BEFORE - clock.now())
    account = await create_account(runtime)
    clock.advance(AFTER - clock.now())
    return account


async def test_an_older_account_has_the_privacy_and_terms_changes_pending(
    runtime: LocalRuntime, clock: ManualClock
) -> None:
    account = await _joined_before_the_changes(runtime, clock)

    pending = await pending_notices(runtime.db, account, history=HISTORY)

    # The cookie policy's change is asked about by the consent banner, not this one.
    assert [notice.key for notice in pending] == ["privacy:3.0", "terms:2.0"]
    assert [notice.path for notice in pending] == ["/privacy", "/terms"]


async def test_an_account_created_after_the_change_has_nothing_pending(
    runtime: LocalRuntime, clock: ManualClock
) -> None:
    clock.advance(AFTER - clock.now())
    account = await create_account(runtime)

    assert await pending_notices(runtime.db, account, history=HISTORY) == ()


async def test_acknowledged_changes_are_no_longer_pending(
    runtime: LocalRuntime, clock: ManualClock
) -> None:
    account = await _joined_before_the_changes(runtime, clock)

    await acknowledge(runtime.db, account.id, keys=["terms:2.0"], now=clock.now(), history=HISTORY)

    pending = await pending_notices(runtime.db, account, history=HISTORY)
    assert [notice.key for notice in pending] == ["privacy:3.0"]


async def test_acknowledging_twice_keeps_the_first_time(
    runtime: LocalRuntime, clock: ManualClock
) -> None:
    account = await _joined_before_the_changes(runtime, clock)
    first = clock.now()
    await acknowledge(runtime.db, account.id, keys=["terms:2.0"], now=first, history=HISTORY)
    clock.advance(60)

    await acknowledge(
        runtime.db, account.id, keys=["terms:2.0", "privacy:3.0"], now=clock.now(), history=HISTORY
    )

    assert await _acknowledged_at(runtime, account.id) == {
        "terms:2.0": first,
        "privacy:3.0": first + 60,
    }


@pytest.mark.parametrize(
    "keys",
    [
        ["terms:9.9"],  # no such version
        ["terms:1.0"],  # a version nobody is asked about
        ["privacy:3.0", "contract:1.0"],  # one bad key refuses the whole form
        [],
    ],
)
async def test_acknowledging_an_unknown_change_is_refused_and_records_nothing(
    runtime: LocalRuntime, clock: ManualClock, keys: list[str]
) -> None:
    account = await create_account(runtime)

    with pytest.raises(UnknownPolicyVersion) as caught:
        await acknowledge(runtime.db, account.id, keys=keys, now=clock.now(), history=HISTORY)

    assert caught.value.status == 422 and caught.value.code == "unknown_policy_version"
    assert await _acknowledged_at(runtime, account.id) == {}
