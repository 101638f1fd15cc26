"""Analytics on a local runtime: daily pseudonyms, salts that do not outlive their day, limits."""

from __future__ import annotations

import hashlib

import pytest

from beatbun.analytics.service import build_report, parse_event, record_event
from beatbun.errors import InvalidInput
from beatbun_local.runtime import LocalRuntime
from tests.fakes import ManualClock

DAY = 86400


async def _visit_on_two_days(runtime: LocalRuntime, clock: ManualClock) -> None:
    event = parse_event(kind="page_view", label="/", value=1)
    await record_event(runtime.db, visitor_id="v1", event=event, now=clock.now())
    clock.advance(DAY)
    await record_event(runtime.db, visitor_id="v1", event=event, now=clock.now())


async def _pseudonyms(runtime: LocalRuntime) -> list[str]:
    rows = (await runtime.db.prepare("SELECT pseudonym FROM analytics_visitors").all()).results
    return [str(row["pseudonym"]) for row in rows]


async def test_same_visitor_on_two_days_gets_unlinkable_pseudonyms(
    runtime: LocalRuntime, clock: ManualClock
) -> None:
    await _visit_on_two_days(runtime, clock)
    first, second = await _pseudonyms(runtime)
    # Neither the id itself nor its unsalted hash: only today's salt links a pseudonym to "v1".
    assert first != second
    assert not {first, second} & {"v1", hashlib.sha256(b"v1").hexdigest()}


async def test_a_new_day_deletes_the_previous_salt(
    runtime: LocalRuntime, clock: ManualClock
) -> None:
    await _visit_on_two_days(runtime, clock)
    salts = (await runtime.db.prepare("SELECT day FROM analytics_salts").all()).results
    assert len(salts) == 1


async def test_events_are_stored_as_daily_counts(runtime: LocalRuntime, clock: ManualClock) -> None:
    for visitor, seconds in (("v1", 12.0), ("v1", 8.0), ("v2", 4.0)):
        event = parse_event(kind="prompt_time", label="", value=seconds)
        await record_event(runtime.db, visitor_id=visitor, event=event, now=clock.now())
    report = await build_report(runtime.db, now=clock.now())
    (count,) = report.counts
    assert (count.kind, count.events, count.total) == ("prompt_time", 3, 24.0)
    assert [row.visitors for row in report.visitors] == [2]


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("clicks", 1.0),  # not a kind we count
        ("prompt_time", 0.0),  # nothing measured
        ("prompt_time", 7200.0),  # a box left open, not writing time
    ],
)
def test_parse_event_refuses_what_we_do_not_count(kind: str, value: float) -> None:
    with pytest.raises(InvalidInput):
        parse_event(kind=kind, label="", value=value)


def test_parse_event_caps_the_label() -> None:
    assert len(parse_event(kind="genre_click", label="x" * 500, value=1).label) == 64
