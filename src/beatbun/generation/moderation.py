"""Refuse prompts and lyrics we will not set to music, with the reason, before charging anything.

Two rules: no harmful content (threats, sexual content involving minors, incitement), and no
request to imitate the voice of a named real artist. Style words ("80s synthwave") are fine;
"in the voice of <artist>" is not. The checks are deliberately plain word lists: predictable,
explainable in one sentence, and cheap enough for every request.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from beatbun.errors import InvalidInput
from beatbun.i18n import N_

ARTISTS_FILE = Path(__file__).parent / "artists.txt"
HARMFUL_CONTENT = N_(
    "We don't make music with violent threats, sexual content involving minors or "
    "instructions for weapons. Please rephrase."
)
ARTIST_IMITATION = N_(
    "We can't imitate the voice of a real artist (%(artist)s). Describe the style "
    "instead, for example the genre, era, mood and instruments."
)

_HARMFUL = re.compile(
    r"\b(kill|murder|shoot|bomb|stab)\s+(him|her|them|you|everyone|the\s+\w+)\b"
    r"|\b(child|minor|underage)\s+(porn|sex|nude)"
    r"|\bhow\s+to\s+(make|build)\s+(a\s+)?(bomb|explosive|weapon)"
    r"|\b(genocide|ethnic\s+cleansing)\s+(now|is\s+good|anthem)",
    re.IGNORECASE,
)
# Phrases that ask for someone's voice rather than a style.
_VOICE_REQUEST = re.compile(
    r"\b(?:in\s+the\s+voice\s+of|voice\s+of|sung\s+by|singing\s+like|sing(?:s)?\s+like"
    r"|sounds?\s+(?:exactly\s+)?like|vocals?\s+(?:by|of|like)|impersonat\w*|imitat\w*|as\s+if\s+sung\s+by)"
    r"\s+(?P<name>[^,.;:!?\n]{2,60})",
    re.IGNORECASE,
)


class ContentRefused(InvalidInput):
    """The prompt or lyrics ask for something we do not make; nothing was charged."""

    default_code = "content_refused"


@dataclass(frozen=True)
class Verdict:
    code: str
    reason: str  # an `N_` template, filled from `params`
    params: Mapping[str, str] = field(default_factory=dict)


def moderate(*, prompt: str, lyrics: str | None) -> None:
    """Raise ContentRefused (code `harmful_content` or `artist_imitation`) with the reason."""
    for name, text in (("prompt", prompt), ("lyrics", lyrics or "")):
        verdict = _check(text)
        if verdict is not None:
            raise ContentRefused(
                verdict.reason, code=verdict.code, field=name, params=verdict.params
            )


def _check(text: str) -> Verdict | None:
    if _HARMFUL.search(text):
        return Verdict("harmful_content", HARMFUL_CONTENT)
    for match in _VOICE_REQUEST.finditer(text):
        artist = _named_artist(match["name"])
        if artist:
            return Verdict("artist_imitation", ARTIST_IMITATION, {"artist": artist})
    return None


def _named_artist(fragment: str) -> str | None:
    words = re.sub(r"[^\w\s'&-]", " ", fragment.lower()).split()
    for length in range(min(len(words), 5), 0, -1):
        for start in range(len(words) - length + 1):
            candidate = " ".join(words[start : start + length])
            if candidate in _artists():
                return candidate.title()
    return None


@cache
def _artists() -> frozenset[str]:
    lines = ARTISTS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(
        line.strip().lower() for line in lines if line.strip() and not line.startswith("#")
    )
