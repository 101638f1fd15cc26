"""The mail provider's send rate, shared by every sender through one D1 row (`mail_rate`).

Requests flushing after their answer, the user's Durable Object and the cron all send through
the same provider account, whose limit counts them together (Resend: 2 requests per second per
team by default, `MAIL_RATE_PER_SECOND`). Time is cut into windows of whole seconds; the row
holds the current window's start and how many sends it has handed out, and a sender takes
slots with one batch (a transaction in D1): the row as it was, then the guarded UPDATE that
takes what is left. A slot is good only inside its window, and not in its last
`WINDOW_MARGIN_SECONDS`, so a send never lands in the next window's count.

After the provider answers 429, `hold_off` fills every window until its `Retry-After` has passed,
so every sender waits, not only the one that was told.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from beatbun.runtime.base import Database

# A slot taken this close to its window's end is not used: the send would arrive in the next.
WINDOW_MARGIN_SECONDS = 0.1


@dataclass(frozen=True)
class SendRate:
    """`per_window` sends in each window of `window_seconds` (a whole number of seconds)."""

    window_seconds: int
    per_window: int

    @classmethod
    def of(cls, per_second: float) -> SendRate:
        """The windows for `per_second` sends a second: 2.5 → 2 a second, 0.5 → 1 every 2 s."""
        if per_second <= 0:
            raise ValueError(f"A send rate must be above 0, not {per_second!r}.")
        window = 1 if per_second >= 1 else math.ceil(1 / per_second)
        return cls(window_seconds=window, per_window=max(1, math.floor(per_second * window)))

    def window_start(self, at: float) -> int:
        return math.floor(at / self.window_seconds) * self.window_seconds


@dataclass(frozen=True)
class Slots:
    """`granted` sends may go out before `usable_until`; `left` remain in the window after
    them; once none do, the next window opens at `retry_at`."""

    granted: int
    usable_until: float
    retry_at: float
    left: int = 0


async def take_slots(db: Database, rate: SendRate, *, wanted: int, now: float) -> Slots:
    """Take up to `wanted` sends from the current window; fewer (or none) when it is full."""
    start = rate.window_start(now)
    end = start + rate.window_seconds
    usable_until = end - WINDOW_MARGIN_SECONDS
    if now >= usable_until:
        # The window is nearly over: a send now would arrive in the next one.
        return Slots(granted=0, usable_until=usable_until, retry_at=end)
    before, _ = await db.batch(
        [
            db.prepare("SELECT window_start, used FROM mail_rate WHERE id = 1"),
            db.prepare(
                "UPDATE mail_rate SET used = CASE WHEN window_start = ? THEN used ELSE 0 END"
                " + MIN(?, ? - CASE WHEN window_start = ? THEN used ELSE 0 END), window_start = ?"
                " WHERE id = 1 AND (window_start < ? OR (window_start = ? AND used < ?))"
            ).bind(start, wanted, rate.per_window, start, start, start, start, rate.per_window),
        ]
    )
    row = before.results[0]
    held_from, used = int(row["window_start"] or 0), int(row["used"] or 0)
    if held_from > start:  # held off after a 429 until that window is over
        return Slots(granted=0, usable_until=usable_until, retry_at=held_from + rate.window_seconds)
    used_before = used if held_from == start else 0
    granted = max(0, min(wanted, rate.per_window - used_before))
    left = max(0, rate.per_window - used_before - granted)
    return Slots(granted=granted, usable_until=usable_until, retry_at=end, left=left)


async def hold_off(db: Database, rate: SendRate, *, until: float) -> None:
    """Let no sender take a slot before `until` (the provider's Retry-After)."""
    # The window ending at or after `until`, marked full: sending resumes once it is over.
    last_full = math.ceil(until / rate.window_seconds) * rate.window_seconds - rate.window_seconds
    await (
        db.prepare(
            "UPDATE mail_rate SET window_start = ?, used = ? WHERE id = 1 AND window_start <= ?"
        )
        .bind(last_full, rate.per_window, last_full)
        .run()
    )
