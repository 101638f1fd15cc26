"""The published price of a track, in credits.

    cost = ceil(duration in seconds / 10) x (2 with lyrics, else 1)

So a 30-second instrumental costs 3 credits and a 2-minute song with lyrics costs 24. The
studio shows this before you submit and `GET /api/v1/pricing` returns it.
"""

from __future__ import annotations

import math

SECONDS_PER_CREDIT = 10
LYRICS_MULTIPLIER = 2

FORMULA = (
    f"ceil(duration_seconds / {SECONDS_PER_CREDIT}) x ({LYRICS_MULTIPLIER} with lyrics, else 1)"
)


def price_in_credits(*, duration_seconds: float, has_lyrics: bool) -> int:
    blocks = max(1, math.ceil(duration_seconds / SECONDS_PER_CREDIT))
    return blocks * (LYRICS_MULTIPLIER if has_lyrics else 1)
