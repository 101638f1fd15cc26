"""Prompt understanding: free text plus structured fields resolved into a `CompositionPlan`.

Explicit request fields win over keywords in the text, which win over the genre's defaults.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

import numpy as np

from beatbun.generation.composer.plan import CompositionPlan, plan_sections
from beatbun.generation.composer.styles import GENRES, MOODS, GenreStyle
from beatbun.generation.composer.theory import PITCH_CLASSES, Key, build_chord, chord_symbol
from beatbun.generation.provider import MAX_BPM, MIN_BPM, MusicRequest

# Longer phrases first so "lo-fi hip hop" is lo-fi and "deep house" is not "house music" twice.
GENRE_WORDS: tuple[tuple[str, str], ...] = (
    ("lo-fi", "lofi"), ("lofi", "lofi"), ("lo fi", "lofi"), ("chillhop", "lofi"),
    ("hip-hop", "hiphop"), ("hip hop", "hiphop"), ("hiphop", "hiphop"), ("trap", "hiphop"),
    ("rap", "hiphop"), ("drill", "hiphop"), ("boom bap", "hiphop"),
    ("synthwave", "synthwave"), ("retrowave", "synthwave"), ("outrun", "synthwave"),
    ("80s", "synthwave"), ("vaporwave", "synthwave"),
    ("techno", "techno"), ("rave", "techno"), ("industrial", "techno"), ("warehouse", "techno"),
    ("house", "house"), ("disco", "house"), ("edm", "house"), ("dance", "house"), ("club", "house"),
    ("orchestral", "cinematic"), ("orchestra", "cinematic"), ("cinematic", "cinematic"),
    ("trailer", "cinematic"), ("film score", "cinematic"), ("soundtrack", "cinematic"),
    ("symphonic", "cinematic"),
    ("ambient", "ambient"), ("drone", "ambient"), ("soundscape", "ambient"),
    ("meditation", "ambient"), ("atmospheric", "ambient"),
    ("jazz", "jazz"), ("swing", "jazz"), ("bebop", "jazz"), ("lounge", "jazz"),
    ("rock", "rock"), ("punk", "rock"), ("grunge", "rock"), ("metal", "rock"),
    ("pop", "pop"),
)  # fmt: skip
# Genres people ask for that we do not make yet, each with the made style that comes nearest.
# A prompt naming one (and no made genre) sounds like that style, and the studio says so.
UNMADE_GENRES: tuple[tuple[str, str], ...] = (
    ("reggaeton", "pop"), ("dembow", "pop"), ("k-pop", "pop"), ("j-pop", "pop"),
    ("afrobeats", "house"), ("afrobeat", "house"), ("amapiano", "house"), ("dubstep", "techno"),
    ("drum and bass", "techno"), ("drum & bass", "techno"), ("dnb", "techno"),
    ("trance", "techno"), ("hardstyle", "techno"), ("garage", "house"),
    ("bossa nova", "jazz"), ("samba", "jazz"), ("salsa", "jazz"), ("tango", "cinematic"),
    ("flamenco", "rock"), ("reggae", "lofi"), ("dancehall", "hiphop"), ("ska", "rock"),
    ("country", "rock"), ("bluegrass", "rock"), ("folk", "pop"), ("blues", "jazz"),
    ("gospel", "pop"), ("soul", "jazz"), ("funk", "house"), ("r&b", "hiphop"), ("rnb", "hiphop"),
    ("grime", "hiphop"), ("phonk", "hiphop"), ("shoegaze", "rock"), ("emo", "rock"),
    ("classical", "cinematic"), ("baroque", "cinematic"), ("opera", "cinematic"),
    ("chiptune", "synthwave"), ("8-bit", "synthwave"),
)  # fmt: skip
MOOD_WORDS: dict[str, tuple[str, ...]] = {
    "happy": ("happy", "uplifting", "joyful", "bright", "cheerful", "sunny", "fun", "summer"),
    "sad": ("sad", "melancholic", "melancholy", "emotional", "lonely", "heartbreak", "somber"),
    "dark": ("dark", "ominous", "sinister", "menacing", "gritty", "moody", "eerie", "night"),
    "chill": (
        "chill",
        "relaxed",
        "relaxing",
        "calm",
        "mellow",
        "peaceful",
        "laid-back",
        "cozy",
        "study",
    ),
    "epic": ("epic", "heroic", "powerful", "triumphant", "intense", "battle"),
    "energetic": ("energetic", "upbeat", "driving", "hype", "party", "aggressive", "workout"),
    "dreamy": ("dreamy", "ethereal", "floating", "spacey", "sleep"),
    "romantic": ("romantic", "love", "tender", "warm"),
}
# Voice per instrument word, and whether it also takes the chords.
INSTRUMENT_WORDS: tuple[tuple[str, str, bool], ...] = (
    ("electric piano", "electric_piano", True), ("rhodes", "electric_piano", True),
    ("piano", "piano", True), ("keys", "electric_piano", True),
    ("acoustic guitar", "pluck", True), ("guitar", "pluck", True),
    ("strings", "strings", True), ("violin", "strings", True), ("cello", "strings", True),
    ("organ", "organ", True), ("pad", "pad", True),
    ("brass", "brass", False), ("horn", "brass", False), ("trumpet", "brass", False),
    ("bell", "bell", False), ("glockenspiel", "bell", False), ("chime", "bell", False),
    ("vibraphone", "vibes", False), ("synth", "saw_lead", False), ("pluck", "pluck_lead", False),
)  # fmt: skip
MOOD_DEFAULT_GENRE = {
    "chill": "lofi",
    "epic": "cinematic",
    "dreamy": "ambient",
    "energetic": "house",
    "dark": "techno",
}
DEFAULT_GENRE = "pop"

_BPM_UNIT = re.compile(r"(\d{2,3}(?:\.\d+)?)\s*(?:bpm|beats per minute)\b")
_BARE_NUMBER = re.compile(
    r"(?<![\w.])(\d{2,3})(?![\w.%']|\s*(?:s\b|sec|second|min|minute|hz|khz|bar))"
)
_KEY_WITH_MODE = re.compile(
    r"\b([a-g])\s*(#|♯|b|♭|sharp|flat)?\s*(major|minor|maj|min)\b", re.IGNORECASE
)
_KEY_AFTER_IN = re.compile(r"\bin\s+([A-G])(#|b)?(m)?\b")
_KEY_SHORT_MINOR = re.compile(r"\b([A-G])(#|b)?m\b")
_SLOW_WORDS = ("slow", "downtempo", "lazy")
_FAST_WORDS = ("fast", "uptempo", "up-tempo", "frantic")


@dataclass(frozen=True, slots=True)
class TextHints:
    """What the free text alone says; None where it says nothing."""

    genre: str | None
    mood: str | None
    bpm: float | None
    tonic: str | None
    mode: str | None
    voices: tuple[tuple[str, str, bool], ...]
    tempo_lean: float


def read_text(text: str) -> TextHints:
    """Find genre, mood, tempo, key and instrument keywords in a free-text prompt."""
    lower = text.lower()
    tonic, mode = _find_key(text)
    if mode is None:
        mode = (
            "minor"
            if re.search(r"\bminor\b", lower)
            else "major"
            if re.search(r"\bmajor\b", lower)
            else None
        )
    lean = -0.7 if _has_word(lower, _SLOW_WORDS) else 0.7 if _has_word(lower, _FAST_WORDS) else 0.0
    return TextHints(
        genre=find_genre(lower),
        mood=_find_mood(lower),
        bpm=_find_bpm(lower),
        tonic=tonic,
        mode=mode,
        voices=tuple(entry for entry in INSTRUMENT_WORDS if _has_word(lower, (entry[0],))),
        tempo_lean=lean,
    )


def find_genre(text: str) -> str | None:
    """The genre whose keyword appears earliest in `text` (lower case), if any.

    A genre we do not make counts only when no made one is named: "reggaeton jazz" is jazz.
    """
    made = _earliest(text, GENRE_WORDS)
    if made is not None:
        return made[1]
    unmade = _earliest(text, UNMADE_GENRES)
    return unmade[1] if unmade else None


def find_unmade_genres(text: str) -> tuple[tuple[str, str], ...]:
    """Each genre of `UNMADE_GENRES` that `text` names, with its nearest made style, in order."""
    lower = text.lower()
    found = sorted(
        (match.start(), phrase, nearest)
        for phrase, nearest in UNMADE_GENRES
        if (match := _phrase_in(lower, phrase))
    )
    return tuple((phrase, nearest) for _, phrase, nearest in found)


def _earliest(text: str, words: tuple[tuple[str, str], ...]) -> tuple[int, str] | None:
    best: tuple[int, str] | None = None
    for phrase, genre in words:
        match = _phrase_in(text, phrase)
        if match and (best is None or match.start() < best[0]):
            best = (match.start(), genre)
    return best


def _phrase_in(text: str, phrase: str) -> re.Match[str] | None:
    return re.search(rf"(?<![\w-]){re.escape(phrase)}(?![\w-])", text)


def resolve_plan(request: MusicRequest, *, sample_rate: int) -> CompositionPlan:
    """Turn a request into every musical decision; deterministic for a given request and seed."""
    hints = read_text(request.prompt)
    seed = request.seed if request.seed is not None else derive_seed(request)
    rng = np.random.default_rng([seed, 1])
    sources: dict[str, str] = {}

    mood_name = _first_known_mood(request.mood)
    sources["mood"] = "field" if mood_name else "text" if hints.mood else "default"
    mood = MOODS[mood_name or hints.mood or "neutral"]

    genre = next((g for g in (find_genre(tag) for tag in request.genres) if g), None)
    sources["genre"] = "field" if genre else "text" if hints.genre else "default"
    genre = genre or hints.genre or MOOD_DEFAULT_GENRE.get(mood.name, DEFAULT_GENRE)
    style = GENRES[genre]

    bpm, sources["bpm"] = _resolve_bpm(request, hints, style, mood.tempo_lean, rng)
    key, sources["key"] = _resolve_key(request, hints, style, mood.mode, rng)
    options = style.progressions[key.mode]
    progression = options[int(rng.integers(len(options)))]
    frames = round(request.duration_seconds * sample_rate)
    return CompositionPlan(
        genre=style.name,
        genre_label=style.label,
        mood=mood.name,
        bpm=bpm,
        key=key,
        sections=plan_sections(duration_seconds=frames / sample_rate, bpm=bpm),
        voices=_resolve_voices(style, hints),
        drums=tuple(dict.fromkeys(line.drum for line in style.drums)),
        progression=progression,
        progression_symbols=tuple(
            chord_symbol(key, build_chord(key, d, size=style.chord_size)) for d in progression
        ),
        seed=seed,
        frames=frames,
        sample_rate=sample_rate,
        brightness=mood.brightness,
        sources=sources,
    )


def derive_seed(request: MusicRequest) -> int:
    """A seed fixed by the request's content, so a request without one still renders the same."""
    digest = hashlib.sha256(request.model_dump_json().encode()).digest()
    return int.from_bytes(digest[:4], "big")


def _resolve_bpm(
    request: MusicRequest,
    hints: TextHints,
    style: GenreStyle,
    lean: float,
    rng: np.random.Generator,
) -> tuple[float, str]:
    if request.bpm is not None:
        return float(request.bpm), "field"
    if hints.bpm is not None:
        return hints.bpm, "text"
    low, high = style.tempo
    position = 0.5 + 0.35 * (lean + hints.tempo_lean) + float(rng.uniform(-0.2, 0.2))
    return float(round(low + (high - low) * min(1.0, max(0.0, position)))), "default"


def _resolve_key(
    request: MusicRequest,
    hints: TextHints,
    style: GenreStyle,
    mood_mode: str | None,
    rng: np.random.Generator,
) -> tuple[Key, str]:
    tonic = request.key or hints.tonic
    mode = request.mode or hints.mode or mood_mode or style.mode
    source = (
        "field"
        if request.key or request.mode
        else "text"
        if hints.tonic or hints.mode
        else "default"
    )
    if tonic is None:
        tonic = style.keys[int(rng.integers(len(style.keys)))]
    return Key(tonic, mode), source


def _resolve_voices(style: GenreStyle, hints: TextHints) -> dict[str, str]:
    voices = dict(style.voices)
    if hints.voices:
        # The first instrument named leads; a harmonic one also plays the chords.
        _, voice, harmonic = hints.voices[0]
        voices["lead"] = voice
        if harmonic:
            voices["chords"] = voice
        for _, other, other_harmonic in hints.voices[1:]:
            if other_harmonic and not harmonic:
                voices["chords"] = other
                break
    return voices


def _first_known_mood(text: str | None) -> str | None:
    return None if not text else _find_mood(text.lower())


def _find_mood(text: str) -> str | None:
    best: tuple[int, str] | None = None
    for mood, words in MOOD_WORDS.items():
        for word in words:
            match = re.search(rf"\b{re.escape(word)}\b", text)
            if match and (best is None or match.start() < best[0]):
                best = (match.start(), mood)
    return best[1] if best else None


def _find_bpm(text: str) -> float | None:
    for pattern in (_BPM_UNIT, _BARE_NUMBER):
        for match in pattern.finditer(text):
            value = float(match.group(1))
            if MIN_BPM <= value <= MAX_BPM:
                return value
    return None


def _find_key(text: str) -> tuple[str | None, str | None]:
    match = _KEY_WITH_MODE.search(text)
    if match:
        mode = "minor" if match.group(3).lower().startswith("min") else "major"
        return _tonic(match.group(1), match.group(2)), mode
    match = _KEY_AFTER_IN.search(text) or _KEY_SHORT_MINOR.search(text)
    if match:
        is_minor = match.re is _KEY_SHORT_MINOR or bool(match.group(3))
        return _tonic(match.group(1), match.group(2)), "minor" if is_minor else None
    return None, None


def _tonic(letter: str, accidental: str | None) -> str | None:
    mark = (accidental or "").lower()
    tonic = letter.upper() + (
        "#" if mark in ("#", "♯", "sharp") else "b" if mark in ("b", "♭", "flat") else ""
    )
    return tonic if tonic in PITCH_CLASSES else None


def _has_word(text: str, words: tuple[str, ...]) -> bool:
    return any(re.search(rf"(?<![\w-]){re.escape(w)}s?(?![\w-])", text) for w in words)
