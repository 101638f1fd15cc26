from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, ClassVar, cast

import pytest

from beatbun.errors import CoordinatorError
from beatbun.runtime.actors import Actor
from beatbun.runtime.base import ActorStorage, Runtime
from beatbun_local.actors import LocalActorNamespace
from tests.fakes import ManualClock


class Counter(Actor):
    RPC_METHODS: ClassVar[frozenset[str]] = frozenset(
        {"add", "total", "echo", "slow_add", "wake_in"}
    )
    alarms_seen: ClassVar[list[str]] = []

    def _table(self) -> None:
        self.storage.sql("CREATE TABLE IF NOT EXISTS n (v INTEGER)")

    async def add(self, amount: int) -> int:
        self._table()
        self.storage.sql("INSERT INTO n VALUES (?)", amount)
        return await self.total()

    async def slow_add(self, amount: int) -> int:
        # Read, yield to the event loop, write: a lost update unless calls are serialized.
        current = await self.total()
        await asyncio.sleep(0.01)
        self._table()
        self.storage.sql("DELETE FROM n")
        self.storage.sql("INSERT INTO n VALUES (?)", current + amount)
        return current + amount

    async def total(self) -> int:
        self._table()
        return int(self.storage.sql("SELECT coalesce(sum(v), 0) AS t FROM n")[0]["t"])  # type: ignore[arg-type]

    async def echo(self, value: Any) -> Any:
        return value

    async def wake_in(self, seconds: float) -> None:
        await self.storage.set_alarm(self.runtime.clock.now() + seconds)

    async def alarm(self) -> None:
        Counter.alarms_seen.append(self.actor_id)


@pytest.fixture(autouse=True)
def _reset_counters() -> None:
    Counter.alarms_seen = []
    Flaky.failures = 0


@pytest.fixture
def namespace(tmp_path: Path, clock: ManualClock, runtime: Runtime) -> LocalActorNamespace:
    return LocalActorNamespace(Counter, tmp_path / "do", clock=clock, runtime=lambda: runtime)


async def test_id_from_name_is_stable_and_distinct(namespace: LocalActorNamespace) -> None:
    assert namespace.id_from_name("u1") == namespace.id_from_name("u1")
    assert namespace.id_from_name("u1") != namespace.id_from_name("u2")
    assert len(namespace.id_from_name("u1")) == 64


async def test_one_instance_per_id(namespace: LocalActorNamespace) -> None:
    u1 = namespace.get(namespace.id_from_name("u1"))
    assert await u1.call("add", 2) == 2
    assert await namespace.get(namespace.id_from_name("u1")).call("add", 3) == 5
    assert await namespace.get(namespace.id_from_name("u2")).call("total") == 0


async def test_calls_to_one_object_are_serialized(namespace: LocalActorNamespace) -> None:
    stub = namespace.get(namespace.id_from_name("u1"))
    await asyncio.gather(*(stub.call("slow_add", 1) for _ in range(20)))
    assert await stub.call("total") == 20


async def test_undeclared_method_is_refused(namespace: LocalActorNamespace) -> None:
    with pytest.raises(CoordinatorError, match="no callable method '_table'"):
        await namespace.get(namespace.id_from_name("u1")).call("_table")


@pytest.mark.parametrize("value", [(1, 2), bytearray(b"x"), {1, 2}])
async def test_unsendable_arguments_raise_type_error(
    namespace: LocalActorNamespace, value: Any
) -> None:
    with pytest.raises(TypeError, match="cannot be sent over RPC"):
        await namespace.get(namespace.id_from_name("u1")).call("echo", value)


async def test_bytes_arrive_as_memoryview(namespace: LocalActorNamespace) -> None:
    result = await namespace.get(namespace.id_from_name("u1")).call("echo", {"b": b"\x01"})
    assert isinstance(result["b"], memoryview) and bytes(result["b"]) == b"\x01"


async def test_storage_survives_restart(
    tmp_path: Path, clock: ManualClock, runtime: Runtime
) -> None:
    first = LocalActorNamespace(Counter, tmp_path / "do", clock=clock, runtime=lambda: runtime)
    await first.get(first.id_from_name("u1")).call("add", 7)
    first.close()
    second = LocalActorNamespace(Counter, tmp_path / "do", clock=clock, runtime=lambda: runtime)
    assert await second.get(second.id_from_name("u1")).call("total") == 7


async def test_alarm_fires_when_clock_reaches_it(
    namespace: LocalActorNamespace, clock: ManualClock
) -> None:
    actor_id = namespace.id_from_name("u1")
    await namespace.get(actor_id).call("wake_in", 60)
    assert await namespace.run_due_alarms() == 0
    clock.advance(61)
    assert await namespace.run_due_alarms() == 1
    assert Counter.alarms_seen == [actor_id]
    assert await namespace.run_due_alarms() == 0  # an alarm fires once


async def test_pending_alarm_survives_restart(
    tmp_path: Path, clock: ManualClock, runtime: Runtime
) -> None:
    first = LocalActorNamespace(Counter, tmp_path / "do", clock=clock, runtime=lambda: runtime)
    actor_id = first.id_from_name("u1")
    await first.get(actor_id).call("wake_in", 10)
    first.close()
    clock.advance(11)
    second = LocalActorNamespace(Counter, tmp_path / "do", clock=clock, runtime=lambda: runtime)
    assert await second.run_due_alarms() == 1
    assert Counter.alarms_seen == [actor_id]


class Flaky(Counter):
    failures: ClassVar[int] = 0

    async def alarm(self) -> None:
        Flaky.failures += 1
        raise RuntimeError("provider down")


async def test_failing_alarm_is_retried_with_backoff(
    tmp_path: Path, clock: ManualClock, runtime: Runtime
) -> None:
    namespace = LocalActorNamespace(Flaky, tmp_path / "do", clock=clock, runtime=lambda: runtime)
    actor_id = namespace.id_from_name("u1")
    await namespace.get(actor_id).call("wake_in", 0)
    await namespace.run_due_alarms()
    assert Flaky.failures == 1
    assert namespace.next_alarm() == pytest.approx(clock.now() + 2)
    clock.advance(2)
    await namespace.run_due_alarms()
    assert Flaky.failures == 2
    assert namespace.next_alarm() == pytest.approx(clock.now() + 4)


class Reader(Counter):
    READ_ONLY_METHODS: ClassVar[frozenset[str]] = frozenset({"total"})


async def test_read_only_calls_do_not_wait_for_a_slow_call(
    tmp_path: Path, clock: ManualClock, runtime: Runtime
) -> None:
    namespace = LocalActorNamespace(Reader, tmp_path / "do", clock=clock, runtime=lambda: runtime)
    stub = namespace.get(namespace.id_from_name("u1"))
    await stub.call("add", 1)
    slow = asyncio.create_task(stub.call("slow_add", 1))
    await asyncio.sleep(0)  # the slow call holds the lock and is awaiting
    assert await asyncio.wait_for(stub.call("total"), timeout=0.005) == 1
    assert await slow == 2


class Patient(Counter):
    """An alarm that awaits slow work outside its turn, and one that waits for other objects."""

    slow_ids: ClassVar[set[str]] = set()

    async def alarm(self) -> None:
        if self.actor_id in Patient.slow_ids:
            async with self.outside_turn():
                await asyncio.sleep(0.5)
        Counter.alarms_seen.append(self.actor_id)


@pytest.fixture
def patient(tmp_path: Path, clock: ManualClock, runtime: Runtime) -> LocalActorNamespace:
    Patient.slow_ids = set()
    return LocalActorNamespace(Patient, tmp_path / "do", clock=clock, runtime=lambda: runtime)


async def test_exclusive_call_runs_while_the_alarm_is_outside_its_turn(
    patient: LocalActorNamespace,
) -> None:
    actor_id = patient.id_from_name("u1")
    Patient.slow_ids = {actor_id}
    await patient.get(actor_id).call("wake_in", 0)
    alarm = asyncio.create_task(patient.run_due_alarms())
    await asyncio.sleep(0.05)
    assert await asyncio.wait_for(patient.get(actor_id).call("add", 1), timeout=0.2) == 1
    assert not alarm.done()
    assert await alarm == 1 and Counter.alarms_seen == [actor_id]


async def test_one_objects_long_alarm_holds_up_no_other_object(
    patient: LocalActorNamespace, clock: ManualClock
) -> None:
    slow, quick = patient.id_from_name("slow"), patient.id_from_name("quick")
    Patient.slow_ids = {slow}
    await patient.get(slow).call("wake_in", 0)
    await patient.get(quick).call("wake_in", 0.5)
    clock.advance(1)
    assert await patient.run_due_alarms() == 2
    assert Counter.alarms_seen == [quick, slow]


async def test_object_in_its_alarm_is_not_fired_again_meanwhile(
    patient: LocalActorNamespace,
) -> None:
    actor_id = patient.id_from_name("u1")
    Patient.slow_ids = {actor_id}
    await patient.get(actor_id).call("wake_in", 0)
    first = asyncio.create_task(patient.run_due_alarms())
    await asyncio.sleep(0.05)
    await patient.get(actor_id).call("wake_in", 0)  # set again while the handler runs
    assert patient.next_alarm() is None
    assert await patient.run_due_alarms() == 0
    assert await first == 1
    assert await patient.run_due_alarms() == 1  # fires once the first handler has returned


async def test_outside_turn_without_the_turn_is_refused(runtime: Runtime) -> None:
    # Storage is never reached: the actor refuses before it does anything.
    actor = Patient(actor_id="a" * 64, storage=cast(ActorStorage, None), runtime=runtime)
    with pytest.raises(RuntimeError, match="needs the turn"):
        async with actor.outside_turn():
            pass


async def test_alarm_set_for_now_fires_without_waiting_out_the_idle_sleep(
    namespace: LocalActorNamespace,
) -> None:
    stop = asyncio.Event()
    loop = asyncio.create_task(namespace.run_alarm_loop(stop, idle_seconds=30))
    await asyncio.sleep(0.05)  # the loop is now asleep, with nothing due
    actor_id = namespace.id_from_name("u1")
    await namespace.get(actor_id).call("wake_in", 0)
    try:
        for _ in range(50):
            if Counter.alarms_seen:
                break
            await asyncio.sleep(0.01)
        assert Counter.alarms_seen == [actor_id]
    finally:
        stop.set()
        await loop
