"""Spectral balance: how a mix's energy splits between the lows and the highs, per genre.

The figure is the share of spectral energy (power, both channels, DC excluded) below 250 Hz
and at or above 4 kHz. Commercial mixes are low-heavy in these terms: the long-term average
spectrum of popular music is roughly flat per octave up to a few hundred Hz and falls by
about 3 to 6 dB per octave above (Pestana, Ma, Reiss, Barbosa and Black, "Spectral
characteristics of popular commercial recordings 1950-2010", AES 135th Convention, 2013;
Elowsson and Friberg, "Long-term average spectrum in popular music and its relation to the
level of the percussion", AES 142nd Convention, 2017). Integrating that shape puts about 50
to 80 % of the energy below 250 Hz and about 1 to 8 % above 4 kHz. Within that:

- mixes with loud cymbals and distorted guitars (rock, punk, drum and bass) lie at the bright
  end; metal's double kick and low-tuned guitars also push its lows up;
- four-on-the-floor club music and bass-led genres (trap, dubstep, reggaeton) lie at the low
  end, with up to about 90 % below 250 Hz;
- groove genres led by keys and voice (R&B, funk, afrobeats) can have as little as a quarter
  of their energy below 250 Hz;
- acoustic ensembles, lo-fi and ambient have little above 4 kHz (down to a few tenths of a
  percent), solo piano and ambient made of pads alone least of all (a piano's partials above
  4 kHz are weak, a pad's filter closes below them: 0.1 to 0.5 %), and a square wave's
  odd harmonics make chiptune brighter than the rest (8 % and up).

The targets below are those ranges per genre, a little wider at the edges because a 30 s
render holds fewer sections than a whole song.

`TONES` sets the mix's tone stage (`mixing.ToneStage`) per genre: a gentle lift of the
band from 4 to 16 kHz.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

LOW_HZ = 250.0
HIGH_HZ = 4000.0
_FRAME = 8192
_BATCH = 16


@dataclass(frozen=True, slots=True)
class Balance:
    """Shares (0..1) of a signal's spectral energy below `LOW_HZ` and at or above `HIGH_HZ`."""

    low_share: float
    high_share: float


@dataclass(frozen=True, slots=True)
class BalanceTarget:
    """The ranges a genre's mix should fall in, as (lowest, highest) shares."""

    low: tuple[float, float]
    high: tuple[float, float]

    def admits(self, balance: Balance) -> bool:
        return (
            self.low[0] <= balance.low_share <= self.low[1]
            and self.high[0] <= balance.high_share <= self.high[1]
        )


@dataclass(frozen=True, slots=True)
class Tone:
    """The tone stage's settings: `air` is the lift in dB at the centre of its band (11 kHz)."""

    air: float = 0.0


_PERCUSSIVE = BalanceTarget(low=(0.40, 0.85), high=(0.012, 0.12))
_BRIGHT = BalanceTarget(low=(0.35, 0.82), high=(0.02, 0.15))
_BASS_LED = BalanceTarget(low=(0.50, 0.92), high=(0.008, 0.10))
_ACOUSTIC = BalanceTarget(low=(0.15, 0.80), high=(0.004, 0.08))
_SOFT = BalanceTarget(low=(0.15, 0.85), high=(0.003, 0.06))
_GROOVE = BalanceTarget(low=(0.25, 0.85), high=(0.01, 0.12))
_CLUB = BalanceTarget(low=(0.45, 0.90), high=(0.01, 0.12))
_CHIP = BalanceTarget(low=(0.30, 0.80), high=(0.03, 0.25))
_HEAVY = BalanceTarget(low=(0.40, 0.88), high=(0.012, 0.15))
_CINEMATIC = BalanceTarget(low=(0.20, 0.86), high=(0.003, 0.06))
_DARK = BalanceTarget(low=(0.15, 0.85), high=(0.001, 0.06))
_PIANO = BalanceTarget(low=(0.15, 0.80), high=(0.001, 0.04))

TARGETS: dict[str, BalanceTarget] = {
    "pop": _PERCUSSIVE,
    "rock": _BRIGHT,
    "metal": _HEAVY,
    "punk": _BRIGHT,
    "house": _CLUB,
    "techno": _CLUB,
    "dnb": _BRIGHT,
    "dubstep": _BASS_LED,
    "hiphop": _BASS_LED,
    "rnb": _GROOVE,
    "funk": _GROOVE,
    "disco": _PERCUSSIVE,
    "lofi": _SOFT,
    "ambient": _DARK,
    "jazz": _ACOUSTIC,
    "bossa": _ACOUSTIC,
    "reggaeton": _BASS_LED,
    "afrobeats": _GROOVE,
    "country": _PERCUSSIVE,
    "folk": _ACOUSTIC,
    "cinematic": _CINEMATIC,
    "synthwave": _PERCUSSIVE,
    "chiptune": _CHIP,
    "piano": _PIANO,
}

TONES: dict[str, Tone] = {
    "pop": Tone(air=5.0),
    "rock": Tone(air=4.5),
    "metal": Tone(air=6.0),
    "punk": Tone(air=4.5),
    "house": Tone(air=5.0),
    "techno": Tone(air=6.0),
    "dnb": Tone(air=5.0),
    "dubstep": Tone(air=4.5),
    "hiphop": Tone(air=4.5),
    "rnb": Tone(air=4.5),
    "funk": Tone(air=4.5),
    "disco": Tone(air=5.0),
    "lofi": Tone(),
    "ambient": Tone(air=4.5),
    "jazz": Tone(air=4.0),
    "bossa": Tone(air=4.0),
    "reggaeton": Tone(air=4.5),
    "afrobeats": Tone(air=5.0),
    "country": Tone(air=4.5),
    "folk": Tone(air=4.0),
    "cinematic": Tone(air=6.0),
    "synthwave": Tone(air=5.0),
    "chiptune": Tone(),
    "piano": Tone(air=6.0),
}


def measure_balance(
    samples: NDArray[np.integer] | NDArray[np.floating], *, sample_rate: int
) -> Balance:
    """The balance of a (frames, channels) signal, int16 or float, from Hann-windowed frames.

    Frames are 8192 samples with half overlap, a few at a time, so memory stays small for any
    length. Raises `ValueError` for a signal shorter than one frame or with no energy.
    """
    frames = (samples.shape[0] - _FRAME) // (_FRAME // 2) + 1
    if samples.shape[0] < _FRAME:
        raise ValueError(f"A balance needs at least {_FRAME} frames, not {samples.shape[0]}")
    window = np.hanning(_FRAME)
    power = np.zeros(_FRAME // 2 + 1)
    for first in range(0, frames, _BATCH):
        starts = np.arange(first, min(first + _BATCH, frames)) * (_FRAME // 2)
        for channel in range(samples.shape[1]):
            block = samples[starts[:, None] + np.arange(_FRAME)[None, :], channel]
            spectra = np.fft.rfft(block.astype(np.float64) * window, axis=1)
            power += (spectra.real**2 + spectra.imag**2).sum(axis=0)
    freqs = np.fft.rfftfreq(_FRAME, 1.0 / sample_rate)
    power[0] = 0.0
    total = float(power.sum())
    if total <= 0.0:
        raise ValueError("A silent signal has no balance")
    return Balance(
        low_share=float(power[freqs < LOW_HZ].sum() / total),
        high_share=float(power[freqs >= HIGH_HZ].sum() / total),
    )
