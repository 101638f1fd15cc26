"""Measurements the tests make on rendered audio, independent of the composer's own code."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from tests.generation.sinks import Written

Render = Callable[..., Written]

SAMPLE_RATE = 44100
HOP = 512


def decode(result: Written) -> NDArray[np.float64]:
    """The WAV's samples as (frames, 2) floats in -1..1."""
    data = np.frombuffer(result.audio, dtype="<i2", offset=44)
    return data.reshape(-1, 2).astype(np.float64) / 32768.0


def onset_envelope(audio: NDArray[np.float64]) -> NDArray[np.float64]:
    """Spectral flux per 512-sample hop: how much new energy arrives in each frame."""
    mono = audio.mean(axis=1)
    frames = mono.size // HOP - 1
    index = np.arange(1024)[None, :] + HOP * np.arange(frames)[:, None]
    spectra = np.abs(np.fft.rfft(mono[index] * np.hanning(1024), axis=1))
    flux = np.maximum(np.diff(np.log1p(100.0 * spectra), axis=0), 0.0).sum(axis=1)
    return np.asarray(flux, dtype=np.float64)


def onset_density(audio: NDArray[np.float64], *, threshold: float = 200.0) -> float:
    """Onsets per second: local peaks of the flux above a fixed level.

    The level is absolute (the tracks share one loudness), so a smooth pad texture counts few
    onsets however its flux wobbles.
    """
    flux = onset_envelope(audio)
    peaks = (flux[1:-1] > flux[:-2]) & (flux[1:-1] >= flux[2:]) & (flux[1:-1] > threshold)
    return float(peaks.sum() / (audio.shape[0] / SAMPLE_RATE))


def spectral_centroid(audio: NDArray[np.float64]) -> float:
    """Power-weighted mean frequency of the whole track, in Hz."""
    mono = audio.mean(axis=1)
    power = np.abs(np.fft.rfft(mono)) ** 2
    freqs = np.fft.rfftfreq(mono.size, 1.0 / SAMPLE_RATE)
    return float((power * freqs).sum() / power.sum())


def longest_silence(audio: NDArray[np.float64], *, threshold_db: float = -60.0) -> float:
    """Longest run, in seconds, of 50 ms windows whose RMS is below `threshold_db` dBFS."""
    window = SAMPLE_RATE // 20
    count = audio.shape[0] // window
    rms = np.sqrt((audio[: count * window] ** 2).mean(axis=1).reshape(count, window).mean(axis=1))
    quiet = 20 * np.log10(np.maximum(rms, 1e-12)) < threshold_db
    longest = run = 0
    for is_quiet in quiet:
        run = run + 1 if is_quiet else 0
        longest = max(longest, run)
    return longest * window / SAMPLE_RATE


def beat_salience(audio: NDArray[np.float64], bpm: float) -> float:
    """Onset autocorrelation at the beat period (or half or double) relative to the strongest lag.

    1.0 means the beat is the track's strongest periodicity; trap's rolls and syncopated kicks
    can make the strongest lag a dotted or triplet value, so tests ask for a large share.
    """
    flux = onset_envelope(audio)
    flux = flux - flux.mean()
    correlation = np.correlate(flux, flux, mode="full")[flux.size - 1 :]
    rate = SAMPLE_RATE / HOP
    lags = np.arange(int(rate * 60 / 240), int(rate * 60 / 40) + 1)
    best = float(correlation[lags].max())
    at_beat = max(
        float(np.interp(rate * 60 / (bpm * factor), np.arange(correlation.size), correlation))
        for factor in (0.5, 1.0, 2.0)
    )
    return at_beat / best
