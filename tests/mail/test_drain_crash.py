"""A thousand queued notices, a drain killed with SIGKILL mid-batch, and a restart.

The drain is `python -m beatbun_local.drain` on a real state folder (SQLite in WAL mode, the
`.eml` outbox). It is killed while a claimed batch is half sent, so those messages are in the
outbox but not marked sent; the restarted drain (with a short claim time) sends them again with
the same idempotency keys, and the outbox takes each key once.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from beatbun.generation.queue import UserQueue
from beatbun.mail.drain import CLAIM_BATCH
from beatbun.settings import Settings
from beatbun_local.mail import _read
from beatbun_local.migrations import apply_migrations
from beatbun_local.runtime import LocalRuntime
from tests.conftest import MIGRATIONS
from tests.mail.queueing import queue_many, sends_per_second
from tests.processes import PROJECT_ROOT

NOTICES = 1000
RATE = 100  # a second: 1,000 notices take about ten seconds
CLAIM_SECONDS = 1.0


def test_a_thousand_notices_survive_a_kill_mid_batch_without_duplicates(tmp_path: Path) -> None:
    state = tmp_path / "state"
    asyncio.run(_queue(state))
    outbox = state / "outbox"
    first = _start_drain(tmp_path, state)
    try:
        # Killed once a batch is part sent: its rows are claimed and in the outbox, not marked.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            sent = len(list(outbox.glob("*.eml")))
            if sent > 2 * CLAIM_BATCH and sent % CLAIM_BATCH:
                break
            time.sleep(0.001)
        os.kill(first.pid, signal.SIGKILL)
    finally:
        first.wait(timeout=15)
    assert first.returncode == -signal.SIGKILL
    before_restart = len(list(outbox.glob("*.eml")))
    assert 0 < before_restart < NOTICES
    time.sleep(CLAIM_SECONDS)  # the dead drain's claims expire
    second = _start_drain(tmp_path, state)
    assert second.wait(timeout=120) == 0, (tmp_path / "drain.log").read_text()

    messages = [_read(path) for path in outbox.glob("*.eml")]
    recipients = [message.to for message in messages]
    assert len(recipients) == NOTICES and len(set(recipients)) == NOTICES
    assert set(recipients) == {f"person{n:06d}@example.com" for n in range(1, NOTICES + 1)}
    # The outbox names each file by the runtime clock's time of writing (milliseconds): locally
    # that is the same clock the drain paces its sends by.
    assert max(sends_per_second(outbox).values()) <= RATE
    resent, unsent = asyncio.run(_queue_state(state))
    assert unsent == 0
    assert resent > 0  # the kill did land mid-batch: those were sent a second time, once


def _start_drain(tmp_path: Path, state: Path) -> subprocess.Popen[bytes]:
    dev_vars = tmp_path / "drain.dev.vars"
    dev_vars.write_text(
        f'ENVIRONMENT="test"\nMAIL_RATE_PER_SECOND="{RATE}"\nMAIL_CLAIM_SECONDS="{CLAIM_SECONDS}"\n'
    )
    with open(tmp_path / "drain.log", "ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "beatbun_local.drain", "--state-dir", str(state)],
            env={
                **os.environ,
                "BEATBUN_PROJECT_ROOT": str(PROJECT_ROOT),
                "BEATBUN_DEV_VARS": str(dev_vars),
            },
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=PROJECT_ROOT,
        )


async def _queue(state: Path) -> None:
    runtime = LocalRuntime.open(state, settings=Settings(environment="test"), user_queue=UserQueue)
    try:
        await apply_migrations(runtime.db, MIGRATIONS)
        await queue_many(runtime, NOTICES)
    finally:
        runtime.close()


async def _queue_state(state: Path) -> tuple[int, int]:
    """(rows sent on a second try, rows not sent)."""
    runtime = LocalRuntime.open(state, settings=Settings(environment="test"), user_queue=UserQueue)
    try:
        row = await runtime.db.prepare(
            "SELECT SUM(attempts = 2 AND sent_at IS NOT NULL) AS resent,"
            " SUM(sent_at IS NULL) AS unsent FROM mail_queue"
        ).first()
    finally:
        runtime.close()
    assert row is not None
    return int(row["resent"]), int(row["unsent"])
