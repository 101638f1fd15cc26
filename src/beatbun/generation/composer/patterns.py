"""Per-bar rhythm patterns: drum hits, bass lines that follow the harmony, and chord comping.

Every pattern reacts to the section it plays in: a build rolls ever faster into the drop, a
breakdown loses its kick and bass, an intro keeps only kick and hats for its first half, and
the drop plays every layer whatever its energy. Repeated bars vary (ghost notes, kick pickups,
an open hat, a different fill at every phrase end) while the genre's groove stays in place.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from beatbun.generation.composer.plan import STEPS_PER_BAR, Section
from beatbun.generation.composer.styles import DrumLine, GenreStyle
from beatbun.generation.composer.theory import Chord

_VELOCITY = {"x": 1.0, "o": 0.75, "g": 0.42}
KICKS = frozenset({"kick", "kick_808", "chip_kick"})
BACKBEATS = frozenset({"snare", "clap", "snap", "snare_tight", "chip_snare", "hat_pedal"})
# Drums that keep time without weight: what is left of the kit in a breakdown or a build.
_TEXTURE = frozenset(
    {"hat_closed", "hat_open", "shaker", "ride", "brush", "vinyl", "conga", "bongo",
     "tambourine", "chip_hat", "rim", "cowbell"}
)  # fmt: skip
# Fills as (step, which of the genre's fill drums, velocity): the full ones end a section or
# an eight-bar phrase, the short ones every other four bars. Consecutive phrase ends take
# consecutive figures, so no two fills in a row are the same.
_FILLS: tuple[tuple[tuple[float, int, float], ...], ...] = (
    ((12, 0, 0.6), (13, 0, 0.65), (14, 0, 0.75), (15, 0, 0.85)),
    ((12, 0, 0.7), (13, 1, 0.7), (14, 1, 0.8), (15, 0, 0.9)),
    ((8, 1, 0.6), (10, 1, 0.7), (12, 0, 0.75), (13, 0, 0.6), (14, 1, 0.85), (15, 1, 0.9)),
    ((12, 0, 0.75), (40 / 3, 0, 0.7), (44 / 3, 1, 0.85)),
    ((10, 0, 0.55), (11, 0, 0.5), (12, 1, 0.75), (14, 1, 0.8), (15, 0, 0.95)),
)
_SHORT_FILLS: tuple[tuple[tuple[float, int, float], ...], ...] = (
    ((14, 0, 0.45), (15, 0, 0.6)),
    ((15, 1, 0.6),),
    ((13, 1, 0.5), (15, 0, 0.6)),
    ((14, 1, 0.55), (15, 1, 0.65)),
)


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
    """The drum hits of one bar: the genre's lines for this section, variations and fills.

    At most one hit per drum and step (the loudest); sorted by step.
    """
    hits: list[DrumHit] = []
    scale = (0.85 + 0.15 * section.energy) * (0.55 if section.name == "breakdown" else 1.0)
    lines = _active_lines(style, section, bar_in_section)
    for line in lines:
        is_trap_hat = style.trap_hats and line.drum == "hat_closed"
        for step, mark in enumerate(line.pattern):
            if mark == ".":
                continue
            if is_trap_hat and step % 4 == 0 and rng.random() < 0.22:
                hits.extend(_roll(line.drum, step, rng, velocity=scale))
            if is_trap_hat and _in_roll(hits, step):
                continue
            velocity = _VELOCITY[mark] * scale * float(rng.uniform(0.92, 1.0))
            hits.append(DrumHit(line.drum, float(step), velocity))
    name = section.name
    if name == "build":
        hits.extend(_build_roll(style, section, bar_in_section))
    elif name not in ("breakdown", "intro", "outro"):
        hits.extend(_variations(lines, bar_in_section, rng, velocity=scale))
    phrase = (section.start_bar + bar_in_section) // 4
    if style.fills and name not in ("build", "breakdown"):
        if fill:
            hits = _with_fill(style, hits, _FILLS[phrase % len(_FILLS)], scale)
        elif bar_in_section % 4 == 3 and bar_in_section < section.bars - 1:
            hits = _with_fill(style, hits, _SHORT_FILLS[phrase % len(_SHORT_FILLS)], scale)
    if style.fills and bar_in_section == 0 and name in ("verse", "chorus", "bridge", "drop"):
        hits.append(DrumHit("crash", 0.0, 0.9 if name in ("chorus", "drop") else 0.6))
    return _loudest_per_step(hits)


def _active_lines(style: GenreStyle, section: Section, bar_in_section: int) -> list[DrumLine]:
    name = section.name
    progress = (bar_in_section + 1) / section.bars
    if name == "drop":
        return list(style.drums)
    if name == "breakdown":
        # Silent for its first half, then only time-keeping texture, softly.
        return [] if progress <= 0.5 else [ln for ln in style.drums if ln.drum in _TEXTURE]
    if name == "build":
        # Kick for the first half, hats throughout; the roll replaces the backbeat.
        return [
            ln
            for ln in style.drums
            if (ln.drum in KICKS and progress <= 0.5 and ln.min_energy <= section.energy)
            or (ln.drum in _TEXTURE and ln.min_energy <= 0.6)
        ]
    lines = [ln for ln in style.drums if section.energy >= ln.min_energy]
    if name == "intro" and progress <= 0.5:
        lines = [ln for ln in lines if ln.drum in KICKS or ln.drum in _TEXTURE]
    return lines


def _build_roll(style: GenreStyle, section: Section, bar_in_section: int) -> list[DrumHit]:
    # Quarters, then eighths, sixteenths and thirty-seconds in the last bar, swelling throughout.
    drum = style.fill_drums[0] if style.fill_drums else "snare"
    progress = (bar_in_section + 1) / section.bars
    rate = 4.0 if progress <= 0.25 else 2.0 if progress <= 0.5 else 1.0 if progress < 1 else 0.5
    count = round(STEPS_PER_BAR / rate)
    return [
        DrumHit(drum, i * rate, 0.35 + 0.6 * (bar_in_section + i / count) / section.bars)
        for i in range(count)
    ]


def _variations(
    lines: list[DrumLine], bar_in_section: int, rng: np.random.Generator, *, velocity: float
) -> list[DrumHit]:
    """A kick pickup, a ghost backbeat and an open hat that come and go from bar to bar."""
    extra: list[DrumHit] = []
    kick = next((ln for ln in lines if ln.drum in KICKS), None)
    if kick is not None and rng.random() < 0.3:
        free = [s for s in (3, 7, 11, 14, 15) if kick.pattern[s] == "."]
        if free:
            extra.append(DrumHit(kick.drum, float(rng.choice(free)), 0.55 * velocity))
    backbeat = next((ln for ln in lines if ln.drum in BACKBEATS), None)
    if backbeat is not None and rng.random() < 0.4:
        free = [s for s in (1, 3, 6, 7, 9, 11, 14, 15) if backbeat.pattern[s] == "."]
        if free:
            extra.append(DrumHit(backbeat.drum, float(rng.choice(free)), 0.3 * velocity))
    hat = next((ln for ln in lines if ln.drum == "hat_closed"), None)
    if hat is not None and bar_in_section % 4 == 1 and hat.pattern[14] != ".":
        extra.append(DrumHit("hat_open", 14.0, 0.6 * velocity))
    return extra


def _with_fill(
    style: GenreStyle,
    hits: list[DrumHit],
    figure: tuple[tuple[float, int, float], ...],
    velocity: float,
) -> list[DrumHit]:
    # The fill takes over from its first step: only the kick and the closed hats keep going.
    start = min(step for step, _, _ in figure)
    drums = style.fill_drums
    kept = [
        h
        for h in hits
        if h.step < start or h.drum in KICKS or h.drum in ("hat_closed", "chip_hat", "shaker")
    ]
    fill = [DrumHit(drums[role % len(drums)], step, v * velocity) for step, role, v in figure]
    return kept + fill


def _loudest_per_step(hits: list[DrumHit]) -> list[DrumHit]:
    loudest: dict[tuple[str, float], DrumHit] = {}
    for hit in hits:
        key = (hit.drum, hit.step)
        if key not in loudest or hit.velocity > loudest[key].velocity:
            loudest[key] = hit
    return sorted(loudest.values(), key=lambda h: (h.step, h.drum))


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


# Bass figures as (step, length in steps, tone): `r` root, `5` fifth, `8` octave, `4` the fifth
# below the root, `7` the minor seventh, `t` the next chord's root, `a` a semitone next to it.
# Each style has a busy figure (energetic sections) and a calm one.
_Figure = tuple[tuple[float, float, str], ...]


def _eighths(*tones: str, length: float = 1.8) -> _Figure:
    return tuple((float(s), length, tones[i % len(tones)]) for i, s in enumerate(range(0, 16, 2)))


def _gallop(length: float) -> _Figure:
    return tuple(
        (float(beat + offset), size, "r")
        for beat in range(0, 16, 4)
        for offset, size in ((0, 2 * length), (2, length), (3, length))
    )


_ROOT_HALVES: _Figure = ((0, 8, "r"), (8, 8, "r"))
_ROOT_FIFTH_HALVES: _Figure = ((0, 8, "r"), (8, 8, "5"))
_WHOLE: _Figure = ((0, 16, "r"),)
_BASS_FIGURES: dict[str, tuple[_Figure, _Figure]] = {
    "pop": (((0, 3, "r"), (3, 3, "r"), (6, 2, "r"), (8, 3, "r"), (11, 3, "5"), (14, 2, "8")),
            _ROOT_HALVES),
    "root8": (_eighths("r", "r", "r", "8"), _ROOT_HALVES),
    "gallop": (_gallop(0.9), _eighths("r")),
    "punk": (_eighths("r", "r", "r", "r", "r", "r", "r", "8"), _eighths("r")),
    "offbeat": (((2, 1.6, "r"), (6, 1.6, "r"), (7, 0.8, "8"), (10, 1.6, "r"), (14, 1.6, "r")),
                ((2, 1.6, "r"), (6, 1.6, "r"), (10, 1.6, "r"), (14, 1.6, "r"))),
    "rolling": (tuple((float(s), 0.8, "8" if s % 4 == 3 else "r") for s in range(16) if s % 4),
                ((2, 0.8, "r"), (6, 0.8, "r"), (10, 0.8, "r"), (14, 0.8, "r"))),
    "reese": (((0, 10, "r"), (10, 6, "t")), _WHOLE),
    "wobble": (((0, 6, "r"), (6, 2, "8"), (8, 4, "r"), (12, 4, "5")), _WHOLE),
    "rnb": (((0, 6, "r"), (7, 1, "8"), (8, 4, "5"), (14, 2, "a")), _ROOT_FIFTH_HALVES),
    "slap": (((0, 1.5, "r"), (3, 0.8, "8"), (4, 1, "r"), (6, 0.8, "8"), (10, 1.5, "r"),
              (12, 0.8, "8"), (14, 1, "7")),
             ((0, 3, "r"), (6, 1, "8"), (10, 3, "r"))),
    "disco": ((*_eighths("r", "8", length=1.6), (7, 0.8, "8"), (15, 0.8, "8")),
              ((0, 3.6, "r"), (4, 3.6, "r"), (8, 3.6, "r"), (12, 3.6, "r"))),
    "lofi": (((0, 6, "r"), (7, 2, "5"), (10, 4, "r"), (14, 2, "8")), ((0, 14, "r"),)),
    "bossa": (((0, 5.5, "r"), (6, 2, "4"), (8, 5.5, "4"), (14, 2, "r")), ((0, 8, "r"), (8, 8, "4"))),
    "dembow": (((0, 3, "r"), (3, 3, "r"), (6, 2, "5"), (8, 3, "r"), (11, 3, "r"), (14, 2, "5")),
               _ROOT_HALVES),
    "afro": (((0, 2, "r"), (3, 2, "r"), (6, 2, "8"), (10, 2, "5"), (12, 2, "r")),
             ((0, 2, "r"), (6, 2, "8"), (10, 2, "5"))),
    "country": (((0, 3.5, "r"), (8, 3.5, "4"), (14, 1.8, "a")), ((0, 3.5, "r"), (8, 3.5, "4"))),
    "folk": (((0, 4, "r"), (4, 4, "5"), (8, 4, "8"), (12, 4, "5")), _ROOT_FIFTH_HALVES),
    "pump": (_eighths("r", "8"), ((0, 1.8, "r"), (4, 1.8, "r"), (8, 1.8, "r"), (12, 1.8, "r"))),
    "chip": (tuple((float(s), 0.9, "r" if s % 2 == 0 else "8") for s in range(16)),
             ((0, 6, "r"), (8, 6, "5"))),
    "piano": (_eighths("r", "5", "8", "5", length=2.0), _ROOT_FIFTH_HALVES),
    "sustain": (_WHOLE, _WHOLE),
    "drone": (_WHOLE, _WHOLE),
}  # fmt: skip
# Bass styles that hold long notes: they keep playing, softly, where others fall silent.
_HELD_BASS = frozenset({"sustain", "drone", "piano"})
_LOW_BASS = frozenset({"808", "reese", "wobble", "dembow"})


def bass_line(
    style: GenreStyle,
    chord: Chord,
    next_chord: Chord,
    section: Section,
    rng: np.random.Generator,
    *,
    bar_in_section: int = 0,
) -> list[tuple[float, float, int]]:
    """(step, length in steps, MIDI pitch) for one bar of bass under `chord`.

    Raises `KeyError` for a bass style with no pattern (a bug in the style table).
    """
    low = 31 if style.bass in _LOW_BASS else 36
    root = low + (chord.root - low) % 12
    target = low + (next_chord.root - low) % 12
    kind = style.bass
    if section.name == "breakdown":
        return [(0.0, 16.0, root)] if kind in _HELD_BASS else []
    if section.name == "build" and kind not in _HELD_BASS:
        # Pulses that quicken, then a half bar of air before the drop.
        progress = (bar_in_section + 1) / section.bars
        rate = 4 if progress <= 0.5 else 2
        end = 8 if progress >= 1 else 16
        return [(float(s), rate * 0.8, root) for s in range(0, end, rate)]
    busy = section.energy >= 0.6 or section.name == "drop"
    if kind == "808":
        kicks = [i for i, m in enumerate(style.drums[0].pattern) if m != "."]
        ends = [*kicks[1:], STEPS_PER_BAR]
        third = root + 7 if rng.random() < 0.5 else root + 12
        return [
            (float(k), float(e - k), root if i < 2 else third)
            for i, (k, e) in enumerate(zip(kicks, ends, strict=True))
        ]
    if kind == "walking":
        tones = sorted(low + (p - low) % 12 for p in chord.pitches[1:3])
        approach = target + (1 if rng.random() < 0.5 else -1)
        middle = tones[int(rng.integers(len(tones)))]
        return [(0, 3.6, root), (4, 3.6, tones[0]), (8, 3.6, middle), (12, 3.6, approach)]
    busy_figure, calm_figure = _BASS_FIGURES[kind]
    figure = busy_figure if busy else calm_figure
    approach = target + (1 if rng.random() < 0.5 else -1) if target != root else root + 7
    pitch_of = {"r": root, "5": root + 7, "8": root + 12, "4": root - 5, "7": root + 10}
    pitch_of |= {"t": target, "a": approach}
    return [(float(step), float(length), pitch_of[tone]) for step, length, tone in figure]


# Comping rhythms as (step, length in steps, velocity), busy and calm.
_Strikes = tuple[tuple[float, float, float], ...]
_COMP_FIGURES: dict[str, tuple[_Strikes, _Strikes]] = {
    "broken": (((0, 6, 0.8), (6, 2, 0.6), (8, 6, 0.75), (14, 2, 0.6)), ((0, 16, 0.7),)),
    "stabs": (((3, 1.5, 0.8), (6, 1.5, 0.7), (10, 1.5, 0.8), (13, 1.5, 0.7)),
              ((3, 1.5, 0.75), (10, 1.5, 0.7))),
    "power": (((0, 6, 1.0), (6, 2, 0.85), (8, 6, 0.95), (14, 2, 0.85)),
              tuple((float(s), 1.5, 0.85 if s % 8 == 0 else 0.65) for s in range(0, 16, 2))),
    "gallop": (tuple((s, n, 0.95 if n > 1 else 0.7) for s, n, _ in _gallop(0.9)),
               tuple((float(s), 1.5, 0.8) for s in range(0, 16, 2))),
    "punk": (tuple((float(s), 1.8, 0.95 if s % 8 == 0 else 0.8) for s in range(0, 16, 2)),
             tuple((float(s), 1.8, 0.75) for s in range(0, 16, 2))),
    "keys": (((0, 10, 0.7), (10, 6, 0.55)), ((0, 16, 0.65),)),
    "arp": (((3, 1, 0.8), (10, 1, 0.7)), ((3, 1, 0.7),)),
    "scratch": (tuple((float(s), 1.2, 0.85) if s in (0, 3, 6, 10, 13) else (float(s), 0.6, 0.3)
                      for s in range(16)),
                ((0, 1.2, 0.8), (3, 1.2, 0.7), (6, 1.2, 0.75), (10, 1.2, 0.7), (13, 1.2, 0.7))),
    "offbeat": (((2, 1.5, 0.8), (6, 1.5, 0.75), (7, 0.6, 0.45), (10, 1.5, 0.8), (14, 1.5, 0.75),
                 (15, 0.6, 0.45)),
                ((2, 1.5, 0.7), (6, 1.5, 0.65), (10, 1.5, 0.7), (14, 1.5, 0.65))),
    "bossa": (((0, 2.5, 0.7), (3, 2.5, 0.6), (6, 3.5, 0.65), (10, 2.5, 0.6), (13, 2.5, 0.65)),
              ((0, 6, 0.6), (6, 4, 0.55), (10, 6, 0.55))),
    "dembow": (((0, 2, 0.8), (3, 2, 0.7), (6, 2, 0.75), (8, 2, 0.8), (11, 2, 0.7), (14, 2, 0.75)),
               ((0, 8, 0.6), (8, 8, 0.6))),
    "skank": (((2, 1, 0.75), (3, 1, 0.5), (6, 1, 0.75), (9, 1, 0.55), (10, 1, 0.75), (14, 1, 0.75)),
              ((2, 1, 0.65), (6, 1, 0.65), (10, 1, 0.65), (14, 1, 0.65))),
    "boomchick": (((4, 2, 0.8), (6, 1.5, 0.55), (12, 2, 0.8), (14, 1.5, 0.55)),
                  ((4, 3, 0.7), (12, 3, 0.7))),
    "strum": (((0, 3.5, 0.85), (4, 1.8, 0.75), (6, 1.8, 0.6), (10, 1.8, 0.6), (12, 1.8, 0.75),
               (14, 1.8, 0.6)),
              ((0, 8, 0.7), (8, 8, 0.6))),
    "chip": (tuple((float(s), 0.9, 0.75 if s % 4 == 0 else 0.6) for s in range(16)),
             tuple((float(s), 1.8, 0.6) for s in range(0, 16, 2))),
    "ballad": (tuple((float(s), 4.0, 0.6 if s % 8 == 0 else 0.5) for s in range(0, 16, 2)),
               ((0, 16, 0.6),)),
    "pad": (((0, 16, 0.75),), ((0, 16, 0.7),)),
}  # fmt: skip
# Comps played as power chords (root, fifth, octave) in the guitar's low register.
_POWER_COMPS = frozenset({"power", "gallop", "punk"})
# Comps that play one chord tone per strike, walking up and down the chord.
_ARPEGGIO_COMPS = frozenset({"chip", "ballad"})
# Seconds between strings as steps: a strummed guitar or a rolled piano chord.
_STRUM = {"keys": 0.12, "broken": 0.12, "strum": 0.08, "boomchick": 0.08, "bossa": 0.06}
# A muted chop (funk scratch) or a palm-muted chug (metal gallop) sounds two strings only.
_MUTED_STRINGS = {"scratch": slice(-2, None), "gallop": slice(0, 2)}


def comp_hits(
    style: GenreStyle, section: Section, bar_in_section: int, rng: np.random.Generator
) -> list[tuple[float, float, float]]:
    """(step, length in steps, velocity) of each chord strike in one bar.

    Raises `KeyError` for a comp style with no pattern (a bug in the style table).
    """
    name = section.name
    if name == "breakdown":
        return [(0.0, 16.0, 0.5)]
    if name == "build" and style.comp != "pad":
        progress = (bar_in_section + 1) / section.bars
        rate = 4 if progress <= 0.5 else 2 if progress < 1 else 1
        return [
            (float(s), rate * 0.8, 0.5 + 0.4 * (bar_in_section + s / 16) / section.bars)
            for s in range(0, 16, rate)
        ]
    if style.comp == "comp":
        candidates = [3, 6, 7, 10, 11, 14]
        picks = sorted(int(s) for s in rng.choice(candidates, size=2, replace=False))
        first = [(0.0, 2.5, 0.7)] if rng.random() < 0.5 else []
        return first + [(float(s), 2.5, float(rng.uniform(0.55, 0.75))) for s in picks]
    busy, calm = _COMP_FIGURES[style.comp]
    figure = busy if section.energy >= 0.6 or name == "drop" else calm
    return [(float(s), float(n), v) for s, n, v in figure]


def comp_notes(
    style: GenreStyle,
    *,
    chord: Chord,
    voicing: tuple[int, ...],
    section: Section,
    bar_in_section: int,
    rng: np.random.Generator,
) -> list[tuple[float, float, int, float]]:
    """(step, length in steps, MIDI pitch, velocity) of every chord note in one bar.

    Power comps play root, fifth and octave of `chord` low on the neck; strummed comps spread
    each strike over the strings (up-strums high to low); arpeggio comps play one chord tone
    per strike. `pad` holds the voicing for `style.chord_bars` bars from each chord change;
    notes may be longer than a bar, and the caller splits them where they must be re-struck.
    """
    if style.comp == "pad":
        if bar_in_section % style.chord_bars:
            return []
        length = float(style.chord_bars * STEPS_PER_BAR)
        return [(0.0, length, pitch, 0.75) for pitch in voicing]
    if style.comp in _POWER_COMPS:
        root = 40 + (chord.root - 40) % 12
        voicing = (root, root + 7, root + 12)
    notes: list[tuple[float, float, int, float]] = []
    strikes = comp_hits(style, section, bar_in_section, rng)
    if style.comp in _ARPEGGIO_COMPS:
        tones = sorted(voicing)
        cycle = [*tones, tones[0] + 12, *reversed(tones[1:])]
        for index, (step, length, velocity) in enumerate(strikes):
            if length >= STEPS_PER_BAR / 2:
                notes.extend((step, length, pitch, velocity) for pitch in tones)
            else:
                notes.append((step, length, cycle[index % len(cycle)], velocity))
        return notes
    spread = _STRUM.get(style.comp, 0.0)
    for step, length, velocity in strikes:
        strings = voicing
        if length < 1 and style.comp in _MUTED_STRINGS:
            strings = voicing[_MUTED_STRINGS[style.comp]]
        upward = style.comp == "strum" and int(step) % 4 == 2
        order = list(reversed(strings)) if upward else list(strings)
        for string, pitch in enumerate(order):
            notes.append((step + spread * string, length, pitch, velocity * (1 - 0.03 * string)))
    return notes
