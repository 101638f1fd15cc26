"""The rendered file: determinism, exact length, a valid WAV, and peaks for the player."""

from __future__ import annotations

import io
import json
import wave

import numpy as np
from audio_measures import Render, decode

from beatbun.generation.composer.provider import Composer
from beatbun.generation.composer.wav import compute_peaks
from beatbun.generation.provider import MusicRequest


def test_render_same_seed_same_bytes(render: Render) -> None:
    first = render("house", seconds=8, seed=11)

    fresh = Composer().compose(MusicRequest(prompt="house", duration_seconds=8, seed=11))

    assert bytes(fresh.audio) == bytes(first.audio)
    assert fresh.peaks == first.peaks


def test_render_different_seed_different_music(render: Render) -> None:
    first = decode(render("house", seconds=8, seed=11))
    other = decode(render("house", seconds=8, seed=12))

    assert first.shape == other.shape
    correlation = np.corrcoef(first[:, 0], other[:, 0])[0, 1]
    assert correlation < 0.5


def test_render_duration_is_sample_exact(render: Render) -> None:
    result = render("rock", seconds=7.3, seed=1)

    with wave.open(io.BytesIO(bytes(result.audio))) as reader:
        assert reader.getnchannels() == 2
        assert reader.getsampwidth() == 2
        assert reader.getframerate() == 44100
        assert reader.getnframes() == round(7.3 * 44100)
    assert len(result.audio) == 44 + round(7.3 * 44100) * 4
    assert result.frames == round(7.3 * 44100)


def test_render_peaks_are_min_max_pairs_of_the_audio(render: Render) -> None:
    result = render("pop", seconds=12)
    audio = decode(result)

    assert len(result.peaks) == 1000
    lows = np.array([p[0] for p in result.peaks])
    highs = np.array([p[1] for p in result.peaks])
    assert np.all(lows <= highs)
    assert np.all((lows >= -1.0) & (highs <= 1.0))
    assert highs.max() == round(audio.max() * 32768 / 32767, 4)
    assert lows.min() == round(audio.min(), 4)


def test_compute_peaks_short_input_gives_one_pair_per_frame() -> None:
    samples = np.array([[0, 0], [16384, -16384], [-32768, 32767]], dtype=np.int16)

    peaks = compute_peaks(samples, points=1000)

    assert peaks == ((0.0, 0.0), (-0.5, 0.5), (-1.0, 1.0))


def test_render_plan_is_json_and_reports_loudness(render: Render) -> None:
    result = render("chill lo-fi piano at 80 bpm in A minor", seconds=10)

    plan = json.loads(json.dumps(result.plan))

    assert (plan["genre"], plan["bpm"], plan["key"]) == ("lofi", 80.0, "A minor")
    assert abs(plan["loudness_lufs"] - -14.0) < 0.2
    assert plan["true_peak_dbtp"] <= -1.0
    assert plan["duration_seconds"] == 10.0


def test_render_fades_out_to_silence(render: Render) -> None:
    audio = decode(render("techno", seconds=12))

    tail = np.abs(audio[-441:]).max()
    body = np.abs(audio[: -4 * 44100]).max()
    assert tail < 0.01 * body
