"""16-bit PCM WAV built in place, and min/max waveform peaks for the player."""

from __future__ import annotations

import struct

import numpy as np
from numpy.typing import NDArray

HEADER_BYTES = 44
PEAK_POINTS = 1000


def allocate_wav(
    frames: int, *, sample_rate: int, channels: int
) -> tuple[bytearray, NDArray[np.int16]]:
    """A zeroed WAV file and a writable (frames, channels) int16 view of its sample data."""
    buffer = bytearray(HEADER_BYTES + frames * channels * 2)
    write_wav_header(buffer, frames=frames, sample_rate=sample_rate, channels=channels)
    samples = np.frombuffer(buffer, dtype="<i2", offset=HEADER_BYTES).reshape(frames, channels)
    return buffer, samples


def write_wav_header(buffer: bytearray, *, frames: int, sample_rate: int, channels: int) -> None:
    """Write the 44-byte header of a 16-bit PCM WAV holding `frames` into `buffer`'s start."""
    data_bytes = frames * channels * 2
    struct.pack_into(
        "<4sI4s4sIHHIIHH4sI",
        buffer,
        0,
        b"RIFF",
        36 + data_bytes,
        b"WAVE",
        b"fmt ",
        16,
        1,
        channels,
        sample_rate,
        sample_rate * channels * 2,
        channels * 2,
        16,
        b"data",
        data_bytes,
    )


def compute_peaks(
    samples: NDArray[np.int16], *, points: int = PEAK_POINTS
) -> tuple[tuple[float, float], ...]:
    """(min, max) over both channels for `points` equal slices of the track, in -1..1."""
    frames = samples.shape[0]
    points = max(1, min(points, frames))
    edges = (np.arange(points, dtype=np.int64) * frames) // points
    flat = samples.reshape(-1)
    channels = samples.shape[1]
    lows = np.minimum.reduceat(flat, edges * channels)
    highs = np.maximum.reduceat(flat, edges * channels)
    return tuple(
        (round(float(low) / 32768.0, 4), round(float(high) / 32767.0, 4))
        for low, high in zip(lows, highs, strict=True)
    )
