"""Amounts of money and counts as the reader's language writes them: "€9.00", "9,00 €".

Babel knows every locale but is a development tool here (it builds the catalogs); the Worker
bundles only runtime dependencies, and our three languages need a handful of rules. They follow
CLDR, as Babel would: English puts the symbol first, German and French after a no-break space;
French groups thousands with a narrow no-break space.
"""

from __future__ import annotations

from dataclasses import dataclass

NBSP = "\u00a0"
NARROW_NBSP = "\u202f"
CURRENCY_SYMBOLS = {"eur": "€", "usd": "$", "gbp": "£"}


@dataclass(frozen=True)
class _Style:
    decimal: str
    group: str
    symbol_first: bool


_STYLES = {
    "en": _Style(decimal=".", group=",", symbol_first=True),
    "de": _Style(decimal=",", group=".", symbol_first=False),
    "fr": _Style(decimal=",", group=NARROW_NBSP, symbol_first=False),
}


def format_money(minor_units: int, currency: str, language: str) -> str:
    """`minor_units` (hundredths, as Stripe counts euros) of `currency` for a reader of `language`.

    A currency without a symbol we know is written with its code ("CHF 9.00").
    """
    style = _STYLES.get(language, _STYLES["en"])
    code = currency.lower()
    sign = "-" if minor_units < 0 else ""
    whole, cents = divmod(abs(minor_units), 100)
    number = f"{_group(whole, style.group)}{style.decimal}{cents:02d}"
    symbol = CURRENCY_SYMBOLS.get(code)
    if symbol is None:
        return f"{sign}{code.upper()}{NBSP}{number}"
    if style.symbol_first:
        return f"{sign}{symbol}{number}"
    return f"{sign}{number}{NBSP}{symbol}"


def format_count(value: int, language: str) -> str:
    """A whole number with the language's thousands separator: "2,000", "2.000", "2 000"."""
    style = _STYLES.get(language, _STYLES["en"])
    sign = "-" if value < 0 else ""
    return sign + _group(abs(value), style.group)


def _group(value: int, separator: str) -> str:
    digits = str(value)
    groups: list[str] = []
    while len(digits) > 3:
        groups.insert(0, digits[-3:])
        digits = digits[:-3]
    groups.insert(0, digits)
    return separator.join(groups)
