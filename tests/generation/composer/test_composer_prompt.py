"""Prompt understanding: words in three languages, explicit fields winning, and the resolved plan
saying what it understood, what it did not, and which rule chose the genre."""

from __future__ import annotations

import json
from typing import Any

import pytest

from beatbun.generation.catalogue import GENRES as CATALOGUE
from beatbun.generation.composer.plan import CompositionPlan
from beatbun.generation.composer.prompt import resolve_plan
from beatbun.generation.composer.reading import read_text
from beatbun.generation.composer.styles import GENRES
from beatbun.generation.provider import MusicRequest

RATE = 44100


def plan_of(prompt: str, *, seed: int = 1, **fields: Any) -> CompositionPlan:
    return resolve_plan(MusicRequest(prompt=prompt, seed=seed, **fields), sample_rate=RATE)


# Prompt -> genre, mood, bpm, tonic, mode (None: the text says nothing about it).
PROMPTS = [
    # The everyday prompts that once all fell back to pop.
    ("sad piano ballad about rain", "piano", "sad", None, None, None),
    ("reggaeton", "reggaeton", None, None, None, None),
    ("bossa nova", "bossa", None, None, None, None),
    ("video game chiptune", "chiptune", None, None, None, None),
    ("lullaby", "piano", None, None, None, None),
    ("drum and bass 174", "dnb", None, 174, None, None),
    ("country guitar", "country", None, None, None, None),
    ("garage rock with distorted guitars", "rock", None, None, None, None),
    ("metal", "metal", None, None, None, None),
    # English.
    ("chill lo-fi piano at 80 bpm in A minor", "lofi", "chill", 80, "A", "minor"),
    ("epic orchestral trailer", "cinematic", "epic", None, None, None),
    ("dark techno 130", "techno", "dark", 130, None, None),
    ("lo-fi hip hop beat to study to", "lofi", "chill", None, None, None),  # earliest genre wins
    ("80s synthwave night drive", "synthwave", None, None, None, None),  # "80s" is no tempo
    ("30 second jazz tune in Bb", "jazz", None, None, "Bb", None),  # "30 second" is no tempo
    ("happy pop song in C major", "pop", "happy", None, "C", "major"),
    ("trap beat F#m 150bpm", "hiphop", None, 150, "F#", "minor"),
    ("ambient soundscape, minor", "ambient", None, None, None, "minor"),
    ("funky disco for a roller rink", "funk", None, None, None, None),
    ("deep house for a beach bar", "house", None, None, None, None),
    ("study music", "lofi", None, None, None, None),
    ("upbeat afrobeats with marimba", "afrobeats", "energetic", None, None, None),
    ("romantic R&B slow jam in Eb major", "rnb", "romantic", None, "Eb", "major"),
    ("dubstep drop with wobble bass 140 bpm", "dubstep", None, 140, None, None),
    ("punk rock, fast", "punk", None, None, None, None),  # "punk rock" is one phrase
    ("a song", None, None, None, None, None),
    # German: accents, compounds, inflections, key names.
    ("ruhiges Klavier, 70 bpm", None, "chill", 70, None, None),
    ("Klavierballade in a-Moll", "piano", None, None, "A", "minor"),
    ("fröhlicher Schlager in Fis-Dur", "pop", "happy", None, "F#", "major"),
    ("düsterer Technobeat, 132 BPM", "techno", "dark", 132, None, None),
    ("entspannte Lernmusik in H-Dur", "lofi", "chill", None, "B", "major"),
    ("epische Filmmusik in b-Moll", "cinematic", "epic", None, "Bb", "minor"),
    ("Gitarrenrock mit verzerrter Gitarre", "rock", None, None, None, None),
    ("Wiegenlied zum Einschlafen", "piano", None, None, None, None),
    ("langsamer Jazz für eine Cocktailbar", "jazz", None, None, None, None),
    # French: accents, key names, sharps and flats.
    ("piano calme en ré mineur", None, "chill", None, "D", "minor"),
    ("musique de film épique en do mineur", "cinematic", "epic", None, "C", "minor"),
    ("bossa nova douce à 120 bpm", "bossa", "chill", 120, None, None),
    ("rock énergique en fa dièse mineur", "rock", "energetic", None, "F#", "minor"),
    ("berceuse en si bémol majeur", "piano", None, None, "Bb", "major"),
    ("musique pour étudier, guitare acoustique", "lofi", None, None, None, None),
    ("reggaeton pour une fête sur la plage", "reggaeton", "energetic", None, None, None),
    ("jeu vidéo rétro, rapide", "chiptune", None, None, None, None),
]


@pytest.mark.parametrize(("text", "genre", "mood", "bpm", "tonic", "mode"), PROMPTS)
def test_read_text_finds_words_in_three_languages(
    text: str,
    genre: str | None,
    mood: str | None,
    bpm: float | None,
    tonic: str | None,
    mode: str | None,
) -> None:
    hints = read_text(text)

    assert (hints.genre, hints.mood, hints.bpm, hints.tonic, hints.mode) == (
        genre,
        mood,
        bpm,
        tonic,
        mode,
    )


@pytest.mark.parametrize(
    ("text", "instruments"),
    [
        ("country guitar", ("acoustic_guitar",)),
        ("garage rock ... distorted guitars", ("distorted_guitar",)),
        # The guitar of the compound, then the distorted one.
        ("Gitarrenrock mit verzerrter Gitarre", ("guitar", "distorted_guitar")),
        ("guitare classique et violoncelle", ("nylon_guitar", "strings")),
        ("drum and bass", ()),  # "bass" is part of the genre's name, not an instrument
        ("smooth sax over an upright bass", ("sax", "upright_bass")),
        ("with acoustic_guitar, electric_piano", ("acoustic_guitar", "electric_piano")),  # ids
    ],
)
def test_read_text_finds_instruments(text: str, instruments: tuple[str, ...]) -> None:
    assert read_text(text).instruments == instruments


@pytest.mark.parametrize(
    ("text", "voices"),
    [
        ("country guitar", {"chords": "acoustic_guitar", "lead": "acoustic_guitar"}),
        ("garage rock with distorted guitars", {"chords": "distorted_guitar"}),
        ("rock with a guitar solo", {"lead": "distorted_guitar"}),  # the genre's own guitar
        ("bossa nova on guitar", {"lead": "nylon_guitar"}),
        ("jazz with a slap bass", {"bass": "slap_bass"}),
        ("brass over strings, cinematic", {"lead": "brass", "chords": "strings"}),
    ],
)
def test_resolve_plan_puts_named_instruments_in(text: str, voices: dict[str, str]) -> None:
    plan = plan_of(text)

    assert {role: plan.voices[role] for role in voices} == voices


def test_resolve_plan_metal_is_in_a_minor_key() -> None:
    for seed in range(8):
        assert plan_of("metal", seed=seed).key.mode == "minor"


def test_resolve_plan_reports_understood_and_unknown_words() -> None:
    plan = plan_of("sad piano ballad about rain, slow")

    assert plan.understood == (
        "sad -> mood sad",
        "piano -> instrument piano",
        "ballad -> genre piano",
        "slow -> tempo slower",
    )
    assert plan.unknown == ("rain",)
    assert plan.genre_rule is None
    described = json.loads(json.dumps(plan.to_dict()))
    assert (described["understood"], described["unknown"], described["genre_rule"]) == (
        list(plan.understood),
        ["rain"],
        None,
    )


@pytest.mark.parametrize(
    ("prompt", "fields", "genre", "rule"),
    [
        ("ruhiges Klavier, 70 bpm", {}, "piano", "instrument:piano"),  # instrument first
        ("a sax solo, sad", {}, "jazz", "instrument:sax"),
        ("something calm", {}, "lofi", "mood:chill"),
        ("a tune", {"mood": "dark"}, "techno", "mood:dark"),  # the mood field counts too
        ("a tune at 174 bpm", {}, "dnb", "tempo:174"),
        ("a tune", {"bpm": 100.0}, "pop", "tempo:100"),
        ("a tune", {}, "pop", "default"),
        ("Sommerhit", {}, "pop", "mood:happy"),  # "Sommer" inside a compound is still a mood
    ],
)
def test_resolve_plan_without_a_genre_word_says_which_rule_chose(
    prompt: str, fields: dict[str, Any], genre: str, rule: str
) -> None:
    plan = plan_of(prompt, **fields)

    assert (plan.genre, plan.genre_rule) == (genre, rule)
    assert plan.sources["genre"] == "default"


def test_resolve_plan_reads_text() -> None:
    plan = plan_of("chill lo-fi piano at 80 bpm in A minor", seed=3)

    assert (plan.genre, plan.bpm, plan.key.label, plan.mood) == ("lofi", 80.0, "A minor", "chill")
    assert plan.voices["lead"] == "piano"
    assert plan.sources == {"genre": "text", "mood": "text", "bpm": "text", "key": "text"}


def test_resolve_plan_fields_win_over_text() -> None:
    plan = plan_of(
        "dark techno 130 in A minor",
        genres=("house",),
        bpm=122.0,
        key="C",
        mode="major",
        mood="happy",
        seed=3,
    )

    assert (plan.genre, plan.bpm, plan.key.label, plan.mood) == ("house", 122.0, "C major", "happy")
    assert plan.sources == {"genre": "field", "mood": "field", "bpm": "field", "key": "field"}


@pytest.mark.parametrize(
    ("tag", "genre"),
    [
        ("bossa", "bossa"),  # an id
        ("Drum and Bass", "dnb"),  # a catalogue word, any case
        ("Filmmusik", "cinematic"),  # in German
    ],
)
def test_resolve_plan_genre_tags_are_read_through_the_catalogue(tag: str, genre: str) -> None:
    assert plan_of("something", genres=(tag,)).genre == genre


def test_resolve_plan_unknown_genre_tag_is_reported_and_the_text_decides() -> None:
    plan = plan_of("jazz", genres=("zydeco-fusion",))

    assert plan.genre == "jazz"
    assert plan.unknown == ("zydeco-fusion",)


def test_resolve_plan_pinning_what_it_chose_gives_the_same_plan() -> None:
    first = plan_of("a nice tune", seed=11)
    pinned = plan_of(
        "a nice tune",
        seed=11,
        genres=(first.genre,),
        bpm=first.bpm,
        key=first.key.tonic,
        mode=first.key.mode,
    )

    assert (pinned.progression, pinned.voices, pinned.sections) == (
        first.progression,
        first.voices,
        first.sections,
    )
    # Pinning only the tempo leaves the key and progression as they were.
    tempo_only = plan_of("a nice tune", seed=11, bpm=first.bpm + 7)
    assert (tempo_only.key, tempo_only.progression) == (first.key, first.progression)


def test_resolve_plan_without_keywords_uses_pop_defaults() -> None:
    plan = plan_of("something nice", seed=5)

    low, high = GENRES["pop"].tempo
    assert plan.genre == "pop"
    assert low <= plan.bpm <= high
    assert plan.sources["bpm"] == "default"


@pytest.mark.parametrize("genre", sorted(CATALOGUE))
def test_resolve_plan_default_tempo_within_genre_range(genre: str) -> None:
    low, high = GENRES[genre].tempo
    for seed in range(12):
        plan = plan_of("a tune", genres=(genre,), seed=seed)
        assert low <= plan.bpm <= high
        assert plan.genre_label == CATALOGUE[genre].label


def test_resolve_plan_without_seed_is_stable_and_reported() -> None:
    request = MusicRequest(prompt="house music", duration_seconds=20)

    first = resolve_plan(request, sample_rate=RATE)
    second = resolve_plan(request, sample_rate=RATE)

    assert first == second
    assert first.to_dict()["seed"] == first.seed
