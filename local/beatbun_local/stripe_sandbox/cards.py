"""The test cards the hosted pages accept, and what each one does."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

# Card number → behaviour. 4242 and 0341 behave as on Stripe; 0077 and 0085 are this sandbox's
# stand-ins for a bank debit, which Stripe's own card test numbers cannot produce.
BEHAVIOURS = {
    "4242424242424242": "succeed",
    "4000000000000077": "async_succeed",
    "4000000000000085": "async_fail",
    # Saves fine as a payment method; every charge on it afterwards is declined.
    "4000000000000341": "fail_later",
}
# Card number → the decline message Stripe's Checkout shows for it.
DECLINES = {
    "4000000000000002": "Your card was declined.",
    "4000000000009995": "Your card has insufficient funds.",
    "4000000000000069": "Your card has expired.",
    "4000000000000127": "Your card's security code is incorrect.",
}
EXPIRY_PATTERN = re.compile(r"^\s*(\d{1,2})\s*/?\s*(\d{2}|\d{4})\s*$")


class CardRejected(Exception):
    """Raised when a hosted form's card cannot be used; the message is Checkout's wording."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def read_card(form: Mapping[str, Any], *, now: int) -> dict[str, Any]:
    """The card in a hosted form (`cardNumber`, `cardExpiry`, `cardCvc`, `billingName`).

    Raises `CardRejected` for an incomplete or unknown card and for the declining test cards.
    The card's `behaviour` says how charges on it go (see `BEHAVIOURS`).
    """
    number = re.sub(r"[\s-]", "", str(form.get("cardNumber", "")))
    if not number:
        raise CardRejected("Your card number is incomplete.")
    if number in DECLINES:
        raise CardRejected(DECLINES[number])
    if number not in BEHAVIOURS:
        raise CardRejected("Your card number is incorrect.")
    exp_month, exp_year = _read_expiry(str(form.get("cardExpiry", "")), now=now)
    if not re.fullmatch(r"\d{3,4}", str(form.get("cardCvc", "")).strip()):
        raise CardRejected("Your card's security code is incomplete.")
    return {
        "last4": number[-4:],
        "exp_month": exp_month,
        "exp_year": exp_year,
        "name": str(form.get("billingName", "")).strip() or None,
        "behaviour": BEHAVIOURS[number],
    }


def _read_expiry(text: str, *, now: int) -> tuple[int, int]:
    match = EXPIRY_PATTERN.match(text)
    if match is None:
        raise CardRejected("Your card's expiration date is incomplete.")
    month, year = int(match.group(1)), int(match.group(2))
    year = year + 2000 if year < 100 else year
    if not 1 <= month <= 12:
        raise CardRejected("Your card's expiration date is invalid.")
    today = datetime.fromtimestamp(now, tz=UTC)
    if (year, month) < (today.year, today.month):
        raise CardRejected("Your card's expiration date is in the past.")
    return month, year


def default_card() -> dict[str, Any]:
    """The card a customer has when none was ever given (a subscription made through the API)."""
    return {
        "last4": "4242",
        "exp_month": 12,
        "exp_year": 2034,
        "name": None,
        "behaviour": "succeed",
        "payment_method": "pm_card_visa",
    }
