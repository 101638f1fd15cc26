"""Prompt understanding: keywords in the text, explicit fields winning, and the resolved plan."""

from __future__ import annotations

import itertools
import json

import pytest

from beatbun.generation.composer.plan import plan_sections
from beatbun.generation.composer.prompt import read_text, resolve_plan
from beatbun.generation.composer.styles import GENRES
from beatbun.generation.provider import MusicRequest


@pytest.mark.parametrize(
    ("text", "genre", "mood", "bpm", "tonic", "mode"),
    [
        ("chill lo-fi piano at 80 bpm in A minor", "lofi", "chill", 80, "A", "minor"),
        ("epic orchestral trailer", "cinematic", "epic", None, None, None),
        ("dark techno 130", "techno", "dark", 130, None, None),
        (
            "lo-fi hip hop beat to study to",
            "lofi",
            "chill",
            None,
            None,
            None,
        ),  # earliest genre wins
        (
            "80s synthwave night drive",
            "synthwave",
            "dark",
            None,
            None,
            None,
        ),  # "80s" is not a tempo
        ("30 second jazz tune in Bb", "jazz", None, None, "Bb", None),  # "30 second" is not a tempo
        ("happy pop song in C major", "pop", "happy", None, "C", "major"),
        ("trap beat F#m 150bpm", "hiphop", None, 150, "F#", "minor"),
        ("ambient soundscape, minor", "ambient", None, None, None, "minor"),
        ("a song", None, None, None, None, None),
    ],
)
def test_read_text_finds_keywords(
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


def test_resolve_plan_reads_text() -> None:
    plan = resolve_plan(
        MusicRequest(prompt="chill lo-fi piano at 80 bpm in A minor", seed=3), sample_rate=44100
    )

    assert (plan.genre, plan.bpm, plan.key.label, plan.mood) == ("lofi", 80.0, "A minor", "chill")
    assert plan.voices["lead"] == "piano"
    assert plan.sources == {"genre": "text", "mood": "text", "bpm": "text", "key": "text"}


def test_resolve_plan_fields_win_over_text() -> None:
    request = MusicRequest(
        prompt="dark techno 130 in A minor",
        genres=("house",),
        bpm=122,
        key="C",
        mode="major",
        mood="happy",
        seed=3,
    )

    plan = resolve_plan(request, sample_rate=44100)

    assert (plan.genre, plan.bpm, plan.key.label, plan.mood) == ("house", 122.0, "C major", "happy")
    assert plan.sources == {"genre": "field", "mood": "field", "bpm": "field", "key": "field"}


def test_resolve_plan_unknown_genre_tag_falls_back_to_text() -> None:
    plan = resolve_plan(MusicRequest(prompt="jazz", genres=("polka",), seed=1), sample_rate=44100)

    assert plan.genre == "jazz"


def test_resolve_plan_without_keywords_uses_pop_defaults() -> None:
    plan = resolve_plan(MusicRequest(prompt="something nice", seed=5), sample_rate=44100)

    low, high = GENRES["pop"].tempo
    assert plan.genre == "pop"
    assert low <= plan.bpm <= high
    assert plan.sources["bpm"] == "default"


@pytest.mark.parametrize("genre", sorted(GENRES))
def test_resolve_plan_default_tempo_within_genre_range(genre: str) -> None:
    low, high = GENRES[genre].tempo
    for seed in range(12):
        plan = resolve_plan(
            MusicRequest(prompt=f"{genre}", genres=(genre,), seed=seed), sample_rate=44100
        )
        assert low <= plan.bpm <= high


def test_resolve_plan_without_seed_is_stable_and_reported() -> None:
    request = MusicRequest(prompt="house music", duration_seconds=20)

    first = resolve_plan(request, sample_rate=44100)
    second = resolve_plan(request, sample_rate=44100)

    assert first == second
    assert first.to_dict()["seed"] == first.seed


def test_plan_to_dict_is_json_with_sections_covering_the_track() -> None:
    plan = resolve_plan(MusicRequest(prompt="pop", duration_seconds=95, seed=2), sample_rate=44100)

    described = json.loads(json.dumps(plan.to_dict()))

    names = [s["name"] for s in described["sections"]]
    assert names[0] == "intro" and names[-1] == "outro" and "chorus" in names and "verse" in names
    assert plan.total_bars * plan.bar_seconds >= 95
    assert (plan.total_bars - 1) * plan.bar_seconds < 95
    assert described["instruments"]["lead"]
    assert len(described["progression"]) == 4


@pytest.mark.parametrize(
    ("seconds", "bpm", "names"),
    [
        (5, 120, ["chorus"]),  # too short for a form: one section
        (16, 120, ["intro", "chorus", "outro"]),
        (40, 120, ["intro", "verse", "chorus", "outro"]),
        (60, 120, ["intro", "verse", "chorus", "bridge", "chorus", "outro"]),
        (
            300,
            128,
            ["intro", *["verse", "chorus"] * 4, "bridge", "chorus", "outro"],
        ),  # 160 bars: 4 rounds
    ],
)
def test_plan_sections_scale_to_duration(seconds: float, bpm: float, names: list[str]) -> None:
    sections = plan_sections(duration_seconds=seconds, bpm=bpm)

    assert [s.name for s in sections] == names
    assert all(s.bars >= 1 for s in sections)
    assert all(b.start_bar == a.start_bar + a.bars for a, b in itertools.pairwise(sections))
