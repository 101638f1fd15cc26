"""What the analytics keep: one page view as the page reports it, and the daily aggregates.

The studio's and the player's measurements have their own catalogue (`analytics.measurements`);
counts of the kinds earlier pages sent stay in the table and are no longer read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["page_view"]
KINDS: tuple[Kind, ...] = ("page_view",)


@dataclass(frozen=True)
class Event:
    """One page view: `label` is the path, `value` always 1."""

    kind: Kind
    label: str
    value: float


@dataclass(frozen=True)
class Count:
    day: str
    kind: Kind
    label: str
    events: int
    total: float


@dataclass(frozen=True)
class DailyVisitors:
    day: str
    visitors: int
