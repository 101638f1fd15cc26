"""Songs, not loops: forms per genre, sections that differ, repeats that vary, extensions."""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections import Counter

import numpy as np
import pyloudnorm  # type: ignore[import-untyped]
import pytest
from audio_measures import SAMPLE_RATE, Render, decode
from numpy.typing import NDArray

from beatbun.generation.composer.arrangement import Score, arrange
from beatbun.generation.composer.forms import FORMS, SHAPES, plan_sections
from beatbun.generation.composer.plan import (
    COMPOSER_VERSION,
    STEPS_PER_BAR,
    CompositionPlan,
    Section,
)
from beatbun.generation.composer.prompt import resolve_plan
from beatbun.generation.composer.styles import GENRES
from beatbun.generation.composer.theory import Key
from beatbun.generation.provider import MusicRequest

STEMS = {"drums", "bass", "harmony", "lead", "pads"}
PEAKS = {"chorus", "drop"}


def _plan(
    genre: str,
    seconds: float,
    *,
    seed: int = 7,
    pinned: Key | None = None,
    bpm: float | None = None,
    extends_seconds: float | None = None,
) -> CompositionPlan:
    request = MusicRequest(
        prompt=genre, duration_seconds=seconds, genres=(genre,), seed=seed, bpm=bpm,
        key=pinned.tonic if pinned else None, mode=pinned.mode if pinned else None,  # type: ignore[arg-type]
        extends_seconds=extends_seconds,
    )  # fmt: skip
    return resolve_plan(request, sample_rate=SAMPLE_RATE)


@pytest.mark.parametrize("form", sorted(FORMS))
@pytest.mark.parametrize("seconds", [10.0, 30.0, 60.0, 95.0, 180.0, 300.0])
@pytest.mark.parametrize("bpm", [70.0, 124.0, 174.0])
def test_plan_sections_cover_the_duration_in_phrases(form: str, seconds: float, bpm: float) -> None:
    sections = plan_sections(duration_seconds=seconds, bpm=bpm, form=form)

    bar_seconds = 240.0 / bpm
    total = sum(s.bars for s in sections)
    # The bars cover the duration exactly: the last bar is the one the track ends in.
    assert total * bar_seconds >= seconds > (total - 1) * bar_seconds
    assert sections[0].start_bar == 0
    assert all(b.start_bar == a.start_bar + a.bars for a, b in itertools.pairwise(sections))
    allowed = {name for rung in FORMS[form].rungs for name in rung}
    assert {s.name for s in sections} <= allowed
    if total >= 16:
        # Phrases of 4 or 8 bars; only the ending takes what is left over.
        assert all(s.bars % 4 == 0 for s in sections[:-1])
        assert sections[0].name == "intro" and sections[-1].name == "outro"
        assert sections[-1].bars >= 3


@pytest.mark.parametrize(
    ("form", "seconds", "bpm", "names"),
    [
        ("song", 8, 120, ["chorus"]),  # too short for a form: one section
        ("song", 30, 120, ["intro", "verse", "chorus", "outro"]),
        ("ballad", 30, 78, ["intro", "chorus", "outro"]),  # ten slow bars still open and end
        ("club", 10, 128, ["drop"]),
        ("club", 30, 128, ["intro", "drop", "outro"]),
        ("club", 60, 128, ["intro", "build", "drop", "breakdown", "drop", "outro"]),
        ("club", 90, 124, ["intro", "build", "drop", "breakdown", "build", "drop", "outro"]),
        ("jazz", 60, 140, ["intro", "verse", "bridge", "verse", "outro"]),
        ("cinematic", 90, 96, ["intro", "verse", "build", "chorus", "breakdown", "chorus", "outro"]),
        (
            "song",
            150,
            120,
            ["intro", "verse", "prechorus", "chorus", "verse", "prechorus", "chorus", "bridge",
             "chorus", "outro"],
        ),
    ],
)  # fmt: skip
def test_plan_sections_follow_the_form(
    form: str, seconds: float, bpm: float, names: list[str]
) -> None:
    sections = plan_sections(duration_seconds=seconds, bpm=bpm, form=form)

    assert [s.name for s in sections] == names


def test_plan_sections_long_tracks_repeat_verse_and_chorus() -> None:
    sections = plan_sections(duration_seconds=300, bpm=120, form="song")

    names = Counter(s.name for s in sections)
    assert names["verse"] >= 4 and names["chorus"] >= 5
    assert [s.name for s in sections[-3:]] == ["bridge", "chorus", "outro"]


def test_plan_sections_carry_each_shape() -> None:
    sections = plan_sections(duration_seconds=120, bpm=128, form="club")

    for section in sections:
        shape = SHAPES[section.name]
        assert (section.energy, section.density, section.register) == (
            shape.energy,
            shape.density,
            shape.register,
        )
    assert max(s.energy for s in sections if s.name == "breakdown") < min(
        s.energy for s in sections if s.name == "drop"
    )


@pytest.mark.parametrize(
    ("form", "original", "extended"),
    [
        ("song", 60.0, 120.0),
        ("club", 60.0, 90.0),
        ("jazz", 45.0, 200.0),
        ("ballad", 10.0, 40.0),  # a one-section original keeps that section
    ],
)
def test_plan_sections_extension_keeps_the_original_but_its_outro(
    form: str, original: float, extended: float
) -> None:
    before = plan_sections(duration_seconds=original, bpm=120, form=form)
    after = plan_sections(duration_seconds=extended, bpm=120, form=form, extends_seconds=original)

    kept = before[:-1] if len(before) > 1 else before
    assert after[: len(kept)] == kept
    assert after[-1].name == "outro"
    total = sum(s.bars for s in after)
    assert total * 2.0 >= extended > (total - 1) * 2.0
    assert all(b.start_bar == a.start_bar + a.bars for a, b in itertools.pairwise(after))


def test_plan_sections_unknown_form_is_refused() -> None:
    with pytest.raises(ValueError, match="Form 'rondo'"):
        plan_sections(duration_seconds=60, bpm=120, form="rondo")


def test_plan_sections_extension_that_adds_no_bar_is_refused() -> None:
    with pytest.raises(ValueError, match="adds no bar"):
        plan_sections(duration_seconds=8.0, bpm=120, form="song", extends_seconds=8.0)


@pytest.mark.parametrize("genre", sorted(GENRES))
def test_plan_uses_its_genres_form(genre: str) -> None:
    plan = _plan(genre, 60)

    described = plan.to_dict()
    assert described["form"] == GENRES[genre].form == plan.form
    assert described["composer_version"] == COMPOSER_VERSION == 2
    assert {s.name for s in plan.sections} <= {n for r in FORMS[plan.form].rungs for n in r}


@pytest.mark.parametrize("genre", sorted(GENRES))
def test_arrange_no_eight_bars_copy_the_eight_before(genre: str) -> None:
    plan = _plan(genre, 90)
    windows = _bar_contents(plan, arrange(plan))

    copies = [
        bar
        for bar in range(8, plan.total_bars - 7)
        if windows[bar - 8 : bar] == windows[bar : bar + 8]
    ]
    assert copies == []


@pytest.mark.parametrize("genre", sorted(GENRES))
def test_arrange_long_sections_develop_tune_and_harmony(genre: str) -> None:
    plan = _plan(genre, 60)
    names = ("verse", "chorus", "bridge", "drop")
    sections = tuple(
        Section(name, 32 * i, 32, SHAPES[name].energy, SHAPES[name].density, SHAPES[name].register)
        for i, name in enumerate(names)
    )
    plan = dataclasses.replace(
        plan, sections=sections, frames=round(32 * len(names) * plan.bar_seconds * SAMPLE_RATE)
    )
    score = arrange(plan)
    # Grooves (drums, bass, power-chord riffs) may loop; the tune and the harmony may not.
    developing = {"lead", "right_hand", "pad", "arp", "left_hand"}
    if GENRES[genre].comp not in ("power", "gallop", "punk"):
        developing.add("chords")

    for part in score.parts:
        if part.name not in developing:
            continue
        bars = _bar_contents(plan, Score(parts=(part,), kick_starts=()))
        copies = [
            bar
            for section in sections
            for bar in range(section.start_bar + 8, section.start_bar + section.bars - 7)
            if bars[bar - 8 : bar] == bars[bar : bar + 8] and any(bars[bar - 8 : bar])
        ]
        assert copies == [], part.name


@pytest.mark.parametrize("genre", sorted(GENRES))
def test_arrange_every_part_names_its_stem(genre: str) -> None:
    score = arrange(_plan(genre, 30))

    assert {p.stem for p in score.parts} <= STEMS
    assert all(p.stem == "drums" for p in score.parts if p.is_drum)
    assert all(p.stem != "drums" for p in score.parts if not p.is_drum)


def test_arrange_solo_piano_is_two_hands() -> None:
    score = arrange(_plan("piano", 60))

    assert sorted((p.name, p.voice) for p in score.parts) == [
        ("left_hand", "piano"),
        ("right_hand", "piano"),
    ]


@pytest.mark.parametrize("genre", ["pop", "techno", "cinematic"])
def test_arrange_sections_differ_in_layers(genre: str) -> None:
    plan = _plan(genre, 120)
    score = arrange(plan)

    playing = {
        section.name: {
            p.name for p in score.parts if any(_bar_of(plan, n.start) in _bars(section) for n in p.notes)
        }
        for section in plan.sections
    }  # fmt: skip
    peak = next(name for name in ("drop", "chorus") if name in playing)
    quiet = "breakdown" if "breakdown" in playing else "verse"
    assert playing[quiet] < playing[peak]
    if "breakdown" in playing:
        assert not any(name.startswith("drums:") for name in playing["breakdown"])
    if "build" in playing:
        assert "riser" in playing["build"]
        assert "impact" in playing[peak]


@pytest.mark.parametrize("genre", ["pop", "techno", "jazz", "piano", "dubstep"])
def test_arrange_extension_plays_the_original_note_for_note(genre: str) -> None:
    original = _plan(genre, 60)
    extended = _plan(genre, 110, extends_seconds=60.0, bpm=original.bpm, pinned=original.key)
    kept = extended.sections[: len(original.sections) - 1]
    boundary = kept[-1].start_bar + kept[-1].bars
    # A little before the boundary: the new sections' first notes may be played a touch early.
    cut = round((boundary * original.bar_seconds - 0.02) * SAMPLE_RATE)

    before = _notes_before(arrange(original), cut)
    after = _notes_before(arrange(extended), cut)

    assert extended.sections[: len(kept)] == original.sections[:-1]
    assert (extended.key, extended.bpm, extended.progression) == (
        original.key,
        original.bpm,
        original.progression,
    )
    assert before and after == before
    assert any(s.name != "outro" for s in extended.sections[len(kept) :])


@pytest.mark.parametrize("genre", ["pop", "techno", "jazz", "ambient", "piano", "metal"])
def test_arrange_ends_on_a_ringing_tonic(genre: str) -> None:
    plan = _plan(genre, 45)
    score = arrange(plan)

    last_start = max(n.start for p in score.parts for n in p.notes)
    final = [(p, n) for p in score.parts for n in p.notes if n.start >= last_start - 2000]
    tonic = {plan.key.root, (plan.key.root + (3 if plan.key.mode == "minor" else 4)) % 12,
             (plan.key.root + 7) % 12}  # fmt: skip
    # Struck together at least 2 s before the end, and nothing starts after it.
    assert plan.frames - last_start >= 2.0 * SAMPLE_RATE
    assert {n.pitch % 12 for p, n in final if not p.is_drum} <= tonic
    assert any(not p.is_drum and n.hold >= 2.0 * SAMPLE_RATE for p, n in final)


@pytest.mark.parametrize(
    "genre", ["pop", "rock", "hiphop", "lofi", "folk", "chiptune", "techno", "dnb", "cinematic"]
)
def test_render_peaks_stand_out_in_short_term_loudness(render: Render, genre: str) -> None:
    result = render(genre, seconds=90, genres=(genre,))
    audio = decode(result)
    plan = result.plan
    bar_seconds = 240.0 / float(plan["bpm"])

    levels: dict[str, list[float]] = {}
    for section in plan["sections"]:
        start = float(section["start_seconds"])
        end = start + section["bars"] * bar_seconds
        levels.setdefault(section["name"], []).append(_short_term(audio, start, end))
    peak = min(min(levels[name]) for name in PEAKS & levels.keys())
    if "verse" in levels:
        assert peak >= max(levels["verse"]) + 3.0, levels
    if "breakdown" in levels:
        assert max(levels["breakdown"]) <= peak - 6.0, levels


def _short_term(audio: NDArray[np.float64], start: float, end: float) -> float:
    """Median BS.1770 loudness of 3 s windows inside the section (1 s hop)."""
    meter = pyloudnorm.Meter(SAMPLE_RATE)
    values = [
        meter.integrated_loudness(audio[round(t * SAMPLE_RATE) : round((t + 3.0) * SAMPLE_RATE)])
        for t in np.arange(start, max(start, end - 3.0) + 1e-9, 1.0)
    ]
    return float(np.median(values))


def _bars(section: object) -> range:
    return range(section.start_bar, section.start_bar + section.bars)  # type: ignore[attr-defined]


def _bar_of(plan: CompositionPlan, start: int) -> int:
    return int(start / (plan.bar_seconds * SAMPLE_RATE))


def _bar_contents(plan: CompositionPlan, score: Score) -> list[Counter[tuple[str, int, int]]]:
    """Per bar: each note as (part, position in half steps within the bar, pitch).

    Velocities and the few milliseconds of human timing are left out, so a bar that replays
    the same notes counts as a copy.
    """
    half_step = plan.bar_seconds * SAMPLE_RATE / STEPS_PER_BAR / 2
    bars: list[Counter[tuple[str, int, int]]] = [Counter() for _ in range(plan.total_bars)]
    for part in score.parts:
        for note in part.notes:
            position = round(note.start / half_step)
            bar, offset = divmod(position, 2 * STEPS_PER_BAR)
            if bar < len(bars):
                bars[bar][(part.name, offset, note.pitch)] += 1
    return bars


def _notes_before(score: Score, cut: int) -> dict[str, list[tuple[int, int, int, float]]]:
    return {
        part.name: [(n.start, n.hold, n.pitch, n.velocity) for n in part.notes if n.start < cut]
        for part in score.parts
        if any(n.start < cut for n in part.notes)
    }


def test_section_names_are_the_shared_vocabulary() -> None:
    assert set(SHAPES) == {
        "intro", "verse", "prechorus", "chorus", "bridge", "breakdown", "build", "drop", "outro"
    }  # fmt: skip
    assert math.isclose(SHAPES["chorus"].energy, 1.0)
