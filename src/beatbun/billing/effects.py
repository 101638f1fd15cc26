"""What applying one webhook event does: D1 statements for one batch, and what follows it."""

from __future__ import annotations

from dataclasses import dataclass

from beatbun.runtime.base import Statement


@dataclass(frozen=True)
class Effect:
    statements: list[Statement]
    # Whether the batch ends with `apply_plan_statements` (the queue is told of a change).
    changes_plan_of: str | None = None
    # The account to tell that its renewal failed, once the batch is applied.
    renewal_failed_for: str | None = None
