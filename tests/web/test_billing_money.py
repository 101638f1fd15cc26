"""Money and counts in the reader's language: our small helper writes what Babel would."""

from __future__ import annotations

import pytest
from babel.numbers import format_currency, format_decimal

from beatbun.web.money import format_count, format_money

LANGUAGES = ("en", "de", "fr")


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize(
    "cents",
    [
        0,
        5,  # a leading zero before the cents
        900,
        2400,
        123456,  # thousands are grouped
        -250,  # a refund
    ],
)
def test_format_money_matches_babel(language: str, cents: int) -> None:
    assert format_money(cents, "eur", language) == format_currency(
        cents / 100, "EUR", locale=language
    )


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("value", [0, 60, 600, 2000, 1234567, -3])
def test_format_count_matches_babel(language: str, value: int) -> None:
    assert format_count(value, language) == format_decimal(value, locale=language)


def test_format_money_names_a_currency_it_has_no_symbol_for() -> None:
    assert format_money(900, "chf", "de") == "CHF\u00a09,00"
