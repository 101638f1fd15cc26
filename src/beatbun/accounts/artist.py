"""The public profile: artist name, short bio and a link, shown with the tracks one shares.

Every field is optional and removed by saving it empty. The page of a shared track shows only
these fields, never the owner's email address or display name.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from urllib.parse import urlsplit

from beatbun.accounts.models import Account, Client, PublicProfile
from beatbun.accounts.security_log import record_event
from beatbun.accounts.store import update_account
from beatbun.errors import InvalidFields, InvalidInput
from beatbun.i18n import N_
from beatbun.runtime.base import Database, Runtime

MAX_ARTIST_NAME = 60
MAX_BIO = 300
MAX_LINK = 200
# A scheme ("mailto:", "javascript:"), as opposed to a host and port ("example.com:8080").
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:(?![0-9])")


async def change_public_profile(
    runtime: Runtime,
    account: Account,
    *,
    artist_name: str,
    bio: str,
    link: str,
    client: Client,
) -> PublicProfile:
    """Store the profile as typed (an empty field removes it) and return it as stored.

    Raises InvalidFields naming every wrong field at once; nothing is stored then. Saving the
    profile unchanged writes nothing, not even a log entry.
    """
    problems: list[InvalidInput] = []
    profile = PublicProfile(
        artist_name=_checked(problems, _check_artist_name, artist_name),
        bio=_checked(problems, _check_bio, bio),
        link=_checked(problems, _check_link, link),
    )
    if problems:
        raise InvalidFields(problems)
    if profile == public_profile_of(account):
        return profile
    await update_account(
        runtime.db,
        account.id,
        values={"artist_name": profile.artist_name, "bio": profile.bio, "link": profile.link},
    )
    await record_event(
        runtime.db,
        account_id=account.id,
        kind="profile_changed",
        client=client,
        now=runtime.clock.now(),
    )
    return profile


def public_profile_of(account: Account) -> PublicProfile:
    return PublicProfile(artist_name=account.artist_name, bio=account.bio, link=account.link)


async def find_public_profile(db: Database, account_id: str) -> PublicProfile | None:
    """The profile to show with a shared track of `account_id`; None when every field is empty."""
    row = (
        await db.prepare("SELECT artist_name, bio, link FROM accounts WHERE id = ?")
        .bind(account_id)
        .first()
    )
    if row is None:
        return None
    profile = PublicProfile(
        artist_name=_text_or_none(row["artist_name"]),
        bio=_text_or_none(row["bio"]),
        link=_text_or_none(row["link"]),
    )
    return None if profile.is_empty else profile


def _checked(problems: list[InvalidInput], check: Callable[[str], str], raw: str) -> str | None:
    """`check(raw)`, None for an empty field; a refusal is added to `problems`."""
    try:
        value = check(raw)
    except InvalidInput as exc:
        problems.append(exc)
        return None
    return value or None


def _check_artist_name(raw: str) -> str:
    return _check_text(
        unicodedata.normalize("NFKC", raw).strip(),
        field="artist_name",
        maximum=MAX_ARTIST_NAME,
        too_long=N_("Use at most %(maximum)s characters for your artist name (now %(count)s)."),
        invisible=N_("The artist name contains invisible or control characters."),
    )


def _check_bio(raw: str) -> str:
    # Line breaks are kept (the page shows them); Windows ones count as one character.
    return _check_text(
        unicodedata.normalize("NFKC", raw.replace("\r\n", "\n")).strip(),
        field="bio",
        maximum=MAX_BIO,
        too_long=N_("Use at most %(maximum)s characters for your bio (now %(count)s)."),
        invisible=N_("The bio contains invisible or control characters."),
        line_breaks=True,
    )


def _check_text(
    text: str, *, field: str, maximum: int, too_long: str, invisible: str, line_breaks: bool = False
) -> str:
    if len(text) > maximum:
        raise InvalidInput(
            too_long,
            code=f"{field}_too_long",
            field=field,
            params={"maximum": maximum, "count": len(text)},
        )
    if _has_control_characters(text.replace("\n", "") if line_breaks else text):
        raise InvalidInput(invisible, code="invalid_characters", field=field)
    return text


def _check_link(raw: str) -> str:
    """An https URL to show with rel="nofollow ugc noopener"; "example.com/me" gets https://."""
    link = raw.strip()
    if not link:
        return ""
    if not _SCHEME.match(link):
        link = f"https://{link}"
    if len(link) > MAX_LINK:
        raise InvalidInput(
            N_("Use a link of at most %(maximum)s characters."),
            code="link_too_long",
            field="link",
            params={"maximum": MAX_LINK},
        )
    try:
        parts = urlsplit(link)
        host = parts.hostname or ""
    except ValueError:  # a malformed port or bracketed host
        parts, host = None, ""
    if parts is None or parts.scheme.lower() != "https":
        raise InvalidInput(
            N_("Use a link that starts with https://."), code="link_not_https", field="link"
        )
    if (
        "." not in host.strip(".")
        or parts.username is not None
        or any(char.isspace() for char in link)
        or _has_control_characters(link)
    ):
        raise InvalidInput(
            N_("Enter a web address like https://example.com/your-page."),
            code="invalid_link",
            field="link",
        )
    return link


def _has_control_characters(text: str) -> bool:
    return any(unicodedata.category(char).startswith("C") for char in text)


def _text_or_none(value: object) -> str | None:
    return str(value) if value else None
