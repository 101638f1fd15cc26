"""An analysis of rendered tracks that shares no code with the composer.

Tempo comes from the autocorrelation of librosa's onset strength, the key from librosa's
constant-Q chroma against the Krumhansl-Kessler key profiles, short-term loudness from the
BS.1770 K-weighting filters of pyloudnorm, and the spectral balance and drum patterns from plain
numpy FFTs. The composer's plan is only read as the expectation each figure is compared with.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import librosa
import numpy as np
import pyloudnorm  # type: ignore[import-untyped]
from numpy.typing import NDArray

SAMPLE_RATE = 44100
ANALYSIS_RATE = 22050
TEMPO_HOP = 256
CHROMA_HOP = 2048
TEMPO_TOLERANCE = 0.02
TEMPO_RANGE = (50.0, 220.0)
# Other metrical levels a tempo estimate may lock onto: x2 and /2 are the same beat grid
# counted in eighths or half notes (librosa's tempo prior centres on 120 BPM, so 174 BPM drum
# and bass often reads as 87); x3/2 and x2/3 mean it followed a dotted or triplet pulse.
OCTAVE_FACTORS = {"double": 2.0, "half": 0.5, "three_halves": 1.5, "two_thirds": 2.0 / 3.0}
TEMPO_LEVELS = {"match": 1.0, **OCTAVE_FACTORS}
SHORT_TERM_SECONDS = 3.0
SHORT_TERM_HOP_SECONDS = 0.1
STEPS_PER_BAR = 16

_TONICS = {
    "C": 0, "C#": 1, "DB": 1, "D": 2, "D#": 3, "EB": 3, "E": 4, "F": 5, "F#": 6, "GB": 6,
    "G": 7, "G#": 8, "AB": 8, "A": 9, "A#": 10, "BB": 10, "B": 11, "CB": 11,
}  # fmt: skip
_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
# Krumhansl & Kessler (1982), probe-tone ratings from C; the Krumhansl-Schmuckler algorithm
# correlates a piece's pitch-class distribution with each of the 24 rotations.
_MAJOR_PROFILE = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
_MINOR_PROFILE = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])

Stereo = NDArray[np.float64]
"""A (frames, 2) signal in -1..1 at SAMPLE_RATE."""
Mono = NDArray[np.float32]
"""A mono signal at ANALYSIS_RATE, what librosa reads."""


@dataclass(frozen=True, slots=True)
class Key:
    tonic: int
    mode: str

    @property
    def label(self) -> str:
        return f"{_NAMES[self.tonic]} {self.mode}"


def decode_wav(data: bytes) -> Stereo:
    """A 16-bit stereo PCM WAV as (frames, 2) floats, read from its own header."""
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise ValueError("not a RIFF/WAVE file")
    position = 12
    while position + 8 <= len(data):
        chunk = data[position : position + 4]
        size = int.from_bytes(data[position + 4 : position + 8], "little")
        if chunk == b"data":
            samples = np.frombuffer(data, dtype="<i2", count=size // 2, offset=position + 8)
            return samples.reshape(-1, 2).astype(np.float64) / 32768.0
        position += 8 + size + size % 2
    raise ValueError("no data chunk")


def to_mono(stereo: Stereo) -> Mono:
    """The channels' mean, resampled for librosa."""
    mono = stereo.mean(axis=1).astype(np.float32)
    resampled: Mono = librosa.resample(mono, orig_sr=SAMPLE_RATE, target_sr=ANALYSIS_RATE)
    return resampled


def measure_tempo(mono: Mono) -> float:
    """BPM of the strongest duple metre in the onset envelope's autocorrelation.

    Each candidate beat period q within `TEMPO_RANGE` scores the autocorrelation at q/2, q, 2q
    and 4q (its eighth, beat, half bar and bar of 4/4), weighted by librosa's tempo prior. So
    the period whose grid the pattern repeats on and subdivides into wins over a dotted or
    triplet periodicity that a syncopated figure also has. The winner is refined on the peak
    nearest 16 beats (parabolic interpolation), where a frame of lag is a sixteenth of the
    error it would be at one beat. Fast tempos (above about 165 BPM) tend to read at half
    time, as the prior favours 120; `tempo_verdict` names those readings.
    """
    envelope = librosa.onset.onset_strength(y=mono, sr=ANALYSIS_RATE, hop_length=TEMPO_HOP)
    envelope = envelope - envelope.mean()
    lags = np.arange(envelope.size)
    # Unbiased: each lag's sum is divided by the frames that overlap at that lag, so a longer
    # lag is not read as weaker just because less of the track lines up with itself.
    correlation = librosa.autocorrelate(envelope) / (envelope.size - lags)
    if correlation[0] <= 0:
        return math.nan
    correlation = correlation / correlation[0]
    frames_per_second = ANALYSIS_RATE / TEMPO_HOP
    low, high = TEMPO_RANGE
    bpms = low * (high / low) ** np.linspace(0.0, 1.0, 4000)
    periods = 60.0 / bpms * frames_per_second
    scores = sum(np.interp(periods * multiple, lags, correlation) for multiple in (0.5, 1, 2, 4))
    # librosa's tempo prior: log-normal around 120 BPM, one octave wide. A slower candidate's
    # grid covers the pattern too (its 4q is two bars), so without a prior half time wins.
    scores = scores * np.exp(-0.5 * np.log2(bpms / 120.0) ** 2)
    period = float(periods[int(np.argmax(scores))])
    beats = 16
    # Lags past a third of the track rest on too little of it.
    while beats > 1 and period * beats > envelope.size / 3:
        beats //= 2
    # A fifth of a period either side: the peak, and none of its neighbours a beat away.
    first = round(period * (beats - 0.2))
    last = round(period * (beats + 0.2))
    peak = first + int(np.argmax(correlation[first : last + 1]))
    offset = 0.0
    if first < peak < last:
        left, centre, right = correlation[peak - 1 : peak + 2]
        curvature = left - 2 * centre + right
        if curvature < 0:
            offset = 0.5 * (left - right) / curvature
    return 60.0 * frames_per_second * beats / (peak + offset)


def tempo_verdict(measured: float, planned: float) -> str:
    """`match` within 2 %, an `OCTAVE_FACTORS` name within 2 % of that multiple, else `miss`."""
    if not math.isfinite(measured):
        return "miss"
    for name, factor in TEMPO_LEVELS.items():
        if abs(measured / (planned * factor) - 1.0) <= TEMPO_TOLERANCE:
            return name
    return "miss"


def parse_key(label: str) -> Key:
    """'F# minor', 'Bb major' (the plan's labels) as a pitch class and a mode."""
    tonic, mode = label.split()
    return Key(_TONICS[tonic.upper()], mode.lower())


def estimate_key(mono: Mono) -> Key:
    """Krumhansl-Schmuckler: the rotation of a key profile best correlated with the chroma."""
    chroma = librosa.feature.chroma_cqt(y=mono, sr=ANALYSIS_RATE, hop_length=CHROMA_HOP)
    distribution = chroma.sum(axis=1)
    best: tuple[float, Key] = (-math.inf, Key(0, "major"))
    for mode, profile in (("major", _MAJOR_PROFILE), ("minor", _MINOR_PROFILE)):
        for tonic in range(12):
            score = float(np.corrcoef(distribution, np.roll(profile, tonic))[0, 1])
            best = max(best, (score, Key(tonic, mode)), key=lambda item: item[0])
    return best[1]


def key_verdict(estimated: Key, planned: Key) -> str:
    """`match`, `relative` (the relative major or minor: a miss, named apart), or `miss`."""
    if estimated == planned:
        return "match"
    if estimated.mode != planned.mode:
        shift = 3 if planned.mode == "minor" else -3
        if estimated.tonic == (planned.tonic + shift) % 12:
            return "relative"
    return "miss"


def short_term_loudness(stereo: Stereo) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """(window centres in seconds, LUFS) of 3 s BS.1770 windows every 100 ms, ungated."""
    weighted = stereo.T
    for stage in (
        pyloudnorm.IIRfilter(4.0, 1.0 / math.sqrt(2.0), 1500.0, SAMPLE_RATE, "high_shelf"),
        pyloudnorm.IIRfilter(0.0, 0.5, 38.0, SAMPLE_RATE, "high_pass"),
    ):
        weighted = stage.apply_filter(weighted)
    power = (weighted**2).sum(axis=0)
    window = round(SHORT_TERM_SECONDS * SAMPLE_RATE)
    hop = round(SHORT_TERM_HOP_SECONDS * SAMPLE_RATE)
    if power.size < window:
        window = power.size
    total = np.concatenate([[0.0], np.cumsum(power)])
    starts = np.arange(0, power.size - window + 1, hop)
    mean_square = (total[starts + window] - total[starts]) / window
    lufs = -0.691 + 10.0 * np.log10(np.maximum(mean_square, 1e-20))
    return (starts + window / 2) / SAMPLE_RATE, lufs


def section_levels(
    stereo: Stereo, sections: Iterable[tuple[str, float, float]]
) -> list[tuple[str, float]]:
    """Each (name, start, end) section's median short-term loudness.

    Only windows lying wholly inside the section count, so the neighbours' level does not leak
    in; a section shorter than a window is measured as one window of its own length.
    """
    centres, lufs = short_term_loudness(stereo)
    half = SHORT_TERM_SECONDS / 2
    levels = []
    for name, start, end in sections:
        inside = (centres - half >= start - 1e-6) & (centres + half <= end + 1e-6)
        if inside.any():
            levels.append((name, float(np.median(lufs[inside]))))
        else:
            piece = stereo[round(start * SAMPLE_RATE) : round(end * SAMPLE_RATE)]
            levels.append((name, _whole_loudness(piece)))
    return levels


def _whole_loudness(stereo: Stereo) -> float:
    if stereo.shape[0] == 0:
        return -math.inf
    _, lufs = short_term_loudness(stereo)
    return float(lufs[0])


@dataclass(frozen=True, slots=True)
class Contrast:
    """Loudness gaps between sections, in LU; None where the form lacks the sections."""

    lift: float | None
    """Mean chorus/drop level minus mean verse level (target >= 3)."""
    drop: float | None
    """Mean chorus/drop level minus the loudest breakdown (target >= 6)."""


def section_contrast(levels: Sequence[tuple[str, float]]) -> Contrast:
    peaks = [level for name, level in levels if name in ("chorus", "drop")]
    verses = [level for name, level in levels if name == "verse"]
    breakdowns = [level for name, level in levels if name == "breakdown"]
    if not peaks:
        return Contrast(None, None)
    peak = float(np.mean(peaks))
    return Contrast(
        lift=peak - float(np.mean(verses)) if verses else None,
        drop=peak - max(breakdowns) if breakdowns else None,
    )


def band_shares(stereo: Stereo, *, low_hz: float, high_hz: float) -> tuple[float, float]:
    """Shares of the spectral energy below `low_hz` and at or above `high_hz`.

    Power of both channels from Hann-windowed 4096-sample frames with half overlap; the DC
    bin is left out (an offset is not bass).
    """
    size = 4096
    count = (stereo.shape[0] - size) // (size // 2) + 1
    if count < 1:
        raise ValueError("signal shorter than one analysis frame")
    offsets = np.arange(size)[None, :]
    power = np.zeros(size // 2 + 1)
    # A few hundred frames at a time keeps the frame matrix small for long tracks.
    for first in range(0, count, 256):
        starts = (size // 2) * np.arange(first, min(first + 256, count))[:, None]
        for channel in stereo.T:
            spectra = np.fft.rfft(channel[starts + offsets] * np.hanning(size), axis=1)
            power += (np.abs(spectra) ** 2).sum(axis=0)
    power[0] = 0.0
    freqs = np.fft.rfftfreq(size, 1.0 / SAMPLE_RATE)
    total = float(power.sum())
    if total == 0.0:
        return 0.0, 0.0
    return float(power[freqs < low_hz].sum() / total), float(power[freqs >= high_hz].sum() / total)


def drum_pattern(stereo: Stereo, *, bpm: float, bars: Iterable[int]) -> NDArray[np.float64]:
    """The drums' average bar: onset strength at each 16th step in three bands, (3, 16).

    Bands are low (kick, below 150 Hz), mid (snare, clap, 150 Hz to 4 kHz) and high (hats,
    cymbals, above 4 kHz); each band's row is scaled to its own maximum, so the pattern says
    where hits fall, not how loud the drums are. A step reads the strongest onset within
    40 ms of its grid position, which swing and human timing stay inside.
    """
    mono = stereo.mean(axis=1)
    hop = 256
    size = 1024
    count = (mono.size - size) // hop + 1
    index = np.arange(size)[None, :] + hop * np.arange(count)[:, None]
    spectra = np.abs(np.fft.rfft(mono[index] * np.hanning(size), axis=1))
    freqs = np.fft.rfftfreq(size, 1.0 / SAMPLE_RATE)
    bands = (freqs < 150.0, (freqs >= 150.0) & (freqs < 4000.0), freqs >= 4000.0)
    step_seconds = 60.0 / bpm / 4.0
    reach = max(1, round(0.04 * SAMPLE_RATE / hop))
    pattern = np.zeros((3, STEPS_PER_BAR))
    for row, band in enumerate(bands):
        energy = np.log1p(1000.0 * spectra[:, band].sum(axis=1))
        flux = np.maximum(np.diff(energy, prepend=energy[0]), 0.0)
        for bar in bars:
            for step in range(STEPS_PER_BAR):
                centre = round(((bar * STEPS_PER_BAR + step) * step_seconds) * SAMPLE_RATE / hop)
                window = flux[max(0, centre - reach) : centre + reach + 1]
                if window.size:
                    pattern[row, step] += float(window.max())
        peak = pattern[row].max()
        if peak > 0:
            pattern[row] /= peak
    return pattern


def mel_profile(stereo: Stereo) -> NDArray[np.float64]:
    """The track's time-averaged log-mel spectrum in dB (64 bands), a timbre fingerprint."""
    mel = librosa.feature.melspectrogram(y=to_mono(stereo), sr=ANALYSIS_RATE, n_mels=64)
    profile: NDArray[np.float64] = librosa.power_to_db(mel.mean(axis=1), ref=1.0).astype(np.float64)
    return profile


def section_spans(plan: Mapping[str, object]) -> list[tuple[str, float, float]]:
    """(name, start, end) in seconds for each section of a plan's `to_dict()`."""
    bar_seconds = 4 * 60.0 / float(plan["bpm"])  # type: ignore[arg-type]
    sections = plan["sections"]
    assert isinstance(sections, list)
    return [
        (
            str(section["name"]),
            float(section["start_seconds"]),
            float(section["start_seconds"]) + int(section["bars"]) * bar_seconds,
        )
        for section in sections
    ]
