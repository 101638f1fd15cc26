"""What people ask for: the most frequent words of recent prompts, anonymised, for operators.

This is the only use of prompts to improve the service (the privacy policy's "use of your
prompts"). It reads only the jobs of accounts that `privacy.purposes.PROMPT_USE_ALLOWED_SQL`
allows, and shows a word only once at least `MIN_ACCOUNTS` different accounts used it, so no word
points at one person. The whole aggregate runs in D1: a recursive query splits each prompt at
spaces after lower-casing it and turning punctuation into spaces; only the top words return.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from beatbun.privacy.purposes import PROMPT_USE_ALLOWED_SQL
from beatbun.runtime.base import Database

PANEL_DAYS = 30
TOP_WORDS = 20
MIN_ACCOUNTS = 3
MIN_LETTERS = 3
REPLACES_PER_STEP = 8
# Split prompts here. The hyphen stays, so "lo-fi" and "hip-hop" are words; the apostrophe
# goes, so "l'amour" gives "amour".
SEPARATORS = ",.;:!?\"'()[]{}<>/\\|+&*#=~`@%^$_\n\r\t"
# SQLite's lower() folds ASCII only; these capitals of German and French prompts fold too.
CAPITALS = "ÀÂÄÆÇÉÈÊËÎÏÔÖŒÙÛÜŸ"
# Words of three letters or more that say nothing about music, in English, German and French.
STOP_WORDS = frozenset(
    {
        # English
        "and", "the", "for", "with", "without", "that", "this", "from", "into", "some", "very",
        "but", "not", "are", "was", "has", "have", "like", "more", "less", "make", "made",
        "want", "please", "can", "you", "your", "about", "which", "song", "track", "music",
        "sound", "sounds", "sounding", "style", "feel", "feeling", "just", "also", "over",
        "under", "then", "than", "its", "our", "one", "all", "any",
        # German
        "und", "oder", "mit", "ohne", "der", "die", "das", "den", "dem", "des", "ein", "eine",
        "einen", "einem", "einer", "für", "von", "zum", "zur", "auf", "aus", "bei", "wie",
        "sehr", "bitte", "ist", "sind", "nicht", "auch", "etwas", "lied", "musik", "stil",
        # French
        "les", "une", "pour", "avec", "sans", "dans", "sur", "par", "est", "sont",
        "pas", "plus", "moins", "comme", "très", "qui", "que", "son", "ses", "mon", "aux",
        "chanson", "musique", "morceau",
    }
)  # fmt: skip


@dataclass(frozen=True)
class PromptWord:
    word: str
    uses: int  # how often it appeared over the period
    accounts: int  # how many different accounts used it (at least MIN_ACCOUNTS)


async def top_prompt_words(db: Database, *, now: float) -> list[PromptWord]:
    """The `TOP_WORDS` most used words of the last `PANEL_DAYS` days, most used first.

    Extensions and variations repeat their source's prompt, so only new requests count.
    """
    rows = (
        await db.prepare(PROMPT_WORDS_SQL)
        .bind(
            int(now) - PANEL_DAYS * 86400,
            MIN_LETTERS,
            json.dumps(sorted(STOP_WORDS), ensure_ascii=False),
            MIN_ACCOUNTS,
            TOP_WORDS,
        )
        .all()
    ).results
    return [
        PromptWord(
            word=str(row["word"]), uses=int(row["uses"] or 0), accounts=int(row["accounts"] or 0)
        )
        for row in rows
    ]


def _folding_steps() -> tuple[str, str]:
    """CTEs that fold capitals and turn separators into spaces, and the name of the last one.

    A few replacements per step: SQLite's parser stack (100 entries by default) overflows on
    a few dozen nested calls in one expression.
    """
    pairs = [(c, c.lower()) for c in CAPITALS] + [(s, " ") for s in SEPARATORS]
    steps: list[str] = []
    source = "asked"
    for start in range(0, len(pairs), REPLACES_PER_STEP):
        expression = "prompt"
        for old, new in pairs[start : start + REPLACES_PER_STEP]:
            expression = f"replace({expression}, {_literal(old)}, {_literal(new)})"
        name = f"folded{len(steps) + 1}"
        steps.append(
            f"{name} (account_id, prompt) AS (SELECT account_id, {expression} FROM {source})"  # noqa: S608 (constant SQL)
        )
        source = name
    return ", ".join(steps), source


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


_STEPS, _FOLDED = _folding_steps()
PROMPT_WORDS_SQL = (
    "WITH RECURSIVE asked (account_id, prompt) AS ("  # noqa: S608 (constant SQL only)
    " SELECT j.account_id, json_extract(j.request, '$.prompt')"
    " FROM jobs AS j JOIN accounts AS a ON a.id = j.account_id"
    f" WHERE j.created_at >= ? AND {PROMPT_USE_ALLOWED_SQL}"
    " AND json_extract(j.request, '$.source_track_id') IS NULL),"
    f" {_STEPS},"
    " split (account_id, word, rest) AS ("
    f" SELECT account_id, '', lower(prompt) || ' ' FROM {_FOLDED}"
    " UNION ALL"
    " SELECT account_id, trim(substr(rest, 1, instr(rest, ' ') - 1), '-'),"
    " substr(rest, instr(rest, ' ') + 1) FROM split WHERE rest <> '')"
    " SELECT word, COUNT(*) AS uses, COUNT(DISTINCT account_id) AS accounts FROM split"
    # At least MIN_LETTERS characters, not only digits, not a stop word.
    " WHERE length(word) >= ? AND word GLOB '*[^0-9]*'"
    " AND word NOT IN (SELECT value FROM json_each(?))"
    " GROUP BY word HAVING COUNT(DISTINCT account_id) >= ?"
    " ORDER BY uses DESC, word LIMIT ?"
)
