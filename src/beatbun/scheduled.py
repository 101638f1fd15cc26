"""The cron entry point, called by `Default.scheduled` on Workers and the local cron runner."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from beatbun.runtime.base import Runtime

ScheduledTask = Callable[[Runtime], Awaitable[None]]

# Domains add their periodic work here (expiring free-tier tracks, monthly grants, ...).
TASKS: tuple[ScheduledTask, ...] = ()


async def run_scheduled(runtime: Runtime, *, cron: str, scheduled_time: float) -> None:
    """Run every scheduled task, then record the run (operators see it in /healthz)."""
    for task in TASKS:
        await task(runtime)
    await (
        runtime.db.prepare(
            "INSERT INTO cron_runs (cron, scheduled_at, finished_at, tasks) VALUES (?, ?, ?, ?)"
        )
        .bind(cron, int(scheduled_time), int(runtime.clock.now()), len(TASKS))
        .run()
    )
