"""Pitch, scales and chords: the harmony every part of the arrangement reads from."""

from __future__ import annotations

from dataclasses import dataclass

PITCH_CLASSES = {
    "C": 0, "C#": 1, "Db": 1, "D": 2, "D#": 3, "Eb": 3, "E": 4, "F": 5,
    "F#": 6, "Gb": 6, "G": 7, "G#": 8, "Ab": 8, "A": 9, "A#": 10, "Bb": 10, "B": 11,
}  # fmt: skip
SCALE_STEPS = {
    "major": (0, 2, 4, 5, 7, 9, 11),
    "minor": (0, 2, 3, 5, 7, 8, 10),
}


@dataclass(frozen=True, slots=True)
class Key:
    """A tonic and a mode; degrees are 0-based (0 is the tonic)."""

    tonic: str
    mode: str

    @property
    def root(self) -> int:
        return PITCH_CLASSES[self.tonic]

    @property
    def label(self) -> str:
        return f"{self.tonic} {self.mode}"

    def degree_pitch(self, degree: int, *, octave: int) -> int:
        """MIDI note of a scale degree (any integer; wraps into higher or lower octaves)."""
        steps = SCALE_STEPS[self.mode]
        shift, index = divmod(degree, len(steps))
        return 12 * (octave + 1 + shift) + self.root + steps[index]

    def nearest_degree(self, pitch: int) -> int:
        """The scale degree whose pitch is closest to `pitch` (ties go down)."""
        return min(range(-7, 77), key=lambda d: (abs(self.degree_pitch(d, octave=-1) - pitch), d))


@dataclass(frozen=True, slots=True)
class Chord:
    """A chord built on a scale degree; `pitches` are MIDI notes in close position."""

    degree: int
    root: int
    pitches: tuple[int, ...]
    degrees: tuple[int, ...]

    @property
    def pitch_classes(self) -> frozenset[int]:
        return frozenset(p % 12 for p in self.pitches)


ROMAN = ("I", "II", "III", "IV", "V", "VI", "VII")


def build_chord(key: Key, degree: int, *, size: int, octave: int = 3) -> Chord:
    """Stack `size` diatonic thirds on `degree` (3 = triad, 4 = seventh, 5 = ninth)."""
    degrees = tuple(degree + 2 * i for i in range(size))
    pitches = tuple(key.degree_pitch(d, octave=octave) for d in degrees)
    return Chord(degree=degree, root=pitches[0], pitches=pitches, degrees=degrees)


def chord_symbol(key: Key, chord: Chord) -> str:
    """Roman numeral, lower case for minor, with 7/9 for extended chords (`ii7`, `bVI`)."""
    third = (chord.pitches[1] - chord.pitches[0]) % 12
    numeral = ROMAN[chord.degree % 7]
    if third == 3:
        numeral = numeral.lower()
    fifth = (chord.pitches[2] - chord.pitches[0]) % 12
    if fifth == 6:
        numeral += "°"
    if len(chord.pitches) >= 5:
        numeral += "9"
    elif len(chord.pitches) == 4:
        numeral += "7"
    return numeral


def midi_to_hz(pitch: float) -> float:
    return float(440.0 * 2.0 ** ((pitch - 69.0) / 12.0))


def voice_lead(
    previous: tuple[int, ...] | None, chord: Chord, *, low: int, high: int
) -> tuple[int, ...]:
    """Choose the inversion of `chord` within low..high that moves least from `previous`."""
    classes = [p % 12 for p in chord.pitches]
    best: tuple[int, ...] | None = None
    best_cost = 1 << 30
    for lowest in range(low, low + 12):
        if lowest % 12 not in classes:
            continue
        start = classes.index(lowest % 12)
        voicing = [lowest]
        for offset in range(1, len(classes)):
            pc = classes[(start + offset) % len(classes)]
            nxt = voicing[-1] + ((pc - voicing[-1]) % 12 or 12)
            voicing.append(nxt)
        if voicing[-1] > high:
            continue
        cost = (
            0
            if previous is None
            else sum(abs(a - b) for a, b in zip(voicing, previous, strict=False))
        )
        if previous is None:
            cost = abs(voicing[0] - (low + 5))
        if cost < best_cost:
            best, best_cost = tuple(voicing), cost
    return best if best is not None else tuple(chord.pitches)
