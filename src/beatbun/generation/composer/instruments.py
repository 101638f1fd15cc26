"""Synthesized pitched voices: wavetable subtractive, FM, additive and plucked strings.

Filters are baked into band-limited wavetables (one per cutoff, half an octave apart), so a
filter sweep is a crossfade between tables: stateless, vectorized and free of aliasing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from beatbun.generation.composer.theory import midi_to_hz

Signal = NDArray[np.float32]

TABLE_SIZE = 2048
LEVELS = 26
_ENVELOPE_STEP = 32


@dataclass(frozen=True, slots=True)
class Voice:
    """A patch. Times in seconds; cutoff in Hz moves from `cutoff + cutoff_env` towards `cutoff`."""

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


VOICES: dict[str, Voice] = {
    "piano": Voice(wave="piano", attack=0.003, decay=1.0, sustain=0.0, release=0.25, cutoff=700.0,
                   cutoff_env=4500.0, cutoff_time=0.25, gain=0.8, rate_divisor=2),
    "electric_piano": Voice(kind="fm", attack=0.004, decay=1.8, sustain=0.15, release=0.3, ratio=1.0, index=1.6, rate_divisor=2),
    "vibes": Voice(kind="fm", attack=0.003, decay=2.2, sustain=0.0, release=0.4, ratio=4.0, index=0.7, vibrato=0.03, rate_divisor=2),
    "bell": Voice(kind="fm", attack=0.002, decay=1.6, sustain=0.0, release=0.6, ratio=3.5, index=2.2, gain=0.7, rate_divisor=2),
    "glass": Voice(kind="fm", attack=0.06, decay=3.0, sustain=0.0, release=1.2, ratio=2.0, index=1.0, gain=0.6, rate_divisor=2),
    "organ": Voice(wave="organ", attack=0.006, decay=0.2, sustain=0.9, release=0.06, cutoff=6000.0, gain=0.55, rate_divisor=2),
    "pad": Voice(attack=0.6, decay=1.0, sustain=0.9, release=1.2, cutoff=1100.0, cutoff_env=600.0,
                 cutoff_time=1.5, unison=3, detune_cents=11.0, gain=0.45, rate_divisor=4),
    "dark_pad": Voice(attack=0.25, decay=1.0, sustain=0.85, release=0.8, cutoff=650.0, unison=3,
                      detune_cents=8.0, gain=0.5, rate_divisor=4),
    "strings": Voice(attack=0.28, decay=1.0, sustain=0.9, release=0.5, cutoff=4200.0, unison=3,
                     detune_cents=7.0, vibrato=0.12, gain=0.45, rate_divisor=2),
    "low_strings": Voice(attack=0.2, decay=1.0, sustain=0.9, release=0.5, cutoff=1300.0, unison=2,
                         detune_cents=6.0, vibrato=0.08, gain=0.7, rate_divisor=4),
    "staccato_strings": Voice(attack=0.008, decay=0.12, sustain=0.0, release=0.05, cutoff=2800.0,
                              unison=2, detune_cents=8.0, gain=0.55, rate_divisor=2),
    "brass": Voice(attack=0.06, decay=0.8, sustain=0.85, release=0.18, cutoff=3600.0, cutoff_env=-2800.0,
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
    "pluck": Voice(kind="pluck", decay=1.2, release=0.15, cutoff=0.5, gain=0.8),
    "synth_bass": Voice(attack=0.003, decay=0.25, sustain=0.7, release=0.05, cutoff=260.0, cutoff_env=1300.0,
                        cutoff_time=0.09, drive=0.8, gain=0.8, rate_divisor=2),
    "pick_bass": Voice(attack=0.003, decay=0.5, sustain=0.6, release=0.05, cutoff=600.0, cutoff_env=1400.0,
                       cutoff_time=0.1, drive=1.2, gain=0.75, rate_divisor=2),
    "acid_bass": Voice(wave="saw_resonant", attack=0.002, decay=0.18, sustain=0.5, release=0.04,
                       cutoff=320.0, cutoff_env=2600.0, cutoff_time=0.1, drive=1.5, gain=0.6, rate_divisor=2),
    "sub_bass": Voice(kind="sub", attack=0.006, decay=0.6, sustain=0.85, release=0.08, gain=0.9, rate_divisor=4),
    "bass_808": Voice(kind="808", attack=0.002, decay=1.3, sustain=0.0, release=0.12, drive=2.2, gain=0.85, rate_divisor=4),
    "upright_bass": Voice(kind="additive", attack=0.006, decay=0.9, sustain=0.0, release=0.12, gain=1.0,
                          cutoff=0.6, rate_divisor=4),
}  # fmt: skip


class Wavetables:
    """Band-limited single-cycle tables per waveform, one per cutoff level (half-octave apart)."""

    def __init__(self) -> None:
        self._tables: dict[str, NDArray[np.float32]] = {}

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
    t = np.arange(total, dtype=np.float64) / sample_rate
    # Phases are float64 (a float32 phase drifts audibly within seconds); the rest is float32.
    tone: NDArray[np.float32] | NDArray[np.float64]
    if voice.kind == "pluck":
        tone = _pluck(
            freq, total, sample_rate, brightness=voice.cutoff, t60=voice.decay, seed=pitch
        )
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
    else:
        tone = _subtractive(voice, freq, t, tables, sr=sample_rate)
    if voice.drive > 0:
        tone = np.tanh(tone * np.float32(1.0 + voice.drive)) * np.float32(
            1.0 / np.tanh(1.0 + voice.drive)
        )
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
    voice: Voice, freq: float, t: NDArray[np.float64], tables: Wavetables, *, sr: int
) -> Signal:
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


def _pluck(
    freq: float, total: int, sr: int, *, brightness: float, t60: float, seed: int
) -> NDArray[np.float64]:
    """Karplus-Strong string: each period is the averaged, damped previous one."""
    period = sr / freq
    loop = max(2, round(period - 0.5))
    burst = np.random.default_rng(seed).uniform(-1.0, 1.0, loop)
    burst = brightness * burst + (1.0 - brightness) * np.roll(burst, 1)
    damping = 10.0 ** (-3.0 * loop / (sr * t60))
    length = int(total * (loop + 0.5) / period) + loop + 2
    # One leading zero so the first period can read its "previous sample".
    buffer = np.zeros(length + 1)
    buffer[1 : loop + 1] = burst
    for start in range(loop + 1, length + 1, loop):
        end = min(start + loop, length + 1)
        buffer[start:end] = (
            damping
            * 0.5
            * (buffer[start - loop : end - loop] + buffer[start - loop - 1 : end - loop - 1])
        )
    out = buffer[1:]
    # The loop tunes to loop + 0.5 samples; resample so the pitch is exact.
    positions = np.arange(total) * ((loop + 0.5) / period)
    return np.asarray(np.interp(positions, np.arange(length), out), dtype=np.float64)


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
    q = 3.0 if wave == "saw_resonant" else 0.707
    tables = np.empty((LEVELS, TABLE_SIZE), dtype=np.float32)
    for level in range(LEVELS):
        cutoff = 2.0 ** ((level - 2) / 2.0)
        x = k / cutoff
        response = 1.0 / np.sqrt((1.0 - x * x) ** 2 + (x / q) ** 2)
        response[k > 8 * cutoff] = 0.0
        spectrum = np.zeros(TABLE_SIZE // 2 + 1, dtype=np.complex128)
        spectrum[1 : TABLE_SIZE // 2] = -0.5j * TABLE_SIZE * amplitude * response
        tables[level] = np.fft.irfft(spectrum, TABLE_SIZE) * 0.6
    return tables.reshape(-1)
