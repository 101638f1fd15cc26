"""The queue gives its turn up while a job renders: calls answer at once, state stays right."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, ClassVar, TypeVar

import pytest

from beatbun.billing.credits import get_wallet
from beatbun.billing.plans import FREE_PLAN
from beatbun.errors import Conflict
from beatbun.generation.composer.provider import Composer
from beatbun.generation.models import GenerationRequest, Job
from beatbun.generation.provider import (
    AudioSink,
    MusicProvider,
    MusicRequest,
    ProviderError,
    ProviderResult,
)
from beatbun.generation.queue import UserQueue
from beatbun.generation.service import (
    cancel_generation,
    get_generation,
    queue_snapshot,
    submit_generation,
)
from beatbun.runtime.actors import serve_alarm
from beatbun.runtime.base import ActorStorage, Runtime
from beatbun.tracks.retention import keep_tracks_statement
from beatbun.tracks.store import list_tracks
from beatbun_local.runtime import LocalRuntime
from tests.factories import create_verified_account
from tests.generation.conftest import drain, queue_with
from tests.tracks.conftest import make_tracks, set_plan

T = TypeVar("T")
SHORT = {"prompt": "chill lo-fi piano", "duration_seconds": 5, "seed": 7}
# How long the stand-in provider takes: long enough that every call below lands mid-render.
RENDER_SECONDS = 1.0
# Calls answer in a few milliseconds (see bench/queue_turn_bench.py); the bound is generous
# because this machine is shared, and still far below a render.
PROMPT_SECONDS = 0.2


class SlowProvider:
    """Takes `RENDER_SECONDS` (awaiting, as a remote model does), then the composer's track."""

    name = "slow"
    started: ClassVar[asyncio.Event]
    calls: ClassVar[int] = 0
    fail = False

    async def generate(
        self, request: MusicRequest, *, correlation_id: str, sink: AudioSink
    ) -> ProviderResult:
        type(self).calls += 1
        self.started.set()
        await asyncio.sleep(RENDER_SECONDS)
        if self.fail:
            raise ProviderError(
                "The model is down.", provider=self.name, retryable=False, code="provider_down"
            )
        return await Composer().generate(request, correlation_id=correlation_id, sink=sink)


class FailingSlowProvider(SlowProvider):
    fail = True


class SignallingComposer(Composer):
    """The built-in composer, telling the test when its (CPU-bound) render begins."""

    async def generate(
        self, request: MusicRequest, *, correlation_id: str, sink: AudioSink
    ) -> ProviderResult:
        SlowProvider.started.set()
        return await super().generate(request, correlation_id=correlation_id, sink=sink)


class SlowQueue(UserQueue):
    """A queue on `provider`, remembering its instances so a test can fire a second alarm."""

    provider: ClassVar[type[SlowProvider]] = SlowProvider
    instances: ClassVar[list[UserQueue]] = []

    def __init__(self, *, actor_id: str, storage: ActorStorage, runtime: Runtime) -> None:
        super().__init__(actor_id=actor_id, storage=storage, runtime=runtime)
        type(self).instances.append(self)

    @contextlib.asynccontextmanager
    async def open_provider(self) -> AsyncIterator[MusicProvider]:
        yield self.provider()


class FailingSlowQueue(SlowQueue):
    provider = FailingSlowProvider


@pytest.fixture(autouse=True)
def _fresh_provider_state() -> None:
    SlowProvider.started = asyncio.Event()
    SlowProvider.calls = 0
    SlowQueue.instances = []


@contextlib.asynccontextmanager
async def rendering(runtime: LocalRuntime) -> AsyncIterator[asyncio.Task[int]]:
    """Start the queued job, run it in the background, and yield once its render is under way."""
    await runtime.user_queues.run_due_alarms()  # the first alarm marks the job running
    run = asyncio.create_task(runtime.user_queues.run_due_alarms())
    await asyncio.wait_for(SlowProvider.started.wait(), timeout=5)
    try:
        yield run
        assert not run.done(), "the render ended before the calls were made"
    finally:
        await run


async def timed(call: Awaitable[T]) -> tuple[T, float]:
    started = time.perf_counter()
    result = await call
    return result, time.perf_counter() - started


async def _submit(runtime: LocalRuntime, account_id: str, seed: int = 7) -> Job:
    request = GenerationRequest.parse({**SHORT, "seed": seed})
    submission = await submit_generation(
        runtime, account_id=account_id, request=request, idempotency_key=None
    )
    return submission.job


async def _refunds(runtime: LocalRuntime, job_id: str) -> int:
    count = (
        await runtime.db.prepare(
            "SELECT count(*) AS n FROM credit_ledger WHERE kind = 'refund' AND job_id = ?"
        )
        .bind(job_id)
        .first("n")
    )
    return int(count)


async def test_enqueue_answers_promptly_while_a_job_renders(
    open_runtime: Callable[..., Any],
) -> None:
    async with open_runtime(user_queue=SlowQueue) as runtime:
        account = await create_verified_account(runtime)
        first = await _submit(runtime, account.id, seed=1)
        async with rendering(runtime):
            second, took = await timed(_submit(runtime, account.id, seed=2))
        assert took < PROMPT_SECONDS
        assert second.status == "queued"
        await drain(runtime)
        for job in (first, second):
            ended = await get_generation(runtime, account_id=account.id, job_id=job.id)
            assert ended.status == "succeeded"
        assert SlowProvider.calls == 2


async def test_snapshot_answers_promptly_while_a_job_renders(
    open_runtime: Callable[..., Any],
) -> None:
    async with open_runtime(user_queue=SlowQueue) as runtime:
        account = await create_verified_account(runtime)
        job = await _submit(runtime, account.id)
        async with rendering(runtime):
            snapshot, took = await timed(queue_snapshot(runtime, account_id=account.id))
        assert took < PROMPT_SECONDS
        assert snapshot["jobs"] == [{"job_id": job.id, "status": "running", "position": None}]


async def test_cancel_of_a_queued_job_answers_promptly_while_another_renders(
    open_runtime: Callable[..., Any],
) -> None:
    async with open_runtime(user_queue=SlowQueue) as runtime:
        account = await create_verified_account(runtime)
        await _submit(runtime, account.id, seed=1)
        waiting = await _submit(runtime, account.id, seed=2)  # the free plan runs one at a time
        async with rendering(runtime):
            canceled, took = await timed(
                cancel_generation(runtime, account_id=account.id, job_id=waiting.id)
            )
        assert took < PROMPT_SECONDS
        assert canceled.status == "canceled"
        await drain(runtime)
        assert await _refunds(runtime, waiting.id) == 1
        assert SlowProvider.calls == 1


async def test_cancel_of_the_rendering_job_is_refused_promptly(
    open_runtime: Callable[..., Any],
) -> None:
    async with open_runtime(user_queue=SlowQueue) as runtime:
        account = await create_verified_account(runtime)
        job = await _submit(runtime, account.id)
        async with rendering(runtime):
            started = time.perf_counter()
            with pytest.raises(Conflict) as raised:
                await cancel_generation(runtime, account_id=account.id, job_id=job.id)
            took = time.perf_counter() - started
        assert took < PROMPT_SECONDS
        assert raised.value.code == "already_started"
        await drain(runtime)
        ended = await get_generation(runtime, account_id=account.id, job_id=job.id)
        assert ended.status == "succeeded"
        assert await _refunds(runtime, job.id) == 0


async def test_failing_job_under_concurrent_cancels_ends_once_with_one_refund(
    open_runtime: Callable[..., Any],
) -> None:
    async with open_runtime(user_queue=FailingSlowQueue) as runtime:
        account = await create_verified_account(runtime)
        job = await _submit(runtime, account.id)
        async with rendering(runtime):
            outcomes = await asyncio.gather(
                *(
                    cancel_generation(runtime, account_id=account.id, job_id=job.id)
                    for _ in range(10)
                ),
                return_exceptions=True,
            )
        assert all(isinstance(outcome, Conflict) for outcome in outcomes)
        await drain(runtime)
        ended = await get_generation(runtime, account_id=account.id, job_id=job.id)
        assert (ended.status, ended.error_code) == ("failed", "provider_down")
        assert await _refunds(runtime, job.id) == 1
        assert (await get_wallet(runtime.db, account.id)).balance == FREE_PLAN.monthly_credits
        snapshot = await queue_snapshot(runtime, account_id=account.id)
        ends = [
            event
            for event in await runtime.user_queues.get(
                runtime.user_queues.id_from_name(account.id)
            ).call("events_since", 0)
            if event["type"] == "failed"
        ]
        assert snapshot["jobs"] == [] and len(ends) == 1


async def test_concurrent_cancels_of_a_queued_job_refund_once_while_another_renders(
    open_runtime: Callable[..., Any],
) -> None:
    async with open_runtime(user_queue=SlowQueue) as runtime:
        account = await create_verified_account(runtime)
        await _submit(runtime, account.id, seed=1)
        waiting = await _submit(runtime, account.id, seed=2)
        async with rendering(runtime):
            outcomes = await asyncio.gather(
                *(
                    cancel_generation(runtime, account_id=account.id, job_id=waiting.id)
                    for _ in range(10)
                )
            )
        assert {outcome.status for outcome in outcomes} == {"canceled"}
        await drain(runtime)
        assert await _refunds(runtime, waiting.id) == 1


async def test_second_alarm_during_a_render_neither_waits_nor_runs_the_job_again(
    open_runtime: Callable[..., Any],
) -> None:
    async with open_runtime(user_queue=SlowQueue) as runtime:
        account = await create_verified_account(runtime)
        job = await _submit(runtime, account.id)
        async with rendering(runtime):
            # What Cloudflare would do if it fired the alarm again while the first one runs.
            (queue,) = SlowQueue.instances
            _, took = await timed(serve_alarm(queue))
            rows = queue.storage.sql("SELECT status, attempts FROM queue WHERE id = ?", job.id)
        assert took < PROMPT_SECONDS
        assert rows == [{"status": "running", "attempts": 1}]
        await drain(runtime)
        ended = await get_generation(runtime, account_id=account.id, job_id=job.id)
        assert ended.status == "succeeded" and SlowProvider.calls == 1


async def test_calls_answer_promptly_while_kept_audio_moves(
    open_runtime: Callable[..., Any],
) -> None:
    async with open_runtime(user_queue=queue_with(Composer)) as runtime:
        account = await create_verified_account(runtime)
        made = await make_tracks(runtime, account_id=account.id, count=3)
        await set_plan(runtime, account_id=account.id, plan="creator")
        await keep_tracks_statement(runtime.db, account_id=account.id).run()
        moving = asyncio.Event()
        read = runtime.blobs.stream

        async def slow_read(key: str, *args: Any, **kwargs: Any) -> Any:
            moving.set()
            await asyncio.sleep(0.3)  # about 1 s for the three tracks
            return await read(key, *args, **kwargs)

        runtime.blobs.stream = slow_read
        queue = runtime.user_queues.get(runtime.user_queues.id_from_name(account.id))
        await queue.call("plan_changed", account.id, "creator")
        move = asyncio.create_task(runtime.user_queues.run_due_alarms())
        await asyncio.wait_for(moving.wait(), timeout=5)
        _, asked_again = await timed(queue.call("plan_changed", account.id, "creator"))
        job, enqueued = await timed(_submit(runtime, account.id, seed=9))
        assert not move.done(), "the move ended before the calls were made"
        await move
        assert asked_again < PROMPT_SECONDS and enqueued < PROMPT_SECONDS
        await drain(runtime)
        tracks = await list_tracks(runtime.db, account_id=account.id)
        moved = {track.id for track in tracks if track.id in {m.id for m in made}}
        assert moved == {m.id for m in made}
        assert {track.retention for track in tracks} == {"paid"}
        ended = await get_generation(runtime, account_id=account.id, job_id=job.id)
        assert ended.status == "succeeded"
        assert runtime.user_queues.next_alarm() is None  # no move left to do


async def test_paid_plan_renders_two_jobs_at_once_and_still_answers(
    open_runtime: Callable[..., Any],
) -> None:
    async with open_runtime(user_queue=SlowQueue) as runtime:
        account = await create_verified_account(runtime)
        await set_plan(runtime, account_id=account.id, plan="creator")  # two at once
        jobs = [await _submit(runtime, account.id, seed=seed) for seed in (1, 2)]
        async with rendering(runtime):
            await asyncio.sleep(0.05)
            assert SlowProvider.calls == 2
            started = time.perf_counter()
            with pytest.raises(Conflict):
                await cancel_generation(runtime, account_id=account.id, job_id=jobs[1].id)
            took = time.perf_counter() - started
        assert took < PROMPT_SECONDS
        await drain(runtime)
        for job in jobs:
            ended = await get_generation(runtime, account_id=account.id, job_id=job.id)
            assert ended.status == "succeeded"
        assert SlowProvider.calls == 2


async def test_composer_render_leaves_the_local_event_loop_free(
    open_runtime: Callable[..., Any],
) -> None:
    async with open_runtime(user_queue=queue_with(SignallingComposer)) as runtime:
        account = await create_verified_account(runtime)
        request = GenerationRequest.parse({**SHORT, "duration_seconds": 300})  # a second or two
        submission = await submit_generation(
            runtime, account_id=account.id, request=request, idempotency_key=None
        )
        async with rendering(runtime):
            snapshot, took = await timed(queue_snapshot(runtime, account_id=account.id))
            with pytest.raises(Conflict):
                await cancel_generation(runtime, account_id=account.id, job_id=submission.job.id)
        assert took < PROMPT_SECONDS
        assert [job["status"] for job in snapshot["jobs"]] == ["running"]
