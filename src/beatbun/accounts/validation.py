"""Checks on the fields people type: email, display name, date of birth."""

from __future__ import annotations

import re
import unicodedata
from datetime import date

from beatbun.errors import InvalidInput
from beatbun.i18n import N_

MAX_EMAIL = 254  # RFC 5321 path limit
MAX_DISPLAY_NAME = 50
OLDEST_AGE = 130
# Deliberately loose (one @, a dot in the domain, no spaces): the verification link is the test.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def normalize_email(raw: str, *, field: str = "email") -> str:
    email = raw.strip().lower()
    if not email:
        raise InvalidInput(N_("Enter your email address."), field=field)
    if len(email) > MAX_EMAIL or not _EMAIL.match(email):
        raise InvalidInput(N_("Enter an email address like name@example.com."), field=field)
    return email


def check_display_name(raw: str) -> str:
    name = unicodedata.normalize("NFKC", raw).strip()
    if not name:
        raise InvalidInput(N_("Enter a display name."), field="display_name")
    if len(name) > MAX_DISPLAY_NAME:
        raise InvalidInput(
            N_("Use at most %(maximum)s characters for your display name."),
            field="display_name",
            params={"maximum": MAX_DISPLAY_NAME},
        )
    if any(unicodedata.category(char).startswith("C") for char in name):
        raise InvalidInput(
            N_("The display name contains invisible or control characters."), field="display_name"
        )
    return name


def age_from_birth_date(raw: str, *, today: date) -> int:
    """Whole years since `raw` (YYYY-MM-DD); raises InvalidInput for a missing or nonsense date.

    A date picker sends YYYY-MM-DD or nothing (a part left out); only a browser without one
    lets people type, and its field shows YYYY-MM-DD as the example the message repeats.
    """
    if not raw.strip():
        raise InvalidInput(N_("Enter your date of birth: day, month and year."), field="birth_date")
    try:
        born = date.fromisoformat(raw.strip())
    except ValueError:
        raise InvalidInput(
            N_("Enter your date of birth as year-month-day (YYYY-MM-DD), like 1990-05-31."),
            field="birth_date",
        ) from None
    if born > today:
        raise InvalidInput(N_("Your date of birth cannot be in the future."), field="birth_date")
    age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    if age > OLDEST_AGE:
        raise InvalidInput(N_("Check the year of your date of birth."), field="birth_date")
    return age
