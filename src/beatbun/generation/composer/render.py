"""Score to mastered 16-bit stereo, a few seconds at a time, handed out slice by slice.

Pass 1 mixes each chunk (notes into buses, sends, ducking, fades), rounds it to int16 values
with 12 dB of headroom and measures its BS.1770 sub-block energies. Mastering passes apply
gain and the limiter, re-measure only the sub-blocks the limiter changed, and check the true
peak. The output pass hands out the mastered chunks, after the final trim. Between passes the
rounded mix is kept as int16 when it takes at most `KEPT_MIX_BYTES`; a longer track is mixed
again for each pass (the same score and seed give the same samples) with the earlier passes'
gain and limiter applied on the way. So peak memory is a few seconds of float buses plus at
most `KEPT_MIX_BYTES`, whatever the duration, and the output is the same either way.

`premaster` hands out the first pass's mix for exports, whole or split into `STEMS` by
giving every stem its own dry and ducked bus rows: still one pass over the score.
"""

from __future__ import annotations

import math
from collections.abc import Generator, Iterator

import numpy as np
from numpy.typing import NDArray

from beatbun.generation.composer.arrangement import Note, Part, Score
from beatbun.generation.composer.drums import render_drum
from beatbun.generation.composer.instruments import VOICES, Wavetables, render_note
from beatbun.generation.composer.loudness import Loudness, LoudnessMeter
from beatbun.generation.composer.mixing import (
    Echo,
    Limiter,
    Reverb,
    ToneStage,
    add_doubled,
    duck_curve,
    pan_gains,
)
from beatbun.generation.composer.plan import CompositionPlan
from beatbun.generation.composer.styles import GENRES
from beatbun.generation.composer.wav import PeakMeter

TARGET_LUFS = -14.0
CEILING_DBFS = -1.5
MAX_TRUE_PEAK_DBTP = -1.1
CHUNK_FRAMES = 88200
TAIL_FRAMES = 4 * 44100
NOTE_CACHE_BYTES = 4 * 1024 * 1024
# The rounded mix of a track up to about 95 s is kept between passes; a longer one is mixed again.
KEPT_MIX_BYTES = 16 * 1024 * 1024
_HEADROOM = 4.0
_HAAS_SECONDS = 0.011
_FADE_IN_SECONDS = 0.01
STEMS = ("drums", "bass", "harmony", "lead", "pads")
"""The groups a stem render splits the pre-master mix into; `pads` also holds every return."""
# Logical rows of a mix bus: the reverb and delay sends, then dry left/right and ducked
# left/right for each group of parts (one group for the mix, one per stem for stems).
_REVERB_SEND = 0
_DELAY_SEND = 1
_DRY = 2
_DUCKED = 4
_GROUP_ROWS = 4
_SLOTS = 3  # the chunk being mixed and the two that TAIL_FRAMES reaches into

Block = NDArray[np.float32]
"""A (2, n) float32 chunk holding whole int16 values."""


class TrackRender:
    """One track's render: iterate `steps()` once, then read `loudness` and `peaks`.

    `steps()` yields None after each chunk of the measuring passes (a point where other work
    may run) and then the mastered samples, one C-contiguous (n, 2) int16 array per chunk, in
    order. Identical inputs give identical samples, whether the mix is kept or mixed again.
    """

    def __init__(
        self, plan: CompositionPlan, score: Score, *, kept_mix_bytes: int = KEPT_MIX_BYTES
    ) -> None:
        self._plan = plan
        self._score = score
        self._keeps_mix = plan.frames * 4 <= kept_mix_bytes
        self.loudness = Loudness(-math.inf, -math.inf)
        self.peaks: tuple[tuple[float, float], ...] = ()

    def steps(self) -> Iterator[NDArray[np.int16] | None]:
        plan = self._plan
        source: _KeptMix | _Remix = (
            _KeptMix(plan, self._score) if self._keeps_mix else _Remix(plan, self._score)
        )
        meter = LoudnessMeter(sample_rate=plan.sample_rate, with_true_peak=False)
        for block in source.first_pass():
            # Measured after rounding, so mastering can reuse these figures for the mix.
            meter.add(block)
            yield None
        self.loudness, trim = yield from _master(
            source, stored=meter.result(), energies=meter.energies, sample_rate=plan.sample_rate
        )
        peaks = PeakMeter(expected_frames=plan.frames, channels=2)
        for samples in source.mastered(trim):
            peaks.add(samples)
            yield samples
        self.peaks = peaks.result()


class _KeptMix:
    """The rounded mix kept as int16; each mastering pass writes its result back."""

    def __init__(self, plan: CompositionPlan, score: Score) -> None:
        self._plan = plan
        self._score = score
        self._samples = np.empty((plan.frames, 2), dtype="<i2")
        self._start = 0

    def first_pass(self) -> Iterator[Block]:
        start = 0
        for block in _mix(self._plan, self._score):
            _store(self._samples[start : start + block.shape[1]], block)
            start += block.shape[1]
            yield block

    def chunks(self) -> Iterator[Block]:
        for start in range(0, self._plan.frames, CHUNK_FRAMES):
            self._start = start
            samples = self._samples[start : start + CHUNK_FRAMES]
            block = np.empty((2, samples.shape[0]), dtype=np.float32)
            block[0] = samples[:, 0]
            block[1] = samples[:, 1]
            yield block

    def keep(self, block: Block) -> None:
        """Store the mastered version of the chunk `chunks` yielded last."""
        _store(self._samples[self._start : self._start + block.shape[1]], block)

    def end_pass(self, scale: float) -> None:
        """Nothing to remember: the samples themselves are the result."""

    def mastered(self, trim: float | None) -> Iterator[NDArray[np.int16]]:
        """The kept samples after the final `trim`, trimmed in place (no float copy is kept)."""
        for start in range(0, self._plan.frames, CHUNK_FRAMES):
            view = self._samples[start : start + CHUNK_FRAMES]
            if trim is not None:
                view[...] = _trimmed(view.astype(np.float32), trim)
            yield view


class _Remix:
    """The rounded mix made again for each pass, with every finished pass applied to it."""

    def __init__(self, plan: CompositionPlan, score: Score) -> None:
        self._plan = plan
        self._score = score
        self._scales: list[float] = []

    def first_pass(self) -> Iterator[Block]:
        return _mix(self._plan, self._score)

    def chunks(self) -> Iterator[Block]:
        limiters = [_limiter(self._plan.sample_rate) for _ in self._scales]
        for block in _mix(self._plan, self._score):
            for scale, limiter in zip(self._scales, limiters, strict=True):
                block *= np.float32(scale)
                limiter.process(block)
                block *= np.float32(32768.0)
                np.clip(np.rint(block, out=block), -32768.0, 32767.0, out=block)
            yield block

    def keep(self, block: Block) -> None:
        """Nothing to store: the next pass mixes and limits again."""

    def end_pass(self, scale: float) -> None:
        self._scales.append(scale)

    def mastered(self, trim: float | None) -> Iterator[NDArray[np.int16]]:
        for block in self.chunks():
            if trim is not None:
                _trimmed(block, trim)
            samples = np.empty((block.shape[1], 2), dtype="<i2")
            _store(samples, block)
            yield samples


def _store(samples: NDArray[np.int16], block: Block) -> None:
    """Write the (2, n) `block` into the (n, 2) `samples`, a channel at a time (no transpose)."""
    samples[:, 0] = block[0]
    samples[:, 1] = block[1]


def _trimmed(block: NDArray[np.float32], trim: float) -> NDArray[np.float32]:
    """`block` times `trim`, rounded to int16 values, in place."""
    block *= np.float32(trim)
    return np.clip(np.rint(block, out=block), -32768.0, 32767.0, out=block)


def premaster(
    plan: CompositionPlan, score: Score, *, by_stem: bool = False
) -> Iterator[NDArray[np.float32]]:
    """The mix before the master bus, chunk by chunk from the start, as int16 values.

    Each chunk is a (groups, 2, n) array: one group for the whole mix, or one per name in
    `STEMS` `by_stem`. That is the mix after sends, ducking and fades, 12 dB below full scale
    (the render's headroom) and before loudness gain and the limiter. Reverb and delay
    returns of every part are in the `pads` stem. Each group is rounded on its own, so the
    stems sum to the mix to within half a step per stem.
    """
    mixer = _Mixer(plan, score, groups=len(STEMS) if by_stem else 1)
    to_int = np.float32(32767.0 / _HEADROOM)
    for start in range(0, plan.frames, CHUNK_FRAMES):
        count = min(CHUNK_FRAMES, plan.frames - start)
        block = mixer.mix_chunk(start)[:, :, :count]
        fades = _fades(plan, start, count)
        if fades is not None:
            block *= fades
        block *= to_int
        np.clip(np.rint(block, out=block), -32768.0, 32767.0, out=block)
        yield block


def _mix(plan: CompositionPlan, score: Score) -> Iterator[Block]:
    """The whole mix before the master bus, as (2, n) chunks."""
    for block in premaster(plan, score):
        yield block[0]


def _master(
    source: _KeptMix | _Remix,
    *,
    stored: Loudness,
    energies: NDArray[np.float64],
    sample_rate: int,
) -> Generator[None, None, tuple[Loudness, float | None]]:
    """Passes that bring the mix to -14 LUFS with true peak at or below -1 dBTP.

    Returns the loudness of the result and the gain of the final trim (None for none).
    `stored` and `energies` (per 100 ms sub-block) measure the rounded mix as integers; the
    mix is those times _HEADROOM / 32767.
    """
    scale = _HEADROOM / 32767.0
    current = Loudness(
        stored.integrated_lufs + 20.0 * math.log10(scale),
        stored.true_peak_dbtp + 20.0 * math.log10(scale),
    )
    if not math.isfinite(current.integrated_lufs):
        return current, None
    for _ in range(3):
        # Aim a little high: the limiter costs some loudness, and trimming down is always safe.
        gain_db = TARGET_LUFS - current.integrated_lufs + 0.4
        gain = scale * 10.0 ** (gain_db / 20.0)
        current, energies = yield from _limit(
            source, scale=gain, energies=energies, sample_rate=sample_rate
        )
        scale = 1.0 / 32768.0
        if current.integrated_lufs >= TARGET_LUFS - 0.3:
            break
    trim_db = min(
        TARGET_LUFS - current.integrated_lufs, MAX_TRUE_PEAK_DBTP - current.true_peak_dbtp
    )
    if abs(trim_db) <= 0.01:
        return current, None
    # A plain gain moves both figures by the same dB (to within int16 rounding).
    current = Loudness(current.integrated_lufs + trim_db, current.true_peak_dbtp + trim_db)
    return current, 10.0 ** (trim_db / 20.0)


def _limit(
    source: _KeptMix | _Remix,
    *,
    scale: float,
    energies: NDArray[np.float64],
    sample_rate: int,
) -> Generator[None, None, tuple[Loudness, NDArray[np.float64]]]:
    """Scale and limit the mix; returns its loudness, true peak and sub-block energies.

    `energies` are the mix's sub-block energies before this pass. A sub-block the limiter
    leaves unchanged is only scaled, so its energy is scaled too; the rest are measured again.
    """
    limiter = _limiter(sample_rate)
    meter = LoudnessMeter(sample_rate=sample_rate, with_true_peak=True)
    subblock = meter.subblock
    factor = scale * scale
    start = 0
    for block in source.chunks():
        block *= np.float32(scale)
        limiter.process(block)
        first = start // subblock
        chunk_energies = energies[first : first + block.shape[1] // subblock] * factor
        changed = np.flatnonzero(~limiter.find_unchanged(subblock))
        if changed.size:
            spans = (changed[:, None] * subblock + np.arange(subblock)).reshape(-1)
            chunk_energies[changed] = meter.measure(block[:, spans])
        meter.add(block, energies=chunk_energies)
        block *= np.float32(32768.0)
        np.clip(np.rint(block, out=block), -32768.0, 32767.0, out=block)
        source.keep(block)
        start += block.shape[1]
        yield None
    source.end_pass(scale)
    # Later passes read the rounded samples at 1/32768, whose energies are these.
    return meter.result(), meter.energies * (32768.0 * 32768.0)


def _limiter(sample_rate: int) -> Limiter:
    return Limiter(ceiling_db=CEILING_DBFS, release_db_per_second=30.0, sample_rate=sample_rate)


def _fades(plan: CompositionPlan, start: int, count: int) -> NDArray[np.float32] | None:
    """Gain for the fade-in and fade-out over this chunk, or None where neither reaches."""
    fade_frames = min(4.0, 0.12 * plan.frames / plan.sample_rate) * plan.sample_rate
    if _FADE_IN_SECONDS * plan.sample_rate < start and start + count < plan.frames - fade_frames:
        return None
    # In place: the last chunk is rendered while the mixer's buses are at their largest.
    index = np.arange(start, start + count, dtype=np.float64)
    gains = np.minimum(index * (1.0 / (_FADE_IN_SECONDS * plan.sample_rate)), 1.0)
    np.subtract(plan.frames, index, out=index)
    index *= 1.0 / fade_frames
    np.clip(index, 0.0, 1.0, out=index)
    index *= np.pi / 2.0
    gains *= np.sin(index, out=index)
    return gains.astype(np.float32)


class _Mixer:
    """Ring buffers of three chunks, so notes can ring up to TAIL_FRAMES past their chunk.

    Voices synthesized at a half or a quarter of the rate are summed into buses at that rate;
    once per chunk the quarter-rate chunk is interpolated into the half-rate one and that into
    the full-rate one. The slot of a finished chunk is cleared and reused two chunks later.
    Each ring has only the rows (dry, ducked, sends) its own rate's voices use; the rows that
    only slower voices use take one chunk at the faster rates, not three.
    """

    def __init__(self, plan: CompositionPlan, score: Score, *, groups: int) -> None:
        style = GENRES[plan.genre]
        rng = np.random.default_rng([plan.seed, 3])
        self._sr = plan.sample_rate
        self._groups = groups
        # The stem of each part, or the single group of the whole mix.
        self._group_of = {
            id(part): STEMS.index(part.stem) if groups > 1 else 0 for part in score.parts
        }
        self._returns = STEMS.index("pads") if groups > 1 else 0
        self._voices = _VoiceCache(plan.sample_rate, rng)
        self._duck_depth = np.float32(style.sidechain)
        slowest = max(_divisor(part) for part in score.parts) if score.parts else 1
        self._divisors = [1 << k for k in range(slowest.bit_length())]
        # A ring holds the rows its own rate's voices add to; a head, the rows of that rate and
        # every slower one, the slower ones first. Both keep the head's order, so a ring that
        # has every row of its head is the head itself.
        self._rows: dict[int, dict[int, int]] = {}
        self._head_rows: dict[int, dict[int, int]] = {}
        slower: list[int] = []
        for divisor in reversed(self._divisors):
            used = {
                row
                for part in score.parts
                if _divisor(part) == divisor
                for row in self._rows_of(part)
            }
            slower = slower + sorted(used - set(slower))
            own = [row for row in slower if row in used]
            self._rows[divisor] = {row: index for index, row in enumerate(own)}
            self._head_rows[divisor] = {row: index for index, row in enumerate(slower)}
        self._buses = {
            divisor: np.zeros(
                (len(self._rows[divisor]), _SLOTS * CHUNK_FRAMES // divisor), dtype=np.float32
            )
            for divisor in self._divisors
        }
        self._heads: dict[int, Block | None] = {
            divisor: np.zeros(
                (len(self._head_rows[divisor]), CHUNK_FRAMES // divisor), dtype=np.float32
            )
            if len(self._head_rows[divisor]) > len(self._rows[divisor])
            else None
            for divisor in self._divisors
        }
        # Where each ring row sits in its head.
        self._own_rows = {
            divisor: np.array(
                [self._head_rows[divisor][row] for row in self._rows[divisor]], dtype=np.int64
            )
            for divisor in self._divisors
        }
        self._edges: dict[int, Block] = {
            divisor: np.zeros((len(self._head_rows[divisor]), 1), dtype=np.float32)
            for divisor in self._divisors
        }
        self._duck = np.zeros(_SLOTS * CHUNK_FRAMES, dtype=np.float32)
        self._chunk = 0
        beat = 60.0 / plan.bpm
        reverb_seconds = 3.5 if plan.genre == "ambient" else 2.4 if style.reverb >= 0.4 else 1.7
        self._reverb = Reverb(
            sample_rate=self._sr, seconds=reverb_seconds, chunk=CHUNK_FRAMES, rng=rng
        )
        self._tone = ToneStage(genre=plan.genre)
        self._echo = Echo(
            delays=(round(0.75 * beat * self._sr), round(0.5 * beat * self._sr)), feedback=0.38
        )
        self._duck_shape = duck_curve(sample_rate=self._sr, beat_seconds=beat)
        haas = round(_HAAS_SECONDS * self._sr)
        self._haas = {divisor: round(haas / divisor) for divisor in self._divisors}
        events = [
            (note.start, index, note)
            for index, part in enumerate(score.parts)
            for note in part.notes
        ]
        events.sort(key=lambda e: (e[0], e[1]))
        self._events = events
        self._next_use = _next_uses(
            [_note_key(score.parts[index], note) for _, index, note in events]
        )
        self._parts = score.parts
        self._next = 0
        self._kicks = np.asarray(score.kick_starts, dtype=np.int64)

    def mix_chunk(self, start: int) -> NDArray[np.float32]:
        """The stereo mix of frames start..start+CHUNK_FRAMES as a (2, CHUNK_FRAMES) array.

        Call it for consecutive chunks from the start of the track.
        """
        end = start + CHUNK_FRAMES
        slot = self._chunk % _SLOTS
        self._chunk += 1
        while self._next < len(self._events) and self._events[self._next][0] < end:
            position, part_index, note = self._events[self._next]
            next_use = self._next_use[self._next]
            self._next += 1
            self._place(
                self._parts[part_index],
                next_use=next_use,
                slot=slot,
                position=position - start,
                pitch=note.pitch,
                hold=note.hold,
                velocity=note.velocity,
            )
        full = self._gather_heads(slot)
        rows = self._head_rows[1]
        out = np.zeros((self._groups, 2, CHUNK_FRAMES), dtype=np.float32)
        for group in range(self._groups):
            dry = _DRY + group * _GROUP_ROWS
            if dry in rows:
                out[group] = full[rows[dry] : rows[dry] + 2]
        ducked_rows = [_DUCKED + group * _GROUP_ROWS for group in range(self._groups)]
        if any(row in rows for row in ducked_rows):
            for kick in self._kicks[(self._kicks >= start) & (self._kicks < end)]:
                _add_wrapped(
                    self._duck,
                    slot * CHUNK_FRAMES + int(kick) - start,
                    self._duck_shape,
                    np.maximum,
                )
            duck = self._duck[slot * CHUNK_FRAMES : (slot + 1) * CHUNK_FRAMES]
            duck *= -self._duck_depth
            duck += np.float32(1.0)
            for group, row in enumerate(ducked_rows):
                if row in rows:
                    ducked = full[rows[row] : rows[row] + 2]
                    ducked *= duck
                    out[group] += ducked
            duck[...] = 0.0
        if _REVERB_SEND in rows:
            self._reverb.process(full[rows[_REVERB_SEND]], out=out[self._returns])
        if _DELAY_SEND in rows:
            self._echo.process(full[rows[_DELAY_SEND]], out=out[self._returns], level=0.5)
        full[...] = 0.0
        self._tone.process(out)
        return out

    def _gather_heads(self, slot: int) -> Block:
        """The full-rate head of this chunk: each ring's slot, slower ones interpolated in.

        A ring keeps three chunks only of the rows its own voices ring on in, so rows that
        only slower voices use take one chunk at the faster rates. Every head is all zeros
        again after use: slower ones here, the full-rate one at the end of `mix_chunk`.
        """
        slowest, *faster = reversed(self._divisors)
        below = self._head(slowest, slot)
        for divisor in faster:
            head = self._head(divisor, slot)
            add_doubled(head[: below.shape[0]], below, previous=self._edges[2 * divisor])
            self._edges[2 * divisor] = below[:, -1:].copy()
            below[...] = 0.0
            below = head
        return below

    def _head(self, divisor: int, slot: int) -> Block:
        """This rate's head: its ring's slot itself, or (cleared) copied into the head's rows."""
        width = CHUNK_FRAMES // divisor
        own = self._buses[divisor][:, slot * width : (slot + 1) * width]
        head = self._heads[divisor]
        if head is None:
            return own
        head[self._own_rows[divisor]] = own
        own[...] = 0.0
        return head

    def _rows_of(self, part: Part) -> list[int]:
        """The logical bus rows a part adds to."""
        row = _DUCKED if part.ducked and self._duck_depth > 0 else _DRY
        row += self._group_of[id(part)] * _GROUP_ROWS
        rows = [row, row + 1]
        if part.reverb > 0:
            rows.append(_REVERB_SEND)
        if part.delay > 0:
            rows.append(_DELAY_SEND)
        return rows

    def _place(
        self,
        part: Part,
        *,
        next_use: int | None,
        slot: int,
        position: int,
        pitch: int,
        hold: int,
        velocity: float,
    ) -> None:
        """Add a note starting `position` frames into the chunk in `slot`."""
        divisor = _divisor(part)
        sound = self._voices.get(part, pitch, -(-hold // divisor), next_use=next_use)
        bus = self._buses[divisor]
        rows = self._rows[divisor]
        local = (position + divisor // 2) // divisor
        offset = slot * CHUNK_FRAMES // divisor + local
        haas = self._haas[divisor] if part.wide else 0
        n = min(sound.size, (CHUNK_FRAMES + TAIL_FRAMES) // divisor - local - haas)
        if n <= 0:
            return
        sound = sound[:n]
        gain = velocity * part.level
        left, right = pan_gains(part.pan)
        levels = {
            _REVERB_SEND: gain * part.reverb,
            _DELAY_SEND: gain * part.delay,
        }
        for row in self._rows_of(part):
            if row in levels:
                level, at = levels[row], offset
            elif row % 2 == 0:
                level, at = gain * left, offset
            else:
                level, at = gain * right, offset + haas
            _add_wrapped(bus[rows[row]], at, sound * np.float32(level), np.add)


def _add_wrapped(
    ring: NDArray[np.float32],
    at: int,
    values: NDArray[np.float32],
    combine: np.ufunc,
) -> None:
    """Combine `values` into `ring` from index `at`, wrapping past the end to the start."""
    size = ring.shape[0]
    at %= size
    first = min(values.shape[0], size - at)
    combine(ring[at : at + first], values[:first], out=ring[at : at + first])
    rest = values.shape[0] - first
    if rest > 0:
        combine(ring[:rest], values[first:], out=ring[:rest])


def _divisor(part: Part) -> int:
    return 1 if part.is_drum else VOICES[part.voice].rate_divisor


def _note_key(part: Part, note: Note) -> tuple[str, int, int]:
    if part.is_drum:
        return (part.voice, 0, 0)
    return (part.voice, note.pitch, -(-note.hold // _divisor(part)))


def _next_uses(keys: list[tuple[str, int, int]]) -> list[int | None]:
    """For each position, where the same key comes next (None if never)."""
    following: dict[tuple[str, int, int], int] = {}
    uses: list[int | None] = [None] * len(keys)
    for position in range(len(keys) - 1, -1, -1):
        uses[position] = following.get(keys[position])
        following[keys[position]] = position
    return uses


class _VoiceCache:
    """Rendered notes by (voice, pitch, hold at the voice's rate): motifs, chords and drums repeat.

    The score is known in advance, so when the cache is full it drops the note needed again
    furthest in the future (Belady's rule), and never keeps a note that is not needed again.
    """

    def __init__(self, sample_rate: int, rng: np.random.Generator) -> None:
        self._sr = sample_rate
        self._rng = rng
        self._tables = Wavetables()
        self._drums: dict[str, NDArray[np.float32]] = {}
        self._notes: dict[tuple[str, int, int], tuple[NDArray[np.float32], int]] = {}
        self._bytes = 0

    def get(
        self, part: Part, pitch: int, hold: int, *, next_use: int | None
    ) -> NDArray[np.float32]:
        """The note, rendered if needed; `next_use` orders when the same note is wanted next."""
        if part.is_drum:
            if part.voice not in self._drums:
                self._drums[part.voice] = render_drum(
                    part.voice, sample_rate=self._sr, rng=self._rng
                )
            return self._drums[part.voice]
        key = (part.voice, pitch, hold)
        cached = self._notes.pop(key, None)
        if cached is not None:
            sound = cached[0]
            self._bytes -= sound.nbytes
        else:
            sound = render_note(
                VOICES[part.voice],
                pitch=pitch,
                hold=hold,
                sample_rate=self._sr,
                tables=self._tables,
            )
        if next_use is None:
            return sound
        self._notes[key] = (sound, next_use)
        self._bytes += sound.nbytes
        while self._bytes > NOTE_CACHE_BYTES:
            furthest = max(self._notes, key=lambda k: self._notes[k][1])
            self._bytes -= self._notes.pop(furthest)[0].nbytes
        return sound
