"""Loudness and peaks: -14 LUFS within 1 LU and true peak at or below -1 dBTP, checked by pyloudnorm."""

from __future__ import annotations

import numpy as np
import pyloudnorm  # type: ignore[import-untyped]
import pytest
from audio_measures import SAMPLE_RATE, Render, decode
from numpy.typing import NDArray
from scipy.signal import resample_poly  # type: ignore[import-untyped]

from beatbun.generation.composer.loudness import LoudnessMeter
from beatbun.generation.composer.styles import GENRES


def _true_peak_dbtp(audio: NDArray[np.float64]) -> float:
    upsampled = resample_poly(audio, 4, 1, axis=0)
    return float(20 * np.log10(np.abs(upsampled).max()))


@pytest.mark.parametrize("genre", sorted(GENRES))
def test_render_loudness_is_minus_14_lufs(render: Render, genre: str) -> None:
    audio = decode(render(genre, seconds=12, genres=(genre,)))

    loudness = pyloudnorm.Meter(SAMPLE_RATE).integrated_loudness(audio)

    assert abs(loudness - -14.0) <= 1.0


@pytest.mark.parametrize("genre", sorted(GENRES))
def test_render_true_peak_at_most_minus_1_dbtp(render: Render, genre: str) -> None:
    audio = decode(render(genre, seconds=12, genres=(genre,)))

    assert _true_peak_dbtp(audio) <= -1.0


def test_render_long_track_loudness(render: Render) -> None:
    audio = decode(render("epic orchestral trailer", seconds=45, seed=3))

    assert abs(pyloudnorm.Meter(SAMPLE_RATE).integrated_loudness(audio) - -14.0) <= 1.0
    assert _true_peak_dbtp(audio) <= -1.0


@pytest.mark.parametrize(
    ("frequency", "level_db"),
    [
        (1000.0, -20.0),
        (100.0, -12.0),
        (8000.0, -30.0),
        (30.0, -6.0),
    ],  # 30 Hz sits on the high-pass slope
)
def test_meter_matches_pyloudnorm_on_sines(frequency: float, level_db: float) -> None:
    t = np.arange(5 * SAMPLE_RATE) / SAMPLE_RATE
    tone = 10 ** (level_db / 20) * np.sin(2 * np.pi * frequency * t)
    stereo = np.stack([tone, 0.5 * tone]).astype(np.float32)
    meter = LoudnessMeter(sample_rate=SAMPLE_RATE, with_true_peak=True)

    meter.add(stereo)

    expected = pyloudnorm.Meter(SAMPLE_RATE).integrated_loudness(stereo.T.astype(np.float64))
    assert abs(meter.result().integrated_lufs - expected) < 0.1


def test_meter_gates_silence_out() -> None:
    t = np.arange(6 * SAMPLE_RATE) / SAMPLE_RATE
    tone = 0.1 * np.sin(2 * np.pi * 440 * t)
    tone[3 * SAMPLE_RATE :] = 0.0  # three seconds of silence must not lower the result
    stereo = np.stack([tone, tone]).astype(np.float32)
    meter = LoudnessMeter(sample_rate=SAMPLE_RATE, with_true_peak=False)

    meter.add(stereo)

    expected = pyloudnorm.Meter(SAMPLE_RATE).integrated_loudness(stereo.T.astype(np.float64))
    assert abs(meter.result().integrated_lufs - expected) < 0.1


def test_meter_finds_inter_sample_peak() -> None:
    # A quarter-rate sine sampled at +-45 degrees: samples reach 0.707, the waveform reaches 1.0.
    n = np.arange(SAMPLE_RATE)
    tone = np.sin(2 * np.pi * n / 4 + np.pi / 4)
    stereo = np.stack([tone, tone]).astype(np.float32) * 0.5
    meter = LoudnessMeter(sample_rate=SAMPLE_RATE, with_true_peak=True)

    meter.add(stereo)

    assert abs(meter.result().true_peak_dbtp - 20 * np.log10(0.5)) < 0.3
