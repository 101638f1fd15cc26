"""Drum one-shots synthesized from noise and swept sines, rendered once per track."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

Signal = NDArray[np.float32]


def render_drum(name: str, *, sample_rate: int, rng: np.random.Generator) -> Signal:
    """The one-shot for drum `name`, peak-normalized to about its mix level.

    Raises `KeyError` for an unknown drum name (a bug in the style tables, not user input).
    """
    voice = _DRUMS[name]
    return voice(sample_rate, rng).astype(np.float32)


def _time(seconds: float, sr: int) -> NDArray[np.float64]:
    return np.arange(round(seconds * sr), dtype=np.float64) / sr


def _shaped_noise(
    n: int, sr: int, rng: np.random.Generator, *, low: float, high: float, slope: float = 2.0
) -> NDArray[np.float64]:
    """White noise band-limited to low..high Hz by a smooth spectral mask (no IIR filter needed)."""
    spectrum = np.fft.rfft(rng.standard_normal(n))
    freqs = np.fft.rfftfreq(n, 1.0 / sr)
    with np.errstate(divide="ignore"):
        highpass = 1.0 / (1.0 + (low / np.maximum(freqs, 1.0)) ** (2 * slope))
    lowpass = 1.0 / (1.0 + (freqs / high) ** (2 * slope))
    noise = np.fft.irfft(spectrum * np.sqrt(highpass * lowpass), n)
    return np.asarray(noise / (np.max(np.abs(noise)) + 1e-12), dtype=np.float64)


def _sweep(
    t: NDArray[np.float64], start_hz: float, end_hz: float, tau: float
) -> NDArray[np.float64]:
    """Sine whose pitch glides exponentially from start_hz to end_hz (phase integrated exactly)."""
    phase = end_hz * t + (start_hz - end_hz) * tau * (1.0 - np.exp(-t / tau))
    return np.sin(2.0 * np.pi * phase)


def _kick(sr: int, rng: np.random.Generator) -> NDArray[np.float64]:
    t = _time(0.45, sr)
    body = _sweep(t, 160.0, 48.0, 0.035) * np.exp(-t / 0.16)
    click = _shaped_noise(t.size, sr, rng, low=1500.0, high=9000.0) * np.exp(-t / 0.004)
    return np.asarray(np.tanh(1.8 * (body + 0.25 * click)) * 0.95, dtype=np.float64)


def _snare(sr: int, rng: np.random.Generator) -> NDArray[np.float64]:
    t = _time(0.3, sr)
    tone = (np.sin(2 * np.pi * 190.0 * t) + 0.5 * np.sin(2 * np.pi * 330.0 * t)) * np.exp(
        -t / 0.045
    )
    noise = _shaped_noise(t.size, sr, rng, low=1200.0, high=9000.0) * np.exp(-t / 0.09)
    return np.asarray(0.45 * tone + 0.75 * noise, dtype=np.float64)


def _clap(sr: int, rng: np.random.Generator) -> NDArray[np.float64]:
    t = _time(0.35, sr)
    noise = _shaped_noise(t.size, sr, rng, low=900.0, high=5000.0)
    env = np.exp(-t / 0.12)
    for offset in (0.0, 0.011, 0.022):
        env = np.maximum(env, (t >= offset) * np.exp(-np.maximum(t - offset, 0.0) / 0.006))
    return np.asarray(0.8 * noise * env * (t >= 0.0), dtype=np.float64)


def _hat(
    seconds: float, decay: float, level: float
) -> Callable[[int, np.random.Generator], NDArray[np.float64]]:
    def render(sr: int, rng: np.random.Generator) -> NDArray[np.float64]:
        t = _time(seconds, sr)
        noise = _shaped_noise(t.size, sr, rng, low=7000.0, high=16000.0)
        metal = sum(np.sign(np.sin(2 * np.pi * f * t)) for f in (3140.0, 4370.0, 5220.0, 6610.0))
        return np.asarray(
            level * (0.8 * noise + 0.05 * metal) * np.exp(-t / decay), dtype=np.float64
        )

    return render


def _ride(sr: int, rng: np.random.Generator) -> NDArray[np.float64]:
    t = _time(1.2, sr)
    noise = _shaped_noise(t.size, sr, rng, low=5000.0, high=14000.0)
    bell = sum(np.sin(2 * np.pi * f * t) for f in (2520.0, 3730.0, 5180.0)) / 3.0
    return np.asarray(
        0.35 * (noise * np.exp(-t / 0.5) + 0.6 * bell * np.exp(-t / 0.25)), dtype=np.float64
    )


def _crash(sr: int, rng: np.random.Generator) -> NDArray[np.float64]:
    t = _time(2.0, sr)
    return np.asarray(
        0.4
        * _shaped_noise(t.size, sr, rng, low=3000.0, high=15000.0, slope=1.0)
        * np.exp(-t / 0.7),
        dtype=np.float64,
    )


def _rim(sr: int, rng: np.random.Generator) -> NDArray[np.float64]:
    t = _time(0.08, sr)
    tone = np.sin(2 * np.pi * 1700.0 * t) * np.exp(-t / 0.012)
    return np.asarray(
        0.5 * tone
        + 0.3 * _shaped_noise(t.size, sr, rng, low=2000.0, high=8000.0) * np.exp(-t / 0.006),
        dtype=np.float64,
    )


def _shaker(sr: int, rng: np.random.Generator) -> NDArray[np.float64]:
    t = _time(0.12, sr)
    env = np.minimum(t / 0.012, 1.0) * np.exp(-t / 0.04)
    return np.asarray(0.35 * _shaped_noise(t.size, sr, rng, low=5000.0, high=12000.0) * env)


def _brush(sr: int, rng: np.random.Generator) -> NDArray[np.float64]:
    t = _time(0.3, sr)
    env = np.minimum(t / 0.03, 1.0) * np.exp(-t / 0.1)
    return np.asarray(
        0.45 * _shaped_noise(t.size, sr, rng, low=1500.0, high=7000.0, slope=1.0) * env
    )


def _taiko(sr: int, rng: np.random.Generator) -> NDArray[np.float64]:
    t = _time(1.0, sr)
    body = _sweep(t, 110.0, 62.0, 0.05) * np.exp(-t / 0.32)
    skin = _shaped_noise(t.size, sr, rng, low=200.0, high=2500.0) * np.exp(-t / 0.03)
    return np.asarray(np.tanh(1.5 * (body + 0.3 * skin)), dtype=np.float64)


def _timpani(sr: int, rng: np.random.Generator) -> NDArray[np.float64]:
    t = _time(1.6, sr)
    body = sum(a * np.sin(2 * np.pi * f * t) for a, f in ((1.0, 73.4), (0.5, 110.1), (0.3, 146.8)))
    skin = _shaped_noise(t.size, sr, rng, low=100.0, high=1500.0) * np.exp(-t / 0.05)
    return np.asarray(0.6 * (body * np.exp(-t / 0.6) + 0.4 * skin), dtype=np.float64)


def _tom(sr: int, rng: np.random.Generator) -> NDArray[np.float64]:
    t = _time(0.5, sr)
    return np.asarray(0.8 * _sweep(t, 190.0, 120.0, 0.08) * np.exp(-t / 0.18), dtype=np.float64)


def _vinyl(sr: int, rng: np.random.Generator) -> NDArray[np.float64]:
    # One bar-length bed of hiss and sparse crackle, retriggered each bar in lo-fi.
    t = _time(2.0, sr)
    hiss = 0.04 * _shaped_noise(t.size, sr, rng, low=1500.0, high=6000.0, slope=1.0)
    crackle = np.zeros(t.size)
    positions = rng.integers(0, t.size - 200, size=28)
    for position, amplitude in zip(positions, rng.uniform(0.1, 0.5, size=28), strict=True):
        crackle[position : position + 40] += (
            amplitude * np.exp(-np.arange(40) / 6.0) * rng.choice((-1, 1))
        )
    fade = np.minimum(1.0, np.minimum(t / 0.05, (t[-1] - t) / 0.05))
    return np.asarray((hiss + crackle) * fade, dtype=np.float64)


_DRUMS: dict[str, Callable[[int, np.random.Generator], NDArray[np.float64]]] = {
    "kick": _kick,
    "snare": _snare,
    "clap": _clap,
    "hat_closed": _hat(0.09, 0.022, 0.55),
    "hat_open": _hat(0.45, 0.13, 0.4),
    "hat_pedal": _hat(0.06, 0.015, 0.35),
    "ride": _ride,
    "crash": _crash,
    "rim": _rim,
    "shaker": _shaker,
    "brush": _brush,
    "taiko": _taiko,
    "timpani": _timpani,
    "tom": _tom,
    "vinyl": _vinyl,
}
