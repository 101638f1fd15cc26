"""The published price of a track, in credits.

    cost = ceil(duration in seconds / 10) x (2 with lyrics, else 1)

So a 30-second instrumental costs 3 credits and a 2-minute song with lyrics costs 24. The
studio shows this before you submit and `GET /api/v1/pricing` returns it.

Extending a track costs what its added seconds would cost as a track of their own (30 s more
cost 3 credits, whatever the track's length); a variation of a track costs what a new track of
its length does.

Exports of a finished track are bought once and then downloaded for free:

    FLAC 1 credit, MIDI 1 credit, stems ceil(duration in seconds / 30)

So the stems of a 2-minute track cost 4 credits. The library, the track page, the pricing
page and `GET /api/v1/pricing` show these.
"""

from __future__ import annotations

import math
from typing import Literal

SECONDS_PER_CREDIT = 10
LYRICS_MULTIPLIER = 2

ExportKind = Literal["flac", "midi", "stems"]
EXPORT_KINDS: tuple[ExportKind, ...] = ("flac", "midi", "stems")
FLAC_CREDITS = 1
MIDI_CREDITS = 1
STEM_SECONDS_PER_CREDIT = 30

FORMULA = (
    f"ceil(duration_seconds / {SECONDS_PER_CREDIT}) x ({LYRICS_MULTIPLIER} with lyrics, else 1)"
)


def price_in_credits(*, duration_seconds: float, has_lyrics: bool) -> int:
    blocks = max(1, math.ceil(duration_seconds / SECONDS_PER_CREDIT))
    return blocks * (LYRICS_MULTIPLIER if has_lyrics else 1)


# The same rule, applied to an extension's added seconds and to a variation's whole length.
EXTEND_FORMULA = (
    f"ceil(added_seconds / {SECONDS_PER_CREDIT}) x ({LYRICS_MULTIPLIER} with lyrics, else 1)"
)
VARIATION_FORMULA = FORMULA


EXPORT_FORMULA = (
    f"flac: {FLAC_CREDITS}; midi: {MIDI_CREDITS};"
    f" stems: ceil(duration_seconds / {STEM_SECONDS_PER_CREDIT})"
)


def export_price_in_credits(kind: ExportKind, *, duration_seconds: float) -> int:
    if kind == "flac":
        return FLAC_CREDITS
    if kind == "midi":
        return MIDI_CREDITS
    return max(1, math.ceil(duration_seconds / STEM_SECONDS_PER_CREDIT))
