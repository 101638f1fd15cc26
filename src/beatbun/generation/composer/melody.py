"""The lead line: a two-bar motif that repeats, answers itself and moves with the harmony."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from beatbun.generation.composer.theory import Chord, Key

PHRASE_STEPS = 32
LEAD_LOW = 62
LEAD_HIGH = 84


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
    lengths = tuple(
        int(min(6, (steps[i + 1] if i + 1 < len(steps) else PHRASE_STEPS - 2) - step))
        for i, step in enumerate(steps)
    )
    moves = tuple(int(m) for m in rng.choice([-2, -1, -1, 1, 1, 2, 3, -3, 4], size=count))
    return Motif(steps=steps, lengths=tuple(max(1, n) for n in lengths), moves=moves)


def realize_phrase(
    motif: Motif,
    *,
    variant: int,
    key: Key,
    chords: tuple[Chord, Chord],
    rng: np.random.Generator,
    octave_shift: int = 0,
    thin: bool = False,
) -> list[MelodyNote]:
    """Play the motif over two bars of `chords`.

    `variant` 0 states the motif, 1 answers it (new ending), 2 repeats it a third higher
    (sequence), 3 inverts its contour. Strong beats land on chord tones; the line stays in the
    lead range.
    """
    moves = list(motif.moves)
    if variant == 1:
        tail = rng.choice([-2, -1, 1, 2], size=2)
        moves[-2:] = [int(tail[0]), int(tail[1])]
    elif variant == 3:
        moves = [-m for m in moves]
    anchor = key.nearest_degree(_chord_tone_near(chords[0], 72 + 12 * octave_shift))
    degree = anchor + (2 if variant == 2 else 0)
    notes: list[MelodyNote] = []
    for index, (step, length) in enumerate(zip(motif.steps, motif.lengths, strict=True)):
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
    return _fit_range(notes, low=LEAD_LOW + 12 * octave_shift, high=LEAD_HIGH + 12 * octave_shift)


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
