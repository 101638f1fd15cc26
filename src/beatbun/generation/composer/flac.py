"""A small FLAC encoder for 16-bit PCM, in numpy: no FLAC library runs under Pyodide.

It writes what RFC 9639 requires and little more: a STREAMINFO block (total samples and
the MD5 of the samples, both known before the first frame), then fixed-size frames of 4096
samples. Per frame it picks the stereo decorrelation (left/right, left/side, side/right or
mid/side) and per subframe a constant, verbatim or fixed-predictor (order 0..4) subframe,
with Rice-coded residuals split into up to 64 partitions. Frames are encoded a batch of
`BATCH_BLOCKS` at a time, whatever the size of the pieces handed in: residuals, parameters
and the bit layout are whole-array operations, the bit writer joins the codes ending in
each 32-bit word with one running sum, and the CRC-16 of each frame is computed as a tree
of table lookups over its bytes (CRC(A+B) = CRC(A) x^8|B| + CRC(B)).
"""

from __future__ import annotations

import functools
import itertools
import struct

import numpy as np
from numpy.typing import NDArray

FLAC_MEDIA_TYPE = "audio/flac"
BLOCK_FRAMES = 4096
# Blocks encoded together: the working arrays take about 40 bytes per input byte, so a batch
# peaks near 10 MB whatever the size of the pieces handed in.
BATCH_BLOCKS = 16
_BITS = 16
_MAX_ORDER = 4
# Up to 64 partitions: 256 made our tracks no smaller (to 0.1 %) and the encoder 15 % slower.
_MAX_PARTITION_ORDER = 6
_MAX_RICE = 14
_HEADER_SLOTS = 16
# Enough CRC combining levels for rows of 2^18 bytes; a frame has at most about 18 KB.
_CRC_LEVELS = 18
# Frame header codes (RFC 9639 9.1.2); 0 means "as in STREAMINFO".
_RATE_CODES = {
    88200: 1, 176400: 2, 192000: 3, 8000: 4, 16000: 5, 22050: 6,
    24000: 7, 32000: 8, 44100: 9, 48000: 10, 96000: 11,
}  # fmt: skip
# Stereo decorrelation: (channel assignment code, the two coded channels) where the channels
# are 0 left, 1 right, 2 mid, 3 side.
_STEREO = ((0b0001, (0, 1)), (0b1000, (0, 3)), (0b1001, (3, 1)), (0b1010, (2, 3)))
_SIDE = 3


class FlacEncoder:
    """Encodes `frames` frames of interleaved 16-bit samples, handed in chunks of any length.

    `md5` is the MD5 of the samples as 16-bit little-endian interleaved bytes (a 16-bit WAV's
    data chunk), which STREAMINFO carries ahead of the audio. Write `header()`, then what
    each `encode` returns, then `finish()`; `finish` raises ValueError unless exactly
    `frames` frames arrived.
    """

    def __init__(self, *, sample_rate: int, channels: int, frames: int, md5: bytes) -> None:
        if channels not in (1, 2):
            raise ValueError(f"FLAC encoding takes 1 or 2 channels, not {channels}")
        if not 0 < sample_rate < 1 << 20:
            raise ValueError(f"Sample rate {sample_rate} does not fit FLAC's STREAMINFO")
        self._rate = sample_rate
        self._channels = channels
        self._frames = frames
        self._md5 = md5
        self._seen = 0
        self._number = 0
        # Samples handed in but not yet encoded, and how many frames they hold.
        self._waiting: list[NDArray[np.int16]] = []
        self._waiting_frames = 0

    def header(self) -> bytes:
        """The stream marker and the STREAMINFO block."""
        packed = (self._rate << 44) | ((self._channels - 1) << 41) | ((_BITS - 1) << 36)
        # Block sizes, then frame sizes (0: not known in advance), then the packed fields.
        info = struct.pack(
            ">HH3s3sQ", BLOCK_FRAMES, BLOCK_FRAMES, bytes(3), bytes(3), packed | self._frames
        )
        info += self._md5
        return b"fLaC" + bytes([0x80, 0, 0, len(info)]) + info

    def encode(self, samples: NDArray[np.int16]) -> bytes:
        """FLAC frames once a batch of whole blocks is available; the rest waits for more samples.

        Small pieces are gathered into batches of `BATCH_BLOCKS` blocks: each batch costs about
        the same fixed work, whatever its size.
        """
        self._seen += samples.shape[0]
        if self._seen > self._frames:
            raise ValueError(f"More than the {self._frames} frames announced")
        self._waiting_frames += samples.shape[0]
        batch = BATCH_BLOCKS * BLOCK_FRAMES
        if self._waiting_frames < batch:
            # Kept as a copy: the caller may reuse its buffer.
            self._waiting.append(samples.copy())
            return b""
        self._waiting.append(samples)
        pending = np.concatenate(self._waiting) if len(self._waiting) > 1 else samples
        whole = pending.shape[0] // batch * batch
        rest = pending[whole:].copy()
        self._waiting, self._waiting_frames = [rest], rest.shape[0]
        return self._blocks(pending[:whole])

    def finish(self) -> bytes:
        """The last, shorter frame, if any."""
        if self._seen != self._frames:
            raise ValueError(f"{self._seen} frames arrived, {self._frames} were announced")
        if not self._waiting_frames:
            return b""
        pending = np.concatenate(self._waiting)
        self._waiting, self._waiting_frames = [], 0
        whole = pending.shape[0] // BLOCK_FRAMES * BLOCK_FRAMES
        # Whole blocks, then the shorter last one.
        pieces = (pending[:whole], pending[whole:])
        return b"".join(self._blocks(piece) for piece in pieces if piece.shape[0])

    def _blocks(self, samples: NDArray[np.int16]) -> bytes:
        """Whole blocks (or the last, short one), `BATCH_BLOCKS` at a time."""
        size = min(BLOCK_FRAMES, samples.shape[0])
        pieces = []
        for start in range(0, samples.shape[0], BATCH_BLOCKS * size):
            batch = samples[start : start + BATCH_BLOCKS * size]
            count = batch.shape[0] // size
            planar = np.empty((self._channels, count * size), dtype=np.int32)
            # A channel at a time: several times faster than one transposing copy.
            for channel in range(self._channels):
                planar[channel] = batch[:, channel]
            pieces.append(
                _encode_frames(
                    planar.reshape(self._channels, count, size),
                    first=self._number,
                    rate_code=_RATE_CODES.get(self._rate, 0),
                )
            )
            self._number += count
        return b"".join(pieces)


def _encode_frames(samples: NDArray[np.int32], *, first: int, rate_code: int) -> bytes:
    """FLAC frames for (channels, frames, size) samples, numbered from `first`."""
    channels, count, size = samples.shape
    orders, costs = _fixed_predictors(samples)
    frame_index = np.arange(count)[:, None]
    if channels == 2:
        pairs = np.array([coded for _, coded in _STEREO])
        assignment = np.argmin(costs[pairs].sum(axis=1), axis=0)
        coded = pairs[assignment]
        codes = [_STEREO[a][0] for a in assignment.tolist()]
        raw = _stereo_channels(samples, assignment)
    else:
        coded = np.zeros((count, 1), dtype=np.int64)
        codes = [0] * count
        raw = np.moveaxis(samples, 0, 1)
    order = orders[coded, frame_index]
    chosen = _residuals(raw, order)
    bps = np.where(coded == _SIDE, _BITS + 1, _BITS)
    widths, values = _subframes(chosen, raw, order, bps)
    headers = [
        _frame_header(number=first + i, size=size, channels_code=code, rate_code=rate_code)
        for i, code in enumerate(codes)
    ]
    return _frames_to_bytes(headers, widths, values)


def _fixed_predictors(x: NDArray[np.int32]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """The best fixed predictor order per (channel, frame), and its cost.

    For stereo the channels judged are left, right, mid and side (`_STEREO` numbers them).
    The cost is the sum of absolute residuals, which stands in for the coded size, taken at
    every eighth sample of a full block (every sample of a short one), past the warm-up of
    the highest order so that every order is judged on the same samples. Every fourth
    sample made our tracks 0.03 % smaller and the encoder 10 % slower.
    """
    size = x.shape[-1]
    top = min(_MAX_ORDER, size - 1)
    # x[n - m] for the sampled n, m = 0..top; differences of neighbours raise the order.
    if size >= 256:
        # n = 8j + 7: one transposing copy makes every x[n - m] contiguous.
        eights = x[..., : size // 8 * 8].reshape(*x.shape[:-1], -1, 8)
        columns = np.moveaxis(eights[..., 3:], -1, 0).copy()
        level = [columns[4 - m] for m in range(5)]
    else:
        level = [x[..., top - m : size - m] for m in range(top + 1)]
    if x.shape[0] == 2:
        # Mid and side of the sampled values are the sampled mid and side.
        level = [np.concatenate([c, (c[:1] + c[1:]) >> 1, c[:1] - c[1:]]) for c in level]
    sums = [np.abs(level[0]).sum(axis=-1, dtype=np.int64)]
    for _ in range(top):
        level = [np.subtract(a, b) for a, b in itertools.pairwise(level)]
        sums.append(np.abs(level[0]).sum(axis=-1, dtype=np.int64))
    costs = np.stack(sums)
    orders = np.argmin(costs, axis=0)
    return orders, np.take_along_axis(costs, orders[None], axis=0)[0]


def _stereo_channels(
    samples: NDArray[np.int32], assignment: NDArray[np.int64]
) -> NDArray[np.int32]:
    """The two coded channels of each frame, (frames, 2, size), for its `_STEREO` entry."""
    left, right = samples
    count, size = left.shape
    side = left - right
    coded = np.empty((count, 2, size), dtype=np.int32)
    coded[:, 0] = left
    np.copyto(coded[:, 0], side, where=(assignment == 2)[:, None])
    if (assignment == 3).any():
        np.copyto(coded[:, 0], (left + right) >> 1, where=(assignment == 3)[:, None])
    coded[:, 1] = right
    np.copyto(coded[:, 1], side, where=(assignment % 2 == 1)[:, None])
    return coded


def _residuals(raw: NDArray[np.int32], order: NDArray[np.int64]) -> NDArray[np.int32]:
    """Fixed-predictor residuals of each (frame, subframe) row at its order.

    The first `order` values of a row are not residuals; the caller writes warm-up samples there.
    """
    residual = raw.copy()
    for k in range(1, int(order.max(initial=0)) + 1):
        # numpy reads overlapping operands as they were before the call.
        np.subtract(
            residual[..., k:],
            residual[..., k - 1 : -1],
            out=residual[..., k:],
            where=(order >= k)[..., None],
        )
    return residual


def _subframes(
    residual: NDArray[np.int32],
    raw: NDArray[np.int32],
    order: NDArray[np.int64],
    bps: NDArray[np.int64],
) -> tuple[NDArray[np.int32], NDArray[np.int32]]:
    """Bit widths and values of every frame's fields, (frames, slots), in order.

    A frame's slots are `_HEADER_SLOTS` for its header (left empty here), then its
    subframes, then two for the padding and the CRC-16 (also left empty). A subframe's slots
    are its header, four warm-up samples, the residual header, then for each of the finest
    partitions its Rice parameter and its codes. A slot that is not used has width and
    value 0. A Rice code's width includes its unary zeros, which the bit writer skips, so its
    value holds only the stop bit and the low bits.
    """
    count, subframes, size = residual.shape
    finest = _finest_partition_order(size)
    parts = 1 << finest
    part_size = size >> finest
    folded = residual << 1
    folded ^= np.right_shift(residual, 31, out=residual)
    # Only the first few samples can be warm-up samples rather than residuals.
    head = min(_MAX_ORDER, size)
    warmup = np.arange(head) < order[..., None]
    folded[..., :head][warmup] = 0
    sums = folded.reshape(count, subframes, parts, part_size).sum(axis=-1, dtype=np.int64)
    lengths = np.full((count, subframes, parts), part_size, dtype=np.int64)
    lengths[..., 0] -= order
    rice_bits, partition_order, rice = _rice_parameters(sums, lengths, order, size)
    fixed_bits = 8 + order * bps + 6 + rice_bits
    verbatim_bits = 8 + size * bps
    # A constant row has order 1 (order 0 when it is all zeros) and only zero residuals.
    constant = (order <= 1) & (sums.sum(axis=-1) == 0)
    is_fixed = ~constant & (fixed_bits < verbatim_bits)
    is_verbatim = ~constant & ~is_fixed

    slots = 6 + parts * (part_size + 1)
    frame_widths = np.zeros((count, _HEADER_SLOTS + subframes * slots + 2), dtype=np.int32)
    frame_values = np.zeros(frame_widths.shape, dtype=np.int32)
    body = slice(_HEADER_SLOTS, _HEADER_SLOTS + subframes * slots)
    widths = frame_widths[:, body].reshape(count, subframes, slots)
    values = frame_values[:, body].reshape(count, subframes, slots)
    sample_mask = (np.int64(1) << bps) - 1
    # Header: a zero bit, the type (000000 constant, 000001 verbatim, 001ooo fixed), no wasted bits.
    widths[..., 0] = 8
    values[..., 0] = np.where(is_fixed, (0b001000 | order) << 1, np.where(is_verbatim, 2, 0))
    uses_warm = np.zeros((count, subframes, _MAX_ORDER), dtype=bool)
    uses_warm[..., :head] = warmup & is_fixed[..., None]
    uses_warm[..., 0] |= constant
    warm_values = np.zeros((count, subframes, _MAX_ORDER), dtype=np.int64)
    warm_values[..., :head] = raw[..., :head] & sample_mask[..., None]
    widths[..., 1:5] = np.where(uses_warm, bps[..., None], 0)
    values[..., 1:5] = np.where(uses_warm, warm_values, 0)
    widths[..., 5] = np.where(is_fixed, 6, 0)
    values[..., 5] = np.where(is_fixed, partition_order, 0)

    body_widths = widths[..., 6:].reshape(count, subframes, parts, part_size + 1)
    body_values = values[..., 6:].reshape(count, subframes, parts, part_size + 1)
    starts = np.arange(parts) % (parts >> partition_order)[..., None] == 0
    body_widths[..., 0] = np.where(starts, 4, 0)
    body_values[..., 0] = np.where(starts, rice, 0)
    # Each code, written straight into its slots: width (u >> k) + k + 1, value 2^k + u mod 2^k.
    codes = folded.reshape(count, subframes, parts, part_size)
    code_widths = body_widths[..., 1:]
    code_values = body_values[..., 1:]
    k = rice.astype(np.int32)[..., None]
    np.right_shift(codes, k, out=code_widths)
    code_widths += k + 1
    stop = np.left_shift(1, k, dtype=np.int32)
    np.bitwise_and(codes, stop - 1, out=code_values)
    code_values |= stop
    first_codes = (slice(None), slice(None), 0, slice(1, 1 + head))
    body_widths[first_codes][warmup] = 0
    body_values[first_codes][warmup] = 0
    # Constant and verbatim subframes are rare (silence, full-scale noise): fix them up after.
    other = ~is_fixed
    if other.any():
        widths[other, 5:] = 0
        values[other, 5:] = 0
        verbatim = raw[other] & sample_mask[other][:, None]
        body_widths[other, :, 1:] = np.where(is_verbatim[other], bps[other], 0)[:, None, None]
        body_values[other, :, 1:] = np.where(is_verbatim[other][:, None], verbatim, 0).reshape(
            -1, parts, part_size
        )
    return frame_widths, frame_values


def _finest_partition_order(size: int) -> int:
    """The most partitions a block of `size` can have: equal parts of at least 4 samples.

    A partition may not be shorter than the predictor order (RFC 9639 9.2.7.1).
    """
    order = 0
    while (
        order < _MAX_PARTITION_ORDER
        and size % (2 << order) == 0
        and size >> (order + 1) >= _MAX_ORDER
    ):
        order += 1
    return order


def _rice_parameters(
    sums: NDArray[np.int64],
    lengths: NDArray[np.int64],
    order: NDArray[np.int64],
    size: int,
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    """The cheapest partition order and Rice parameters per subframe, from partition sums.

    `sums` and `lengths` hold the folded residuals' sum and count per finest partition. A
    code of u with parameter k takes (u >> k) + 1 + k bits, about sum(u) >> k + n (k + 1)
    for a partition: raising k saves sum(u) >> (k + 1) and costs n, so the best k is about
    log2(mean u). Returns the estimated residual bits, the partition order and, per finest
    partition, the parameter of the partition it belongs to.
    """
    finest = int(np.log2(sums.shape[-1]))
    best_bits = np.full(order.shape, 1 << 62, dtype=np.int64)
    best_order = np.zeros(order.shape, dtype=np.int64)
    best_rice = np.zeros(sums.shape, dtype=np.int64)
    # Every other partition order, up to the finest: trying them all made our tracks
    # only 0.02 % smaller.
    for partition_order in range(finest % 2, finest + 1, 2):
        group = 1 << (finest - partition_order)
        s = sums.reshape(*sums.shape[:-1], -1, group).sum(axis=-1)
        n = lengths.reshape(*lengths.shape[:-1], -1, group).sum(axis=-1)
        # frexp's exponent is floor(log2(mean)) + 1.
        exponent = np.frexp(s / np.maximum(n, 1))[1].astype(np.int64)
        rice = np.minimum(np.maximum(exponent - 1, 0), _MAX_RICE)
        bits = ((s >> rice) + n * (rice + 1)).sum(axis=-1)
        bits += 4 << partition_order
        # Every partition but the first holds whole partitions' worth of residuals.
        valid = (size >> partition_order) >= order
        better = valid & (bits < best_bits)
        best_bits = np.where(better, bits, best_bits)
        best_order = np.where(better, partition_order, best_order)
        best_rice = np.where(better[..., None], np.repeat(rice, group, axis=-1), best_rice)
    return best_bits, best_order, best_rice


def _frame_header(*, number: int, size: int, channels_code: int, rate_code: int) -> bytes:
    """Sync code to CRC-8 (RFC 9639 9.1), for a fixed-block-size stream."""
    if size == BLOCK_FRAMES:
        size_code, size_bytes = 0b1100, b""
    elif size <= 256:
        size_code, size_bytes = 0b0110, bytes([size - 1])
    else:
        size_code, size_bytes = 0b0111, struct.pack(">H", size - 1)
    head = bytes([0xFF, 0xF8, size_code << 4 | rate_code, channels_code << 4 | 0b100 << 1])
    head += _coded_number(number) + size_bytes
    return head + bytes([_crc8(head)])


def _coded_number(number: int) -> bytes:
    """The frame number in FLAC's UTF-8-like variable-length code."""
    if number < 0x80:
        return bytes([number])
    tail = []
    while True:
        tail.append(0x80 | (number & 0x3F))
        number >>= 6
        length = len(tail) + 1
        if number < 1 << (7 - length):
            lead = (0xFF << (8 - length)) & 0xFF | number
            return bytes([lead, *reversed(tail)])


def _crc8(data: bytes) -> int:
    """CRC-8 with polynomial x^8 + x^2 + x + 1, initial value 0."""
    table = _crc8_table()
    crc = 0
    for byte in data:
        crc = table[crc ^ byte]
    return crc


@functools.cache
def _crc8_table() -> tuple[int, ...]:
    """The CRC-8 of each single byte."""
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = ((crc << 1) ^ 0x07) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
        table.append(crc)
    return tuple(table)


def _frames_to_bytes(
    headers: list[bytes], widths: NDArray[np.int32], values: NDArray[np.int32]
) -> bytes:
    """Fill in each frame's header, padding to a byte and CRC-16 slots, and write the bits."""
    for index, header in enumerate(headers):
        widths[index, : len(header)] = 8
        values[index, : len(header)] = np.frombuffer(header, dtype=np.uint8)
    frame_bits = widths.sum(axis=1, dtype=np.int64)
    padding = -frame_bits % 8
    widths[:, -2] = padding
    widths[:, -1] = 16
    data = _write_bits(widths.reshape(-1), values.reshape(-1))
    lengths = (frame_bits + padding) // 8
    ends = np.cumsum(lengths + 2)
    crcs = _crc16_frames(data, starts=ends - lengths - 2, lengths=lengths)
    data[ends - 2] = crcs >> 8
    data[ends - 1] = crcs & 0xFF
    return data.tobytes()


def _write_bits(widths: NDArray[np.int32], values: NDArray[np.int32]) -> NDArray[np.uint8]:
    """Big-endian bit string of fields with these widths, each value in its field's low bits.

    The total is a whole number of bytes, under 2^31 bits (a batch of blocks has some 2^21),
    and every value under 2^32. Bits not set by a value stay zero, which is how unary runs
    are written. A field of width 0 must have the value 0. Fields whose last bit falls in the
    same 32-bit word are placed in one 64-bit window (that word and the one before); their
    bits do not overlap, so a window's sum is their OR, and a running sum gives every
    window's at once. Each window then lands in its two words.
    """
    last = np.cumsum(widths, dtype=np.int32)
    total = int(last[-1])
    last -= 1
    word = last >> 5
    np.bitwise_and(last, 31, out=last)
    np.subtract(31, last, out=last)
    placed = values.astype(np.uint64)
    placed <<= last.astype(np.uint64)
    # The running sum wraps modulo 2^64, which the differences undo.
    sums = np.cumsum(placed, out=placed)
    ends = np.flatnonzero(word[1:] != word[:-1])
    ends = np.append(ends, word.size - 1)
    windows = np.diff(sums[ends], prepend=np.uint64(0))
    # Word j is at j + 1, so the window of word 0 has a word before it.
    at = word[ends] + 1
    words = np.zeros(total // 32 + 2, dtype=np.uint32)
    low = windows.astype(np.uint32)
    high = (windows >> np.uint64(32)).astype(np.uint32)
    if at[0] == 1 and at[-1] == at.size:
        # Some field ends in every word (none has a unary run over a whole word): no gaps.
        words[1 : at.size + 1] = low
        words[: at.size] |= high
    else:
        words[at] = low
        words[at - 1] |= high
    return words[1:].astype(">u4").view(np.uint8)[: total // 8].copy()


def _crc16_frames(
    data: NDArray[np.uint8], *, starts: NDArray[np.int64], lengths: NDArray[np.int64]
) -> NDArray[np.uint16]:
    """CRC-16 (polynomial 0x8005, initial 0) of each span of `data`, as (count,) uint16.

    Zero bytes in front leave such a CRC unchanged, so the spans are right-aligned in rows
    of equal length. Four lookups, one per two-byte pair, give the CRC of each eight-byte
    block; then neighbours combine pairwise (the left one's CRC times x^(8 * its length),
    plus the right one's), with a zero block put in front of a row whenever it has an odd
    number of blocks.
    """
    count = lengths.size
    width = -(-int(lengths.max()) // 256) * 256
    rows = np.zeros((count, width), dtype=np.uint8)
    for row, (start, length) in enumerate(zip(starts.tolist(), lengths.tolist(), strict=True)):
        rows[row, width - length :] = data[start : start + length]
    pairs, shifts = _crc16_tables()
    blocks = rows.view(">u2").reshape(count, -1, len(pairs))
    crc: NDArray[np.uint16] = pairs[0][blocks[..., 0]]
    for place in range(1, len(pairs)):
        crc ^= pairs[place][blocks[..., place]]
    level = 3
    while crc.shape[1] > 1:
        if crc.shape[1] % 2:
            crc = np.concatenate([np.zeros((count, 1), dtype=np.uint16), crc], axis=1)
        high, low = shifts[level]
        left = crc[:, 0::2]
        crc = high[left >> 8] ^ low[left & 0xFF] ^ crc[:, 1::2]
        level += 1
    return crc[:, 0]


@functools.cache
def _crc16_tables() -> tuple[
    tuple[NDArray[np.uint16], ...], tuple[tuple[NDArray[np.uint16], ...], ...]
]:
    """For each place of a two-byte pair in an eight-byte block, the CRC of every pair there
    (followed by the block's later bytes as zeros), and per level l the tables that multiply
    a CRC by x^(8 * 2^l) modulo the polynomial, by its high and by its low byte."""
    shifts = []
    factor = _polymod(1 << 8)
    for _ in range(_CRC_LEVELS):
        shifts.append((_mul_table(factor, 8), _mul_table(factor, 0)))
        factor = _polymul(factor, factor)
    block = np.arange(1 << 16)
    # A two-byte block v is the polynomial v, and its CRC is v * x^16: level 1's product.
    high, low = shifts[1]
    pairs = [high[block >> 8] ^ low[block & 0xFF]]
    # A pair two bytes further from the block's end has its CRC times x^16 more.
    for _ in range(3):
        pairs.insert(0, high[pairs[0] >> 8] ^ low[pairs[0] & 0xFF])
    return tuple(pairs), tuple(shifts)


def _mul_table(factor: int, shift: int) -> NDArray[np.uint16]:
    """(byte << shift) * factor for every byte; the product is linear in the byte's bits."""
    table = np.zeros(256, dtype=np.uint16)
    byte = np.arange(256)
    for bit in range(8):
        table ^= np.where(byte >> bit & 1, _polymul(1 << (bit + shift), factor), 0).astype(
            np.uint16
        )
    return table


def _polymul(a: int, b: int) -> int:
    """a * b modulo x^16 + x^15 + x^2 + 1, over GF(2)."""
    product = 0
    while b:
        if b & 1:
            product ^= a
        a <<= 1
        b >>= 1
    return _polymod(product)


def _polymod(value: int) -> int:
    for bit in range(value.bit_length() - 1, 15, -1):
        if value >> bit & 1:
            value ^= 0x18005 << (bit - 16)
    return value
