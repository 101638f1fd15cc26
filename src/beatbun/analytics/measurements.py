"""What the studio and the player measure: a fixed catalogue, kept as daily bucket counts.

A measurement is a name from `CATALOGUE`, a value within that name's bounds and, for some
names, a label (a genre key, or a download's size class). Values are counted into buckets of
a logarithmic scale (`BUCKETS_PER_DOUBLING` per doubling) per day, name and label, with their
sum: the daily counts the cookie policy promises, from which a median or a 90th percentile is
read back to within one bucket (at most 9 % apart) and exactly when a bucket holds one value.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from beatbun.accounts.models import Account
from beatbun.analytics.service import day_of, visitor_statement
from beatbun.errors import InvalidInput
from beatbun.generation.catalogue import GENRES
from beatbun.i18n import N_
from beatbun.privacy.purposes import may_measure
from beatbun.runtime.base import Database

Name = Literal[
    "genre_tag_click",
    "prompt_dwell_ms",
    "player_start_ms",
    "player_stall_ms",
    "download_ms",
    "download_bytes",
]
LabelKind = Literal["none", "genre", "start", "size"]
BUCKETS_PER_DOUBLING = 8
MAX_BATCH = 50
# A download's size class as the player names it ("under_1mb", "10_50mb"): a short token,
# never text.
SIZE_LABEL = re.compile(r"[a-z0-9][a-z0-9_.+<>-]{0,23}")
# The player's first start of a track, or a start after a pause or a seek.
START_LABELS = frozenset({"", "first", "resume"})


@dataclass(frozen=True)
class Measure:
    """One catalogue entry: accepted values are `low`..`high`, labels of kind `labels`.

    `disclosed_as` is how the cookie policy's performance category names it; a guard test
    keeps the two together, so nothing is measured that the policy does not name.
    """

    name: Name
    low: float
    high: float
    labels: LabelKind
    disclosed_as: str


CATALOGUE: dict[str, Measure] = {
    measure.name: measure
    for measure in (
        # One click on one genre chip: the label is the genre's key.
        Measure("genre_tag_click", 1, 1, "genre", "clicks on genre tags"),
        # A prompt box left open over lunch says nothing about writing time; 0 is a prompt
        # submitted as it was filled in (from a link or a track's settings).
        Measure(
            "prompt_dwell_ms",
            0,
            30 * 60_000,
            "none",
            "time spent in the prompt box before submitting",
        ),
        Measure("player_start_ms", 0, 120_000, "start", "how long the player takes to start"),
        Measure("player_stall_ms", 0, 600_000, "none", "how long it stalls"),
        Measure("download_ms", 0, 3_600_000, "size", "how long downloads take"),
        Measure("download_bytes", 1, 1_000_000_000, "size", "how large they are"),
    )
}


@dataclass(frozen=True)
class Measurement:
    name: Name
    label: str
    value: float


@dataclass(frozen=True)
class Bucket:
    """Values of one name and label in one bucket over the report's days."""

    name: Name
    label: str
    bucket: int
    events: int
    total: float


def parse_measurements(items: Sequence[Mapping[str, object]]) -> list[Measurement]:
    """Validate a batch as the page sent it; one bad item refuses the whole batch.

    Raises InvalidInput with code `too_many_measurements`, `unknown_measurement`,
    `measurement_out_of_range` or `invalid_measurement_label`.
    """
    if len(items) > MAX_BATCH:
        raise InvalidInput(
            N_("A batch holds at most %(limit)s measurements, not %(count)s."),
            code="too_many_measurements",
            field="measurements",
            params={"limit": MAX_BATCH, "count": len(items)},
        )
    return [_parse(item) for item in items]


def bucket_of(value: float) -> int:
    """The bucket a value falls in: 0 below 1, then `BUCKETS_PER_DOUBLING` per doubling."""
    if value < 1:
        return 0
    return 1 + math.floor(BUCKETS_PER_DOUBLING * math.log2(value))


async def record_measurements(
    db: Database,
    *,
    visitor_id: str,
    account: Account | None,
    measurements: Sequence[Measurement],
    now: float,
) -> None:
    """Count a batch for today, and the visitor under today's pseudonym as page views are.

    Nothing is recorded for an `account` that `may_measure` refuses, as with page views.
    """
    if not measurements or not may_measure(account):
        return
    day = day_of(now)
    grouped: dict[tuple[Name, str, int], tuple[int, float]] = {}
    for item in measurements:
        key = (item.name, item.label, bucket_of(item.value))
        events, total = grouped.get(key, (0, 0.0))
        grouped[key] = (events + 1, total + item.value)
    statements = [await visitor_statement(db, day=day, visitor_id=visitor_id)]
    statements += [
        db.prepare(
            "INSERT INTO analytics_measurements (day, name, label, bucket, events, total)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (day, name, label, bucket) DO UPDATE SET"
            " events = events + excluded.events, total = total + excluded.total"
        ).bind(day, name, label, bucket, events, total)
        for (name, label, bucket), (events, total) in grouped.items()
    ]
    await db.batch(statements)


async def list_buckets(db: Database, *, since: str) -> list[Bucket]:
    rows = (
        await db.prepare(
            "SELECT name, label, bucket, SUM(events) AS events, SUM(total) AS total"
            " FROM analytics_measurements WHERE day >= ? GROUP BY name, label, bucket"
            " ORDER BY name, label, bucket"
        )
        .bind(since)
        .all()
    ).results
    return [
        Bucket(
            name=CATALOGUE[str(row["name"])].name,
            label=str(row["label"]),
            bucket=int(row["bucket"] or 0),
            events=int(row["events"] or 0),
            total=float(row["total"] or 0),
        )
        for row in rows
        if str(row["name"]) in CATALOGUE
    ]


def quantile(buckets: Sequence[Bucket], q: float) -> float | None:
    """The `q` quantile (nearest rank) as the mean of the bucket holding it; None when empty."""
    ordered = sorted(buckets, key=lambda b: b.bucket)
    count = sum(b.events for b in ordered)
    if count == 0:
        return None
    rank = max(1, math.ceil(q * count))
    seen = 0
    for b in ordered:
        seen += b.events
        if seen >= rank:
            return b.total / b.events
    return ordered[-1].total / ordered[-1].events


def _parse(item: Mapping[str, object]) -> Measurement:
    name = str(item.get("name", ""))
    measure = CATALOGUE.get(name)
    if measure is None:
        raise InvalidInput(
            N_("Measurement %(name)s is not one we count."),
            code="unknown_measurement",
            field="name",
            params={"name": repr(name[:64])},
        )
    value = item.get("value")
    if (
        not isinstance(value, int | float)
        or isinstance(value, bool)
        or not math.isfinite(value)
        or not measure.low <= value <= measure.high
    ):
        raise InvalidInput(
            N_("Measurement %(name)s takes values from %(low)s to %(high)s, not %(value)s."),
            code="measurement_out_of_range",
            field="value",
            params={
                "name": name,
                "low": f"{measure.low:g}",
                "high": f"{measure.high:g}",
                "value": repr(value)[:32],
            },
        )
    label = str(item.get("label") or "")
    if not _label_fits(measure.labels, label):
        raise InvalidInput(
            N_("Measurement %(name)s cannot take the label %(label)s."),
            code="invalid_measurement_label",
            field="label",
            params={"name": name, "label": repr(label[:64])},
        )
    return Measurement(name=measure.name, label=label, value=float(value))


def _label_fits(kind: LabelKind, label: str) -> bool:
    if kind == "genre":
        return label in GENRES
    if kind == "start":
        return label in START_LABELS
    if kind == "size":
        return label == "" or SIZE_LABEL.fullmatch(label) is not None
    return label == ""
