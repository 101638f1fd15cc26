"""Genres sound different and keep going: tempo, onset density, brightness and no dead air."""

from __future__ import annotations

import itertools
from collections import Counter

import numpy as np
import pytest
from audio_measures import (
    HOP,
    SAMPLE_RATE,
    Render,
    beat_salience,
    decode,
    longest_silence,
    onset_density,
    onset_envelope,
    spectral_centroid,
)
from numpy.typing import NDArray

from beatbun.generation.composer.arrangement import Score, arrange
from beatbun.generation.composer.patterns import BACKBEATS, KICKS
from beatbun.generation.composer.prompt import resolve_plan
from beatbun.generation.composer.styles import GENRES
from beatbun.generation.provider import MusicRequest

# Ambient has no drums, so nothing has to mark its beat.
PULSED = tuple(sorted(g for g in GENRES if g != "ambient"))


def _features(render: Render, genre: str) -> tuple[float, float, float]:
    result = render(genre, seconds=12, genres=(genre,))
    audio = decode(result)
    return float(result.plan["bpm"]), onset_density(audio), spectral_centroid(audio)


def _octave_bands(render: Render, genre: str) -> NDArray[np.float64]:
    """Each octave's share of the power from 40 Hz to 20 kHz, in dB."""
    mono = decode(render(genre, seconds=12, genres=(genre,))).mean(axis=1)
    power = np.abs(np.fft.rfft(mono)) ** 2
    freqs = np.fft.rfftfreq(mono.size, 1.0 / SAMPLE_RATE)
    edges = 40.0 * 2.0 ** np.arange(10)
    bands = np.array(
        [power[(freqs >= lo) & (freqs < hi)].sum() for lo, hi in itertools.pairwise(edges)]
    )
    return np.asarray(10.0 * np.log10(bands / bands.sum()), dtype=np.float64)


def _bar_rhythm(render: Render, genre: str) -> NDArray[np.float64]:
    """The onset strength at each 16th of the bar, averaged over the bars, standardised."""
    result = render(genre, seconds=12, genres=(genre,))
    flux = onset_envelope(decode(result))
    step = SAMPLE_RATE / HOP * 60.0 / float(result.plan["bpm"]) / 4.0
    steps = int(flux.size / step)
    strength = np.array([flux[int(i * step) : int((i + 1) * step)].max() for i in range(steps)])
    rhythm = strength[: steps // 16 * 16].reshape(-1, 16).mean(axis=0)
    return np.asarray((rhythm - rhythm.mean()) / rhythm.std(), dtype=np.float64)


@pytest.mark.parametrize("genre", PULSED)
@pytest.mark.parametrize("seed", [7, 2])
def test_render_beat_is_audible_at_planned_tempo(render: Render, genre: str, seed: int) -> None:
    result = render(genre, seconds=12, seed=seed, genres=(genre,))
    bpm = float(result.plan["bpm"])

    salience = beat_salience(decode(result), bpm)

    low, high = GENRES[genre].tempo
    assert low <= bpm <= high
    # 1.0 when the planned beat (or half or double time) is the strongest periodicity.
    assert salience >= 0.75


def test_beat_salience_is_low_at_an_unrelated_tempo(render: Render) -> None:
    result = render("techno", seconds=12, genres=("techno",))
    bpm = float(result.plan["bpm"])

    assert beat_salience(decode(result), bpm * 1.17) < 0.3


def test_render_genres_differ_measurably(render: Render) -> None:
    features = {genre: _features(render, genre) for genre in GENRES}

    rhythms = {genre: _bar_rhythm(render, genre) for genre in GENRES}
    bands = {genre: _octave_bands(render, genre) for genre in GENRES}

    for a, b in itertools.combinations(GENRES, 2):
        tempo_a, density_a, centroid_a = features[a]
        tempo_b, density_b, centroid_b = features[b]
        differs = (
            abs(tempo_a - tempo_b) / max(tempo_a, tempo_b) > 0.05
            or abs(density_a - density_b) / max(density_a, density_b) > 0.15
            or abs(centroid_a - centroid_b) / max(centroid_a, centroid_b) > 0.15
            # Same pace and colour, but the accents fall elsewhere in the bar.
            or float(np.corrcoef(rhythms[a], rhythms[b])[0, 1]) < 0.8
            # Same pace and accents, but another balance of lows, mids and highs.
            or float(np.abs(bands[a] - bands[b]).mean()) > 1.5
        )
        assert differs, (a, b, features[a], features[b])


def test_render_ambient_is_sparsest_and_trap_busiest(render: Render) -> None:
    density = {genre: _features(render, genre)[1] for genre in GENRES}

    assert min(density, key=density.__getitem__) == "ambient"
    assert max(density, key=density.__getitem__) == "hiphop"
    assert density["techno"] > 2 * density["cinematic"]


def test_render_dance_genres_faster_than_lofi_and_ambient(render: Render) -> None:
    tempo = {genre: _features(render, genre)[0] for genre in GENRES}

    assert min(tempo["house"], tempo["techno"]) > max(tempo["lofi"], tempo["ambient"])


@pytest.mark.parametrize("genre", [g for g in sorted(GENRES) if g != "ambient"])
def test_render_has_no_silent_gap_over_two_seconds(render: Render, genre: str) -> None:
    audio = decode(render(genre, seconds=30, seed=5, genres=(genre,)))

    assert longest_silence(audio) <= 2.0


def _score(genre: str, *, seconds: float = 16.0, seed: int = 7) -> tuple[float, Score]:
    request = MusicRequest(prompt="", duration_seconds=seconds, genres=(genre,), seed=seed)
    plan = resolve_plan(request, sample_rate=SAMPLE_RATE)
    return plan.bpm, arrange(plan)


def _groove(genre: str) -> frozenset[tuple[str, int]]:
    """Where the kick (or taiko) and the backbeat fall in the bar, as (role, 16th step).

    Counted over the whole 16 s score; a step belongs to the groove when it is struck in at
    least half of the bars, so variations and fills do not count.
    """
    bpm, score = _score(genre)
    step_samples = SAMPLE_RATE * 60.0 / bpm / 4.0
    struck: set[tuple[int, str, int]] = set()
    for part in score.parts:
        if not part.is_drum:
            continue
        role = (
            "low"
            if part.voice in KICKS or part.voice in ("taiko", "timpani")
            else "back"
            if part.voice in BACKBEATS
            else None
        )
        if role is None:
            continue
        for note in part.notes:
            bar, step = divmod(round(note.start / step_samples), 16)
            struck.add((bar, role, step))
    bars = 1 + max(bar for bar, _, _ in struck)
    counts = Counter((role, step) for _, role, step in struck)
    return frozenset(key for key, count in counts.items() if count >= bars / 2)


@pytest.mark.parametrize("genre", sorted(GENRES))
def test_render_every_genre_fills_its_duration(render: Render, genre: str) -> None:
    result = render(genre, seconds=10, genres=(genre,))
    audio = decode(result)

    assert result.plan["genre"] == genre
    assert audio.shape == (10 * SAMPLE_RATE, 2)
    assert float(np.abs(audio).max()) > 0.1


def test_render_all_genres_pairwise_different_at_one_seed(render: Render) -> None:
    audio = {genre: render(genre, seconds=12, genres=(genre,)).audio for genre in GENRES}

    assert len(set(audio.values())) == len(GENRES)


def test_score_genres_with_drums_have_pairwise_different_grooves() -> None:
    grooves = {genre: _groove(genre) for genre in sorted(GENRES) if GENRES[genre].drums}

    for a, b in itertools.combinations(grooves, 2):
        assert grooves[a] != grooves[b], (a, b, sorted(grooves[a]))
    assert all(grooves.values())


def test_score_solo_piano_plays_only_piano() -> None:
    _, score = _score("piano", seconds=40)

    assert {part.voice for part in score.parts} == {"piano"}
    assert not any(part.is_drum for part in score.parts)


@pytest.mark.parametrize("genre", sorted(GENRES))
@pytest.mark.parametrize("mood", [None, "sad", "energetic"])
def test_plan_default_tempo_inside_the_genre_range(genre: str, mood: str | None) -> None:
    low, high = GENRES[genre].tempo
    for seed in range(6):
        request = MusicRequest(prompt="", genres=(genre,), mood=mood, seed=seed)

        assert low <= resolve_plan(request, sample_rate=SAMPLE_RATE).bpm <= high


# Krumhansl-Kessler key profiles, C first.
_MAJOR_PROFILE = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
_MINOR_PROFILE = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])


def _score_key(score: Score) -> tuple[int, str]:
    """The key whose profile best matches the pitch classes the harmony and lead hold."""
    weights = np.zeros(12)
    for part in score.parts:
        if part.is_drum or part.stem == "bass":
            continue
        for note in part.notes:
            weights[note.pitch % 12] += note.hold * note.velocity
    candidates = (
        (float(np.corrcoef(np.roll(profile, tonic), weights)[0, 1]), tonic, mode)
        for tonic in range(12)
        for profile, mode in ((_MAJOR_PROFILE, "major"), (_MINOR_PROFILE, "minor"))
    )
    _, tonic, mode = max(candidates)
    return tonic, mode


@pytest.mark.parametrize("genre", sorted(GENRES))
def test_score_harmony_points_to_the_planned_key(genre: str) -> None:
    matches = 0
    for seed in range(4):
        for mode in ("major", "minor"):
            request = MusicRequest(
                prompt="", duration_seconds=40.0, genres=(genre,), mode=mode, seed=seed
            )
            plan = resolve_plan(request, sample_rate=SAMPLE_RATE)
            matches += _score_key(arrange(plan)) == (plan.key.root, plan.key.mode)

    assert matches >= 7
