"""Genres sound different and keep going: tempo, onset density, brightness and no dead air."""

from __future__ import annotations

import itertools

import pytest
from audio_measures import (
    Render,
    decode,
    estimate_tempo,
    longest_silence,
    onset_density,
    spectral_centroid,
)

from beatbun.generation.composer.styles import GENRES

# Genres with a steady drum pulse; orchestral hits and ambient pads do not mark every beat.
PULSED = ("pop", "rock", "house", "techno", "hiphop", "lofi", "jazz", "synthwave")


def _features(render: Render, genre: str) -> tuple[float, float, float]:
    result = render(genre, seconds=12, genres=(genre,))
    audio = decode(result)
    return float(result.plan["bpm"]), onset_density(audio), spectral_centroid(audio)  # type: ignore[arg-type]


@pytest.mark.parametrize("genre", PULSED)
def test_render_tempo_is_audible_and_in_genre_range(render: Render, genre: str) -> None:
    result = render(genre, seconds=12, genres=(genre,))
    bpm = float(result.plan["bpm"])  # type: ignore[arg-type]

    measured = estimate_tempo(decode(result))

    low, high = GENRES[genre].tempo
    assert low <= bpm <= high
    # Autocorrelation may lock onto half or double time; the beat itself must be there.
    assert any(abs(measured * factor / bpm - 1.0) < 0.04 for factor in (0.5, 1.0, 2.0))


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
