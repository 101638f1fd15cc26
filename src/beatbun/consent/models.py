"""What consent is made of: the categories, one recorded choice, and a request's effective state."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Category = Literal["necessary", "performance", "functionality", "marketing"]
Source = Literal["banner", "preferences", "gpc", "sync"]
CATEGORIES: tuple[Category, ...] = ("necessary", "performance", "functionality", "marketing")
SOURCES: tuple[Source, ...] = ("banner", "preferences", "gpc", "sync")


@dataclass(frozen=True)
class Choice:
    performance: bool = False
    functionality: bool = False
    marketing: bool = False

    @classmethod
    def everything(cls) -> Choice:
        return cls(performance=True, functionality=True, marketing=True)

    def allows(self, category: Category) -> bool:
        return category == "necessary" or bool(getattr(self, category))


@dataclass(frozen=True)
class ConsentRecord:
    """One row of the append-only log: what `subject` chose, under which policy, and how."""

    id: str
    subject: str
    policy_version: str
    choice: Choice
    source: Source
    # The visitor opted into marketing after being told it overrides their browser's GPC signal.
    gpc_override: bool
    recorded_at: float
    # When the person made this choice; a 'sync' or 'gpc' record carries its origin's time.
    given_at: float


@dataclass(frozen=True)
class ConsentState:
    """A request's consent: the record in force (None asks again) and the browser's GPC signal."""

    record: ConsentRecord | None
    gpc: bool

    @property
    def needs_prompt(self) -> bool:
        return self.record is None

    @property
    def gpc_honored(self) -> bool:
        """GPC switches marketing off unless the visitor knowingly opted back in."""
        return self.gpc and not (self.record is not None and self.record.gpc_override)

    def allows(self, category: Category) -> bool:
        if category == "necessary":
            return True
        if self.record is None or (category == "marketing" and self.gpc_honored):
            return False
        return self.record.choice.allows(category)

    @property
    def allowed(self) -> tuple[Category, ...]:
        return tuple(category for category in CATEGORIES if self.allows(category))
