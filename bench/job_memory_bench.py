"""Python heap of a whole composer job on the local runtime: render to stored track (issue #13, item 2).

    python bench/job_memory_bench.py [--seconds 300] [--genre pop]

Opens a local runtime in a temporary folder (real SQLite behind the D1 interface, the local R2
folder, the in-process Durable Object), submits one composer job and runs it to a stored,
recorded track. Prints the tracemalloc peak above the baseline taken once the runtime is open
(numpy reports its buffers to tracemalloc, so the render's arrays count), and every write that
reached the blob store: a `put` or a multipart part, with the largest one.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from beatbun.generation.models import GenerationRequest  # noqa: E402
from beatbun.generation.queue import UserQueue  # noqa: E402
from beatbun.generation.service import get_generation, submit_generation  # noqa: E402
from beatbun.runtime.base import MIN_PART_BYTES  # noqa: E402
from beatbun.runtime.blobwriter import DEFAULT_PART_BYTES  # noqa: E402
from beatbun.settings import Settings  # noqa: E402
from beatbun_local.migrations import apply_migrations  # noqa: E402
from beatbun_local.runtime import LocalRuntime  # noqa: E402
from tests.factories import create_verified_account  # noqa: E402
from tests.runtime.blob_recorder import RecordingBlobStore  # noqa: E402

TARGET_MB = 64.0
MB = 2**20


async def measure(*, seconds: float, genre: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        # No ElevenLabs key in these settings, so the queue's provider is the built-in composer.
        runtime = LocalRuntime.open(
            Path(folder), settings=Settings(environment="test"), user_queue=UserQueue
        )
        await apply_migrations(runtime.db, PROJECT_ROOT / "d1" / "migrations")
        recording = RecordingBlobStore(runtime.blobs)
        runtime.blobs = recording  # type: ignore[assignment]
        try:
            account = await create_verified_account(runtime)
            request = GenerationRequest.parse(
                {"prompt": f"bench {genre}", "genres": [genre], "duration_seconds": seconds}
            )
            tracemalloc.start()
            baseline = tracemalloc.get_traced_memory()[0]
            started = time.perf_counter()
            submission = await submit_generation(
                runtime, account_id=account.id, request=request, idempotency_key=None
            )
            while (due := runtime.user_queues.next_alarm()) is not None and due <= time.time():
                await runtime.user_queues.run_due_alarms()
            took = time.perf_counter() - started
            peak = tracemalloc.get_traced_memory()[1] - baseline
            tracemalloc.stop()
            job = await get_generation(runtime, account_id=account.id, job_id=submission.job.id)
        finally:
            runtime.close()
    if job.status != "succeeded":
        raise SystemExit(f"the job ended {job.status} ({job.error_code})")
    sizes = [size for _, size in recording.writes]
    kinds = sorted({kind for kind, _ in recording.writes})
    print(f"{seconds:g} s {genre} job, render to stored track, {took:.1f} s wall time")
    print(f"  tracemalloc peak above baseline: {peak / MB:.1f} MB")
    print(f"  target <= {TARGET_MB:.0f} MB: {'met' if peak <= TARGET_MB * MB else 'NOT met'}")
    print(f"  peak / target: {peak / (TARGET_MB * MB):.2f}")
    print(f"  writes to the blob store: {len(sizes)} ({', '.join(kinds)}), {sum(sizes)} bytes")
    print(
        f"  largest single buffer handed to the blob store: {max(sizes) / MB:.2f} MiB"
        f" (parts of {DEFAULT_PART_BYTES / MB:.0f} MiB; R2 wants at least {MIN_PART_BYTES / MB:.0f})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=300.0)
    parser.add_argument("--genre", default="pop")
    args = parser.parse_args()
    asyncio.run(measure(seconds=args.seconds, genre=args.genre))


if __name__ == "__main__":
    main()
