"""Streaming effects for chunked rendering: reverb, echo, sidechain ducking and the limiter.

Each effect keeps only the state it needs between chunks, so a long track never needs a
whole-track float buffer.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from beatbun.generation.composer.balance import TONES

Signal = NDArray[np.float32]

_REVERB_DECIMATION = 8
_LIMITER_BLOCK = 64
_TONE_STEP = 22050


def pan_gains(pan: float) -> tuple[float, float]:
    """Constant-power pan law, normalized so the centre keeps unity gain in each channel."""
    angle = (pan + 1.0) * math.pi / 4.0
    return math.cos(angle) * math.sqrt(2.0), math.sin(angle) * math.sqrt(2.0)


def add_doubled(out: Signal, low: Signal, *, previous: Signal) -> None:
    """Add `low` (rows, n), linearly interpolated to twice the rate, into `out` (rows, 2n).

    Odd output samples are `low` itself and even ones the midpoints from the sample before;
    `previous` is the (rows, 1) column before `low[:, 0]`, so consecutive chunks join
    without a seam.
    """
    out[:, 1::2] += low
    middle = np.empty_like(low)
    np.add(low[:, 1:], low[:, :-1], out=middle[:, 1:])
    np.add(low[:, :1], previous, out=middle[:, :1])
    middle *= np.float32(0.5)
    out[:, 0::2] += middle


class Reverb:
    """Stereo convolution reverb with a decaying-noise impulse, run at an eighth of the rate.

    The tail is dark anyway, so an eighth of the rate costs little audible and makes the FFTs
    much cheaper. `chunk` must be a multiple of 8 and stay the same for every call.
    """

    def __init__(
        self, *, sample_rate: int, seconds: float, chunk: int, rng: np.random.Generator
    ) -> None:
        rate = sample_rate / _REVERB_DECIMATION
        length = round(seconds * rate)
        t = np.arange(length) / rate
        decay = np.exp(-6.9 * t / seconds)
        onset = np.minimum(t / 0.02, 1.0) * (t >= 0.012)
        irs = rng.standard_normal((2, length)) * decay * onset
        # Darken the later tail: high frequencies die first in real rooms.
        smooth = np.cumsum(irs, axis=1)
        smooth[:, 3:] = (smooth[:, 3:] - smooth[:, :-3]) / 3.0
        mix = np.minimum(t / seconds * 2.0, 1.0)
        irs = irs * (1.0 - mix) + smooth * mix
        irs /= np.sqrt(np.sum(irs**2, axis=1, keepdims=True))
        self._block = chunk // _REVERB_DECIMATION
        self._size = fast_fft_size(self._block + length - 1)
        self._spectra = np.fft.rfft(irs, self._size, axis=1).astype(np.complex64)
        self._tail: Signal = np.zeros((2, length - 1), dtype=np.float32)
        self._last: Signal = np.zeros((2, 1), dtype=np.float32)

    def process(self, send: Signal, *, out: Signal) -> None:
        """Add the (2, len(send)) wet signal for one chunk of the mono send bus into `out`."""
        low = send.reshape(-1, _REVERB_DECIMATION).sum(axis=1) * np.float32(
            1.0 / _REVERB_DECIMATION
        )
        spectrum = np.fft.rfft(low, self._size)[None, :] * self._spectra
        wet = np.fft.irfft(spectrum, self._size, axis=1).astype(np.float32, copy=False)
        tail_length = self._tail.shape[1]
        wet[:, :tail_length] += self._tail
        self._tail = wet[:, self._block : self._block + tail_length].copy()
        current = wet[:, : self._block]
        previous = np.concatenate([self._last, current[:, :-1]], axis=1)
        self._last = current[:, -1:].copy()
        step = current - previous
        # Linear interpolation back to the full rate, one output phase at a time.
        for phase in range(_REVERB_DECIMATION):
            fraction = np.float32((phase + 1) / _REVERB_DECIMATION)
            out[:, phase::_REVERB_DECIMATION] += previous + step * fraction


class Echo:
    """Tempo-synced feedback delay, a different time per side; the wet signal only."""

    def __init__(self, *, delays: tuple[int, int], feedback: float) -> None:
        self._delays = delays
        self._feedback = feedback
        self._history: list[Signal] = [np.zeros(d, dtype=np.float32) for d in delays]

    def process(self, send: Signal, *, out: Signal, level: float) -> None:
        """Add `level` times the (2, len(send)) wet signal into `out`."""
        feedback = np.float32(self._feedback)
        gain = np.float32(level)
        size = send.size
        for side, delay in enumerate(self._delays):
            # w[n] = x[n] + fb * w[n - D]; the output is w delayed by D. In a line holding the
            # last chunk's final D values of w and then this chunk's, each block of D follows
            # from the one before, so only one block is held at a time.
            block = self._history[side]
            history = np.empty(delay, dtype=np.float32)
            for start in range(0, size + delay, delay):
                end = min(start + delay, size + delay)
                if start > 0:
                    block = send[start - delay : end - delay] + feedback * block[: end - start]
                if start < size:
                    stop = min(end, size)
                    out[side, start:stop] += block[: stop - start] * gain
                if end > size:
                    first = max(start, size)
                    history[first - size : end - size] = block[first - start : end - start]
            self._history[side] = history


class ToneStage:
    """The mix's air band: a sparse 5-tap linear-phase FIR, two samples of delay.

    The output is x + a * band(x) with the band-pass (-1, 0, 2, 0, -1) / 4, whose gain is
    sin(w) ** 2: at 44.1 kHz nothing at DC, 0.29 at 4 kHz, 0.83 at 8 kHz, 1 at 11 kHz and
    nothing again at the top of the band, so the lift adds no energy next to Nyquist, where
    it would raise inter-sample peaks. State carries across chunks. Being linear and the same for
    every row, it keeps stems summing to the mix.
    """

    def __init__(self, *, genre: str) -> None:
        self._boost = 10.0 ** (TONES[genre].air / 20.0) - 1.0
        self._work: Signal | None = None

    def process(self, block: Signal) -> None:
        """Filter a float32 array of shape (..., n) in place along its last axis.

        Every call must pass the same leading shape; rows are filtered independently. The
        work is done a quarter of a chunk at a time, so its scratch space stays small.
        """
        if self._boost == 0.0:
            return
        if self._work is None:
            self._work = np.zeros((*block.shape[:-1], _TONE_STEP + 4), dtype=np.float32)
        edge = np.float32(-self._boost / 4.0)
        centre = np.float32(1.0 + self._boost / 2.0)
        for start in range(0, block.shape[-1], _TONE_STEP):
            piece = block[..., start : start + _TONE_STEP]
            count = piece.shape[-1]
            # The scratch row holds the four samples before this piece, then the piece.
            work = self._work[..., : count + 4]
            work[..., 4:] = piece
            carry = work[..., -4:].copy()
            np.add(work[..., :-4], work[..., 4:], out=piece)
            piece *= edge
            middle = work[..., 2:-2]
            middle *= centre
            piece += middle
            self._work[..., :4] = carry


def duck_curve(*, sample_rate: int, beat_seconds: float) -> Signal:
    """Gain reduction (0..1) after a kick: 4 ms attack, released over most of a beat."""
    length = round(beat_seconds * 0.9 * sample_rate)
    t = np.arange(length) / sample_rate
    curve = np.minimum(t / 0.004, 1.0) * np.exp(-t / (beat_seconds * 0.25))
    return np.asarray(curve, dtype=np.float32)


class Limiter:
    """Stereo-linked peak limiter with a one-block look-ahead and a constant-rate release.

    Gain reduction is computed per 64-sample block; release is max(need, previous - rate),
    which `np.maximum.accumulate` solves for a whole chunk at once. A final clip at the ceiling
    catches what a chunk boundary lets through.
    """

    def __init__(
        self, *, ceiling_db: float, release_db_per_second: float, sample_rate: int
    ) -> None:
        self._ceiling = 10.0 ** (ceiling_db / 20.0)
        self._step = release_db_per_second * _LIMITER_BLOCK / sample_rate
        self._previous_db = 0.0
        self._reduction_db: NDArray[np.float64] = np.zeros(1)
        self._frames = 0

    def process(self, frames: NDArray[np.float32]) -> NDArray[np.float32]:
        """Limit a (2, n) chunk in place and return it."""
        n = frames.shape[1]
        blocks = -(-n // _LIMITER_BLOCK)
        level = np.zeros(blocks * _LIMITER_BLOCK, dtype=np.float32)
        np.maximum(np.abs(frames[0]), np.abs(frames[1]), out=level[:n])
        peak = level.reshape(blocks, _LIMITER_BLOCK).max(axis=1)
        with np.errstate(divide="ignore"):
            need = np.maximum(20.0 * np.log10(np.maximum(peak, 1e-9) / self._ceiling), 0.0)
        # E[j] = max(need[j], E[j-1] - step) unrolls to a running maximum of need[k] + k * step.
        ramp = np.arange(blocks) * self._step
        running = np.maximum.accumulate(
            np.concatenate([[self._previous_db - self._step], need + ramp])
        )
        envelope = running[1:] - ramp
        left = np.concatenate([[self._previous_db], envelope])
        bounds = np.maximum(left, np.concatenate([envelope, envelope[-1:]]))
        self._previous_db = float(envelope[-1])
        self._reduction_db = bounds
        self._frames = n
        if not np.any(bounds > 0.0):
            return frames  # unity gain throughout, and every sample is within the ceiling
        gains = 10.0 ** (-bounds / 20.0)
        fraction = (np.arange(_LIMITER_BLOCK, dtype=np.float32) / _LIMITER_BLOCK)[None, :]
        per_sample = (gains[:-1, None] + (gains[1:] - gains[:-1])[:, None] * fraction).astype(
            np.float32
        )
        frames *= per_sample.reshape(-1)[None, :n]
        np.clip(frames, -self._ceiling, self._ceiling, out=frames)
        return frames

    def find_unchanged(self, span: int) -> NDArray[np.bool_]:
        """For each whole `span` of samples in the last chunk, whether it passed through as is.

        Such a span had no gain reduction anywhere, so neither the gain nor the final clip
        changed a sample of it.
        """
        starts = np.arange(0, self._frames // span * span, span)
        reduced = np.concatenate([[0], np.cumsum(self._reduction_db > 0)])
        first = starts // _LIMITER_BLOCK
        # Sample i of block j fades from the gain at bound j to the one at bound j + 1.
        last = (starts + span - 1) // _LIMITER_BLOCK + 1
        return np.asarray(reduced[last + 1] - reduced[first] == 0)


def fast_fft_size(minimum: int) -> int:
    """The smallest 2^a * 3^b * 5^c at or above `minimum`: pocketfft's quickest lengths.

    Often well below the next power of two, which is also slower than some of them.
    """
    best = 1 << max(0, math.ceil(math.log2(minimum)))
    power5 = 1
    while power5 < best:
        power35 = power5
        while power35 < best:
            size = power35
            while size < minimum:
                size *= 2
            best = min(best, size)
            power35 *= 3
        power5 *= 5
    return best
