"""How many entropy calls the top level may make (workerd: topLevelEntropy/allow_entropy.py).

As in workerd, `allow_bad_entropy_calls(n)` opens a window of exactly `n` getentropy() calls and the
innermost open window is the one in force; a call with no allowance left is refused. workerd also
fails when a window closes with calls left over; here every window is recorded instead, so the
guard can tell calls that CPython cannot see (Rust hash-map seeds) from missing ones.
"""

from __future__ import annotations

import errno
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Any


@dataclass
class Window:
    module: str | None
    context: str | None
    allowed: int
    used: int = 0


# Every window opened so far, in order; the open ones, innermost last.
WINDOWS: list[Window] = []
_OPEN: list[Window] = []
# (module, SDK context function) executing under an import patch, innermost last.
PATCHED: list[tuple[str, str]] = []


@contextmanager
def allow_bad_entropy_calls(n: int) -> Iterator[None]:
    module, context = PATCHED[-1] if PATCHED else (None, None)
    window = Window(module, context, n)
    WINDOWS.append(window)
    _OPEN.append(window)
    try:
        yield
    finally:
        _OPEN.pop()


def take_entropy(calls: int) -> None:
    """Account for `calls` getentropy() calls made at the top level."""
    for _ in range(calls):
        window = _OPEN[-1] if _OPEN else None
        if window is None or window.used >= window.allowed:
            raise OSError(errno.EIO, "Cannot get entropy outside of request context")
        window.used += 1


def windows() -> list[dict[str, Any]]:
    return [asdict(window) for window in WINDOWS]
