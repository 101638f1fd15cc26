"""What the analytics keep: one event as the page reports it, and the daily aggregates."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["page_view", "genre_click", "prompt_time", "buffering"]
KINDS: tuple[Kind, ...] = ("page_view", "genre_click", "prompt_time", "buffering")


@dataclass(frozen=True)
class Event:
    """One measurement: `value` is seconds for prompt_time and 1 for everything else."""

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
