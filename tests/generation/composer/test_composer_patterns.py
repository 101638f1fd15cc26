"""Rhythm patterns: sections shape the drums, bass and comping; repeated bars vary."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from beatbun.generation.composer.forms import FORMS
from beatbun.generation.composer.patterns import (
    BACKBEATS,
    KICKS,
    DrumHit,
    bass_line,
    comp_notes,
    drum_hits,
)
from beatbun.generation.composer.plan import Section
from beatbun.generation.composer.styles import GENRES, GenreStyle
from beatbun.generation.composer.theory import Key, build_chord, voice_lead

KEY = Key("A", "minor")
TONIC = build_chord(KEY, 0, size=3)
SUBDOMINANT = build_chord(KEY, 3, size=3)
DRUMMED = sorted(g for g, style in GENRES.items() if style.drums)


def _section(name: str, *, bars: int = 8, energy: float = 1.0, start_bar: int = 0) -> Section:
    return Section(name, start_bar, bars, energy, density=energy, register=0)


def _bar(
    genre: str, section: Section, bar_in_section: int, *, fill: bool = False, seed: int = 1
) -> list[DrumHit]:
    rng = np.random.default_rng(seed)
    return drum_hits(GENRES[genre], section, bar_in_section, rng, fill=fill)


def _groove(style: GenreStyle) -> tuple[tuple[str, str], ...]:
    return tuple((ln.drum, ln.pattern) for ln in style.drums if ln.drum in KICKS | BACKBEATS)


def test_genres_with_drums_each_have_their_own_kick_and_backbeat() -> None:
    grooves = {genre: _groove(GENRES[genre]) for genre in DRUMMED}

    assert len(set(grooves.values())) == len(grooves)


@pytest.mark.parametrize("genre", sorted(GENRES))
def test_style_progressions_start_on_the_tonic(genre: str) -> None:
    style = GENRES[genre]

    for progression in (p for options in style.progressions.values() for p in options):
        assert progression[0] == 0
        # The last chord leads home: V, IV, bVII (minor) or the tonic itself.
        assert progression[-1] in (0, 3, 4, 6)


@pytest.mark.parametrize("genre", sorted(GENRES))
def test_style_form_exists(genre: str) -> None:
    assert GENRES[genre].form in FORMS


@pytest.mark.parametrize(
    ("genre", "form"),
    [("house", "club"), ("dnb", "club"), ("hiphop", "hiphop"), ("jazz", "jazz"),
     ("ambient", "ambient"), ("piano", "ballad"), ("cinematic", "cinematic"), ("metal", "song")],
)  # fmt: skip
def test_style_form_matches_the_genre(genre: str, form: str) -> None:
    assert GENRES[genre].form == form


def test_metal_is_minor_and_country_major() -> None:
    metal, country = GENRES["metal"], GENRES["country"]

    assert (metal.mode, set(metal.keys)) == ("minor", {"E", "D", "C#", "B"})
    assert (country.mode, set(country.keys)) == ("major", {"G", "D", "A", "E", "C"})


@pytest.mark.parametrize("genre", DRUMMED)
def test_drum_hits_one_per_drum_and_step_within_the_bar(genre: str) -> None:
    for name in ("intro", "verse", "chorus", "build", "drop", "breakdown", "outro"):
        section = _section(name, energy=0.6)
        for bar in range(section.bars):
            hits = _bar(genre, section, bar, fill=bar == 7)
            keys = [(h.drum, h.step) for h in hits]

            assert len(keys) == len(set(keys))
            assert all(0 <= h.step < 16 and 0 < h.velocity <= 1.0 for h in hits)


def test_build_roll_gets_denser_bar_by_bar() -> None:
    build = _section("build", bars=4, energy=0.7)
    roll = GENRES["house"].fill_drums[0]

    counts = [sum(h.drum == roll for h in _bar("house", build, bar)) for bar in range(4)]

    assert counts == sorted(counts)
    assert counts[0] < counts[-1]
    assert counts[-1] >= 16


def test_build_kick_stops_before_the_drop() -> None:
    build = _section("build", bars=4, energy=0.7)

    assert any(h.drum == "kick" for h in _bar("techno", build, 0))
    assert not any(h.drum == "kick" for h in _bar("techno", build, 3))


@pytest.mark.parametrize("genre", DRUMMED)
def test_breakdown_has_no_kick_or_backbeat(genre: str) -> None:
    breakdown = _section("breakdown", bars=8, energy=0.25)

    for bar in range(8):
        assert not any(h.drum in KICKS | BACKBEATS for h in _bar(genre, breakdown, bar))


def test_drop_plays_lines_that_energy_alone_would_not() -> None:
    quiet_drop = _section("drop", energy=0.5)

    drums = {h.drum for h in _bar("house", quiet_drop, 1)}

    assert {"kick", "clap", "hat_open", "hat_closed", "shaker"} <= drums


def test_intro_first_half_keeps_only_kick_and_hats() -> None:
    intro = _section("intro", bars=4, energy=0.7)

    first = {h.drum for h in _bar("pop", intro, 0)}
    second = {h.drum for h in _bar("pop", intro, 3)}

    assert "snare" not in first and "kick" in first
    assert "snare" in second


def test_consecutive_phrase_end_fills_differ() -> None:
    style = GENRES["rock"]
    chorus = _section("chorus", bars=32)
    fills = []
    for bar in (7, 15, 23, 31):
        hits = _bar("rock", chorus, bar, fill=True)
        fills.append(tuple((h.drum, h.step) for h in hits if h.drum in style.fill_drums))

    assert all(fill for fill in fills)
    assert all(a != b for a, b in itertools.pairwise(fills))


def test_repeated_bars_vary_but_keep_the_backbeat() -> None:
    verse = _section("verse", bars=8, energy=0.6)
    rng = np.random.default_rng(3)
    bars = [drum_hits(GENRES["pop"], verse, bar, rng, fill=False) for bar in range(8)]
    patterns = [frozenset((h.drum, h.step) for h in hits) for hits in bars]

    assert len(set(patterns)) >= 4
    for pattern in patterns:
        assert {("snare", 4.0), ("snare", 12.0), ("kick", 0.0)} <= pattern


@pytest.mark.parametrize("genre", sorted(GENRES))
@pytest.mark.parametrize("name", ["intro", "verse", "chorus", "build", "drop", "breakdown"])
def test_bass_line_stays_in_the_bar_and_the_bass_register(genre: str, name: str) -> None:
    section = _section(name, bars=4, energy=0.6)
    for bar in range(4):
        notes = bass_line(
            GENRES[genre], TONIC, SUBDOMINANT, section, np.random.default_rng(bar),
            bar_in_section=bar,
        )  # fmt: skip

        assert all(0 <= step < 16 and 0 < length <= 16 for step, length, _ in notes)
        assert all(24 <= pitch <= 60 for _, _, pitch in notes)


def test_bass_line_falls_silent_in_a_breakdown_and_holds_in_cinematic() -> None:
    breakdown = _section("breakdown", energy=0.25)
    rng = np.random.default_rng(0)

    assert bass_line(GENRES["dnb"], TONIC, TONIC, breakdown, rng) == []
    assert len(bass_line(GENRES["cinematic"], TONIC, TONIC, breakdown, rng)) == 1


def test_bass_line_leaves_air_in_the_last_bar_of_a_build() -> None:
    build = _section("build", bars=4, energy=0.7)
    rng = np.random.default_rng(0)

    last = bass_line(GENRES["house"], TONIC, TONIC, build, rng, bar_in_section=3)

    assert last and max(step + length for step, length, _ in last) <= 8


@pytest.mark.parametrize("genre", sorted(GENRES))
@pytest.mark.parametrize("name", ["intro", "verse", "chorus", "build", "drop", "breakdown"])
def test_comp_notes_play_chord_tones_in_the_bar(genre: str, name: str) -> None:
    style = GENRES[genre]
    chord = build_chord(KEY, 3, size=style.chord_size)
    voicing = voice_lead(None, chord, low=55, high=79)
    section = _section(name, bars=4, energy=0.7)

    notes = comp_notes(
        style, chord=chord, voicing=voicing, section=section, bar_in_section=0,
        rng=np.random.default_rng(0),
    )  # fmt: skip

    assert notes
    assert all(0 <= step < 16 and length > 0 for step, length, _, _ in notes)
    assert {pitch % 12 for _, _, pitch, _ in notes} <= chord.pitch_classes


def test_power_comps_play_root_fifth_octave_low_on_the_neck() -> None:
    chord = build_chord(KEY, 3, size=3)  # D minor: root D
    voicing = voice_lead(None, chord, low=55, high=79)
    verse = _section("verse", energy=0.7)

    for genre in ("rock", "metal", "punk"):
        notes = comp_notes(
            GENRES[genre], chord=chord, voicing=voicing, section=verse, bar_in_section=0,
            rng=np.random.default_rng(0),
        )  # fmt: skip

        assert {pitch for _, _, pitch, _ in notes} == {50, 57, 62}


def test_strum_up_strokes_run_high_to_low() -> None:
    chord = build_chord(Key("G", "major"), 0, size=3)
    voicing = voice_lead(None, chord, low=55, high=79)
    chorus = _section("chorus")

    notes = comp_notes(
        GENRES["folk"], chord=chord, voicing=voicing, section=chorus, bar_in_section=0,
        rng=np.random.default_rng(0),
    )  # fmt: skip
    down = [pitch for step, _, pitch, _ in sorted(notes) if 0 <= step < 1]
    up = [pitch for step, _, pitch, _ in sorted(notes) if 6 <= step < 7]

    assert down == sorted(down) and up == sorted(up, reverse=True)


def test_chiptune_comp_arpeggiates_one_tone_at_a_time() -> None:
    chord = build_chord(Key("C", "major"), 0, size=3)
    voicing = voice_lead(None, chord, low=55, high=79)

    notes = comp_notes(
        GENRES["chiptune"], chord=chord, voicing=voicing, section=_section("chorus"),
        bar_in_section=0, rng=np.random.default_rng(0),
    )  # fmt: skip
    steps = [step for step, _, _, _ in notes]

    assert len(steps) == 16 and len(set(steps)) == 16
    assert len({pitch for _, _, pitch, _ in notes}) >= 3
