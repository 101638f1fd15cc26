"""Analytics on a local runtime: daily pseudonyms, salts that do not outlive their day, limits."""

from __future__ import annotations

import hashlib

import pytest

from beatbun.analytics.measurements import (
    CATALOGUE,
    Bucket,
    Measure,
    bucket_of,
    parse_measurements,
    quantile,
    record_measurements,
)
from beatbun.analytics.service import build_report, parse_event, record_event
from beatbun.consent.registry import CATEGORY_DESCRIPTIONS
from beatbun.errors import InvalidInput
from beatbun_local.runtime import LocalRuntime
from tests.fakes import ManualClock

DAY = 86400


async def _visit_on_two_days(runtime: LocalRuntime, clock: ManualClock) -> None:
    event = parse_event(kind="page_view", label="/")
    await record_event(runtime.db, visitor_id="v1", account=None, event=event, now=clock.now())
    clock.advance(DAY)
    await record_event(runtime.db, visitor_id="v1", account=None, event=event, now=clock.now())


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


async def test_page_views_are_stored_as_daily_counts(
    runtime: LocalRuntime, clock: ManualClock
) -> None:
    for visitor in ("v1", "v1", "v2"):
        event = parse_event(kind="page_view", label="/pricing")
        await record_event(
            runtime.db, visitor_id=visitor, account=None, event=event, now=clock.now()
        )
    report = await build_report(runtime.db, now=clock.now())
    (count,) = report.counts
    assert (count.kind, count.label, count.events) == ("page_view", "/pricing", 3)
    assert [row.visitors for row in report.visitors] == [2]


@pytest.mark.parametrize(
    "kind",
    [
        "clicks",  # not a kind we count
        "genre_click",  # measured by the studio now, through the measurement catalogue
    ],
)
def test_parse_event_refuses_what_we_do_not_count(kind: str) -> None:
    with pytest.raises(InvalidInput):
        parse_event(kind=kind, label="")


def test_parse_event_caps_the_label() -> None:
    assert len(parse_event(kind="page_view", label="x" * 500).label) == 64


@pytest.mark.parametrize(
    ("label", "stored"),
    [
        ("/parent/" + "A" * 43, "/parent/"),
        (" /parent/declined", "/parent/"),
        ("/s/" + "b" * 22, "/s/"),
        ("/studio", "/studio"),
    ],
)
def test_parse_event_keeps_no_token_of_a_secret_path(label: str, stored: str) -> None:
    assert parse_event(kind="page_view", label=label).label == stored


async def test_measurements_share_the_page_views_daily_pseudonym(
    runtime: LocalRuntime, clock: ManualClock
) -> None:
    await record_event(
        runtime.db,
        visitor_id="v1",
        account=None,
        event=parse_event(kind="page_view", label="/"),
        now=clock.now(),
    )
    measured = parse_measurements([{"name": "player_start_ms", "value": 120}])
    await record_measurements(
        runtime.db, visitor_id="v1", account=None, measurements=measured, now=clock.now()
    )
    assert len(await _pseudonyms(runtime)) == 1


@pytest.mark.parametrize(
    ("value", "bucket"),
    [
        (0.4, 0),  # below a millisecond
        (1, 1),
        (2, 9),  # one doubling: eight buckets on
        (1000, 80),
    ],
)
def test_bucket_of_counts_eight_buckets_per_doubling(value: float, bucket: int) -> None:
    assert bucket_of(value) == bucket


def test_quantile_reads_the_bucket_holding_the_rank() -> None:
    buckets = [
        Bucket(name="download_ms", label="", bucket=bucket_of(100), events=8, total=800.0),
        Bucket(name="download_ms", label="", bucket=bucket_of(4000), events=2, total=8200.0),
    ]
    assert quantile(buckets, 0.5) == 100.0
    assert quantile(buckets, 0.9) == 4100.0
    assert quantile([], 0.5) is None


@pytest.mark.parametrize("measure", CATALOGUE.values(), ids=list(CATALOGUE))
def test_cookie_policy_names_every_measurement(measure: Measure) -> None:
    described = " ".join(CATEGORY_DESCRIPTIONS["performance"].split())
    assert measure.disclosed_as in described
