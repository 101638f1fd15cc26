"""Moving kept audio after an upgrade: time, D1 round trips and R2 calls for 100 tracks.

    python bench/track_move_bench.py [--tracks 100] [--seconds 30] [--limit 100]

Makes one real composer track of the given length on the free plan (44.1 kHz 16-bit stereo
WAV, 5.3 MB at 30 s), copies its row and audio until the account has `--tracks` of them, keeps
them all as the upgrade's batch does, then times `move_kept_audio` called the way the user's
queue calls it (again until it returns 0) on a local runtime in a temporary folder. Every D1
call (statement or batch) is one round trip on Cloudflare; R2 calls are counted by kind.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))

from bench.counting import CountingBlobStore, CountingDatabase  # noqa: E402

from beatbun.generation.models import GenerationRequest  # noqa: E402
from beatbun.generation.queue import UserQueue  # noqa: E402
from beatbun.generation.service import submit_generation  # noqa: E402
from beatbun.runtime.base import Runtime  # noqa: E402
from beatbun.settings import Settings  # noqa: E402
from beatbun.tracks.retention import keep_tracks_statement, move_kept_audio  # noqa: E402
from beatbun.tracks.store import list_tracks  # noqa: E402
from beatbun_local.migrations import apply_migrations  # noqa: E402
from beatbun_local.runtime import LocalRuntime  # noqa: E402
from tests.factories import clone_track, create_verified_account  # noqa: E402
from tests.fakes import ManualClock  # noqa: E402
from tests.generation.conftest import drain  # noqa: E402

MB = 1_000_000


async def _account_with_kept_tracks(runtime: LocalRuntime, *, tracks: int, seconds: int) -> str:
    account = await create_verified_account(runtime)
    request = GenerationRequest.parse(
        {"prompt": "bench lo-fi", "duration_seconds": seconds, "seed": 1}
    )
    await submit_generation(runtime, account_id=account.id, request=request, idempotency_key=None)
    await drain(runtime)
    (original,) = await list_tracks(runtime.db, account_id=account.id)
    stored = await runtime.blobs.get(original.blob_key)
    assert stored is not None and stored.body is not None
    await clone_track(runtime, original, copies=tracks - 1)
    await keep_tracks_statement(runtime.db, account_id=account.id).run()
    return account.id


async def bench(tracks: int, seconds: int, limit: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        runtime = LocalRuntime.open(
            Path(folder),
            settings=Settings(environment="test"),
            user_queue=UserQueue,
            clock=ManualClock(),
        )
        await apply_migrations(runtime.db, PROJECT_ROOT / "d1" / "migrations")
        account_id = await _account_with_kept_tracks(runtime, tracks=tracks, seconds=seconds)
        size = (await list_tracks(runtime.db, account_id=account_id, limit=1))[0].size_bytes
        database, blobs = CountingDatabase(runtime.db), CountingBlobStore(runtime.blobs)
        counted = Runtime(
            settings=runtime.settings,
            db=database,  # type: ignore[arg-type]
            blobs=blobs,  # type: ignore[arg-type]
            user_queues=runtime.user_queues,
            clock=runtime.clock,
            kdf=runtime.kdf,
            mailer=runtime.mailer,
            cipher=runtime.cipher,
            fetcher=runtime.fetcher,
        )
        moved, calls = 0, 0
        started = time.perf_counter()
        while True:
            calls += 1
            found = await move_kept_audio(counted, account_id=account_id, limit=limit)
            if not found:
                break
            moved += found
        elapsed = time.perf_counter() - started
        left = await list_tracks(runtime.db, account_id=account_id, limit=tracks)
        assert moved == tracks and all(t.retention == "paid" for t in left), "move incomplete"
        runtime.close()
    total_mb = tracks * size / MB
    print(f"{tracks} kept tracks of {seconds} s ({size / MB:.2f} MB each, {total_mb:.0f} MB):")
    print(
        f"  time to move all:   {elapsed:6.2f} s ({elapsed / tracks * 1000:.1f} ms a track,"
        f" {total_mb / elapsed:.0f} MB/s copied)"
    )
    print(f"  move_kept_audio calls (limit {limit}, until it returns 0): {calls}")
    print(
        f"  D1 round trips:     {database.calls} ({database.calls / tracks:.2f} a track;"
        f" one statement per track would be {tracks + 1})"
    )
    r2 = ", ".join(f"{name} {count}" for name, count in sorted(blobs.calls.items()))
    print(f"  R2 calls:           {sum(blobs.calls.values())} ({r2})")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tracks", type=int, default=100)
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--limit", type=int, default=100)
    args = parser.parse_args()
    asyncio.run(bench(args.tracks, args.seconds, args.limit))


if __name__ == "__main__":
    main()
