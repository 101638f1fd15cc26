"""The lead line: a two-bar motif developed phrase by phrase as it moves with the harmony."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from beatbun.generation.composer.theory import Chord, Key

PHRASE_STEPS = 32
LEAD_CENTER = 72
# Eight bars are four phrases; the two rows alternate, so a section never repeats the eight
# bars before it, and a section's second appearance starts where its first left off.
DEVELOPMENT = (
    ("statement", "answer", "sequence", "response"),
    ("displaced", "answer", "inversion", "response"),
)


@dataclass(frozen=True, slots=True)
class Motif:
    """Onset steps within two bars, their lengths in steps, and scale-degree moves between notes."""

    steps: tuple[int, ...]
    lengths: tuple[int, ...]
    moves: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class MelodyNote:
    step: int
    length: int
    pitch: int
    velocity: float


def create_motif(rng: np.random.Generator, *, density: float) -> Motif:
    """A seeded two-bar rhythm with a singable contour (mostly steps, the odd leap)."""
    count = int(np.clip(round(3 + density * 9), 3, 12))
    positions = np.arange(1, PHRASE_STEPS - 4)
    weights = np.where(positions % 4 == 0, 3.0, np.where(positions % 2 == 0, 1.4, 0.35 * density))
    chosen = rng.choice(positions, size=count - 1, replace=False, p=weights / weights.sum())
    steps = (0, *sorted(int(s) for s in chosen))
    moves = tuple(int(m) for m in rng.choice([-2, -1, -1, 1, 1, 2, 3, -3, 4], size=count))
    return Motif(steps=steps, lengths=_lengths(steps), moves=moves)


def phrase_variant(phrase: int, *, occurrence: int) -> str:
    """How the `phrase`-th two bars of a section's `occurrence`-th appearance treat the motif."""
    row = DEVELOPMENT[(phrase // 4 + occurrence) % 2]
    return row[phrase % 4]


def realize_phrase(
    motif: Motif,
    *,
    variant: str,
    key: Key,
    chords: tuple[Chord, Chord],
    rng: np.random.Generator,
    center: int = LEAD_CENTER,
    thin: bool = False,
) -> list[MelodyNote]:
    """Play the motif over two bars of `chords`.

    Variants: `statement` plays it, `answer` gives it a new ending, `sequence` repeats it a
    third higher, `inversion` turns its contour upside down, `displaced` moves its rhythm an
    eighth later, `response` plays its contour backwards and upside down. Strong beats land on
    chord tones; the line stays within about an octave around `center`.
    """
    steps, lengths, moves = motif.steps, motif.lengths, list(motif.moves)
    if variant == "answer":
        tail = rng.choice([-2, -1, 1, 2], size=2)
        moves[-2:] = [int(tail[0]), int(tail[1])]
    elif variant == "inversion":
        moves = [-m for m in moves]
    elif variant == "response":
        moves = [-m for m in reversed(moves)]
    elif variant == "displaced":
        steps = tuple(s + 2 for s in steps if s + 2 < PHRASE_STEPS - 2)
        lengths = _lengths(steps)
    anchor = key.nearest_degree(_chord_tone_near(chords[0], center))
    degree = anchor + (2 if variant == "sequence" else 0)
    notes: list[MelodyNote] = []
    for index, (step, length) in enumerate(zip(steps, lengths, strict=True)):
        if index > 0:
            degree += moves[index - 1]
        if thin and step % 4 != 0 and index > 0:
            continue
        chord = chords[0] if step < 16 else chords[1]
        pitch = key.degree_pitch(degree, octave=-1)
        if step % 8 == 0:
            pitch = _chord_tone_near(chord, pitch)
            degree = key.nearest_degree(pitch)
        velocity = 0.9 if step % 8 == 0 else 0.78 if step % 4 == 0 else 0.68
        notes.append(MelodyNote(step, length, pitch, velocity))
    return _fit_range(notes, low=center - 10, high=center + 12)


def _lengths(steps: tuple[int, ...]) -> tuple[int, ...]:
    ends = (*steps[1:], PHRASE_STEPS - 2)
    return tuple(max(1, min(6, end - step)) for step, end in zip(steps, ends, strict=True))


def _chord_tone_near(chord: Chord, pitch: int) -> int:
    candidates = [p + 12 * o for p in chord.pitches for o in range(-6, 7)]
    return min(candidates, key=lambda c: (abs(c - pitch), c))


def _fit_range(notes: list[MelodyNote], *, low: int, high: int) -> list[MelodyNote]:
    if not notes:
        return notes
    shift = 0
    top = max(n.pitch for n in notes)
    bottom = min(n.pitch for n in notes)
    while top + shift > high and bottom + shift - 12 >= low - 7:
        shift -= 12
    while bottom + shift < low and top + shift + 12 <= high + 7:
        shift += 12
    return [
        MelodyNote(n.step, n.length, min(high + 7, max(low - 7, n.pitch + shift)), n.velocity)
        for n in notes
    ]
