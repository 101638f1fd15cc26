"""From plan to score: which part plays which note when, section by section and bar by bar."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from beatbun.generation.composer.melody import PHRASE_STEPS, Motif, create_motif, realize_phrase
from beatbun.generation.composer.patterns import bass_line, comp_hits, drum_hits
from beatbun.generation.composer.plan import STEPS_PER_BAR, CompositionPlan, Section
from beatbun.generation.composer.styles import GENRES, GenreStyle
from beatbun.generation.composer.theory import Chord, build_chord, voice_lead

MAX_HOLD_SECONDS = 2.7


@dataclass(slots=True)
class Note:
    start: int
    hold: int
    pitch: int
    velocity: float


@dataclass(slots=True)
class Part:
    """One voice in the mix, with its placement and sends."""

    name: str
    voice: str
    is_drum: bool
    level: float
    pan: float = 0.0
    reverb: float = 0.0
    delay: float = 0.0
    ducked: bool = False
    wide: bool = False
    notes: list[Note] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Score:
    parts: tuple[Part, ...]
    kick_starts: tuple[int, ...]


# Pan, reverb send, level for each drum; reverb sends are scaled by the genre's reverb amount.
_DRUM_MIX = {
    "kick": (0.0, 0.0, 0.55), "snare": (0.0, 0.5, 0.7), "clap": (0.05, 0.5, 0.65),
    "hat_closed": (0.25, 0.1, 0.5), "hat_open": (0.25, 0.2, 0.42), "hat_pedal": (-0.2, 0.1, 0.4),
    "ride": (0.3, 0.3, 0.42), "crash": (-0.2, 0.4, 0.35), "rim": (-0.25, 0.4, 0.45),
    "shaker": (-0.35, 0.2, 0.42), "brush": (-0.1, 0.3, 0.4), "taiko": (0.0, 0.6, 0.6),
    "timpani": (0.0, 0.6, 0.6), "tom": (0.15, 0.4, 0.55), "vinyl": (0.0, 0.0, 0.5),
}  # fmt: skip


def arrange(plan: CompositionPlan) -> Score:
    """Write every note of the track; the same plan always yields the same score."""
    style = GENRES[plan.genre]
    rng = np.random.default_rng([plan.seed, 2])
    step_samples = plan.sample_rate * 60.0 / plan.bpm / 4.0
    clock = _Clock(step_samples, style, rng)
    reverb_scale = style.reverb / 0.3
    drums = {
        name: Part(f"drums:{name}", name, True, mix[2], pan=mix[0], reverb=mix[1] * reverb_scale)
        for name, mix in _DRUM_MIX.items()
    }
    ducked = style.sidechain > 0
    voices = plan.voices
    bass = Part("bass", voices["bass"], False, 0.3, reverb=0.04, ducked=ducked)
    chords = Part(
        "chords",
        voices["chords"],
        False,
        0.3,
        pan=-0.15,
        reverb=0.4 * reverb_scale,
        ducked=ducked,
        wide=True,
    )
    lead = Part(
        "lead", voices["lead"], False, 0.42, pan=0.1, reverb=0.35 * reverb_scale, delay=style.delay
    )
    pad = Part(
        "pad",
        voices.get("pad", "pad"),
        False,
        0.2,
        reverb=0.6 * reverb_scale,
        ducked=ducked,
        wide=True,
    )
    arp = Part("arp", voices.get("arp", "pluck"), False, 0.22, pan=0.3, reverb=0.3, delay=style.delay * 1.2,
               ducked=ducked, wide=True)  # fmt: skip
    motif = create_motif(rng, density=style.melody_density)
    previous_voicing: tuple[int, ...] | None = None
    for index, section in enumerate(plan.sections):
        is_last = index == len(plan.sections) - 1
        for bar_in_section in range(section.bars):
            bar = section.start_bar + bar_in_section
            chord = _chord_at(plan, style, bar_in_section)
            next_chord = _chord_at(plan, style, bar_in_section + 1)
            is_fill_bar = (
                style.fills
                and not is_last
                and bar_in_section == section.bars - 1
                and section.bars > 1
            )
            for hit in drum_hits(style, section, bar_in_section, rng, fill=is_fill_bar):
                drums[hit.drum].notes.append(Note(clock.at(bar, hit.step), 1, 0, hit.velocity))
            for step, length, pitch in bass_line(style, chord, next_chord, section, rng):
                _hold(bass, clock, bar, step, length, pitch, 0.85)
            voicing = voice_lead(previous_voicing, chord, low=55, high=74)
            previous_voicing = voicing
            _comp(chords, style, section, bar, bar_in_section, voicing, clock, rng)
            has_pad = "pad" in voices and (section.energy >= 0.9 or section.name == "bridge")
            if has_pad and bar_in_section % style.chord_bars == 0:
                _sustain(pad, clock, bar, voicing, bars=style.chord_bars, velocity=0.7)
            if "arp" in voices and section.energy >= (0.3 if plan.genre == "ambient" else 0.6):
                _arpeggiate(arp, plan.genre, bar, voicing, clock, rng)
        _write_melody(lead, plan, style, section, motif, clock, rng)
    parts = (*(p for p in drums.values() if p.notes), bass, chords, lead, pad, arp)
    kicks = tuple(sorted(n.start for n in drums["kick"].notes))
    return Score(parts=tuple(p for p in parts if p.notes), kick_starts=kicks)


class _Clock:
    """Step positions to sample offsets, with the genre's swing and a little human timing."""

    def __init__(self, step_samples: float, style: GenreStyle, rng: np.random.Generator) -> None:
        self.step_samples = step_samples
        self._swing = style.swing
        self._jitter = 0.004 * 44100 if style.swing > 0 or style.name == "rock" else 0.0
        self._rng = rng

    def at(self, bar: int, step: float) -> int:
        position = bar * STEPS_PER_BAR + step
        if self._swing >= 0.3 and int(step) % 4 == 2 and step == int(step):
            position += self._swing * 2.0
        elif 0 < self._swing < 0.3 and int(step) % 2 == 1 and step == int(step):
            position += self._swing
        jitter = self._rng.normal(0.0, self._jitter) if self._jitter else 0.0
        return max(0, round(position * self.step_samples + jitter))

    def note(self, bar: int, step: float, length: float, pitch: int, velocity: float) -> Note:
        start = self.at(bar, step)
        # Short notes leave a little air before the next; held notes (a bar or more) tie over.
        articulation = 1.0 if length >= STEPS_PER_BAR else 0.95
        hold = max(
            1, round(min(length * self.step_samples * articulation, MAX_HOLD_SECONDS * 44100))
        )
        return Note(start, hold, pitch, velocity)


def _chord_at(plan: CompositionPlan, style: GenreStyle, bar_in_section: int) -> Chord:
    degree = plan.progression[(bar_in_section // style.chord_bars) % len(plan.progression)]
    return build_chord(plan.key, degree, size=style.chord_size)


def _comp(
    part: Part,
    style: GenreStyle,
    section: Section,
    bar: int,
    bar_in_section: int,
    voicing: tuple[int, ...],
    clock: _Clock,
    rng: np.random.Generator,
) -> None:
    if style.comp == "pad":
        if bar_in_section % style.chord_bars == 0:
            _sustain(part, clock, bar, voicing, bars=style.chord_bars, velocity=0.75)
        return
    if style.comp == "power":
        root = voicing[0] - 12 if voicing[0] >= 52 else voicing[0]
        voicing = (root, root + 7, root + 12)
    for step, length, velocity in comp_hits(style, section, bar_in_section, rng):
        for order, pitch in enumerate(voicing):
            strum = 0.12 * order if style.comp in ("keys", "broken") else 0.0
            part.notes.append(clock.note(bar, step + strum, length, pitch, velocity))


def _hold(
    part: Part, clock: _Clock, bar: int, step: float, length: float, pitch: int, velocity: float
) -> None:
    """One note, split into re-struck pieces where it would outlast the render tail."""
    piece = max(4, int(MAX_HOLD_SECONDS * 44100 / clock.step_samples))
    offset = 0.0
    while offset < length:
        part.notes.append(
            clock.note(bar, step + offset, min(piece, length - offset), pitch, velocity)
        )
        offset += piece


def _sustain(
    part: Part, clock: _Clock, bar: int, pitches: tuple[int, ...], *, bars: int, velocity: float
) -> None:
    """Hold a chord for `bars` bars, re-striking it where a note would outlast the render tail."""
    total = bars * STEPS_PER_BAR
    piece = max(4, min(total, int(MAX_HOLD_SECONDS * 44100 / clock.step_samples)))
    for offset in range(0, total, piece):
        for pitch in pitches:
            part.notes.append(
                clock.note(bar, offset, min(piece, total - offset) + 0.5, pitch, velocity)
            )


def _arpeggiate(
    part: Part,
    genre: str,
    bar: int,
    voicing: tuple[int, ...],
    clock: _Clock,
    rng: np.random.Generator,
) -> None:
    tones = [*voicing, *(p + 12 for p in voicing)]
    if genre == "ambient":
        for step in range(0, STEPS_PER_BAR, 4):
            if rng.random() < 0.6:
                part.notes.append(clock.note(bar, step, 6, int(rng.choice(tones)) + 12, 0.5))
        return
    rate, length = (2, 2) if genre == "cinematic" else (1, 1)
    octave = -12 if genre == "cinematic" else 12
    for index, step in enumerate(range(0, STEPS_PER_BAR, rate)):
        pitch = tones[index % len(tones)] + octave
        part.notes.append(clock.note(bar, step, length, pitch, 0.8 if step % 4 == 0 else 0.6))


def _write_melody(
    lead: Part,
    plan: CompositionPlan,
    style: GenreStyle,
    section: Section,
    motif: Motif,
    clock: _Clock,
    rng: np.random.Generator,
) -> None:
    if style.melody_density <= 0:
        return
    plays = section.name in ("verse", "chorus", "bridge") or plan.genre == "ambient"
    if not plays:
        return
    bars_per_phrase = PHRASE_STEPS // STEPS_PER_BAR
    for phrase in range(section.bars // bars_per_phrase):
        local = phrase * bars_per_phrase
        first_bar = section.start_bar + local
        chords = (_chord_at(plan, style, local), _chord_at(plan, style, local + 1))
        variant = (0, 1, 0, 2)[phrase % 4] if section.name != "bridge" else 3
        notes = realize_phrase(
            motif, variant=variant, key=plan.key, chords=chords, rng=rng,
            thin=section.name == "verse" or plan.genre == "ambient",
        )  # fmt: skip
        for note in notes:
            lead.notes.append(
                clock.note(first_bar, note.step, note.length, note.pitch, note.velocity)
            )
