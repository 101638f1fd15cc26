"""Theme and language: the cookie's compact form and the copy kept with an account."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from beatbun.runtime.base import Database

Theme = Literal["system", "light", "dark"]
THEMES: tuple[Theme, ...] = ("system", "light", "dark")
_LANGUAGE = re.compile(r"^[a-z]{2}$")


@dataclass(frozen=True)
class DisplayPreferences:
    theme: Theme
    language: str


def parse_preferences(value: str | None) -> DisplayPreferences | None:
    """Read a cookie value such as `dark.de`; anything malformed counts as no preference."""
    theme, _, language = (value or "").partition(".")
    for known in THEMES:
        if theme == known and _LANGUAGE.match(language):
            return DisplayPreferences(theme=known, language=language)
    return None


def format_preferences(preferences: DisplayPreferences) -> str:
    return f"{preferences.theme}.{preferences.language}"


async def find_account_preferences(db: Database, account_id: str) -> DisplayPreferences | None:
    row = (
        await db.prepare("SELECT theme, language FROM account_preferences WHERE account_id = ?")
        .bind(account_id)
        .first()
    )
    return parse_preferences(f"{row['theme']}.{row['language']}") if row else None


async def save_account_preferences(
    db: Database, *, account_id: str, preferences: DisplayPreferences, now: float
) -> None:
    await (
        db.prepare(
            "INSERT INTO account_preferences (account_id, theme, language, updated_at)"
            " VALUES (?, ?, ?, ?) ON CONFLICT (account_id) DO UPDATE SET"
            " theme = excluded.theme, language = excluded.language, updated_at = excluded.updated_at"
        )
        .bind(account_id, preferences.theme, preferences.language, now)
        .run()
    )
