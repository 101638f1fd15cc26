"""Composer benchmarks: real-time factor and peak memory, each measured in a fresh process.

    .venv/bin/python bench/composer_bench.py            # every genre at 30, 60 and 300 s
    .venv/bin/python bench/composer_bench.py --quick    # three genres

RTF is seconds of audio per second of CPU (`time.process_time`, pinned to one core with
single-threaded BLAS), one render per genre and duration; the load average is printed before
and after, since other work on the machine lowers RTF. Peak memory is tracemalloc's peak above
the baseline taken after imports, so it counts numpy buffers, not the interpreter itself. The
WAV is handed out a chunk at a time and discarded here, so the peak is what rendering needs;
`bench/job_memory_bench.py` measures a whole job, storage included.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import tracemalloc

from beatbun.generation.composer.styles import GENRES

DURATIONS = (30.0, 60.0, 300.0)
QUICK_GENRES = ("pop", "techno", "ambient")
RTF_TARGET_60 = 100.0
MEMORY_TARGETS_MB = {60.0: 32.0, 300.0: 48.0}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="three genres instead of ten")
    parser.add_argument("--measure", choices=("rtf", "memory"), help=argparse.SUPPRESS)
    parser.add_argument("--genre", help=argparse.SUPPRESS)
    parser.add_argument("--seconds", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(_measure(args.measure, args.genre, args.seconds)))
        return
    genres = QUICK_GENRES if args.quick else tuple(GENRES)
    print(f"Composer benchmark on {sys.platform}, Python {sys.version.split()[0]}, one core")
    # Other work on the machine slows a core down even in CPU time (shared caches, SMT).
    print(f"load average at start: {_load_average()}\n")
    print(
        f"{'seconds':>8} {'RTF min':>9} {'RTF median':>11} {'RTF max':>9} {'peak MB max':>12}  slowest"
    )
    for seconds in DURATIONS:
        rtf = {genre: _child("rtf", genre, seconds)["rtf"] for genre in genres}
        memory = {genre: _child("memory", genre, seconds)["peak_mb"] for genre in genres}
        slowest = min(rtf, key=rtf.__getitem__)
        print(
            f"{seconds:>8.0f} {min(rtf.values()):>9.0f} {statistics.median(rtf.values()):>11.0f}"
            f" {max(rtf.values()):>9.0f} {max(memory.values()):>12.1f}  {slowest}"
        )
        detail = ", ".join(f"{g} {rtf[g]:.0f}x/{memory[g]:.1f} MB" for g in genres)
        print(f"{'':>8} {detail}")
        if seconds == 60.0:
            print(
                f"{'':>8} target RTF >= {RTF_TARGET_60:.0f}: {'met' if min(rtf.values()) >= RTF_TARGET_60 else 'NOT met'}"
            )
        if seconds in MEMORY_TARGETS_MB:
            target = MEMORY_TARGETS_MB[seconds]
            verdict = "met" if max(memory.values()) <= target else "NOT met"
            print(f"{'':>8} target peak <= {target:.0f} MB: {verdict}")
    print(f"\nload average at end: {_load_average()}")


def _load_average() -> str:
    if not hasattr(os, "getloadavg"):
        return "unknown"
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def _child(measure: str, genre: str, seconds: float) -> dict[str, float]:
    env = {
        **os.environ,
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }
    command = [
        sys.executable,
        __file__,
        "--measure",
        measure,
        "--genre",
        genre,
        "--seconds",
        str(seconds),
    ]
    output = subprocess.run(command, check=True, capture_output=True, text=True, env=env).stdout
    result: dict[str, float] = json.loads(output)
    return result


def _measure(measure: str, genre: str, seconds: float) -> dict[str, float]:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    from beatbun.generation.composer.provider import Composer
    from beatbun.generation.provider import MusicRequest

    request = MusicRequest(prompt=genre, genres=(genre,), duration_seconds=seconds, seed=1)
    composer = Composer()
    if measure == "memory":
        tracemalloc.start()
        baseline = tracemalloc.get_traced_memory()[0]
        composer.compose(request, write=_discard)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return {"peak_mb": (peak - baseline) / 2**20}
    started = time.process_time()
    composer.compose(request, write=_discard)
    return {"rtf": seconds / (time.process_time() - started)}


def _discard(piece: memoryview) -> None:
    """Where the WAV goes: nowhere, so only the render's own memory is measured."""


if __name__ == "__main__":
    main()
