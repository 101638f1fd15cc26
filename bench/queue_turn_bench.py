"""How fast a user's queue answers while one of its jobs renders (issue #13, item 5).

    python bench/queue_turn_bench.py [--calls 10] [--seconds 300]

Runs a job in the background on the local runtime, then times `enqueue`, `cancel` (of the
running job: refused, and of a queued one) and `snapshot` while it runs, as Durable Object calls
through the stub and as the service calls routes make (with their D1 work). Twice: with a
provider that awaits for 3 s (a remote model), and with the built-in composer rendering a
`--seconds` track (CPU-bound; on a worker thread locally). Prints median and worst, in ms.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))

from beatbun.errors import Conflict  # noqa: E402
from beatbun.generation.composer.provider import Composer  # noqa: E402
from beatbun.generation.models import GenerationRequest  # noqa: E402
from beatbun.generation.provider import AudioSink, MusicProvider, MusicRequest, ProviderResult  # noqa: E402
from beatbun.generation.queue import UserQueue  # noqa: E402
from beatbun.generation.service import (  # noqa: E402
    cancel_generation,
    queue_snapshot,
    submit_generation,
)
from beatbun.settings import Settings  # noqa: E402
from beatbun_local.migrations import apply_migrations  # noqa: E402
from beatbun_local.runtime import LocalRuntime  # noqa: E402
from tests.factories import create_verified_account  # noqa: E402

# Set by the provider once the job is under way; one per run (an Event belongs to one loop).
STARTED: asyncio.Event


class RemoteLike:
    """Awaits 3 s, as a remote model does, then hands back the composer's track."""

    name = "remote-like"

    async def generate(
        self, request: MusicRequest, *, correlation_id: str, sink: AudioSink
    ) -> ProviderResult:
        STARTED.set()
        await asyncio.sleep(3.0)
        return await Composer().generate(request, correlation_id=correlation_id, sink=sink)


class Composing(Composer):
    async def generate(
        self, request: MusicRequest, *, correlation_id: str, sink: AudioSink
    ) -> ProviderResult:
        STARTED.set()
        return await super().generate(request, correlation_id=correlation_id, sink=sink)


def queue_on(provider: Callable[[], MusicProvider]) -> type[UserQueue]:
    class Queue(UserQueue):
        @contextlib.asynccontextmanager
        async def open_provider(self) -> AsyncIterator[MusicProvider]:
            yield provider()

    return Queue


async def timed(call: Awaitable[Any]) -> float:
    started = time.perf_counter()
    with contextlib.suppress(Conflict):
        await call
    return (time.perf_counter() - started) * 1000


async def measure(provider: Callable[[], MusicProvider], *, calls: int, seconds: int) -> None:
    global STARTED
    STARTED = asyncio.Event()
    with tempfile.TemporaryDirectory() as folder:
        runtime = LocalRuntime.open(
            Path(folder), settings=Settings(environment="test"), user_queue=queue_on(provider)
        )
        await apply_migrations(runtime.db, PROJECT_ROOT / "d1" / "migrations")
        try:
            account = await create_verified_account(runtime)

            def request(seed: int) -> GenerationRequest:
                # Only the running job is long: the free plan's 60 credits pay for the rest.
                length = seconds if seed == 0 else 5
                return GenerationRequest.parse(
                    {"prompt": "bench pop", "duration_seconds": length, "seed": seed}
                )

            running = await submit_generation(
                runtime, account_id=account.id, request=request(0), idempotency_key=None
            )
            await runtime.user_queues.run_due_alarms()  # marks it running
            run = asyncio.create_task(runtime.user_queues.run_due_alarms())
            await STARTED.wait()
            stub = runtime.user_queues.get(runtime.user_queues.id_from_name(account.id))
            figures: dict[str, list[float]] = {}
            for n in range(1, calls + 1):
                started = time.perf_counter()
                submission = await submit_generation(
                    runtime, account_id=account.id, request=request(n), idempotency_key=None
                )
                enqueued = (time.perf_counter() - started) * 1000
                job = dataclasses.asdict(submission.job)
                rows = {
                    "enqueue (service)": enqueued,
                    "snapshot (stub)": await timed(stub.call("snapshot")),
                    "cancel running (stub)": await timed(stub.call("cancel", running.job.id)),
                    "enqueue, repeated (stub)": await timed(stub.call("enqueue", job, "free")),
                    "snapshot (service)": await timed(
                        queue_snapshot(runtime, account_id=account.id)
                    ),
                    "cancel running (service)": await timed(
                        cancel_generation(runtime, account_id=account.id, job_id=running.job.id)
                    ),
                    "cancel queued (service)": await timed(
                        cancel_generation(runtime, account_id=account.id, job_id=submission.job.id)
                    ),
                }
                for name, took in rows.items():
                    figures.setdefault(name, []).append(took)
                await asyncio.sleep(0.02)
            still_running = not run.done()
            await run
            print(f"  all calls made while the job ran: {still_running}")
            for name, values in figures.items():
                print(
                    f"  {name:26s} median {statistics.median(values):7.2f} ms"
                    f"   worst {max(values):7.2f} ms"
                )
        finally:
            runtime.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=10)
    parser.add_argument("--seconds", type=int, default=300)
    args = parser.parse_args()
    print("Provider awaiting 3 s (a remote model):")
    asyncio.run(measure(RemoteLike, calls=args.calls, seconds=5))
    print(f"Composer rendering {args.seconds} s on a worker thread:")
    asyncio.run(measure(Composing, calls=args.calls, seconds=args.seconds))


if __name__ == "__main__":
    main()
