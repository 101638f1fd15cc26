"""Synthesized pitched voices: wavetable subtractive, FM, additive and plucked strings.

Filters are baked into band-limited wavetables (one per cutoff, half an octave apart), so a
filter sweep is a crossfade between tables: stateless, vectorized and free of aliasing.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from beatbun.generation.composer.mixing import fast_fft_size
from beatbun.generation.composer.theory import midi_to_hz

Signal = NDArray[np.float32]

TABLE_SIZE = 2048
LEVELS = 26
_ENVELOPE_STEP = 32
# Ringing string tones kept per track (each is at most a couple of seconds at half the rate).
STRING_CACHE_BYTES = 3 * 1024 * 1024
# ln(10**3): a string's tail is damped 60 dB more before its DFT would wrap it round.
_DAMPED_NEPERS = 6.9


@dataclass(frozen=True, slots=True)
class Voice:
    """A patch. Times in seconds; cutoff in Hz moves from `cutoff + cutoff_env` towards `cutoff`.

    A `string` voice is a plucked string: `decay` is its T60, `cutoff` its brightness (0..1),
    `pick` where along the string it is plucked (0 for none), `body` a resonating body from
    `BODIES`, and `cabinet` the low-pass of a guitar cabinet after the drive (0 for none).
    A `wobble` voice sweeps its filter between `cutoff` and `cutoff + cutoff_env` `lfo` times a
    second, rounded to whole cycles over the note so the wobble lands on the grid.
    """

    kind: str = "wave"
    wave: str = "saw"
    attack: float = 0.005
    decay: float = 0.3
    sustain: float = 0.8
    release: float = 0.2
    cutoff: float = 2000.0
    cutoff_env: float = 0.0
    cutoff_time: float = 0.2
    unison: int = 1
    detune_cents: float = 0.0
    vibrato: float = 0.0
    drive: float = 0.0
    ratio: float = 1.0
    index: float = 0.0
    gain: float = 1.0
    rate_divisor: int = 1
    pick: float = 0.0
    body: str = ""
    cabinet: float = 0.0
    lfo: float = 0.0


VOICES: dict[str, Voice] = {
    "piano": Voice(wave="piano", attack=0.003, decay=1.0, sustain=0.0, release=0.25, cutoff=1500.0,
                   cutoff_env=6000.0, cutoff_time=0.25, gain=0.8, rate_divisor=2),
    "electric_piano": Voice(kind="fm", attack=0.004, decay=1.8, sustain=0.15, release=0.3, ratio=1.0, index=1.6, rate_divisor=2),
    "vibes": Voice(kind="fm", attack=0.003, decay=2.2, sustain=0.0, release=0.4, ratio=4.0, index=0.7, vibrato=0.03, rate_divisor=2),
    "bell": Voice(kind="fm", attack=0.002, decay=1.6, sustain=0.0, release=0.6, ratio=3.5, index=2.2, gain=0.7, rate_divisor=2),
    "glass": Voice(kind="fm", attack=0.06, decay=3.0, sustain=0.0, release=1.2, ratio=2.0, index=1.0, gain=0.6, rate_divisor=2),
    "organ": Voice(wave="organ", attack=0.006, decay=0.2, sustain=0.9, release=0.06, cutoff=6000.0, gain=0.55, rate_divisor=2),
    "pad": Voice(attack=0.6, decay=1.0, sustain=0.9, release=1.2, cutoff=1100.0, cutoff_env=600.0,
                 cutoff_time=1.5, unison=3, detune_cents=11.0, gain=0.45, rate_divisor=4),
    "dark_pad": Voice(attack=0.25, decay=1.0, sustain=0.85, release=0.8, cutoff=650.0, unison=3,
                      detune_cents=8.0, gain=0.5, rate_divisor=4),
    "strings": Voice(attack=0.28, decay=1.0, sustain=0.9, release=0.5, cutoff=6000.0, unison=3,
                     detune_cents=7.0, vibrato=0.12, gain=0.45, rate_divisor=2),
    "low_strings": Voice(attack=0.2, decay=1.0, sustain=0.9, release=0.5, cutoff=1300.0, unison=2,
                         detune_cents=6.0, vibrato=0.08, gain=0.7, rate_divisor=4),
    "staccato_strings": Voice(attack=0.008, decay=0.12, sustain=0.0, release=0.05, cutoff=4000.0,
                              unison=2, detune_cents=8.0, gain=0.55, rate_divisor=2),
    "brass": Voice(attack=0.06, decay=0.8, sustain=0.85, release=0.18, cutoff=4800.0, cutoff_env=-2800.0,
                   cutoff_time=0.12, unison=2, detune_cents=5.0, vibrato=0.1, drive=0.6, gain=0.5, rate_divisor=2),
    "saw_lead": Voice(attack=0.01, decay=0.4, sustain=0.75, release=0.15, cutoff=2200.0, cutoff_env=3000.0,
                      cutoff_time=0.25, unison=2, detune_cents=7.0, vibrato=0.15, gain=0.45, rate_divisor=2),
    "pluck_lead": Voice(wave="square", attack=0.003, decay=0.25, sustain=0.2, release=0.12, cutoff=900.0,
                        cutoff_env=4000.0, cutoff_time=0.12, gain=0.5, rate_divisor=2),
    "guitar_lead": Voice(attack=0.008, decay=0.6, sustain=0.8, release=0.12, cutoff=2400.0, unison=2,
                         detune_cents=4.0, vibrato=0.22, drive=3.0, gain=0.35),
    "power_guitar": Voice(attack=0.004, decay=0.35, sustain=0.65, release=0.07, cutoff=3200.0, unison=2,
                          detune_cents=9.0, drive=5.0, gain=0.3),
    "stab": Voice(attack=0.002, decay=0.16, sustain=0.0, release=0.05, cutoff=500.0, cutoff_env=3500.0,
                  cutoff_time=0.07, unison=2, detune_cents=10.0, gain=0.5, rate_divisor=2),
    "pluck": Voice(kind="string", decay=1.2, sustain=1.0, release=0.15, cutoff=0.5, gain=0.8),
    "synth_bass": Voice(attack=0.003, decay=0.25, sustain=0.7, release=0.05, cutoff=260.0, cutoff_env=1300.0,
                        cutoff_time=0.09, drive=0.8, gain=0.8, rate_divisor=2),
    "pick_bass": Voice(attack=0.003, decay=0.5, sustain=0.6, release=0.05, cutoff=600.0, cutoff_env=1400.0,
                       cutoff_time=0.1, drive=1.2, gain=0.75, rate_divisor=2),
    "acid_bass": Voice(wave="saw_resonant", attack=0.002, decay=0.18, sustain=0.5, release=0.04,
                       cutoff=320.0, cutoff_env=2600.0, cutoff_time=0.1, drive=1.5, gain=0.6, rate_divisor=2),
    "sub_bass": Voice(kind="sub", attack=0.006, decay=0.6, sustain=0.85, release=0.08, gain=0.75, rate_divisor=4),
    "bass_808": Voice(kind="808", attack=0.002, decay=1.3, sustain=0.0, release=0.12, drive=2.2, gain=0.85, rate_divisor=4),
    "upright_bass": Voice(kind="additive", attack=0.006, decay=0.9, sustain=0.0, release=0.12, gain=0.8,
                          cutoff=0.6, rate_divisor=4),
    "clean_guitar": Voice(kind="string", attack=0.002, decay=2.0, sustain=1.0, release=0.08, cutoff=0.35,
                          pick=0.2, body="electric", gain=1.5, rate_divisor=4),
    "distorted_guitar": Voice(kind="string", attack=0.002, decay=2.5, sustain=1.0, release=0.06, cutoff=0.3,
                              pick=0.25, body="electric", drive=50.0, cabinet=6000.0, gain=0.4, rate_divisor=2),
    "acoustic_guitar": Voice(kind="string", attack=0.002, decay=2.0, sustain=1.0, release=0.1, cutoff=0.8,
                             pick=0.13, body="steel", gain=1.5, rate_divisor=2),
    "nylon_guitar": Voice(kind="string", attack=0.003, decay=1.6, sustain=1.0, release=0.12, cutoff=0.25,
                          pick=0.3, body="nylon", gain=1.5, rate_divisor=4),
    "muted_guitar": Voice(kind="string", attack=0.001, decay=0.12, sustain=1.0, release=0.02, cutoff=0.5,
                          pick=0.1, body="electric", drive=1.0, gain=1.1, rate_divisor=2),
    "chip_square": Voice(wave="square", attack=0.001, decay=0.15, sustain=0.65, release=0.02, cutoff=12000.0,
                         gain=0.3),
    "chip_pulse": Voice(wave="pulse25", attack=0.001, decay=0.12, sustain=0.6, release=0.02, cutoff=12000.0,
                        gain=0.3),
    "chip_triangle": Voice(wave="triangle4", attack=0.001, decay=0.2, sustain=1.0, release=0.01,
                           cutoff=12000.0, gain=0.85),
    "reese_bass": Voice(attack=0.01, decay=0.5, sustain=0.9, release=0.08, cutoff=620.0, cutoff_env=400.0,
                        cutoff_time=0.3, unison=3, detune_cents=24.0, drive=1.0, gain=0.75, rate_divisor=2),
    "wobble_bass": Voice(kind="wobble", attack=0.004, decay=0.4, sustain=0.9, release=0.05, cutoff=180.0,
                         cutoff_env=2600.0, lfo=4.0, unison=2, detune_cents=12.0, drive=2.0, gain=0.7,
                         rate_divisor=2),
    "slap_bass": Voice(attack=0.002, decay=0.35, sustain=0.35, release=0.05, cutoff=420.0, cutoff_env=3800.0,
                       cutoff_time=0.035, drive=1.2, gain=0.8, rate_divisor=2),
    "sax": Voice(kind="sax", attack=0.04, decay=0.6, sustain=0.85, release=0.1, index=2.2, vibrato=0.18,
                 drive=0.8, gain=0.45, rate_divisor=2),
    "marimba": Voice(kind="marimba", attack=0.001, decay=0.45, sustain=0.0, release=0.1, gain=0.8, rate_divisor=2),
    "log_drum": Voice(kind="log_drum", attack=0.001, decay=0.3, sustain=0.0, release=0.06, drive=1.2, gain=0.8,
                      rate_divisor=2),
    "riser": Voice(kind="riser", attack=0.005, decay=1.0, sustain=1.0, release=0.08, gain=0.35, rate_divisor=2),
    "impact": Voice(kind="impact", attack=0.001, decay=0.5, sustain=0.0, release=0.2, drive=1.5, gain=0.9,
                    rate_divisor=2),
}  # fmt: skip


class Wavetables:
    """A track's synthesis caches: band-limited single-cycle tables per waveform, one per cutoff
    level (half-octave apart), and the ringing tone of each plucked string played."""

    def __init__(self) -> None:
        self._tables: dict[str, NDArray[np.float32]] = {}
        self._strings: dict[tuple[Voice, int, int], Signal] = {}
        self._string_bytes = 0

    def oscillate(self, wave: str, position: NDArray[np.float64], level: float) -> Signal:
        """Read `wave` at `position` (cycles times TABLE_SIZE) and fractional cutoff `level`.

        A fixed level reads one pre-blended table: half the memory traffic of a moving cutoff.
        """
        tables = self._table(wave)
        low = min(int(level), LEVELS - 2)
        fixed = np.float32(level - low)
        row = tables[low * TABLE_SIZE : (low + 1) * TABLE_SIZE]
        upper = tables[(low + 1) * TABLE_SIZE : (low + 2) * TABLE_SIZE]
        blended = row + fixed * (upper - row)
        return np.asarray(blended[_table_index(position)], dtype=np.float32)

    def sweep(
        self, wave: str, position: NDArray[np.float64], path: tuple[NDArray[np.int32], Signal]
    ) -> Signal:
        """Like `oscillate` along a moving cutoff; `path` comes from `cutoff_path`."""
        tables = self._table(wave)
        rows, weights = path
        index = _table_index(position)
        index += rows
        a = tables[index]
        index += TABLE_SIZE
        b = tables[index]
        b -= a
        b *= weights
        b += a
        return b

    def string_tone(self, voice: Voice, *, pitch: int, sample_rate: int) -> Signal:
        """A string voice's whole tone at `pitch`, drive and cabinet included, before its envelope.

        A string rings the same however long it is held, so each pitch is synthesized once, as
        long as it can sound, and a note takes the start of it. The oldest tones make way
        when they pass `STRING_CACHE_BYTES`.
        """
        key = (voice, pitch, sample_rate)
        tone = self._strings.get(key)
        if tone is None:
            tone = _ringing_string(voice, pitch=pitch, sr=sample_rate)
            self._strings[key] = tone
            self._string_bytes += tone.nbytes
            while self._string_bytes > STRING_CACHE_BYTES and len(self._strings) > 1:
                oldest = next(iter(self._strings))
                self._string_bytes -= self._strings.pop(oldest).nbytes
        return tone

    def _table(self, wave: str) -> NDArray[np.float32]:
        tables = self._tables.get(wave)
        if tables is None:
            # Built on first use: most tracks need one or two of the five waves.
            tables = self._tables[wave] = _build_tables(wave)
        return tables


def cutoff_path(level: Signal) -> tuple[NDArray[np.int32], Signal]:
    """Table offsets and blend weights for a moving fractional cutoff level (0..LEVELS-1)."""
    rows = np.minimum(level.astype(np.int32), LEVELS - 2)
    weights = level - rows.astype(np.float32)
    rows *= TABLE_SIZE
    return rows, weights


def _table_index(position: NDArray[np.float64]) -> NDArray[np.int32]:
    # Positions stay far below 2**31: TABLE_SIZE * 16 kHz * a few seconds.
    index = position.astype(np.int32)
    index &= TABLE_SIZE - 1
    return index


def render_note(
    voice: Voice, *, pitch: int, hold: int, sample_rate: int, tables: Wavetables
) -> Signal:
    """One note of `voice` at `sample_rate // voice.rate_divisor`, with the envelope applied.

    `hold` counts samples at that reduced rate; the release follows it. Mellow voices
    (`rate_divisor` > 1) have little above a few kHz, so the mixer sums them at their own rate
    and interpolates each bus up once per chunk instead of every note.
    """
    return _render(
        voice, pitch=pitch, hold=hold, sample_rate=sample_rate // voice.rate_divisor, tables=tables
    )


def _render(voice: Voice, *, pitch: int, hold: int, sample_rate: int, tables: Wavetables) -> Signal:
    freq = midi_to_hz(pitch)
    total = hold + round(voice.release * sample_rate)
    if voice.sustain <= 0:
        # A decaying voice is inaudible 5 time constants in (-43 dB): no need to render silence.
        total = min(total, round((voice.attack + 5.0 * voice.decay) * sample_rate))
        hold = min(hold, total)
    elif voice.kind == "string":
        # A string is released when it has died away, so it still ends without a click.
        total = min(total, _string_length(voice, sample_rate))
        hold = max(0, min(hold, total - round(voice.release * sample_rate)))
    t = np.arange(total, dtype=np.float64) / sample_rate
    # Phases are float64 (a float32 phase drifts audibly within seconds); the rest is float32.
    tone: NDArray[np.float32] | NDArray[np.float64]
    if voice.kind == "string":
        tone = tables.string_tone(voice, pitch=pitch, sample_rate=sample_rate)[:total]
    elif voice.kind == "fm":
        index = np.exp(t.astype(np.float32) * np.float32(-1.0 / 0.35))
        index *= np.float32(0.75 * voice.index)
        index += np.float32(0.25 * voice.index)
        index *= _sine(freq * voice.ratio * t)
        carrier = _cycles(freq * t + _vibrato(voice, t, freq))
        carrier *= np.float32(2 * np.pi)
        carrier += index
        tone = np.sin(carrier, out=carrier)
    elif voice.kind == "additive":
        tone = _additive(freq, t, upright=voice.cutoff < 1.0)
    elif voice.kind == "sub":
        tone = _sine(freq * t)
        tone += np.float32(0.12) * _sine(2.0 * freq * t)
    elif voice.kind == "808":
        glide = freq * 0.6 * 0.04 * (1.0 - np.exp(-t / 0.04))
        tone = _sine(freq * t + glide)
    elif voice.kind in _MODELLED:
        tone = _MODELLED[voice.kind](voice, freq, t, hold / sample_rate, pitch)
    elif voice.kind == "wobble":
        tone = _subtractive(voice, freq, t, tables, sr=sample_rate, wobble=hold / sample_rate)
    else:
        tone = _subtractive(voice, freq, t, tables, sr=sample_rate)
    if voice.drive > 0 and voice.kind != "string":
        tone = _driven(tone, voice.drive)
    envelope = _envelope(voice, hold, total, sample_rate)
    envelope *= np.float32(voice.gain)
    return np.asarray(tone * envelope, dtype=np.float32)


def _cycles(phase: NDArray[np.float64]) -> Signal:
    """The fractional part of a phase in cycles, as float32."""
    return np.asarray(phase - np.floor(phase), dtype=np.float32)


def _sine(phase: NDArray[np.float64]) -> Signal:
    """sin(2 pi phase) for a phase in cycles, computed in float32 after wrapping to 0..1."""
    wrapped = _cycles(phase)
    wrapped *= np.float32(2 * np.pi)
    return np.sin(wrapped, out=wrapped)


def _subtractive(
    voice: Voice,
    freq: float,
    t: NDArray[np.float64],
    tables: Wavetables,
    *,
    sr: int,
    wobble: float | None = None,
) -> Signal:
    """Unison oscillators through the voice's filter; `wobble` (the hold in seconds) sweeps it."""
    if wobble is not None:
        coarse = t[::_ENVELOPE_STEP]
        cycles = max(1, round(wobble * voice.lfo))
        lfo = 0.5 - 0.5 * np.cos(2 * np.pi * cycles / max(wobble, 1e-3) * coarse)
        cutoff = voice.cutoff * ((voice.cutoff + voice.cutoff_env) / voice.cutoff) ** lfo
        settle = t.size
    else:
        # The cutoff envelope moves for about five time constants; after that one table will do.
        settle = min(t.size, round(5.0 * voice.cutoff_time * sr)) if voice.cutoff_env else 0
        coarse = t[:settle:_ENVELOPE_STEP]
        # A negative cutoff_env makes the filter open over time instead (brass swell).
        cutoff = voice.cutoff + voice.cutoff_env * np.exp(-coarse / voice.cutoff_time)
    moving = np.repeat(_cutoff_level(cutoff, freq), _ENVELOPE_STEP)[:settle].astype(np.float32)
    path = cutoff_path(moving)
    resting = float(_cutoff_level(np.array([voice.cutoff]), freq)[0])
    vibrato = _vibrato(voice, t, 1.0)
    out = np.zeros(t.size, dtype=np.float32)
    for i in range(voice.unison):
        spread = 0.0 if voice.unison == 1 else (i / (voice.unison - 1) - 0.5) * 2.0
        f = freq * 2.0 ** (spread * voice.detune_cents / 1200.0)
        position = t * (f * TABLE_SIZE)
        position += i * 0.37 * TABLE_SIZE
        if voice.vibrato > 0:
            position += (f * TABLE_SIZE) * vibrato
        if settle:
            out[:settle] += tables.sweep(voice.wave, position[:settle], path)
        out[settle:] += tables.oscillate(voice.wave, position[settle:], resting)
    out *= np.float32(1.0 / np.sqrt(voice.unison))
    return out


def _cutoff_level(cutoff: NDArray[np.float64], freq: float) -> NDArray[np.float64]:
    harmonics = np.clip(cutoff, 30.0, 16000.0) / freq
    return np.asarray(
        np.clip(2.0 * np.log2(harmonics) + 2.0, 0.0, LEVELS - 1.001), dtype=np.float64
    )


def _vibrato(voice: Voice, t: NDArray[np.float64], freq: float) -> NDArray[np.float64] | float:
    """Phase offset in cycles of a delayed 5.5 Hz vibrato, `voice.vibrato` semitones deep."""
    if voice.vibrato <= 0:
        return 0.0
    depth = freq * (2.0 ** (voice.vibrato / 12.0) - 1.0) / (2 * np.pi * 5.5)
    return np.asarray(
        depth * np.minimum(t / 0.4, 1.0) * np.sin(2 * np.pi * 5.5 * t), dtype=np.float64
    )


def _additive(freq: float, t: NDArray[np.float64], *, upright: bool) -> Signal:
    out = np.zeros(t.size, dtype=np.float32)
    count = 6 if upright else 8
    seconds = t.astype(np.float32)
    step = np.exp(seconds * np.float32(-0.9))
    decay = np.exp(seconds * np.float32(-0.6))
    for k in range(1, count + 1):
        partial = freq * k * np.sqrt(1.0 + 0.0004 * k * k)
        if partial > 16000:
            break
        decay *= step  # exp(-t * (0.6 + 0.9 k)) without one exp per partial
        amplitude = (1.0 / k**1.3) if not upright else (1.0 / k**1.8)
        tone = _sine(partial * t)
        tone *= decay
        tone *= np.float32(amplitude)
        out += tone
    return out


def _string_length(voice: Voice, sr: int) -> int:
    """Samples until a string has died away to -40 dB: two thirds of its T60."""
    return round(voice.decay * sr * 2.0 / 3.0)


def _ringing_string(voice: Voice, *, pitch: int, sr: int) -> Signal:
    tone = _string(voice, midi_to_hz(pitch), _string_length(voice, sr), sr, seed=pitch)
    if voice.drive > 0:
        tone = _driven(tone, voice.drive)
    if voice.cabinet > 0:
        tone = _cabinet(tone, voice.cabinet, sr)
    return tone


def _driven(tone: NDArray[np.floating], drive: float) -> Signal:
    """Soft clipping, scaled so a full-scale input still peaks at 1."""
    driven = np.tanh(tone * np.float32(1.0 + drive)) * np.float32(1.0 / np.tanh(1.0 + drive))
    return np.asarray(driven, dtype=np.float32)


def _string(voice: Voice, freq: float, total: int, sr: int, *, seed: int) -> Signal:
    """Extended Karplus-Strong string, solved in the frequency domain (no per-period loop).

    The loop is a delay line, a one-zero damping filter (brighter voices damp their upper
    partials less) and a first-order allpass that tunes it to the exact period. The excitation
    is the string's shape when plucked at `pick` (see `_plucked_shape`), and the body is a set
    of resonances the excitation passes through first (commuted synthesis: all of it is
    linear). The spectrum is taken on a circle of radius r > 1, which damps the response by
    r**-n before the DFT, so its tail does not wrap around; multiplying by r**n afterwards
    undoes that. Single precision is enough: r**n stays below 10**3.
    """
    brightness = min(max(voice.cutoff, 0.0), 1.0)
    period = sr / freq
    smoothing = 0.5 - 0.45 * brightness
    loop = max(2, int(period - smoothing - 0.5))
    fraction = period - smoothing - loop
    allpass = (1.0 - fraction) / (1.0 + fraction)
    loop_gain = 10.0 ** (-3.0 * period / (sr * voice.decay))
    noise = np.random.default_rng(seed).uniform(-1.0, 1.0, loop)
    if voice.pick > 0:
        excitation = _plucked_shape(loop, pick=voice.pick, brightness=brightness) + 0.1 * noise
    else:
        # No pick: a synthesizer pluck, excited by a burst of noise.
        excitation = brightness * noise + (1.0 - brightness) * np.roll(noise, 1)
    size = fast_fft_size(total + 1)
    nepers = _DAMPED_NEPERS / size
    excitation *= np.exp(-nepers * np.arange(excitation.size))
    spectrum = np.fft.rfft(excitation.astype(np.float32), size)
    delay = _unit_delays(size, radius=math.exp(nepers))
    loop_filter = (1.0 - smoothing) + smoothing * delay
    loop_filter *= (allpass + delay) / (1.0 + allpass * delay)
    loop_filter *= _unit_delays(size, radius=math.exp(nepers * loop), times=loop)
    loop_filter *= loop_gain
    np.subtract(1.0, loop_filter, out=loop_filter)
    spectrum /= loop_filter
    if voice.body:
        spectrum *= _resonance(BODIES[voice.body], delay, sr)
    out = np.asarray(np.fft.irfft(spectrum, size)[:total], dtype=np.float32)
    out *= np.exp(np.arange(total, dtype=np.float32) * np.float32(nepers))
    out *= np.float32(1.0 / (np.max(np.abs(out)) + 1e-12))
    return out


def _unit_delays(size: int, *, radius: float, times: int = 1) -> NDArray[np.complex64]:
    """z**-times at each rfft bin of a `size`-point DFT, on the circle |z| = radius**(1/times)."""
    w = np.arange(size // 2 + 1, dtype=np.float32) * np.float32(2 * np.pi * times / size)
    delays = np.empty(w.size, dtype=np.complex64)
    delays.real = np.cos(w)
    delays.imag = -np.sin(w)
    delays *= np.float32(1.0 / radius)
    return delays


def _plucked_shape(loop: int, *, pick: float, brightness: float) -> NDArray[np.float64]:
    """One period of a string pulled aside at `pick` (0..1 along it) and let go.

    The displacement is a triangle with its apex at the pick point, whose partials fall as
    1/k**2 with a notch at every multiple of 1/pick; its slope, a two-level step, falls as 1/k.
    `brightness` blends from the first (a soft thumb) to the second (a hard pick).
    """
    apex = min(max(round(pick * loop), 1), loop - 1)
    index = np.arange(loop)
    rising = index < apex
    triangle = np.where(rising, index / apex, (loop - index) / (loop - apex))
    triangle -= triangle.mean()
    slope = np.where(rising, 1.0 / apex, -1.0 / (loop - apex))
    triangle /= np.max(np.abs(triangle))
    slope /= np.max(np.abs(slope))
    return np.asarray((1.0 - brightness) * triangle + brightness * slope, dtype=np.float64)


def _cabinet(tone: NDArray[np.floating], cutoff: float, sr: int) -> Signal:
    """A closed guitar cabinet: 12 dB/octave below 110 Hz, 24 dB/octave above `cutoff`, a mid bump."""
    size = fast_fft_size(tone.size + sr // 50)
    delay = _unit_delays(size, radius=1.0)
    response = _resonance(((1600.0, 1.0, 1.3),), delay, sr)
    response *= _biquad("highpass", 110.0, delay, sr)
    lowpass = _biquad("lowpass", cutoff, delay, sr)
    response *= lowpass
    response *= lowpass
    spectrum = np.fft.rfft(tone.astype(np.float32), size)
    spectrum *= response
    return np.asarray(np.fft.irfft(spectrum, size)[: tone.size], dtype=np.float32)


BODIES: dict[str, tuple[tuple[float, float, float], ...]] = {
    # (frequency Hz, Q, gain) of each resonance; the air and top-plate modes of a flat-top
    # guitar sit near 100 and 200 Hz, a nylon-strung one a little lower and warmer.
    "steel": ((102.0, 8.0, 1.6), (204.0, 10.0, 1.2), (410.0, 6.0, 0.5), (3000.0, 1.5, 0.6)),
    "nylon": ((96.0, 8.0, 1.8), (190.0, 10.0, 1.4), (380.0, 5.0, 0.5)),
    # A magnetic pickup's resonance under its cable's capacitance.
    "electric": ((2600.0, 1.8, 0.7),),
}


def _resonance(
    modes: tuple[tuple[float, float, float], ...], delay: NDArray[np.complex64], sr: int
) -> NDArray[np.complex64]:
    """1 plus `gain` times a band-pass per mode, at the points whose z**-1 is `delay`."""
    response = np.ones(delay.size, dtype=np.complex64)
    for centre, q, gain in modes:
        response += gain * _biquad("bandpass", centre, delay, sr, q=q)
    return response


def _biquad(
    kind: str, freq: float, delay: NDArray[np.complex64], sr: int, *, q: float = 0.7071
) -> NDArray[np.complex64]:
    """A second-order digital filter (the RBJ cookbook's) evaluated where z**-1 is `delay`.

    Being causal and recursive, its response holds on any circle |z| >= 1, which is what the
    damped spectra of `_string` need (a sampled analog response would leak before time 0).
    """
    w0 = 2 * np.pi * min(freq, 0.45 * sr) / sr
    alpha = math.sin(w0) / (2.0 * q)
    cosine = math.cos(w0)
    if kind == "bandpass":
        b = (alpha, 0.0, -alpha)
    elif kind == "lowpass":
        b = ((1.0 - cosine) / 2.0, 1.0 - cosine, (1.0 - cosine) / 2.0)
    else:
        b = ((1.0 + cosine) / 2.0, -(1.0 + cosine), (1.0 + cosine) / 2.0)
    numerator = b[0] + delay * (b[1] + delay * b[2])
    denominator = (1.0 + alpha) + delay * (-2.0 * cosine + delay * (1.0 - alpha))
    return np.asarray(numerator / denominator, dtype=np.complex64)


def _sax(
    voice: Voice, freq: float, t: NDArray[np.float64], hold: float, seed: int
) -> NDArray[np.float64]:
    """A reed: FM brightening as the breath builds, vibrato, and breath noise at the onset."""
    blown = np.minimum(t / 0.08, 1.0)
    index = voice.index * (0.55 + 0.45 * blown)
    phase = 2 * np.pi * (freq * t + _vibrato(voice, t, freq))
    tone = np.sin(phase + index * np.sin(phase) + 0.3 * index * np.sin(2.0 * phase))
    noise = np.random.default_rng(seed).standard_normal(t.size + 1)
    breath = np.diff(noise) * (0.05 + 0.12 * np.exp(-t / 0.08))
    return np.asarray(0.8 * tone + breath, dtype=np.float64)


def _marimba(voice: Voice, freq: float, t: NDArray[np.float64], hold: float, seed: int) -> Signal:
    """A tuned bar: partials at 1, 3.9 and 9.2 times the fundamental, upper ones short."""
    seconds = t.astype(np.float32)
    out = np.zeros(t.size, dtype=np.float32)
    for ratio, amplitude, tau in ((1.0, 1.0, voice.decay), (3.9, 0.35, 0.12), (9.2, 0.15, 0.035)):
        if freq * ratio < 16000:
            partial = _sine(freq * ratio * t)
            partial *= np.exp(seconds * np.float32(-1.0 / tau))
            partial *= np.float32(amplitude)
            out += partial
    mallet = np.random.default_rng(seed).standard_normal(t.size, dtype=np.float32)
    mallet *= np.exp(seconds * np.float32(-1.0 / 0.0015))
    mallet *= np.float32(0.2)
    out += mallet
    return out


def _log_drum(voice: Voice, freq: float, t: NDArray[np.float64], hold: float, seed: int) -> Signal:
    """A hollow wooden drum: pitch falls onto the note within 25 ms, a short overtone."""
    body = _sine(freq * t + freq * 0.6 * 0.025 * (1.0 - np.exp(-t / 0.025)))
    overtone = _sine(2.7 * freq * t)
    overtone *= np.exp(t.astype(np.float32) * np.float32(-1.0 / 0.05))
    overtone *= np.float32(0.4)
    body += overtone
    return body


def _riser(voice: Voice, freq: float, t: NDArray[np.float64], hold: float, seed: int) -> Signal:
    """Noise that brightens and a tone that climbs two octaves, both swelling over the hold."""
    span = max(hold, 1e-3)
    rise = math.log(4.0)
    progress = np.minimum(t / span, 1.0)
    # The phase of a frequency gliding exponentially from freq to 4 * freq over the hold.
    phase = np.exp(rise * progress)
    phase -= 1.0
    phase *= freq * span / rise
    phase += 4.0 * freq * (t - span).clip(0)
    out = _sine(phase)
    swell = progress.astype(np.float32)
    white = np.random.default_rng(seed).standard_normal(t.size, dtype=np.float32)
    # The same noise through a 16-sample moving average: dark at first, white at the top.
    running = np.cumsum(white)
    dark = running * np.float32(0.25)
    dark[16:] -= running[:-16] * np.float32(0.25)
    white -= dark
    white *= swell
    white += dark
    out += white
    out *= np.float32(0.5)
    swell *= swell
    out *= swell
    return out


def _impact(voice: Voice, freq: float, t: NDArray[np.float64], hold: float, seed: int) -> Signal:
    """A boom for a downbeat: a sub sweep onto the note's pitch class low down, and a burst."""
    low = freq
    while low > 80.0:
        low /= 2.0
    boom = _sine(low * t + 1.5 * low * 0.08 * (1.0 - np.exp(-t / 0.08)))
    # The burst is dark (an 8-sample moving average) and swells in over 3 ms: a spike of
    # white noise would be a click, and an inter-sample peak the limiter cannot see.
    running = np.cumsum(np.random.default_rng(seed).standard_normal(t.size, dtype=np.float32))
    burst = running.copy()
    burst[8:] -= running[:-8]
    seconds = t.astype(np.float32)
    burst *= np.minimum(seconds * np.float32(1.0 / 0.003), np.float32(1.0))
    burst *= np.exp(seconds * np.float32(-1.0 / 0.12))
    burst *= np.float32(0.3 / np.sqrt(8.0))
    boom += burst
    return boom


_MODELLED: dict[
    str, Callable[[Voice, float, NDArray[np.float64], float, int], Signal | NDArray[np.float64]]
] = {
    "sax": _sax,
    "marimba": _marimba,
    "log_drum": _log_drum,
    "riser": _riser,
    "impact": _impact,
}


def _envelope(voice: Voice, hold: int, total: int, sr: int) -> Signal:
    t = np.arange(total, dtype=np.float32) * np.float32(1.0 / sr)
    attack = max(voice.attack, 1e-3)
    env = np.minimum(t * np.float32(1.0 / attack), np.float32(1.0))
    if voice.sustain < 1.0:
        fall = np.exp(
            np.maximum(t - np.float32(attack), np.float32(0.0)) * np.float32(-1.0 / voice.decay)
        )
        fall *= np.float32(1.0 - voice.sustain)
        fall += np.float32(voice.sustain)
        env *= fall
    release_samples = total - hold
    if release_samples > 0:
        at_release = env[hold - 1] if hold > 0 else np.float32(0.0)
        tail = np.linspace(1.0, 0.0, release_samples, dtype=np.float32) ** 2
        env[hold:] = at_release * tail
    return np.asarray(env, dtype=np.float32)


def _build_tables(wave: str) -> NDArray[np.float32]:
    k = np.arange(1, TABLE_SIZE // 2, dtype=np.float64)
    q = 3.0 if wave == "saw_resonant" else 0.707
    coefficients = _harmonics(wave, k)
    tables = np.empty((LEVELS, TABLE_SIZE), dtype=np.float32)
    for level in range(LEVELS):
        cutoff = 2.0 ** ((level - 2) / 2.0)
        x = k / cutoff
        response = 1.0 / np.sqrt((1.0 - x * x) ** 2 + (x / q) ** 2)
        response[k > 8 * cutoff] = 0.0
        spectrum = np.zeros(TABLE_SIZE // 2 + 1, dtype=np.complex128)
        spectrum[1 : TABLE_SIZE // 2] = TABLE_SIZE * coefficients * response
        tables[level] = np.fft.irfft(spectrum, TABLE_SIZE) * 0.6
    return tables.reshape(-1)


def _harmonics(wave: str, k: NDArray[np.float64]) -> NDArray[np.complex128]:
    """Complex Fourier coefficients of one cycle of `wave` for harmonics `k`."""
    if wave == "pulse25":
        # A 25 % pulse, scaled like the square: (1 - e^(-2 pi i k d)) / (4 i k).
        return np.asarray((1.0 - np.exp(-2j * np.pi * k * 0.25)) / (4j * k), dtype=np.complex128)
    if wave == "triangle4":
        # The 4-bit triangle of a game console's sound chip: 32 steps a cycle.
        phase = np.arange(TABLE_SIZE) / TABLE_SIZE
        stepped = np.round((1.0 - 2.0 * np.abs(2.0 * phase - 1.0) + 1.0) * 7.5) / 7.5 - 1.0
        coefficients = np.fft.rfft(stepped)[1 : TABLE_SIZE // 2] / TABLE_SIZE * 0.8
        return np.asarray(coefficients, dtype=np.complex128)
    if wave == "saw" or wave == "saw_resonant":
        amplitude = 1.0 / k
    elif wave == "piano":
        # A struck string: partials fall off steeply and the one at the hammer point goes missing.
        amplitude = k**-1.3 * np.where(k % 7 == 0, 0.2, 1.0)
    elif wave == "square":
        amplitude = np.where(k % 2 == 1, 1.0 / k, 0.0)
    else:
        amplitude = np.zeros(k.size)
        for harmonic, weight in ((1, 1.0), (2, 0.8), (3, 0.6), (4, 0.45), (6, 0.3), (8, 0.2)):
            amplitude[harmonic - 1] = weight
    return np.asarray(-0.5j * amplitude, dtype=np.complex128)
