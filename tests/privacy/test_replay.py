"""The deletion ledger after a D1 restore: a copy of the database taken before an erasure is put
back (as D1 Time Travel does), and the operator's replay erases the account again."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import sys
from pathlib import Path

import httpx

from beatbun.accounts.apikeys import create_api_key
from beatbun.mail.drain import send_queued_mail
from beatbun.privacy.erasure import GRACE_SECONDS, request_erasure
from beatbun.privacy.export import build_pending_exports
from beatbun.privacy.replay import replay_erasures
from beatbun.scheduled import run_scheduled
from beatbun_local.runtime import LocalRuntime
from tests.factories import CLIENT, PASSWORD, create_verified_account
from tests.fakes import ManualClock
from tests.privacy.erasure_setup import Leaver, leaver
from tests.privacy.traces import Erased, traces
from tests.processes import PROJECT_ROOT


def _database(runtime: LocalRuntime) -> Path:
    return runtime.state_dir / "d1" / "DB.sqlite"


def _copy(source: Path, target: Path) -> None:
    """SQLite's online backup: a consistent copy even while the runtime holds the file open."""
    with (
        contextlib.closing(sqlite3.connect(source)) as reading,
        contextlib.closing(sqlite3.connect(target)) as writing,
    ):
        reading.backup(writing)


async def _erase_after_the_grace_period(
    runtime: LocalRuntime, clock: ManualClock, who: Leaver
) -> None:
    await request_erasure(
        runtime,
        who.account,
        who.session,
        password=PASSWORD,
        code="",
        client=CLIENT,
        language="en",
    )
    clock.advance(GRACE_SECONDS)
    await run_scheduled(runtime, cron="0 * * * *", scheduled_time=clock.now())
    await send_queued_mail(runtime)


async def _restored_after_erasure(
    runtime: LocalRuntime, clock: ManualClock, tmp_path: Path
) -> tuple[Leaver, Erased]:
    """An account erased, then the database put back as it was before the request."""
    who = await leaver(runtime, tracks=1)
    erased = Erased(account_id=who.account.id, email=who.account.email)
    before = tmp_path / "before-erasure.sqlite"
    _copy(_database(runtime), before)
    await _erase_after_the_grace_period(runtime, clock, who)
    assert await traces(runtime, erased) == []
    _copy(before, _database(runtime))
    # The restore brought the rows back (the audio stays gone: R2 is not restored).
    assert await traces(runtime, erased) != []
    return who, erased


async def test_replay_erases_restored_accounts_again(
    runtime: LocalRuntime, clock: ManualClock, tmp_path: Path
) -> None:
    _, erased = await _restored_after_erasure(runtime, clock, tmp_path)
    staying = await create_verified_account(runtime, email="staying@example.com")
    await send_queued_mail(runtime)  # the sign-up's verification link
    told = len(runtime.mailer.messages())
    assert await replay_erasures(runtime) == 1
    assert await traces(runtime, erased) == []
    assert await replay_erasures(runtime) == 0
    # Only accounts in the ledger go, and nobody is mailed again.
    ids = {row["id"] for row in (await runtime.db.prepare("SELECT id FROM accounts").all()).results}
    assert ids == {staying.id}
    await send_queued_mail(runtime)
    assert len(runtime.mailer.messages()) == told


async def test_replay_fails_a_restored_export_without_building_or_mailing_it(
    runtime: LocalRuntime, clock: ManualClock, tmp_path: Path
) -> None:
    who = await leaver(runtime, tracks=1)
    erased = Erased(account_id=who.account.id, email=who.account.email)
    stamp = int(clock.now())
    # One export waiting, one whose builder was at work when the copy was taken.
    await runtime.db.batch(
        [
            runtime.db.prepare(
                "INSERT INTO privacy_requests (id, account_id, kind, status, created_at,"
                " claimed_at, language) VALUES (?, ?, 'export', ?, ?, ?, 'en')"
            ).bind(f"{status}-one", who.account.id, status, stamp, claimed)
            for status, claimed in (("pending", None), ("building", stamp))
        ]
    )
    before = tmp_path / "before-erasure.sqlite"
    _copy(_database(runtime), before)
    await (
        runtime.db.prepare("UPDATE privacy_requests SET status = 'failed' WHERE kind = 'export'")
        .bind()
        .run()
    )
    await _erase_after_the_grace_period(runtime, clock, who)
    _copy(before, _database(runtime))
    told = len(runtime.mailer.messages())
    assert await replay_erasures(runtime) == 1
    assert await build_pending_exports(runtime) == 0
    await send_queued_mail(runtime)
    assert await traces(runtime, erased) == []
    assert len(runtime.mailer.messages()) == told


async def test_the_documented_command_replays_the_local_state(
    runtime: LocalRuntime, clock: ManualClock, tmp_path: Path
) -> None:
    _, erased = await _restored_after_erasure(runtime, clock, tmp_path)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "beatbun_local.replay",
        "--state-dir",
        str(runtime.state_dir),
        cwd=PROJECT_ROOT,
        env={**os.environ, "BEATBUN_DEV_VARS": str(tmp_path / "no.dev.vars")},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode == 0, err.decode()
    assert out.decode().strip() == "Erased again: 1 account(s)."
    assert await traces(runtime, erased) == []


async def test_the_operator_route_replays_with_an_operator_key(
    runtime: LocalRuntime, clock: ManualClock, tmp_path: Path, client: httpx.AsyncClient
) -> None:
    _, erased = await _restored_after_erasure(runtime, clock, tmp_path)
    operator = await create_verified_account(runtime, email="operator@example.com")
    await (
        runtime.db.prepare("UPDATE accounts SET is_admin = 1 WHERE id = ?").bind(operator.id).run()
    )
    _, secret = await create_api_key(
        runtime.db, account_id=operator.id, name="ops", scopes=["read"], now=clock.now()
    )
    response = await client.post(
        "/api/v1/operator/erasures/replay", headers={"Authorization": f"Bearer {secret}"}
    )
    assert response.status_code == 200
    assert response.json() == {"replayed": 1}
    assert await traces(runtime, erased) == []


async def test_the_operator_route_is_not_there_for_anyone_else(
    runtime: LocalRuntime, clock: ManualClock, client: httpx.AsyncClient
) -> None:
    member = await create_verified_account(runtime, email="member@example.com")
    _, secret = await create_api_key(
        runtime.db, account_id=member.id, name="mine", scopes=["read", "generate"], now=clock.now()
    )
    for headers in ({"Authorization": f"Bearer {secret}"}, {}, {"Authorization": "Bearer bb_x"}):
        response = await client.post("/api/v1/operator/erasures/replay", headers=headers)
        assert response.status_code == 404, headers
        assert response.json()["error"] == "not_found"
