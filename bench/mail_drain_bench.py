"""The mail queue's drain: throughput and D1 round trips per queued email.

    python bench/mail_drain_bench.py

Queues emails in one INSERT (as a campaign or policy batch does), then drains them with the local
runtime (SQLite in WAL mode, the `.eml` outbox): once with the rate lifted (what the machinery
itself manages) and once at Resend's default of 2 a second. D1 calls (statements and batches:
one round trip each on Cloudflare) are counted through a wrapper around the database; the
flush after a request (`send_queued_mail`) is counted for one service email as well.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))

from bench.counting import CountingDatabase  # noqa: E402

from beatbun.generation.queue import UserQueue  # noqa: E402
from beatbun.mail.mailqueue import drain_mail, send_queued_mail  # noqa: E402
from beatbun.runtime.base import MailMessage  # noqa: E402
from beatbun.settings import Settings  # noqa: E402
from beatbun_local.migrations import apply_migrations  # noqa: E402
from beatbun_local.runtime import LocalRuntime  # noqa: E402
from tests.mail.queueing import queue_many  # noqa: E402

LIFTED = 1_000_000.0


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
            sent = await drain_mail(runtime, budget_seconds=600)
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
    throughput, trips = await measure(20, rate=2)
    print(
        f"rate 2/s (Resend's default), 20 emails: {throughput:.2f} emails/s,"
        f" {trips:.2f} D1 round trips each"
    )
    print(f"flush after a request, 1 email: {await flush_round_trips()} D1 round trips")


if __name__ == "__main__":
    asyncio.run(main())
