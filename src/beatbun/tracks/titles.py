"""A track's title: a short one made from the prompt, or the one its owner chose."""

from __future__ import annotations

import re

from beatbun.errors import InvalidInput
from beatbun.i18n import N_

# A default title fits a library row on a phone; a chosen one may be longer.
SHORT_TITLE_CHARS = 40
MAX_TITLE_CHARS = 100
UNTITLED = "Untitled"
# Where a prompt's first idea ends: a sentence's end, a comma, a semicolon, a colon, a dash
# between spaces, or a line break.
_CLAUSE_END = re.compile(r"[.!?;:,\n]|\s[-\u2013\u2014]\s")


def short_title(prompt: str) -> str:
    """The prompt's first clause, cut on a word boundary to 40 characters, first letter capital.

    Meant for new tracks: the runner names each track `short_title(request.prompt)`.

    "chill lo-fi piano at 80 bpm, with rain and a slow build" → "Chill lo-fi piano at 80 bpm".
    A prompt with no words gives "Untitled".
    """
    clauses = (clause.split() for clause in _CLAUSE_END.split(prompt))
    words = next((words for words in clauses if words), [])
    if not words:
        return UNTITLED
    title = " ".join(words)
    if len(title) > SHORT_TITLE_CHARS:
        cut = title[: SHORT_TITLE_CHARS - 1]
        # Cut before the word the limit falls in, unless the first word alone is that long.
        if " " in cut and title[SHORT_TITLE_CHARS - 1] != " ":
            cut = cut.rsplit(" ", 1)[0]
        title = cut.rstrip(" -\u2013\u2014,") + "…"
    # "dreamy synthwave" becomes "Dreamy synthwave"; "iPhone remix" keeps the writer's capitals.
    return title[0].upper() + title[1:] if words[0].islower() else title


def chosen_title(title: str, *, prompt: str) -> str:
    """The title an owner typed, spaces collapsed; empty means the short title of the prompt.

    Raises InvalidInput (field `title`) for more than 100 characters or control characters.
    """
    cleaned = " ".join(title.split())
    if not cleaned:
        return short_title(prompt)
    if len(cleaned) > MAX_TITLE_CHARS:
        raise InvalidInput(
            N_("A title can be at most %(limit)s characters long; this one has %(n)s."),
            code="title_too_long",
            field="title",
            params={"limit": MAX_TITLE_CHARS, "n": len(cleaned)},
        )
    if not cleaned.isprintable():
        raise InvalidInput(
            N_("A title cannot contain control characters."),
            code="invalid_title",
            field="title",
        )
    return cleaned
