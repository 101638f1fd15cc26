"""The catalogue: every genre has a style, every word leads where it says, labels are translated."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from beatbun.generation.catalogue import (
    DEFAULT_GUITAR,
    GENRES,
    GUITAR_BY_GENRE,
    INSTRUMENTS,
    MOODS,
    NEUTRAL_MOOD,
    TEMPO_GENRES,
    chip_instruments,
    genre_id,
    instrument_id,
    mood_id,
)
from beatbun.generation.composer import styles
from beatbun.generation.composer.instruments import VOICES
from beatbun.generation.composer.reading import read_text, squash
from beatbun.i18n import LOCALE_DIR

GENRE_IDS = [
    "pop",
    "rock",
    "metal",
    "punk",
    "house",
    "techno",
    "dnb",
    "dubstep",
    "hiphop",
    "rnb",
    "funk",
    "disco",
    "lofi",
    "ambient",
    "jazz",
    "bossa",
    "reggaeton",
    "afrobeats",
    "country",
    "folk",
    "cinematic",
    "synthwave",
    "chiptune",
    "piano",
]


def test_the_catalogue_has_the_24_genres_each_with_a_style() -> None:
    assert list(GENRES) == GENRE_IDS
    assert set(styles.GENRES) == set(GENRE_IDS)


def test_every_voice_an_instrument_names_exists() -> None:
    voices = {i.voice for i in INSTRUMENTS.values() if i.voice is not None}
    voices |= {*GUITAR_BY_GENRE.values(), DEFAULT_GUITAR}
    assert voices <= set(VOICES)


def test_every_genre_a_rule_leads_to_exists() -> None:
    targets = {m.genre for m in (*MOODS.values(), NEUTRAL_MOOD)}
    targets |= {i.genre for i in INSTRUMENTS.values() if i.genre is not None}
    targets |= {genre for _, genre in TEMPO_GENRES} | set(GUITAR_BY_GENRE)
    assert targets <= set(GENRES)


@pytest.mark.parametrize(
    "entries", [GENRES, MOODS, INSTRUMENTS], ids=["genres", "moods", "instruments"]
)
def test_no_word_names_two_entries(entries: dict[str, object]) -> None:
    owners: dict[str, set[str]] = defaultdict(set)
    for key, entry in entries.items():
        for word in entry.words:  # type: ignore[attr-defined]
            owners[squash(word)].add(key)
    assert {word: keys for word, keys in owners.items() if len(keys) > 1} == {}


@pytest.mark.parametrize("genre", GENRE_IDS)
def test_every_genre_word_reads_as_its_genre(genre: str) -> None:
    for word in GENRES[genre].words:
        assert read_text(word).genre == genre, word
        assert read_text(f"un morceau {word.title()} s'il te plaît").genre == genre, word
        assert genre_id(word.upper()) == genre


@pytest.mark.parametrize("mood", list(MOODS))
def test_every_mood_word_reads_as_its_mood(mood: str) -> None:
    for word in MOODS[mood].words:
        assert read_text(word).mood == mood, word
        assert mood_id(word) == mood


@pytest.mark.parametrize("instrument", list(INSTRUMENTS))
def test_every_instrument_word_reads_as_its_instrument(instrument: str) -> None:
    for word in INSTRUMENTS[instrument].words:
        assert read_text(word).instruments == (instrument,), word
        assert instrument_id(word) == instrument


def test_every_studio_chip_reads_back_as_itself() -> None:
    chips = chip_instruments()
    assert {"piano", "guitar", "strings", "synth", "pads", "bass", "brass", "drums"} <= set(chips)
    for key in chips:
        hints = read_text(f"a tune, with {key}")
        assert (hints.instruments, hints.unknown) == ((key,), ())


def test_ids_and_words_are_found_in_any_case_and_with_or_without_accents() -> None:
    assert genre_id("Hip-Hop") == genre_id("hiphop") == "hiphop"
    assert mood_id("Fröhlich") == mood_id("frohlich") == "happy"
    assert mood_id("énergique") == "energetic"
    assert genre_id("polka-fusion") is None
    assert mood_id("purple") is None


def _catalog(language: str) -> dict[str, str]:
    with (LOCALE_DIR / language / "LC_MESSAGES" / "messages.po").open("rb") as file:
        catalog = read_po(file)
    return {str(message.id): str(message.string) for message in catalog if message.id}


@pytest.mark.parametrize("language", ["de", "fr"])
def test_every_label_and_description_is_translated(language: str) -> None:
    catalog = _catalog(language)
    texts = [g.label for g in GENRES.values()] + [g.description for g in GENRES.values()]
    texts += [m.label for m in MOODS.values()] + [i.label for i in INSTRUMENTS.values()]
    assert [text for text in texts if not catalog.get(text)] == []
    assert Path(LOCALE_DIR / language / "LC_MESSAGES" / "messages.mo").exists()
