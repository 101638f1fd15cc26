"""Composer benchmarks: real-time factor and peak memory, each measured in a fresh process.

    .venv/bin/python bench/composer_bench.py            # all 24 genres at 30, 60 and 300 s
    .venv/bin/python bench/composer_bench.py --quick    # three genres

RTF is seconds of audio per second of CPU (`time.process_time`, pinned to one core with
single-threaded BLAS), one render per genre and duration; the target is on the median over
genres. The load average is printed before and after, since other work on the machine lowers
RTF. Peak memory is tracemalloc's peak above
the baseline taken after imports, so it counts numpy buffers, not the interpreter itself. The
WAV is handed out a chunk at a time and discarded here, so the peak is what rendering needs;
`bench/job_memory_bench.py` measures a whole job, storage included.

Exports are timed at 60 s per genre in the same way, against that genre's render: stems (plan
and score made again, the five stems rendered in one pass), the MIDI file, and the FLAC of the
rendered WAV (its MD5, then the encoder fed 64 KiB pieces, as the product streams it). The
target is on the median over genres; sizes of the WAV and the FLAC are printed too.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import time
import tracemalloc
from typing import TYPE_CHECKING

import numpy as np

from beatbun.generation.composer.styles import GENRES

if TYPE_CHECKING:
    from beatbun.generation.provider import MusicRequest

DURATIONS = (30.0, 60.0, 300.0)
QUICK_GENRES = ("pop", "techno", "ambient")
RTF_TARGET_60 = 250.0
MEMORY_TARGETS_MB = {60.0: 32.0, 300.0: 96.0}
EXPORT_SECONDS = 60.0
EXPORT_OVERHEAD_TARGET = 0.30
FLAC_PIECE_BYTES = 64 * 1024


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="three genres instead of all")
    parser.add_argument("--measure", choices=("rtf", "memory", "exports"), help=argparse.SUPPRESS)
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
            median = statistics.median(rtf.values())
            verdict = "met" if median >= RTF_TARGET_60 else "NOT met"
            print(f"{'':>8} target median RTF >= {RTF_TARGET_60:.0f}: {verdict}")
        if seconds in MEMORY_TARGETS_MB:
            target = MEMORY_TARGETS_MB[seconds]
            verdict = "met" if max(memory.values()) <= target else "NOT met"
            print(f"{'':>8} target peak <= {target:.0f} MB: {verdict}")
    _print_exports(genres)
    print(f"\nload average at end: {_load_average()}")


def _print_exports(genres: tuple[str, ...]) -> None:
    figures = {genre: _child("exports", genre, EXPORT_SECONDS) for genre in genres}
    print(f"\nExports of a {EXPORT_SECONDS:.0f} s track, CPU seconds and share of its render")
    print(
        f"{'genre':<10} {'render':>7} {'stems':>7} {'MIDI':>7} {'FLAC':>7} {'exports':>8}"
        f" {'WAV MB':>7} {'FLAC MB':>8} {'FLAC/WAV':>8}"
    )
    overheads = {}
    for genre, f in figures.items():
        exports = f["stems"] + f["midi"] + f["flac"]
        overheads[genre] = exports / f["render"]
        print(
            f"{genre:<10} {f['render']:>7.3f} {f['stems']:>7.3f} {f['midi']:>7.3f}"
            f" {f['flac']:>7.3f} {overheads[genre]:>8.0%} {f['wav_bytes'] / 1e6:>7.2f}"
            f" {f['flac_bytes'] / 1e6:>8.2f} {f['flac_bytes'] / f['wav_bytes']:>8.1%}"
        )
    median = statistics.median(overheads.values())
    verdict = "met" if median <= EXPORT_OVERHEAD_TARGET else "NOT met"
    print(
        f"median {median:.0%} (max {max(overheads.values()):.0%}, {max(overheads, key=overheads.__getitem__)})"
        f" of a render; target <= {EXPORT_OVERHEAD_TARGET:.0%}: {verdict}"
    )


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
    if measure == "exports":
        return _measure_exports(request)
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


def _measure_exports(request: MusicRequest) -> dict[str, float]:
    """CPU seconds of the render, then of each export made from it, and the files' sizes."""
    from beatbun.generation.composer.arrangement import arrange
    from beatbun.generation.composer.flac import FlacEncoder
    from beatbun.generation.composer.midi import midi_file
    from beatbun.generation.composer.prompt import resolve_plan
    from beatbun.generation.composer.provider import SAMPLE_RATE, Composer
    from beatbun.generation.composer.stems import render_stems

    wav = bytearray()
    started = time.process_time()
    Composer().compose(request, write=wav.extend)
    render = time.process_time() - started

    # Each export is made as the product makes it: from the plan, with the score arranged again.
    started = time.process_time()
    plan = resolve_plan(request, sample_rate=SAMPLE_RATE)
    for _ in render_stems(plan, arrange(plan)):
        pass
    stems = time.process_time() - started

    started = time.process_time()
    plan = resolve_plan(request, sample_rate=SAMPLE_RATE)
    midi_file(plan, arrange(plan))
    midi = time.process_time() - started

    data = memoryview(wav)[44:]
    started = time.process_time()
    encoder = FlacEncoder(
        sample_rate=SAMPLE_RATE, channels=2, frames=len(data) // 4, md5=hashlib.md5(data).digest()
    )
    flac_bytes = len(encoder.header())
    for first in range(0, len(data), FLAC_PIECE_BYTES):
        piece = np.frombuffer(data[first : first + FLAC_PIECE_BYTES], dtype="<i2")
        flac_bytes += len(encoder.encode(piece.reshape(-1, 2)))
    flac_bytes += len(encoder.finish())
    flac = time.process_time() - started
    return {
        "render": render,
        "stems": stems,
        "midi": midi,
        "flac": flac,
        "wav_bytes": float(len(wav)),
        "flac_bytes": float(flac_bytes),
    }


def _discard(piece: memoryview) -> None:
    """Where the WAV goes: nowhere, so only the render's own memory is measured."""


if __name__ == "__main__":
    main()
