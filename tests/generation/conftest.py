from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from beatbun.generation.provider import MusicProvider
from beatbun.generation.queue import UserQueue
from beatbun.settings import Settings
from beatbun_local.migrations import apply_migrations
from beatbun_local.runtime import LocalRuntime
from tests.conftest import MIGRATIONS
from tests.fakes import ManualClock

# How many alarm rounds a job may need: start, run, and a few capacity retries.
MAX_ALARM_ROUNDS = 50


async def drain(
    runtime: LocalRuntime, *, clock: ManualClock | None = None, step: float = 0.0
) -> None:
    """Fire due alarms until none is due; with `step`, move the clock on between rounds."""
    for _ in range(MAX_ALARM_ROUNDS):
        upcoming = runtime.user_queues.next_alarm()
        if upcoming is None:
            return
        if upcoming > runtime.clock.now():
            if clock is None or step == 0:
                return
            clock.advance(step)
            continue
        await runtime.user_queues.run_due_alarms()
    raise AssertionError("Alarms kept coming due: a job never settled.")


def queue_with(provider: Callable[[], MusicProvider]) -> type[UserQueue]:
    """A UserQueue whose music provider is `provider()`: the third-party model's stand-in."""

    class QueueWithProvider(UserQueue):
        @contextlib.asynccontextmanager
        async def open_provider(self) -> AsyncIterator[MusicProvider]:
            yield provider()

    return QueueWithProvider


@pytest.fixture
def open_runtime(
    tmp_path: Path, settings: Settings, clock: ManualClock
) -> Callable[..., contextlib.AbstractAsyncContextManager[LocalRuntime]]:
    """Open a runtime on this test's state folder (again after a 'restart', with the same data)."""

    @contextlib.asynccontextmanager
    async def opened(
        *, user_queue: type[UserQueue] = UserQueue, settings: Settings = settings
    ) -> AsyncIterator[LocalRuntime]:
        runtime = LocalRuntime.open(
            tmp_path / "state", settings=settings, user_queue=user_queue, clock=clock
        )
        await apply_migrations(runtime.db, MIGRATIONS)
        try:
            yield runtime
        finally:
            runtime.close()

    return opened
