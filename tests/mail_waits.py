"""Waiting for queued mail: the live server sends it after answering, not before."""

from __future__ import annotations

import time
from pathlib import Path

from tests.visitors import outbox


def wait_for_mail(state_dir: Path, to: str, *, count: int = 1, timeout: float = 10.0) -> list[str]:
    """The bodies mailed to `to` once there are at least `count` (AssertionError after `timeout`)."""
    deadline = time.monotonic() + timeout
    while True:
        bodies = outbox(state_dir, to)
        if len(bodies) >= count or time.monotonic() > deadline:
            break
        time.sleep(0.02)
    assert len(bodies) >= count, f"{len(bodies)} mail(s) to {to}, expected {count}"
    return bodies
