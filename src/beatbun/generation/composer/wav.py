"""The 16-bit PCM WAV header (written and read), and min/max waveform peaks for the player,
measured as audio flows."""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

PEAK_POINTS = 1000
# Blocks per peak point when the length is known in advance: the points' edges fall within a
# quarter of a point of where an exact split of the frames puts them.
_BLOCKS_PER_POINT = 4


def wav_header(*, frames: int, sample_rate: int, channels: int) -> bytes:
    """The 44-byte header of a 16-bit PCM WAV holding `frames`."""
    data_bytes = frames * channels * 2
    return struct.pack(
        "<4sI4s4sIHHIIHH4sI",
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


@dataclass(frozen=True, slots=True)
class WavFormat:
    """What a WAV header says: PCM layout, and where the sample data starts and how long it is."""

    channels: int
    sample_rate: int
    bits: int
    data_offset: int
    data_bytes: int

    @property
    def frames(self) -> int:
        return self.data_bytes // (self.channels * self.bits // 8)


def read_wav_header(head: bytes) -> WavFormat | None:
    """The format of a PCM WAV from its first bytes, or None if `head` stops before the data.

    Chunks other than `fmt ` and `data` (LIST, fact, ...) are skipped. Raises ValueError when
    the bytes are not a RIFF/WAVE file, or its samples are not integer PCM.
    """
    if len(head) < 12:
        return None
    if head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        raise ValueError("Not a RIFF/WAVE file")
    layout: tuple[int, int, int] | None = None
    at = 12
    while at + 8 <= len(head):
        chunk, size = struct.unpack_from("<4sI", head, at)
        if chunk == b"data":
            if layout is None:
                raise ValueError("WAV data comes before its format")
            return WavFormat(*layout, data_offset=at + 8, data_bytes=size)
        if chunk == b"fmt ":
            if at + 8 + 16 > len(head):
                return None
            tag, channels, rate, _, _, bits = struct.unpack_from("<HHIIHH", head, at + 8)
            if tag != 1 or channels < 1 or bits % 8:
                raise ValueError(f"WAV format {tag} with {bits}-bit samples is not integer PCM")
            layout = (channels, rate, bits)
        at += 8 + size + (size & 1)
    return None


class PeakMeter:
    """(min, max) over all channels for up to `PEAK_POINTS` equal slices of a track, in -1..1.

    Samples arrive in pieces of any length, each an (n, channels) int16 array. It keeps the
    min and max of each block of frames (a quarter of a point for `expected_frames`), and at
    the end groups the blocks into points, so memory stays small whatever the real length.
    """

    def __init__(self, *, expected_frames: int, channels: int) -> None:
        self._block = max(1, expected_frames // (PEAK_POINTS * _BLOCKS_PER_POINT))
        self._channels = channels
        self._lows: list[NDArray[np.int16]] = []
        self._highs: list[NDArray[np.int16]] = []
        self._carry: NDArray[np.int16] = np.zeros((0, channels), dtype=np.int16)

    def add(self, samples: NDArray[np.int16]) -> None:
        pending: NDArray[np.int16] = (
            np.concatenate([self._carry, samples]) if self._carry.shape[0] else samples
        )
        whole = pending.shape[0] // self._block * self._block
        if whole:
            blocks = pending[:whole].reshape(-1, self._block * self._channels)
            self._lows.append(blocks.min(axis=1))
            self._highs.append(blocks.max(axis=1))
        self._carry = pending[whole:].copy()

    def result(self, *, points: int = PEAK_POINTS) -> tuple[tuple[float, float], ...]:
        lows, highs = list(self._lows), list(self._highs)
        if self._carry.shape[0]:
            lows.append(self._carry.min(keepdims=True).reshape(1))
            highs.append(self._carry.max(keepdims=True).reshape(1))
        if not lows:
            return ()
        low, high = np.concatenate(lows), np.concatenate(highs)
        points = min(points, low.size)
        edges = (np.arange(points, dtype=np.int64) * low.size) // points
        return tuple(
            (round(float(a) / 32768.0, 4), round(float(b) / 32767.0, 4))
            for a, b in zip(
                np.minimum.reduceat(low, edges), np.maximum.reduceat(high, edges), strict=True
            )
        )
