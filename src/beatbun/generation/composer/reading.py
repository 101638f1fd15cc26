"""Reading a free-text prompt in English, German or French through the catalogue.

Every phrase of `generation.catalogue` is found wherever it stands as whole words, in any
case, with or without accents, hyphens or spaces ("hip hop" finds "Hip-Hop" and "hiphop"),
with a plural or inflected ending ("guitars", "ruhiges", "guitares"), and as a part of a
German compound ("Klavierballade" is "Klavier" and "Ballade"). Genres are found first, then
instruments, then moods; an instrument or mood phrase lying inside a phrase already found
("drum" in "drum and bass", "night" in "night drive") is part of that phrase, not a word of
its own. At one place the longest phrase wins ("deep house" before "house").

Tempo: a number with "bpm" (or "beats per minute", "Schläge pro Minute", "battements par
minute"), else a bare two- or three-digit number in range that is not a length ("30 second").
Slower and faster words lean the genre's tempo range. Keys: English ("D minor", "F#m",
"in Bb"), German ("a-Moll", "Fis-Dur", "H-Dur" is B, "B-Dur" is B flat) and French ("ré
mineur", "si bémol majeur", "fa dièse mineur"); a mode word alone ("minor", "Moll",
"mineur") sets only the mode.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

from beatbun.generation.catalogue import (
    GENRES,
    INSTRUMENTS,
    MOODS,
    STOP_WORDS,
    TEMPO_WORDS,
    Genre,
    Instrument,
    Mood,
    fold,
    phrase_of,
)
from beatbun.generation.composer.theory import PITCH_CLASSES
from beatbun.generation.provider import MAX_BPM, MIN_BPM

_LETTER = r"[^\W\d_]"
_START = r"(?<![^\W_])"
_END = r"(?![^\W_])"
# Plural and inflected endings in the three languages: guitars, ruhiges, guitares, joyeux.
_ENDING = r"(?:s|es|e|en|er|em|n|x)?"
_SPACING = r"[\s_-]*"
# Each word of a phrase may be inflected: "verzerrter Gitarre", "guitares acoustiques".
_BETWEEN_WORDS = _ENDING + _SPACING
# Parts a German compound may have besides catalogue words ("Technobeat", "Schlafmusik").
_COMPOUND_FILLERS = frozenset({"musik", "beat", "beats", "stuck", "lied", "song", "sound", "hit"})
_LINKS = ("", "s", "n", "en", "e", "er")

_BPM_UNIT = re.compile(
    r"(\d{2,3}(?:[.,]\d+)?)\s*(?:bpm|beats per minute|schlage pro minute|battements par minute)"
    + _END
)
_BARE_NUMBER = re.compile(
    r"(?<![\w.,])(\d{2,3})(?![\w.,%']|\s*(?:s\b|sec|sek|second|min|mn\b|hz|khz|bar|takt|mesure))"
)
_KEY_EN = re.compile(r"\b([a-g])\s*(#|♯|b|♭|sharp|flat)?\s*(major|minor|maj|min)\b", re.IGNORECASE)
_KEY_AFTER_IN = re.compile(r"\bin\s+([A-G])(#|b)?(m)?\b")
_KEY_SHORT_MINOR = re.compile(r"\b([A-G])(#|b)?m\b")
_GERMAN_NOTES = {
    "c": "C", "cis": "C#", "des": "Db", "d": "D", "dis": "D#", "es": "Eb", "e": "E",
    "f": "F", "fis": "F#", "ges": "Gb", "g": "G", "gis": "G#", "as": "Ab", "a": "A",
    "ais": "A#", "b": "Bb", "h": "B",
}  # fmt: skip
_KEY_DE = re.compile(
    _START
    + r"("
    + "|".join(sorted(_GERMAN_NOTES, key=len, reverse=True))
    + r")[\s-]*(dur|moll)"
    + _END
)
_FRENCH_NOTES = {"do": "C", "ut": "C", "re": "D", "mi": "E", "fa": "F", "sol": "G", "la": "A",
                 "si": "B"}  # fmt: skip
_KEY_FR = re.compile(
    _START + r"(do|ut|re|mi|fa|sol|la|si)(?:[\s-]*(diese|bemol|#|b))?[\s-]*(majeur|mineur)" + _END
)
_MODE_ALONE = re.compile(_START + r"(minor|moll|mineur|major|majeur)" + _END)


@dataclass(frozen=True, slots=True)
class Hit:
    """A phrase of the prompt that set something: `kind` is genre, mood, instrument, tempo,
    key or mode, `value` what it set, `text` the words as written."""

    start: int
    end: int
    kind: str
    value: str
    text: str

    def describe(self) -> str:
        return f"{self.text} -> {self.kind} {self.value}"


@dataclass(frozen=True, slots=True)
class TextHints:
    """What the free text alone says; None where it says nothing."""

    genre: str | None
    mood: str | None
    bpm: float | None
    tonic: str | None
    mode: str | None
    instruments: tuple[str, ...]
    tempo_lean: float
    hits: tuple[Hit, ...]
    unknown: tuple[str, ...]

    @property
    def understood(self) -> tuple[str, ...]:
        return tuple(hit.describe() for hit in self.hits)


def read_text(text: str) -> TextHints:
    """Find genre, mood, tempo, key and instrument words in a free-text prompt."""
    folded = fold(text)
    hits: list[Hit] = []
    for kind, table in _TABLES:
        found = _find_phrases(text, folded, kind, table)
        inside = [h for h in hits if h.kind != kind]
        hits.extend(h for h in found if not any(_within(h, o) for o in inside))
    hits.extend(_find_compounds(text, folded, covered=hits))
    hits.extend(_find_tempo(text, folded))
    hits.extend(_find_key(text, folded))
    hits.sort(key=lambda hit: hit.start)
    first = {kind: next((h.value for h in hits if h.kind == kind), None)
             for kind in ("genre", "mood", "bpm", "key", "mode")}  # fmt: skip
    key = first["key"]
    lean = sum(-0.7 if h.value == "slower" else 0.7 for h in hits if h.kind == "tempo")
    return TextHints(
        genre=first["genre"],
        mood=first["mood"],
        bpm=float(first["bpm"]) if first["bpm"] else None,
        tonic=key.split()[0] if key else None,
        mode=key.split()[1] if key and " " in key else first["mode"],
        instruments=tuple(dict.fromkeys(h.value for h in hits if h.kind == "instrument")),
        tempo_lean=max(-0.7, min(0.7, lean)),
        hits=tuple(hits),
        unknown=_unknown_words(text, folded, hits),
    )


def _table(entries: Mapping[str, Genre | Mood | Instrument], *, with_ids: bool) -> dict[str, str]:
    """Each phrase of `entries` (and their ids, spelled as words), folded, -> its entry's id.

    Genre ids stay out of the text: "piano" names the instrument, "solo piano" the genre.
    """
    table: dict[str, str] = {}
    for key, entry in entries.items():
        ids = (phrase_of(key),) if with_ids else ()
        for phrase in (*ids, *entry.words):
            table.setdefault(" ".join(fold(phrase).replace("-", " ").split()), key)
    return table


def squash(phrase: str) -> str:
    """A phrase without accents, case, spaces, hyphens or underscores: how phrases compare."""
    return re.sub(r"[\s_-]+", "", fold(phrase))


@dataclass(frozen=True, slots=True)
class _PhraseTable:
    """The phrases of a table as patterns by their first letter (tried only where a word
    starts), longest first, each phrase its own group (`p<i>`, naming `ids[i]`); and each
    single word -> its id, for compounds."""

    patterns: dict[str, re.Pattern[str]]
    ids: tuple[str, ...]
    words: dict[str, str]


def _compile(table: dict[str, str]) -> _PhraseTable:
    phrases = sorted(table, key=len, reverse=True)
    alternatives: dict[str, list[str]] = {}
    for i, phrase in enumerate(phrases):
        words = _BETWEEN_WORDS.join(map(re.escape, phrase.split()))
        alternatives.setdefault(phrase[0], []).append(f"(?P<p{i}>{words})")
    return _PhraseTable(
        patterns={
            first: re.compile(rf"{_START}(?:{'|'.join(group)}){_ENDING}{_END}")
            for first, group in alternatives.items()
        },
        ids=tuple(table[phrase] for phrase in phrases),
        words={squash(phrase): key for phrase, key in table.items()},
    )


_TABLES = (
    ("genre", _compile(_table(GENRES, with_ids=False))),
    ("instrument", _compile(_table(INSTRUMENTS, with_ids=True))),
    ("mood", _compile(_table(MOODS, with_ids=True))),
)
_WORD_START = re.compile(r"[^\W_]+")
_TEMPO_PATTERNS = {
    lean: re.compile(
        _START
        + "(?:"
        + "|".join(_BETWEEN_WORDS.join(map(re.escape, fold(word).split())) for word in words)
        + ")"
        + _ENDING
        + _END
    )
    for lean, words in TEMPO_WORDS.items()
}


def _find_phrases(text: str, folded: str, kind: str, table: _PhraseTable) -> list[Hit]:
    hits: list[Hit] = []
    end = 0
    for word in _WORD_START.finditer(folded):
        pattern = table.patterns.get(folded[word.start()])
        if word.start() < end or pattern is None:
            continue
        match = pattern.match(folded, word.start())
        if match is not None:
            hits.append(_hit(text, match, kind, table.ids[int((match.lastgroup or "p0")[1:])]))
            end = match.end()
    return hits


def _within(hit: Hit, other: Hit) -> bool:
    return other.start <= hit.start and hit.end <= other.end


def _find_compounds(text: str, folded: str, *, covered: list[Hit]) -> list[Hit]:
    """Catalogue words inside a compound word no phrase covered ("Klavierballade")."""
    found: list[Hit] = []
    for token in re.finditer(_LETTER + "{6,}", folded):
        if any(h.start < token.end() and token.start() < h.end for h in covered):
            continue
        parts = _split_compound(token.group())
        if not parts:
            continue
        offset = token.start()
        for start, end in parts:
            word = folded[offset + start : offset + end]
            for kind, table in _TABLES:
                if word in table.words:
                    found.append(Hit(offset + start, offset + end, kind, table.words[word],
                                     text[offset + start : offset + end]))  # fmt: skip
    return found


def _split_compound(word: str) -> list[tuple[int, int]] | None:
    """Spans of the parts of `word` when it is catalogue words and fillers joined, with linking
    letters between them and at least one catalogue word; None otherwise."""
    known = _compound_parts()

    def split(start: int) -> list[tuple[int, int]] | None:
        if start == len(word):
            return []
        for end in range(len(word), start + 2, -1):
            if word[start:end] in known or word[start:end] in _COMPOUND_FILLERS:
                for link in _LINKS:
                    if word.startswith(link, end) or end == len(word):
                        rest = split(end + len(link) if end < len(word) else end)
                        if rest is not None:
                            return [(start, end), *rest]
        return None

    parts = split(0)
    if not parts or len(parts) < 2:
        return None
    return parts if any(word[a:b] in known for a, b in parts) else None


@cache
def _compound_parts() -> frozenset[str]:
    return frozenset(
        word for _, table in _TABLES for word in table.words if len(word) >= 4 and word.isalpha()
    )


def _find_tempo(text: str, folded: str) -> list[Hit]:
    """The first tempo in range the prompt states, and every slower or faster word."""
    hits: list[Hit] = []
    for number in (*_BPM_UNIT.finditer(folded), *_BARE_NUMBER.finditer(folded)):
        bpm = float(number[1].replace(",", "."))
        if MIN_BPM <= bpm <= MAX_BPM:
            hits.append(_hit(text, number, "bpm", f"{bpm:g}"))
            break
    for lean, pattern in _TEMPO_PATTERNS.items():
        hits.extend(_hit(text, match, "tempo", lean) for match in pattern.finditer(folded))
    return hits


def _hit(text: str, match: re.Match[str], kind: str, value: str) -> Hit:
    return Hit(match.start(), match.end(), kind, value, text[match.start() : match.end()])


def _find_key(text: str, folded: str) -> list[Hit]:
    """The first key the prompt names (tonic and mode), else the first mode word alone."""
    candidates: list[tuple[int, int, str, str | None]] = []
    for match in _KEY_DE.finditer(folded):
        mode = "major" if match[2] == "dur" else "minor"
        candidates.append((match.start(), match.end(), _GERMAN_NOTES[match[1]], mode))
    for match in _KEY_FR.finditer(folded):
        mark = {"diese": "#", "#": "#", "bemol": "b", "b": "b"}.get(match[2] or "", "")
        mode = "major" if match[3] == "majeur" else "minor"
        candidates.append((match.start(), match.end(), _FRENCH_NOTES[match[1]] + mark, mode))
    for match in _KEY_EN.finditer(text):
        mode = "minor" if match[3].lower().startswith("min") else "major"
        candidates.append((match.start(), match.end(), _tonic(match[1], match[2]), mode))
    for short in (*_KEY_AFTER_IN.finditer(text), *_KEY_SHORT_MINOR.finditer(text)):
        if short.group() == "Am" and re.match(r"\s+[^\W\d_]", text[short.end() :]):
            continue  # German "Am Strand" (at the beach), not A minor
        minor = short.re is _KEY_SHORT_MINOR or bool(short[3])
        candidates.append(
            (short.start(), short.end(), _tonic(short[1], short[2]), "minor" if minor else None)
        )
    # A key with its mode before one without ("in A-Dur" is A major, not just A).
    keys = sorted(
        (c for c in candidates if c[2] in PITCH_CLASSES), key=lambda c: (c[3] is None, c[0])
    )
    if keys:
        start, end, tonic, key_mode = keys[0]
        value = f"{tonic} {key_mode}" if key_mode else tonic
        return [Hit(start, end, "key", value, text[start:end])]
    alone = _MODE_ALONE.search(folded)
    if alone is None:
        return []
    return [
        _hit(text, alone, "mode", "minor" if alone[1] in ("minor", "moll", "mineur") else "major")
    ]


def _tonic(letter: str, accidental: str | None) -> str:
    mark = (accidental or "").lower()
    sign = "#" if mark in ("#", "♯", "sharp") else "b" if mark in ("b", "♭", "flat") else ""
    return letter.upper() + sign


def _unknown_words(text: str, folded: str, hits: list[Hit]) -> tuple[str, ...]:
    """Content words no phrase covered, as written, once each, in order."""
    words: dict[str, str] = {}
    for token in re.finditer(_LETTER + "{2,}", folded):
        if token.group() in STOP_WORDS:
            continue
        if any(h.start < token.end() and token.start() < h.end for h in hits):
            continue
        words.setdefault(token.group(), text[token.start() : token.end()])
    return tuple(words.values())
