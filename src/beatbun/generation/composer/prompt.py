"""Prompt understanding: free text plus structured fields resolved into a `CompositionPlan`.

Explicit request fields win over words in the text (read by `composer.reading` through the
catalogue), which win over the genre's defaults. The plan lists what each phrase set
(`understood`) and the content words nobody understood (`unknown`), so nothing falls back
silently.

When neither a genre field nor a genre word names a genre, the first of these rules that
applies chooses one, and `genre_rule` says which:
1. `instrument:<id>`: the first instrument named that belongs to a genre (piano -> solo
   piano, acoustic guitar -> folk, sax -> jazz, 808 -> hip-hop; `Instrument.genre`);
2. `mood:<id>`: the mood, from the field or the text (chill -> lo-fi, sad -> solo piano,
   epic -> orchestral, dark -> techno; `Mood.genre`);
3. `tempo:<bpm>`: a stated tempo (field or text) picks by `catalogue.TEMPO_GENRES`: 160 and
   up drum and bass, 135 hip-hop, 125 techno, 115 house, 90 pop, below that lo-fi;
4. `default`: pop.
A lullaby is solo piano: the catalogue lists "lullaby" (and "Wiegenlied", "berceuse") as a
word for it, with the dreamy mood coming from "sleep" words when they are there.

Every random decision (tempo within the genre's range, tonic, progression) draws from its own
stream of the seed, so pinning one of them (a request that gives back the bpm a plan chose)
leaves the others as they were.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

import numpy as np

from beatbun.generation.catalogue import (
    DEFAULT_GENRE,
    DEFAULT_GUITAR,
    GENRES,
    GUITAR_BY_GENRE,
    INSTRUMENTS,
    MOODS,
    NEUTRAL_MOOD,
    TEMPO_GENRES,
    Mood,
    genre_id,
    mood_id,
)
from beatbun.generation.composer.forms import plan_sections
from beatbun.generation.composer.plan import CompositionPlan
from beatbun.generation.composer.reading import TextHints, read_text
from beatbun.generation.composer.styles import GENRES as STYLES
from beatbun.generation.composer.styles import GenreStyle
from beatbun.generation.composer.theory import Key, build_chord, chord_symbol
from beatbun.generation.provider import MusicRequest

# One random stream per decision, numbered after the seed.
_BPM_STREAM, _KEY_STREAM, _PROGRESSION_STREAM = 1, 2, 3


def resolve_plan(request: MusicRequest, *, sample_rate: int) -> CompositionPlan:
    """Turn a request into every musical decision; deterministic for a given request and seed."""
    hints = read_text(request.prompt)
    seed = request.seed if request.seed is not None else derive_seed(request)
    sources: dict[str, str] = {}

    field_mood = mood_id(request.mood) if request.mood else None
    sources["mood"] = "field" if field_mood else "text" if hints.mood else "default"
    mood = MOODS.get(field_mood or hints.mood or "", NEUTRAL_MOOD)

    genre = next((g for g in map(genre_id, request.genres) if g), None)
    sources["genre"] = "field" if genre else "text" if hints.genre else "default"
    rule = None if genre or hints.genre else choose_genre(request, hints, mood)
    genre = genre or hints.genre or _rule_genre(rule)
    style = STYLES[genre]

    bpm, sources["bpm"] = _resolve_bpm(request, hints, style, mood.tempo_lean, seed)
    key, sources["key"] = _resolve_key(request, hints, style, mood.mode, seed)
    options = style.progressions[key.mode]
    progression = options[int(_stream(seed, _PROGRESSION_STREAM).integers(len(options)))]
    frames = round(request.duration_seconds * sample_rate)
    unknown_tags = tuple(tag for tag in request.genres if genre_id(tag) is None)
    return CompositionPlan(
        genre=genre,
        genre_label=GENRES[genre].label,
        form=style.form,
        mood=mood.id,
        bpm=bpm,
        key=key,
        sections=plan_sections(
            duration_seconds=frames / sample_rate,
            bpm=bpm,
            form=style.form,
            extends_seconds=request.extends_seconds,
        ),
        voices=resolve_voices(style, genre=genre, instruments=hints.instruments),
        drums=tuple(dict.fromkeys(line.drum for line in style.drums)),
        progression=progression,
        progression_symbols=tuple(
            chord_symbol(key, build_chord(key, d, size=style.chord_size_at(d))) for d in progression
        ),
        seed=seed,
        frames=frames,
        sample_rate=sample_rate,
        brightness=mood.brightness,
        sources=sources,
        understood=hints.understood,
        unknown=(*unknown_tags, *hints.unknown),
        genre_rule=rule,
    )


def choose_genre(request: MusicRequest, hints: TextHints, mood: Mood) -> str:
    """The documented rule (module docstring) for a request that names no genre."""
    for instrument in hints.instruments:
        if INSTRUMENTS[instrument].genre is not None:
            return f"instrument:{instrument}"
    if mood is not NEUTRAL_MOOD:
        return f"mood:{mood.id}"
    bpm = request.bpm if request.bpm is not None else hints.bpm
    if bpm is not None:
        return f"tempo:{bpm:g}"
    return "default"


def _rule_genre(rule: str | None) -> str:
    kind, _, value = (rule or "default").partition(":")
    if kind == "instrument":
        return INSTRUMENTS[value].genre or DEFAULT_GENRE
    if kind == "mood":
        return MOODS[value].genre
    if kind == "tempo":
        return next(genre for low, genre in TEMPO_GENRES if float(value) >= low)
    return DEFAULT_GENRE


def derive_seed(request: MusicRequest) -> int:
    """A seed fixed by the request's content, so a request without one still renders the same."""
    digest = hashlib.sha256(request.to_json().encode()).digest()
    return int.from_bytes(digest[:4], "big")


def resolve_voices(
    style: GenreStyle, *, genre: str, instruments: tuple[str, ...]
) -> Mapping[str, str]:
    """The genre's voices with the instruments the prompt named put in.

    The first melodic instrument named leads, and also plays the chords when it can; a later
    one that can takes the chords when the first cannot. A named bass replaces the bass. A
    plain guitar is the genre's guitar (`GUITAR_BY_GENRE`).
    """
    voices = dict(style.voices)
    melodic = [INSTRUMENTS[i] for i in instruments if INSTRUMENTS[i].role == "melody"]
    if melodic:
        lead = melodic[0]
        voices["lead"] = _voice_of(lead.voice, genre)
        chords = lead if lead.harmonic else next((i for i in melodic[1:] if i.harmonic), None)
        if chords is not None:
            voices["chords"] = _voice_of(chords.voice, genre)
    bass = next((INSTRUMENTS[i].voice for i in instruments if INSTRUMENTS[i].role == "bass"
                 and INSTRUMENTS[i].voice), None)  # fmt: skip
    if bass is not None:
        voices["bass"] = bass
    return voices


def _voice_of(voice: str | None, genre: str) -> str:
    return voice or GUITAR_BY_GENRE.get(genre, DEFAULT_GUITAR)


def _stream(seed: int, stream: int) -> np.random.Generator:
    return np.random.default_rng([seed, stream])


def _resolve_bpm(
    request: MusicRequest, hints: TextHints, style: GenreStyle, lean: float, seed: int
) -> tuple[float, str]:
    if request.bpm is not None:
        return float(request.bpm), "field"
    if hints.bpm is not None:
        return hints.bpm, "text"
    low, high = style.tempo
    jitter = float(_stream(seed, _BPM_STREAM).uniform(-0.2, 0.2))
    position = 0.5 + 0.35 * (lean + hints.tempo_lean) + jitter
    return float(round(low + (high - low) * min(1.0, max(0.0, position)))), "default"


def _resolve_key(
    request: MusicRequest, hints: TextHints, style: GenreStyle, mood_mode: str | None, seed: int
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
        tonic = style.keys[int(_stream(seed, _KEY_STREAM).integers(len(style.keys)))]
    return Key(tonic, mode), source
