"""The published price of a track's exports."""

from __future__ import annotations

import pytest

from beatbun.billing.pricing import ExportKind, export_price_in_credits


@pytest.mark.parametrize(
    ("kind", "seconds", "credits"),
    [
        ("flac", 5, 1),
        ("flac", 300, 1),  # a flat price, whatever the length
        ("midi", 300, 1),
        ("stems", 5, 1),
        ("stems", 30, 1),
        ("stems", 30.1, 2),  # a started block of 30 s counts whole
        ("stems", 120, 4),
        ("stems", 300, 10),
    ],
)
def test_export_price(kind: ExportKind, seconds: float, credits: int) -> None:
    assert export_price_in_credits(kind, duration_seconds=seconds) == credits
