"""The mail queue's drain: throughput, D1 round trips per queued email, D1 calls per cron run.

    python bench/mail_drain_bench.py

Queues emails in one INSERT (as a campaign or policy batch does), then drains them with the local
runtime (SQLite in WAL mode, the `.eml` outbox): once with the rate lifted (what the machinery
itself manages) and once at our default of 2 a second. D1 calls (statements and batches: one
round trip each on Cloudflare, which allows 1,000 per Worker invocation) are counted through a
wrapper around the database; the flush after a request (`send_queued_mail`) is counted for one
service email as well. The five-minute mail trigger is run at the default rate against a backlog
in simulated time (a clock that the drain's waits move), so its whole budget is measured.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))

from bench.counting import CountingDatabase  # noqa: E402

from beatbun.generation.queue import UserQueue  # noqa: E402
from beatbun.mail.drain import drain_mail, send_queued_mail  # noqa: E402
from beatbun.runtime.base import MailMessage  # noqa: E402
from beatbun.scheduled import MAIL_CRON, run_scheduled  # noqa: E402
from beatbun.settings import Settings  # noqa: E402
from beatbun_local.migrations import apply_migrations  # noqa: E402
from beatbun_local.runtime import LocalRuntime  # noqa: E402
from tests.mail.queueing import queue_many  # noqa: E402

LIFTED = 1_000_000.0
DEFAULT_RATE = Settings().mail_rate_per_second


class NullMailer:
    """A provider that takes every message at once: what the queue itself costs."""

    async def send(self, message: MailMessage) -> str:
        return message.key


async def measure(count: int, *, rate: float, null: bool = False) -> tuple[float, float]:
    """(emails a second, D1 round trips per email) for draining `count` queued emails."""
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(environment="test", mail_rate_per_second=rate)
        runtime = LocalRuntime.open(Path(folder), settings=settings, user_queue=UserQueue)
        try:
            await apply_migrations(runtime.db, PROJECT_ROOT / "d1" / "migrations")
            await queue_many(runtime, count)
            if null:
                runtime.mailer = NullMailer()  # type: ignore[assignment]
            local, counting = runtime.db, CountingDatabase(runtime.db)
            runtime.db = counting  # type: ignore[assignment]
            started = time.perf_counter()
            sent = await drain_mail(runtime, budget_seconds=600, budget_calls=100_000)
            elapsed = time.perf_counter() - started
            runtime.db = local
        finally:
            runtime.close()
    assert sent == count, f"sent {sent} of {count}"
    return count / elapsed, counting.calls / count


async def flush_round_trips() -> int:
    """D1 round trips of the flush after a request that queued one email."""
    with tempfile.TemporaryDirectory() as folder:
        runtime = LocalRuntime.open(
            Path(folder), settings=Settings(environment="test"), user_queue=UserQueue
        )
        try:
            await apply_migrations(runtime.db, PROJECT_ROOT / "d1" / "migrations")
            await queue_many(runtime, 1)
            local, counting = runtime.db, CountingDatabase(runtime.db)
            runtime.db = counting  # type: ignore[assignment]
            assert await send_queued_mail(runtime) == 1
            runtime.db = local
        finally:
            runtime.close()
    return counting.calls


class SimulatedClock:
    """Time that moves only when the drain waits for its next send."""

    def __init__(self) -> None:
        self._now = 1_800_000_000.0

    def now(self) -> float:
        return self._now

    async def sleep(self, seconds: float) -> None:
        self._now += max(seconds, 0.0)


@contextlib.contextmanager
def simulated(clock: SimulatedClock) -> Iterator[None]:
    real = asyncio.sleep
    asyncio.sleep = clock.sleep  # type: ignore[assignment]
    try:
        yield
    finally:
        asyncio.sleep = real


async def cron_invocation(backlog: int) -> tuple[int, int]:
    """(D1 calls, emails sent) of one run of the mail trigger at the default rate."""
    clock = SimulatedClock()
    with tempfile.TemporaryDirectory() as folder:
        runtime = LocalRuntime.open(
            Path(folder), settings=Settings(environment="test"), user_queue=UserQueue, clock=clock
        )
        try:
            await apply_migrations(runtime.db, PROJECT_ROOT / "d1" / "migrations")
            await queue_many(runtime, backlog)
            runtime.mailer = NullMailer()  # type: ignore[assignment]
            local, counting = runtime.db, CountingDatabase(runtime.db)
            runtime.db = counting  # type: ignore[assignment]
            with simulated(clock):
                await run_scheduled(runtime, cron=MAIL_CRON, scheduled_time=clock.now())
            runtime.db = local
            sent = await local.prepare(
                "SELECT COUNT(*) AS n FROM mail_queue WHERE sent_at IS NOT NULL"
            ).first("n")
        finally:
            runtime.close()
    return counting.calls, int(sent)


async def main() -> None:
    for count in (1000, 5000):
        throughput, trips = await measure(count, rate=LIFTED)
        print(
            f"rate lifted, {count} emails to the .eml outbox: {throughput:,.0f} emails/s,"
            f" {trips:.3f} D1 round trips each"
        )
        throughput, trips = await measure(count, rate=LIFTED, null=True)
        print(
            f"rate lifted, {count} emails to a provider that takes them at once:"
            f" {throughput:,.0f} emails/s, {trips:.3f} D1 round trips each"
        )
    throughput, trips = await measure(20, rate=DEFAULT_RATE)
    print(
        f"rate {DEFAULT_RATE:g}/s (our default), 20 emails: {throughput:.2f} emails/s,"
        f" {trips:.2f} D1 round trips each"
    )
    print(f"flush after a request, 1 email: {await flush_round_trips()} D1 round trips")
    calls, sent = await cron_invocation(5000)
    print(
        f"mail trigger at {DEFAULT_RATE:g}/s, 5,000 queued: {calls} D1 calls in one invocation,"
        f" {sent} emails sent ({calls / sent:.3f} calls each)"
    )


if __name__ == "__main__":
    asyncio.run(main())
