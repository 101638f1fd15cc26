"""Stand-ins for what cannot exist in a test: a clock that moves only when told."""

from __future__ import annotations


class ManualClock:
    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self._now = start

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += seconds
