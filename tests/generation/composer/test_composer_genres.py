"""Genres sound different and keep going: tempo, onset density, brightness and no dead air."""

from __future__ import annotations

import itertools

import pytest
from audio_measures import (
    Render,
    beat_salience,
    decode,
    longest_silence,
    onset_density,
    spectral_centroid,
)

from beatbun.generation.composer.styles import GENRES

# Ambient has no drums, so nothing has to mark its beat.
PULSED = tuple(sorted(g for g in GENRES if g != "ambient"))


def _features(render: Render, genre: str) -> tuple[float, float, float]:
    result = render(genre, seconds=12, genres=(genre,))
    audio = decode(result)
    return float(result.plan["bpm"]), onset_density(audio), spectral_centroid(audio)  # type: ignore[arg-type]


@pytest.mark.parametrize("genre", PULSED)
@pytest.mark.parametrize("seed", [7, 2])
def test_render_beat_is_audible_at_planned_tempo(render: Render, genre: str, seed: int) -> None:
    result = render(genre, seconds=12, seed=seed, genres=(genre,))
    bpm = float(result.plan["bpm"])  # type: ignore[arg-type]

    salience = beat_salience(decode(result), bpm)

    low, high = GENRES[genre].tempo
    assert low <= bpm <= high
    # 1.0 when the planned beat (or half or double time) is the strongest periodicity.
    assert salience >= 0.75


def test_beat_salience_is_low_at_an_unrelated_tempo(render: Render) -> None:
    result = render("techno", seconds=12, genres=("techno",))
    bpm = float(result.plan["bpm"])  # type: ignore[arg-type]

    assert beat_salience(decode(result), bpm * 1.17) < 0.3


def test_render_genres_differ_measurably(render: Render) -> None:
    features = {genre: _features(render, genre) for genre in GENRES}

    for a, b in itertools.combinations(GENRES, 2):
        tempo_a, density_a, centroid_a = features[a]
        tempo_b, density_b, centroid_b = features[b]
        differs = (
            abs(tempo_a - tempo_b) / max(tempo_a, tempo_b) > 0.05
            or abs(density_a - density_b) / max(density_a, density_b) > 0.15
            or abs(centroid_a - centroid_b) / max(centroid_a, centroid_b) > 0.15
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
