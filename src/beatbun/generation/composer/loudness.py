"""Loudness (ITU-R BS.1770-4 integrated, gated) and 4x-oversampled true peak, numpy only.

K-weighting is applied in the frequency domain: each 100 ms sub-block's mean square is the
sum of its spectrum's power times |H_K(f)|^2 (Parseval), which needs no IIR filter loop.
Gating blocks are 400 ms long with 75 % overlap, so each is four consecutive sub-blocks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

ABSOLUTE_GATE_LUFS = -70.0
RELATIVE_GATE_LU = -10.0
_SUBBLOCK_SECONDS = 0.1
_TRUE_PEAK_TAPS = 32
_TRUE_PEAK_BATCH = 16384
_MEASURE_BATCH = 5


@dataclass(frozen=True, slots=True)
class Loudness:
    """Integrated loudness in LUFS (-inf for silence) and the peak in dB (true peak when measured)."""

    integrated_lufs: float
    true_peak_dbtp: float


class LoudnessMeter:
    """Accumulates BS.1770 sub-block energies and the true peak over (2, n) float chunks.

    Feed every chunk in order; all but the last must be whole multiples of 100 ms. The last
    16 frames of the track are checked for their sample peak only.
    """

    def __init__(self, *, sample_rate: int, with_true_peak: bool) -> None:
        self.subblock = round(_SUBBLOCK_SECONDS * sample_rate)
        self._weights = _k_weight_power(self.subblock, sample_rate)
        self._energies: list[NDArray[np.float64]] = []
        self._with_true_peak = with_true_peak
        half = _TRUE_PEAK_TAPS // 2
        self._offsets = np.arange(-half + 1, half + 1)
        self._kernels = np.stack(
            [_interpolation_kernel(self._offsets, phase / 4.0) for phase in (1, 2, 3)], axis=1
        ).astype(np.float32)
        self._carry: NDArray[np.float32] = np.zeros((2, 2 * half), dtype=np.float32)
        self._peak = 0.0

    def add(
        self, chunk: NDArray[np.float32], *, energies: NDArray[np.float64] | None = None
    ) -> None:
        """Add a chunk; `energies`, if given, are its sub-blocks' as `measure` would give them."""
        self._energies.append(self.measure(chunk) if energies is None else energies)
        self._peak = max(self._peak, float(np.max(np.abs(chunk), initial=0.0)))
        if self._with_true_peak:
            self._check_true_peak(chunk)

    def measure(self, frames: NDArray[np.floating]) -> NDArray[np.float64]:
        """K-weighted mean square, summed over both channels, of each whole sub-block."""
        count = frames.shape[1] // self.subblock
        energies = np.zeros(count)
        # A few sub-blocks at a time keeps the spectra small; float64 FFTs are exact enough
        # for any length and, with pocketfft, faster than float32 ones.
        for first in range(0, count, _MEASURE_BATCH):
            last = min(first + _MEASURE_BATCH, count)
            span = frames[:, first * self.subblock : last * self.subblock]
            blocks = span.astype(np.float64).reshape(2, last - first, self.subblock)
            spectra = np.fft.rfft(blocks, axis=2)
            power = (spectra.real**2 + spectra.imag**2) @ self._weights
            energies[first:last] = power.sum(axis=0)
        energies /= self.subblock * self.subblock
        return energies

    @property
    def energies(self) -> NDArray[np.float64]:
        """Every sub-block energy added so far, in order."""
        return np.concatenate(self._energies) if self._energies else np.zeros(0)

    def result(self) -> Loudness:
        return Loudness(_gate(self.energies), 20.0 * math.log10(max(self._peak, 1e-12)))

    def _check_true_peak(self, chunk: NDArray[np.float32]) -> None:
        # Inter-sample peaks of music exceed their neighbours by a few dB at most, so only the
        # gaps next to a sample within 2.5 dB of the running peak can raise it.
        half = _TRUE_PEAK_TAPS // 2
        extended = np.concatenate([self._carry, chunk], axis=1)
        self._carry = extended[:, -2 * half :].copy()
        threshold = self._peak * 0.75
        for channel in extended:
            # The gaps after a loud sample and before it; a mask rather than np.unique, whose
            # first call imports numpy.ma.
            near = np.zeros(channel.size, dtype=np.bool_)
            np.greater_equal(np.abs(channel[half:-half]), threshold, out=near[half:-half])
            near[half - 1 : -half - 1] |= near[half:-half]
            candidates = np.flatnonzero(near)
            for start in range(0, candidates.size, _TRUE_PEAK_BATCH):
                batch = candidates[start : start + _TRUE_PEAK_BATCH]
                windows = channel[batch[:, None] + self._offsets[None, :]]
                value = float(np.max(np.abs(windows @ self._kernels), initial=0.0))
                self._peak = max(self._peak, value)


def _gate(subblock_energy: NDArray[np.float64]) -> float:
    if subblock_energy.size < 4:
        return -math.inf
    kernel = np.ones(4) / 4.0
    blocks = np.convolve(subblock_energy, kernel, mode="valid")
    with np.errstate(divide="ignore"):
        loudness = -0.691 + 10.0 * np.log10(blocks)
    kept = blocks[loudness > ABSOLUTE_GATE_LUFS]
    if kept.size == 0:
        return -math.inf
    relative = -0.691 + 10.0 * math.log10(float(kept.mean())) + RELATIVE_GATE_LU
    kept = blocks[loudness > max(relative, ABSOLUTE_GATE_LUFS)]
    return -0.691 + 10.0 * math.log10(float(kept.mean()))


def _k_weight_power(size: int, sample_rate: int) -> NDArray[np.float64]:
    """|H|^2 of the K-weighting pre-filter and RLB high-pass at each rfft bin, with Parseval's 2x."""
    w = 2 * np.pi * np.fft.rfftfreq(size, 1.0 / sample_rate) / sample_rate
    z = np.exp(-1j * w)
    response = np.ones(w.size, dtype=np.complex128)
    for b, a in _k_weighting_coefficients(sample_rate):
        response *= (b[0] + b[1] * z + b[2] * z * z) / (a[0] + a[1] * z + a[2] * z * z)
    power = np.abs(response) ** 2
    power[1:] *= 2.0
    if size % 2 == 0:
        power[-1] /= 2.0
    return power


def _k_weighting_coefficients(
    fs: int,
) -> list[tuple[tuple[float, float, float], tuple[float, float, float]]]:
    # The BS.1770 filters re-derived for any sample rate (libebur128's bilinear design).
    f0, gain, q = 1681.974450955533, 3.999843853973347, 0.7071752369554196
    k = math.tan(math.pi * f0 / fs)
    vh = 10.0 ** (gain / 20.0)
    vb = vh**0.4996667741545416
    a0 = 1.0 + k / q + k * k
    shelf = (
        ((vh + vb * k / q + k * k) / a0, 2.0 * (k * k - vh) / a0, (vh - vb * k / q + k * k) / a0),
        (1.0, 2.0 * (k * k - 1.0) / a0, (1.0 - k / q + k * k) / a0),
    )
    f0, q = 38.13547087602444, 0.5003270373238773
    k = math.tan(math.pi * f0 / fs)
    a0 = 1.0 + k / q + k * k
    highpass = ((1.0, -2.0, 1.0), (1.0, 2.0 * (k * k - 1.0) / a0, (1.0 - k / q + k * k) / a0))
    return [shelf, highpass]


def _interpolation_kernel(offsets: NDArray[np.int64], fraction: float) -> NDArray[np.float64]:
    distance = offsets - fraction
    window = 0.5 + 0.5 * np.cos(np.pi * distance / (offsets.size / 2 + 1))
    kernel = np.sinc(distance) * window
    return np.asarray(kernel / kernel.sum(), dtype=np.float64)
