"""Per-bar rhythm patterns: drum hits, bass lines that follow the harmony, and chord comping."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from beatbun.generation.composer.plan import STEPS_PER_BAR, Section
from beatbun.generation.composer.styles import GenreStyle
from beatbun.generation.composer.theory import Chord

_VELOCITY = {"x": 1.0, "o": 0.75, "g": 0.42}
_FILL_DRUM = {"cinematic": "taiko", "house": "clap", "techno": "clap", "hiphop": "clap"}


@dataclass(frozen=True, slots=True)
class DrumHit:
    drum: str
    step: float
    velocity: float


def drum_hits(
    style: GenreStyle,
    section: Section,
    bar_in_section: int,
    rng: np.random.Generator,
    *,
    fill: bool,
) -> list[DrumHit]:
    """The drum hits of one bar: the genre's lines for this energy, rolls, fills and crashes."""
    hits: list[DrumHit] = []
    scale = 0.85 + 0.15 * section.energy
    for line in style.drums:
        if section.energy < line.min_energy:
            continue
        if line.drum == "kick" and section.name == "bridge" and style.sidechain > 0:
            continue  # electronic breakdowns drop the kick
        for step, mark in enumerate(line.pattern):
            if mark == ".":
                continue
            if fill and step >= 12 and line.drum in ("snare", "clap", "ride", "hat_open"):
                continue
            if (
                style.trap_hats
                and line.drum == "hat_closed"
                and step % 4 == 0
                and rng.random() < 0.22
            ):
                hits.extend(_roll(line.drum, step, rng, velocity=scale))
            if style.trap_hats and line.drum == "hat_closed" and _in_roll(hits, step):
                continue
            velocity = _VELOCITY[mark] * scale * float(rng.uniform(0.92, 1.0))
            hits.append(DrumHit(line.drum, float(step), velocity))
    if style.name == "hiphop" and bar_in_section % 2 == 1 and section.energy >= 0.6:
        hits.append(DrumHit("kick", 13.0, 0.8))
    if fill:
        drum = _FILL_DRUM.get(style.name, "snare")
        hits.extend(DrumHit(drum, 12.0 + i, 0.5 + 0.12 * i) for i in range(4))
    if (
        style.fills
        and bar_in_section == 0
        and section.name in ("chorus", "verse", "bridge")
        and style.drums
    ):
        hits.append(DrumHit("crash", 0.0, 0.9 if section.name == "chorus" else 0.6))
    return hits


def _roll(drum: str, step: int, rng: np.random.Generator, *, velocity: float) -> list[DrumHit]:
    # Trap hi-hat rolls: a beat of 32nds or 16th-note triplets, swelling.
    count = 8 if rng.random() < 0.5 else 6
    return [
        DrumHit(drum, step + i * 4.0 / count, velocity * (0.45 + 0.5 * i / count))
        for i in range(count)
    ]


def _in_roll(hits: list[DrumHit], step: int) -> bool:
    beat = step - step % 4
    return any(
        h.drum == "hat_closed" and h.step != int(h.step) and beat <= h.step < beat + 4 for h in hits
    )


def bass_line(
    style: GenreStyle, chord: Chord, next_chord: Chord, section: Section, rng: np.random.Generator
) -> list[tuple[float, float, int]]:
    """(step, length in steps, MIDI pitch) for one bar of bass under `chord`."""
    low = 31 if style.bass == "808" else 36
    root = low + (chord.root - low) % 12
    fifth, octave = root + 7, root + 12
    target = low + (next_chord.root - low) % 12
    busy = section.energy >= 0.6
    kind = style.bass
    if kind == "pop":
        if not busy:
            return [(0, 8, root), (8, 8, root)]
        return [
            (0, 3, root),
            (3, 3, root),
            (6, 2, root),
            (8, 3, root),
            (11, 3, fifth),
            (14, 2, octave),
        ]
    if kind == "root8":
        if not busy:
            return [(0, 8, root), (8, 8, root)]
        return [
            (float(s), 1.8, octave if section.energy >= 1.0 and s % 8 == 6 else root)
            for s in range(0, 16, 2)
        ]
    if kind == "offbeat":
        notes: list[tuple[float, float, int]] = [(float(s), 1.6, root) for s in (2, 6, 10, 14)]
        return notes + ([(7.0, 0.8, octave)] if busy else [])
    if kind == "rolling":
        steps = [s for s in range(16) if s % 4 != 0] if busy else [2, 6, 10, 14]
        return [(float(s), 0.8, octave if s % 4 == 3 else root) for s in steps]
    if kind == "808":
        kicks = [i for i, m in enumerate(style.drums[0].pattern) if m != "."]
        ends = [*kicks[1:], STEPS_PER_BAR]
        third = fifth if rng.random() < 0.5 else octave
        return [
            (float(k), float(e - k), root if i < 2 else third)
            for i, (k, e) in enumerate(zip(kicks, ends, strict=True))
        ]
    if kind == "walking":
        tones = sorted(low + (p - low) % 12 for p in chord.pitches[1:3])
        approach = target + (1 if rng.random() < 0.5 else -1)
        middle = tones[int(rng.integers(len(tones)))]
        return [(0, 3.6, root), (4, 3.6, tones[0]), (8, 3.6, middle), (12, 3.6, approach)]
    if kind == "lofi":
        return (
            [(0, 6, root), (7, 2, fifth), (10, 4, root), (14, 2, octave)]
            if busy
            else [(0, 14, root)]
        )
    if kind == "pump":
        if not busy:
            return [(float(s), 1.8, root) for s in range(0, 16, 4)]
        return [(float(s), 1.7, octave if s % 4 == 2 else root) for s in range(0, 16, 2)]
    # Long tones: orchestral low strings and ambient drones.
    return [(0, 16, root)]


def comp_hits(
    style: GenreStyle, section: Section, bar_in_section: int, rng: np.random.Generator
) -> list[tuple[float, float, float]]:
    """(step, length in steps, velocity) of each chord strike in one bar."""
    busy = section.energy >= 0.6
    comp = style.comp
    if comp == "broken":
        return [(0, 6, 0.8), (6, 2, 0.6), (8, 6, 0.75), (14, 2, 0.6)] if busy else [(0, 16, 0.7)]
    if comp == "stabs":
        if not busy:
            return [(3, 1.5, 0.75), (10, 1.5, 0.7)]
        return [(3, 1.5, 0.8), (6, 1.5, 0.7), (10, 1.5, 0.8), (13, 1.5, 0.7)]
    if comp == "power":
        if section.name in ("intro", "outro"):
            return [(0, 16, 0.9)]
        if section.energy >= 1.0:
            return [(0, 6, 1.0), (6, 2, 0.85), (8, 6, 0.95), (14, 2, 0.85)]
        return [(float(s), 1.5, 0.85 if s % 8 == 0 else 0.65) for s in range(0, 16, 2)]
    if comp == "comp":
        candidates = [3, 6, 7, 10, 11, 14]
        picks = sorted(int(s) for s in rng.choice(candidates, size=2, replace=False))
        first = [(0.0, 2.5, 0.7)] if rng.random() < 0.5 else []
        return first + [(float(s), 2.5, float(rng.uniform(0.55, 0.75))) for s in picks]
    if comp == "keys":
        return [(0, 10, 0.7), (10, 6, 0.55)] if busy else [(0, 16, 0.65)]
    if comp == "arp":
        return [(3, 1, 0.8), (10, 1, 0.7)] if busy else [(3, 1, 0.7)]
    return [(0, 16, 0.7)]
