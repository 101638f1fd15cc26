"""Track exports on the local runtime: time against the render, peak memory, sizes (issue #14).

    python bench/exports_bench.py [--seconds 60 300] [--genre pop]

For each length: renders one composer track through a real job (SQLite behind the D1
interface, the local R2 folder), then buys its FLAC, MIDI and stems as a user would
(`tracks.exports.buy_export`: charge, make, store in parts). Prints the CPU time of each
against the render's (the target: all three together add at most 30 %), the tracemalloc peak
of each above the baseline (a second run, since tracing slows everything; the target is the
64 MB job budget), and the stored sizes, FLAC against WAV. The CPU times include the local
R2 stand-in's work (files, MD5 of every part), which the Worker does not do. Last, the FLAC
encoder alone on the same track's samples, in 1 MiB pieces: its speed in MiB of WAV a second.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Awaitable
from pathlib import Path
from typing import TypeVar

import numpy as np

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from beatbun.accounts.models import Account  # noqa: E402
from beatbun.billing.pricing import EXPORT_KINDS, ExportKind  # noqa: E402
from beatbun.generation.composer.arrangement import arrange  # noqa: E402
from beatbun.generation.composer.flac import FlacEncoder  # noqa: E402
from beatbun.generation.composer.prompt import resolve_plan  # noqa: E402
from beatbun.generation.composer.render import TrackRender  # noqa: E402
from beatbun.generation.models import GenerationRequest  # noqa: E402
from beatbun.generation.queue import UserQueue  # noqa: E402
from beatbun.generation.service import submit_generation  # noqa: E402
from beatbun.settings import Settings  # noqa: E402
from beatbun.tracks.exports import buy_export  # noqa: E402
from beatbun.tracks.models import Track  # noqa: E402
from beatbun.tracks.store import list_tracks  # noqa: E402
from beatbun_local.migrations import apply_migrations  # noqa: E402
from beatbun_local.runtime import LocalRuntime  # noqa: E402
from tests.factories import create_verified_account  # noqa: E402

MEMORY_TARGET_MB = 64.0
TIME_TARGET = 0.30
MB = 2**20
ENCODER_PIECE_FRAMES = MB // 4
ENCODER_RUNS = 5
T = TypeVar("T")


async def measure(*, seconds: float, genre: str, traced: bool) -> dict[str, float]:
    """CPU seconds (or, `traced`, peak MB) of the render and each export; sizes in bytes."""
    with tempfile.TemporaryDirectory() as folder:
        runtime = LocalRuntime.open(
            Path(folder), settings=Settings(environment="test"), user_queue=UserQueue
        )
        await apply_migrations(runtime.db, PROJECT_ROOT / "d1" / "migrations")
        try:
            account = await create_verified_account(runtime)
            await (
                runtime.db.prepare("UPDATE wallets SET balance = 10000 WHERE account_id = ?")
                .bind(account.id)
                .run()
            )
            figures: dict[str, float] = {}
            track = await _timed(
                figures, "render", traced, _render(runtime, account, seconds, genre)
            )
            figures["wav_bytes"] = track.size_bytes
            for kind in EXPORT_KINDS:
                purchase = await _timed(figures, kind, traced, _buy(runtime, account, track, kind))
                figures[f"{kind}_bytes"] = purchase
            return figures
        finally:
            runtime.close()


def encoder_speed(*, seconds: float, genre: str) -> float:
    """MiB of 16-bit stereo WAV the FLAC encoder takes a CPU second (best of a few runs)."""
    request = GenerationRequest.parse(
        {"prompt": f"bench {genre}", "genres": [genre], "duration_seconds": seconds, "seed": 7}
    )
    plan = resolve_plan(request.to_music_request(), sample_rate=44100)
    render = TrackRender(plan, arrange(plan))
    samples = np.concatenate([step for step in render.steps() if step is not None])
    md5 = hashlib.md5(samples.tobytes()).digest()
    best = float("inf")
    for _ in range(ENCODER_RUNS):
        started = time.process_time()
        encoder = FlacEncoder(
            sample_rate=plan.sample_rate, channels=2, frames=samples.shape[0], md5=md5
        )
        encoder.header()
        for start in range(0, samples.shape[0], ENCODER_PIECE_FRAMES):
            encoder.encode(samples[start : start + ENCODER_PIECE_FRAMES])
        encoder.finish()
        best = min(best, time.process_time() - started)
    return samples.nbytes / MB / best


async def _render(runtime: LocalRuntime, account: Account, seconds: float, genre: str) -> Track:
    request = GenerationRequest.parse(
        {"prompt": f"bench {genre}", "genres": [genre], "duration_seconds": seconds, "seed": 7}
    )
    await submit_generation(runtime, account_id=account.id, request=request, idempotency_key=None)
    while (due := runtime.user_queues.next_alarm()) is not None and due <= time.time():
        await runtime.user_queues.run_due_alarms()
    (track,) = await list_tracks(runtime.db, account_id=account.id)
    return track


async def _buy(runtime: LocalRuntime, account: Account, track: Track, kind: ExportKind) -> int:
    purchase = await buy_export(runtime, account=account, track_id=track.id, kind=kind)
    return purchase.export.size_bytes


async def _timed(figures: dict[str, float], name: str, traced: bool, work: Awaitable[T]) -> T:
    """Await `work`, noting its CPU seconds, or with `traced` its tracemalloc peak in MB."""
    if traced:
        tracemalloc.start()
        baseline = tracemalloc.get_traced_memory()[0]
    started = time.process_time()
    result = await work
    figures[name] = time.process_time() - started
    if traced:
        figures[name] = (tracemalloc.get_traced_memory()[1] - baseline) / MB
        tracemalloc.stop()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, nargs="+", default=[60.0, 300.0])
    parser.add_argument("--genre", default="pop")
    args = parser.parse_args()
    print(f"Exports benchmark, {args.genre}, Python {sys.version.split()[0]}")
    for seconds in args.seconds:
        timing = asyncio.run(measure(seconds=seconds, genre=args.genre, traced=False))
        memory = asyncio.run(measure(seconds=seconds, genre=args.genre, traced=True))
        render = timing["render"]
        print(
            f"\n{seconds:g} s track: render {render:.2f} s CPU, WAV {timing['wav_bytes'] / MB:.2f} MB"
        )
        for kind in EXPORT_KINDS:
            print(
                f"  {kind:<6} {timing[kind]:6.2f} s CPU ({timing[kind] / render:5.1%} of the render),"
                f" peak {memory[kind]:5.1f} MB, stored {timing[f'{kind}_bytes'] / MB:6.2f} MB"
            )
        added = sum(timing[kind] for kind in EXPORT_KINDS) / render
        print(f"  all three add {added:.1%} to the render (target <= {TIME_TARGET:.0%})")
        print(f"  FLAC / WAV size: {timing['flac_bytes'] / timing['wav_bytes']:.3f}")
        worst = max(memory[kind] for kind in EXPORT_KINDS)
        verdict = "met" if worst <= MEMORY_TARGET_MB else "NOT met"
        print(
            f"  largest export peak {worst:.1f} MB (target <= {MEMORY_TARGET_MB:.0f} MB: {verdict})"
        )
        speed = encoder_speed(seconds=seconds, genre=args.genre)
        print(f"  FLAC encoder alone: {speed:.0f} MiB of WAV per CPU second")


if __name__ == "__main__":
    main()
