"""Drum one-shots synthesized from noise, swept sines and metallic square clusters.

Each is rendered once per track, at a peak that sets its loudness in the mix.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from beatbun.generation.composer.mixing import fast_fft_size

Signal = NDArray[np.float32]

_STRIKE_SECONDS = 0.0007
# The metallic partials of an analogue drum machine's cymbals and cowbell: six square waves.
_METAL_HZ = (205.3, 304.4, 369.6, 522.7, 540.0, 800.0)


def render_drum(name: str, *, sample_rate: int, rng: np.random.Generator) -> Signal:
    """The one-shot for drum `name`, peak-normalized to about its mix level.

    Raises `KeyError` for an unknown drum name (a bug in the style tables, not user input).
    """
    sound = _DRUMS[name](sample_rate, rng).astype(np.float32)
    # A stick or a beater takes a fraction of a millisecond to strike: noise switched fully on
    # in one sample would click.
    onset = round(_STRIKE_SECONDS * sample_rate)
    sound[:onset] *= np.linspace(0.0, 1.0, onset, endpoint=False, dtype=np.float32)
    return sound


def _time(seconds: float, sr: int) -> NDArray[np.float64]:
    return np.arange(round(seconds * sr), dtype=np.float64) / sr


def _shaped_noise(
    n: int, sr: int, rng: np.random.Generator, *, low: float, high: float, slope: int = 2
) -> NDArray[np.float64]:
    """White noise band-limited to low..high Hz, peak-normalized.

    The noise is drawn straight as a spectrum (white noise's DFT is white complex noise), so
    shaping it takes one inverse FFT.
    """
    size = fast_fft_size(n)
    bins = size // 2 + 1
    spectrum = np.empty(bins, dtype=np.complex64)
    spectrum.real = rng.standard_normal(bins, dtype=np.float32)
    spectrum.imag = rng.standard_normal(bins, dtype=np.float32)
    spectrum *= _mask(size, sr, low=low, high=high, slope=slope)
    return _from_spectrum(spectrum, size, n)


def _band(
    signal: NDArray[np.floating], sr: int, *, low: float, high: float, slope: int = 2
) -> NDArray[np.float64]:
    """`signal` band-limited to low..high Hz by a smooth spectral mask, peak-normalized."""
    size = fast_fft_size(signal.size)
    spectrum = np.fft.rfft(signal.astype(np.float32, copy=False), size)
    spectrum *= _mask(size, sr, low=low, high=high, slope=slope)
    return _from_spectrum(spectrum, size, signal.size)


def _mask(n: int, sr: int, *, low: float, high: float, slope: int) -> NDArray[np.float32]:
    """Butterworth-like band-pass magnitudes of order `slope` at each rfft bin (no IIR filter)."""
    freqs = np.fft.rfftfreq(n, 1.0 / sr).astype(np.float32)
    below = np.float32(low) / np.maximum(freqs, np.float32(1.0))
    below *= below
    above = freqs * np.float32(1.0 / high)
    above *= above
    if slope == 2:
        below *= below
        above *= above
    below += np.float32(1.0)
    above += np.float32(1.0)
    below *= above
    return np.asarray(1.0 / np.sqrt(below), dtype=np.float32)


def _from_spectrum(spectrum: NDArray[np.complexfloating], size: int, n: int) -> NDArray[np.float64]:
    """The first `n` samples of the `size`-point signal with this spectrum, peak-normalized."""
    shaped = np.fft.irfft(spectrum, size)[:n]
    shaped /= np.max(np.abs(shaped)) + 1e-12
    return shaped.astype(np.float64)


def _metal(t: NDArray[np.float64], *, scale: float = 1.0) -> Signal:
    """The six-square cluster (rich in inharmonic partials), `scale` times higher."""
    seconds = t.astype(np.float32)
    out = np.zeros(t.size, dtype=np.float32)
    phase = np.empty_like(seconds)
    whole = np.empty_like(seconds)
    for f in _METAL_HZ:
        # A square is high for the first half of each cycle.
        np.multiply(seconds, np.float32(f * scale), out=phase)
        np.floor(phase, out=whole)
        phase -= whole
        out += phase < 0.5
    out *= 2.0
    out -= len(_METAL_HZ)
    return out


def _sweep(
    t: NDArray[np.float64], start_hz: float, end_hz: float, tau: float
) -> NDArray[np.float64]:
    """Sine whose pitch glides exponentially from start_hz to end_hz (phase integrated exactly)."""
    phase = end_hz * t + (start_hz - end_hz) * tau * (1.0 - np.exp(-t / tau))
    return np.sin(2.0 * np.pi * phase)


def _kick(sr: int, rng: np.random.Generator) -> NDArray[np.float64]:
    # A fast pitch drop gives the punch; the beater's click is a short bright burst.
    t = _time(0.5, sr)
    body = _sweep(t, 230.0, 50.0, 0.03) * np.exp(-t / 0.13)
    click = _shaped_noise(t.size, sr, rng, low=2000.0, high=10000.0) * np.exp(-t / 0.003)
    return np.asarray(np.tanh(2.0 * (body + 0.45 * click)) * 0.85, dtype=np.float64)


def _kick_808(sr: int, rng: np.random.Generator) -> NDArray[np.float64]:
    t = _time(1.2, sr)
    body = _sweep(t, 120.0, 47.0, 0.05) * np.exp(-t / 0.45)
    click = _shaped_noise(t.size, sr, rng, low=1500.0, high=8000.0) * np.exp(-t / 0.002)
    return np.asarray(np.tanh(1.5 * (body + 0.25 * click)) * 0.95, dtype=np.float64)


def _snare_voice(
    *, seconds: float, tuning: float, body_decay: float, wire_decay: float, wire_low: float
) -> Callable[[int, np.random.Generator], NDArray[np.float64]]:
    def render(sr: int, rng: np.random.Generator) -> NDArray[np.float64]:
        t = _time(seconds, sr)
        # The drum head's two lowest modes, dropping a little in pitch as the hit dies.
        head = _sweep(t, tuning * 1.3, tuning, 0.02) + 0.5 * np.sin(2 * np.pi * tuning * 1.76 * t)
        head *= np.exp(-t / body_decay)
        wires = _shaped_noise(t.size, sr, rng, low=wire_low, high=11000.0, slope=1)
        wires *= np.exp(-t / wire_decay)
        crack = _shaped_noise(t.size, sr, rng, low=3000.0, high=10000.0) * np.exp(-t / 0.008)
        return np.asarray(0.55 * head + 0.6 * wires + 0.3 * crack, dtype=np.float64)

    return render


def _clap(sr: int, rng: np.random.Generator) -> NDArray[np.float64]:
    t = _time(0.35, sr)
    noise = _shaped_noise(t.size, sr, rng, low=900.0, high=7000.0)
    env = np.exp(-t / 0.12)
    for offset in (0.0, 0.011, 0.022):
        env = np.maximum(env, (t >= offset) * np.exp(-np.maximum(t - offset, 0.0) / 0.006))
    return np.asarray(0.8 * noise * env, dtype=np.float64)


def _hat(
    seconds: float, decay: float, level: float
) -> Callable[[int, np.random.Generator], NDArray[np.float64]]:
    def render(sr: int, rng: np.random.Generator) -> NDArray[np.float64]:
        t = _time(seconds, sr)
        noise = _shaped_noise(t.size, sr, rng, low=6000.0, high=13000.0)
        metal = _band(_metal(t, scale=1.6), sr, low=7000.0, high=12000.0)
        return np.asarray(
            level * (0.6 * noise + 0.6 * metal) * np.exp(-t / decay), dtype=np.float64
        )

    return render


def _ride(sr: int, rng: np.random.Generator) -> NDArray[np.float64]:
    t = _time(1.2, sr)
    noise = _shaped_noise(t.size, sr, rng, low=5000.0, high=16000.0)
    bell = sum(np.sin(2 * np.pi * f * t) for f in (2520.0, 3730.0, 5180.0)) / 3.0
    metal = _band(_metal(t, scale=1.2), sr, low=4000.0, high=14000.0)
    return np.asarray(
        0.42 * ((0.7 * noise + 0.4 * metal) * np.exp(-t / 0.5) + 0.6 * bell * np.exp(-t / 0.25)),
        dtype=np.float64,
    )


def _crash(sr: int, rng: np.random.Generator) -> NDArray[np.float64]:
    t = _time(2.0, sr)
    noise = _shaped_noise(t.size, sr, rng, low=3000.0, high=16000.0, slope=1)
    # In place, in the order 0.4 * (noise + 0.4 * metal) * exp(-t / 0.8): a crash is long.
    metal = _band(_metal(t), sr, low=3500.0, high=15000.0)
    metal *= 0.4
    noise += metal
    del metal
    noise *= 0.4
    np.negative(t, out=t)
    t /= 0.8
    noise *= np.exp(t, out=t)
    return noise


def _rim(sr: int, rng: np.random.Generator) -> NDArray[np.float64]:
    t = _time(0.08, sr)
    tone = np.sin(2 * np.pi * 1700.0 * t) * np.exp(-t / 0.012)
    return np.asarray(
        0.5 * tone
        + 0.4 * _shaped_noise(t.size, sr, rng, low=2500.0, high=12000.0) * np.exp(-t / 0.006),
        dtype=np.float64,
    )


def _shaker(sr: int, rng: np.random.Generator) -> NDArray[np.float64]:
    t = _time(0.12, sr)
    env = np.minimum(t / 0.012, 1.0) * np.exp(-t / 0.04)
    return np.asarray(0.5 * _shaped_noise(t.size, sr, rng, low=5000.0, high=12000.0) * env)


def _brush(sr: int, rng: np.random.Generator) -> NDArray[np.float64]:
    t = _time(0.3, sr)
    env = np.minimum(t / 0.03, 1.0) * np.exp(-t / 0.1)
    return np.asarray(0.45 * _shaped_noise(t.size, sr, rng, low=1500.0, high=7000.0, slope=1) * env)


def _taiko(sr: int, rng: np.random.Generator) -> NDArray[np.float64]:
    t = _time(1.0, sr)
    body = _sweep(t, 110.0, 62.0, 0.05) * np.exp(-t / 0.25)
    skin = _shaped_noise(t.size, sr, rng, low=200.0, high=2500.0) * np.exp(-t / 0.03)
    return np.asarray(0.8 * np.tanh(1.5 * (body + 0.5 * skin)), dtype=np.float64)


def _timpani(sr: int, rng: np.random.Generator) -> NDArray[np.float64]:
    t = _time(1.6, sr)
    body = sum(a * np.sin(2 * np.pi * f * t) for a, f in ((1.0, 73.4), (0.5, 110.1), (0.3, 146.8)))
    skin = _shaped_noise(t.size, sr, rng, low=100.0, high=1500.0) * np.exp(-t / 0.05)
    return np.asarray(0.5 * (body * np.exp(-t / 0.4) + 0.6 * skin), dtype=np.float64)


def _tom(sr: int, rng: np.random.Generator) -> NDArray[np.float64]:
    t = _time(0.5, sr)
    return np.asarray(0.8 * _sweep(t, 190.0, 120.0, 0.08) * np.exp(-t / 0.18), dtype=np.float64)


def _vinyl(sr: int, rng: np.random.Generator) -> NDArray[np.float64]:
    # One bar-length bed of hiss and sparse crackle, retriggered each bar in lo-fi.
    t = _time(2.0, sr)
    hiss = 0.04 * _shaped_noise(t.size, sr, rng, low=1500.0, high=6000.0, slope=1)
    crackle = np.zeros(t.size)
    positions = rng.integers(0, t.size - 200, size=28)
    for position, amplitude in zip(positions, rng.uniform(0.1, 0.5, size=28), strict=True):
        crackle[position : position + 40] += (
            amplitude * np.exp(-np.arange(40) / 6.0) * rng.choice((-1, 1))
        )
    fade = np.minimum(1.0, np.minimum(t / 0.05, (t[-1] - t) / 0.05))
    return np.asarray((hiss + crackle) * fade, dtype=np.float64)


def _cowbell(sr: int, rng: np.random.Generator) -> NDArray[np.float64]:
    t = _time(0.5, sr)
    tone = np.sign(np.sin(2 * np.pi * 545.0 * t)) + np.sign(np.sin(2 * np.pi * 815.0 * t))
    env = 0.6 * np.exp(-t / 0.015) + 0.4 * np.exp(-t / 0.2)
    return np.asarray(0.6 * _band(tone, sr, low=500.0, high=4000.0) * env, dtype=np.float64)


def _hand_drum(
    tuning: float, decay: float
) -> Callable[[int, np.random.Generator], NDArray[np.float64]]:
    """A conga or bongo: a skin tone settling onto `tuning` and a slap of the palm."""

    def render(sr: int, rng: np.random.Generator) -> NDArray[np.float64]:
        t = _time(0.5, sr)
        skin = _sweep(t, tuning * 1.25, tuning, 0.015) * np.exp(-t / decay)
        slap = _shaped_noise(t.size, sr, rng, low=1200.0, high=7000.0) * np.exp(-t / 0.008)
        return np.asarray(0.8 * skin + 0.35 * slap, dtype=np.float64)

    return render


def _tambourine(sr: int, rng: np.random.Generator) -> NDArray[np.float64]:
    t = _time(0.35, sr)
    jingles = sum(np.sin(2 * np.pi * f * t) for f in (5230.0, 6870.0, 8190.0, 9940.0, 11330.0))
    noise = _shaped_noise(t.size, sr, rng, low=6000.0, high=13000.0)
    env = np.exp(-t / 0.1)
    for offset in (0.0, 0.018, 0.034):
        env = np.maximum(env, (t >= offset) * np.exp(-np.maximum(t - offset, 0.0) / 0.01))
    return np.asarray(0.5 * (0.7 * noise + 0.12 * jingles) * env, dtype=np.float64)


def _snap(sr: int, rng: np.random.Generator) -> NDArray[np.float64]:
    t = _time(0.15, sr)
    noise = _shaped_noise(t.size, sr, rng, low=1500.0, high=9000.0) * np.exp(-t / 0.02)
    tone = np.sin(2 * np.pi * 2800.0 * t) * np.exp(-t / 0.008)
    return np.asarray(0.8 * noise + 0.3 * tone, dtype=np.float64)


def _lfsr(n: int, sr: int, *, short: bool, hold: int) -> NDArray[np.float64]:
    """A game console's noise channel: its 15-bit shift register's output, each bit `hold` samples.

    The register feeds back bit 0 XOR bit 1 (bit 6 in the short, metallic mode), so the
    output obeys b[k + 15] = b[k] ^ b[k + tap], computed here 15 - tap bits at a time.
    """
    tap = 6 if short else 1
    count = -(-n // hold) + 15
    bits = np.zeros(count, dtype=np.uint8)
    bits[0] = 1
    step = 15 - tap
    for start in range(15, count, step):
        end = min(start + step, count)
        bits[start:end] = bits[start - 15 : end - 15] ^ bits[start - 15 + tap : end - 15 + tap]
    signs = bits.astype(np.float64) * 2.0 - 1.0
    # The short mode's loop of a few dozen bits has an offset the output stage would not pass.
    # The console's output stage rolls off the top octave.
    return _band(np.repeat(signs - signs.mean(), hold)[:n], sr, low=20.0, high=12000.0)


def _chip_kick(sr: int, rng: np.random.Generator) -> NDArray[np.float64]:
    t = _time(0.22, sr)
    # The console's triangle channel swept down: 16 loudness steps, so audibly stepped.
    triangle = np.arcsin(_sweep(t, 200.0, 45.0, 0.03)) * (2.0 / np.pi)
    stepped = np.round(triangle * 7.5) / 7.5
    noise = _lfsr(t.size, sr, short=False, hold=4) * np.exp(-t / 0.006)
    return np.asarray(0.9 * stepped * np.exp(-t / 0.09) + 0.3 * noise, dtype=np.float64)


def _chip_snare(sr: int, rng: np.random.Generator) -> NDArray[np.float64]:
    t = _time(0.25, sr)
    noise = _lfsr(t.size, sr, short=False, hold=2) * np.exp(-t / 0.07)
    tone = np.sign(np.sin(2 * np.pi * 190.0 * t)) * np.exp(-t / 0.03)
    return np.asarray(0.55 * noise + 0.25 * tone, dtype=np.float64)


def _chip_hat(sr: int, rng: np.random.Generator) -> NDArray[np.float64]:
    t = _time(0.08, sr)
    return np.asarray(0.45 * _lfsr(t.size, sr, short=True, hold=1) * np.exp(-t / 0.018))


_DRUMS: dict[str, Callable[[int, np.random.Generator], NDArray[np.float64]]] = {
    "kick": _kick,
    "kick_808": _kick_808,
    "snare": _snare_voice(
        seconds=0.35, tuning=185.0, body_decay=0.06, wire_decay=0.14, wire_low=1800.0
    ),
    "snare_tight": _snare_voice(
        seconds=0.2, tuning=290.0, body_decay=0.035, wire_decay=0.07, wire_low=3000.0
    ),
    "clap": _clap,
    "hat_closed": _hat(0.09, 0.022, 0.7),
    "hat_open": _hat(0.45, 0.13, 0.5),
    "hat_pedal": _hat(0.06, 0.015, 0.45),
    "ride": _ride,
    "crash": _crash,
    "rim": _rim,
    "shaker": _shaker,
    "brush": _brush,
    "taiko": _taiko,
    "timpani": _timpani,
    "tom": _tom,
    "vinyl": _vinyl,
    "cowbell": _cowbell,
    "conga": _hand_drum(210.0, 0.18),
    "bongo": _hand_drum(400.0, 0.1),
    "tambourine": _tambourine,
    "snap": _snap,
    "chip_kick": _chip_kick,
    "chip_snare": _chip_snare,
    "chip_hat": _chip_hat,
}
