"""Waiting for queued mail: the live server sends it after answering, not before."""

from __future__ import annotations

from pathlib import Path

from tests.visitors import outbox


def wait_for_mail(state_dir: Path, to: str, *, count: int = 1, timeout: float = 10.0) -> list[str]:
    """The bodies mailed to `to` once there are at least `count` (AssertionError after `timeout`)."""
    bodies = outbox(state_dir, to, at_least=count, timeout=timeout)
    assert len(bodies) >= count, f"{len(bodies)} mail(s) to {to}, expected {count}"
    return bodies
