"""The wall clock, behind the `Clock` interface so tests can move time."""

from __future__ import annotations

import time


class SystemClock:
    def now(self) -> float:
        # On Workers time.time() advances only across I/O, which is all a request needs.
        return time.time()
