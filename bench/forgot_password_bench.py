"""Forgot-password timing: do known and unknown addresses answer in the same time?

    python bench/forgot_password_bench.py [--pairs 150]

Starts the real local server, writes `--pairs` accounts into its D1 file, then posts the
forgot-password form for a known and an unknown address in turn (known first and unknown
first alternately, so order cancels out) over one kept-alive connection. A known address has
its mail queued and sent after the response; the answer must not wait for it, or its time
would tell who has an account. Prints both medians and their gap, against the target: at most
20 % of the faster median.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))

from tests.conftest import LiveServer  # noqa: E402
from tests.web.forgot_password import Asker, interleaved, many_known, new_email  # noqa: E402

WARM_UP = 10
MAX_GAP = 0.20


def measure(pairs: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        server = LiveServer(Path(folder) / "state", Path(folder) / "server.log")
        server.start()
        try:
            known = many_known(server, pairs)
            asker = Asker(server)
            try:
                for _ in range(WARM_UP):
                    asker.ask(new_email())
                timings: dict[str, list[float]] = {"known": [], "unknown": []}
                for kind, email in interleaved(known):
                    timings[kind].append(asker.ask(email)[1])
                    time.sleep(0.02)  # let the after-response flush finish before the next one
            finally:
                asker.close()
        finally:
            server.stop()
    medians = {kind: statistics.median(values) for kind, values in timings.items()}
    gap = abs(medians["known"] - medians["unknown"]) / min(medians.values())
    verdict = "met" if gap <= MAX_GAP else "NOT met"
    print(f"Forgot-password answers over {pairs} pairs:")
    print(f"  known address:   median {medians['known'] * 1000:.2f} ms")
    print(f"  unknown address: median {medians['unknown'] * 1000:.2f} ms")
    print(f"  gap:             {gap:.1%} of the faster (target <= {MAX_GAP:.0%}: {verdict})")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=150)
    measure(parser.parse_args().pairs)
