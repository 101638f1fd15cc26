"""A personal-data export of 100 tracks of 30 s: wall time and peak Python heap (issue #15).

    python bench/privacy_export_bench.py [--tracks 100] [--seconds 30]

Makes one real composer track of the given length (44.1 kHz 16-bit stereo WAV, 5.3 MB at
30 s), copies its row and audio until the account has `--tracks` of them (as
`track_move_bench.py` does), then asks for an export (password confirmed) and times
`privacy.export.build_pending_exports` on a local runtime in a temporary folder: SQLite behind the D1 interface, the local R2 folder. The build reads
every track's audio as a stream and writes the zip to R2 in 8 MiB parts. A second build (the
clock moved on a day, so the limit allows it) runs under `tracemalloc` for the peak above the
baseline taken right before it. Targets: at most 60 s, at most 64 MB. Last, the zip is read back
and every entry's CRC checked (not timed).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import io
import sys
import tempfile
import time
import tracemalloc
import zipfile
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))

from bench.counting import CountingBlobStore, CountingDatabase  # noqa: E402
from bench.track_move_bench import _account_with_kept_tracks  # noqa: E402

from beatbun.accounts.models import Account  # noqa: E402
from beatbun.accounts.store import get_account  # noqa: E402
from beatbun.generation.queue import UserQueue  # noqa: E402
from beatbun.privacy.export import (  # noqa: E402
    DAY_SECONDS,
    build_pending_exports,
    request_export,
)
from beatbun.privacy.requests import find_request  # noqa: E402
from beatbun.runtime.base import Runtime  # noqa: E402
from beatbun.runtime.blobwriter import DEFAULT_PART_BYTES  # noqa: E402
from beatbun.settings import Settings  # noqa: E402
from beatbun.tracks.store import list_tracks  # noqa: E402
from beatbun_local.migrations import apply_migrations  # noqa: E402
from beatbun_local.runtime import LocalRuntime  # noqa: E402
from tests.factories import CLIENT  # noqa: E402
from tests.fakes import ManualClock  # noqa: E402
from tests.privacy.exporting import confirmed_session  # noqa: E402

MB = 1_000_000
TIME_TARGET_SECONDS = 60.0
MEMORY_TARGET_MB = 64.0


async def _ask(runtime: LocalRuntime, account: Account) -> str:
    """Ask for an export with the password just confirmed; its request id."""
    session = await confirmed_session(runtime, account)
    request = await request_export(runtime, account, session, client=CLIENT, language="en")
    return request.id


async def _build(runtime: Runtime) -> None:
    assert await build_pending_exports(runtime) == 1, "the export was not built"


async def bench(tracks: int, seconds: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        clock = ManualClock()
        runtime = LocalRuntime.open(
            Path(folder), settings=Settings(environment="test"), user_queue=UserQueue, clock=clock
        )
        await apply_migrations(runtime.db, PROJECT_ROOT / "d1" / "migrations")
        account_id = await _account_with_kept_tracks(runtime, tracks=tracks, seconds=seconds)
        account = await get_account(runtime.db, account_id)
        size = (await list_tracks(runtime.db, account_id=account.id, limit=1))[0].size_bytes
        database, blobs = CountingDatabase(runtime.db), CountingBlobStore(runtime.blobs)
        counted = dataclasses.replace(runtime, db=database, blobs=blobs)

        request_id = await _ask(runtime, account)
        started = time.perf_counter()
        await _build(counted)
        elapsed = time.perf_counter() - started
        d1_calls, r2_calls = database.calls, dict(blobs.calls)

        clock.advance(DAY_SECONDS)
        await _ask(runtime, account)
        tracemalloc.start()
        baseline = tracemalloc.get_traced_memory()[0]
        await _build(runtime)
        peak = (tracemalloc.get_traced_memory()[1] - baseline) / MB
        tracemalloc.stop()

        request = await find_request(runtime.db, account.id, request_id)
        assert request is not None and request.blob_key is not None and request.size
        stored = await runtime.blobs.get(request.blob_key)
        assert stored is not None and stored.body is not None
        archive = zipfile.ZipFile(io.BytesIO(stored.body))
        assert archive.testzip() is None, "an entry of the zip is damaged"
        audio = [info for info in archive.infolist() if info.filename.endswith(".wav")]
        assert len(audio) == tracks and all(i.compress_type == zipfile.ZIP_STORED for i in audio)
        entries = len(archive.infolist())
        runtime.close()

    total = tracks * size / MB
    parts = -(-request.size // DEFAULT_PART_BYTES)
    time_verdict = "met" if elapsed <= TIME_TARGET_SECONDS else "NOT met"
    memory_verdict = "met" if peak <= MEMORY_TARGET_MB else "NOT met"
    print(f"Export of {tracks} tracks of {seconds} s ({size / MB:.2f} MB each, {total:.0f} MB):")
    print(
        f"  wall time:          {elapsed:6.2f} s ({total / elapsed:.0f} MB/s;"
        f" target <= {TIME_TARGET_SECONDS:.0f} s: {time_verdict})"
    )
    print(
        f"  peak Python heap:   {peak:6.1f} MB above the baseline (tracemalloc;"
        f" target <= {MEMORY_TARGET_MB:.0f} MB: {memory_verdict})"
    )
    print(
        f"  zip:                {request.size / MB:.1f} MB, {entries} entries,"
        f" {parts} parts of at most {DEFAULT_PART_BYTES // 2**20} MiB"
    )
    r2 = ", ".join(f"{name} {count}" for name, count in sorted(r2_calls.items()))
    print(f"  D1 round trips:     {d1_calls}")
    print(f"  R2 calls (besides the parts): {sum(r2_calls.values())} ({r2})")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tracks", type=int, default=100)
    parser.add_argument("--seconds", type=int, default=30)
    args = parser.parse_args()
    print(f"Privacy export benchmark, Python {sys.version.split()[0]}")
    asyncio.run(bench(args.tracks, args.seconds))


if __name__ == "__main__":
    main()
