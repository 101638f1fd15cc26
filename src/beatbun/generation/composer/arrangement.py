"""From plan to score: which part plays which note when, section by section and bar by bar.

Sections differ in which layers play (`LAYERS`), how hard (velocities follow the section's
energy over `SECTION_RANGE_DB`), how busy the comping is and in which register. Targets, in
short-term loudness of the mastered track: a chorus or drop at least 3 LU above the verse, a
breakdown at least 6 LU below the drop (measured at 90 s, one seed, all 24 genres: 4.0 to 6.5 LU
and 8 to 15 LU). Builds end in a riser, the first downbeat after one gets an impact, and the
track ends on the tonic, struck together and left to ring. Repeats vary: the lead develops its
motif phrase by phrase, and every other eight bars the chords take an open voicing and the
arpeggio turns around, so no eight bars copy the eight before. Each section draws from its own
random stream, so a section's notes depend only on the plan and the sections before it: an
extension that keeps them plays them note for note.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from beatbun.generation.composer.melody import (
    LEAD_CENTER,
    PHRASE_STEPS,
    Motif,
    create_motif,
    phrase_variant,
    realize_phrase,
)
from beatbun.generation.composer.patterns import KICKS, bass_line, comp_notes, drum_hits
from beatbun.generation.composer.plan import (
    BEATS_PER_BAR,
    STEPS_PER_BAR,
    CompositionPlan,
    Section,
)
from beatbun.generation.composer.styles import GENRES, GenreStyle
from beatbun.generation.composer.theory import Chord, build_chord, voice_lead

MAX_HOLD_SECONDS = 2.7
# The final chord is struck at least this long before the end and rings out.
ENDING_SECONDS = 2.5
# A riser sweeps over the last bars of a build, at most this long (the render lets a note
# ring up to 4 s past the chunk it starts in).
RISER_SECONDS = 3.5
SECTION_RANGE_DB = 9.0
# Which stem each melodic part goes to; every drum goes to `drums`.
STEM_OF_PART = {
    "bass": "bass",
    "chords": "harmony",
    "arp": "harmony",
    "left_hand": "harmony",
    "lead": "lead",
    "right_hand": "lead",
    "pad": "pads",
    "riser": "pads",
    "impact": "pads",
}


@dataclass(slots=True)
class Note:
    start: int
    hold: int
    pitch: int
    velocity: float


@dataclass(slots=True)
class Part:
    """One voice in the mix, with its placement, sends and stem (drums, bass, harmony, lead or
    pads)."""

    name: str
    voice: str
    is_drum: bool
    level: float
    stem: str
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


@dataclass(frozen=True, slots=True)
class Layers:
    """What plays besides the chords, which play everywhere: `lead` is `full`, `thin` (strong
    beats only) or `none`."""

    drums: bool
    bass: bool
    lead: str
    pad: bool
    arp: bool


LAYERS = {
    "intro": Layers(drums=True, bass=False, lead="none", pad=True, arp=False),
    "verse": Layers(drums=True, bass=True, lead="thin", pad=False, arp=False),
    "prechorus": Layers(drums=True, bass=True, lead="thin", pad=True, arp=True),
    "chorus": Layers(drums=True, bass=True, lead="full", pad=True, arp=True),
    "bridge": Layers(drums=True, bass=True, lead="full", pad=True, arp=False),
    "breakdown": Layers(drums=False, bass=False, lead="thin", pad=True, arp=False),
    "build": Layers(drums=True, bass=True, lead="none", pad=False, arp=True),
    "drop": Layers(drums=True, bass=True, lead="full", pad=True, arp=True),
    "outro": Layers(drums=True, bass=True, lead="none", pad=True, arp=False),
}
# Forms whose verse is the tune itself (a jazz head, an ambient line), not a thinner lead-in.
_FULL_VERSE_FORMS = ("jazz", "ambient")


def arrange(plan: CompositionPlan) -> Score:
    """Write every note of the track; the same plan always yields the same score."""
    style = GENRES[plan.genre]
    parts = _Band(plan, style)
    motifs = {
        name: create_motif(np.random.default_rng([plan.seed, 2, 0, index]), density=density)
        for index, (name, density) in enumerate(
            (("verse", style.melody_density), ("chorus", min(1.0, style.melody_density + 0.15)))
        )
    }
    step_samples = plan.sample_rate * 60.0 / plan.bpm / 4.0
    occurrences: Counter[str] = Counter()
    previous_voicing: tuple[int, ...] | None = None
    previous_name = ""
    for index, section in enumerate(plan.sections):
        rng = np.random.default_rng([plan.seed, 2, 1 + index])
        clock = _Clock(step_samples, style, rng)
        writer = _SectionWriter(
            plan, style, parts, section, clock, rng, occurrence=occurrences[section.name]
        )
        occurrences[section.name] += 1
        is_last = index == len(plan.sections) - 1
        written = parts.note_counts()
        previous_voicing = writer.bars(previous_voicing, is_last=is_last, after=previous_name)
        writer.melody(motifs)
        if is_last:
            writer.ending(previous_voicing, written=written)
        previous_name = section.name
    return parts.score()


class _Band:
    """The parts of one track, built from the genre's voices and drum kit."""

    def __init__(self, plan: CompositionPlan, style: GenreStyle) -> None:
        voices = plan.voices
        reverb_scale = style.reverb / 0.3
        ducked = style.sidechain > 0
        self._drum_reverb = reverb_scale
        self.drums: dict[str, Part] = {}
        self.is_solo_piano = set(voices.values()) == {"piano"}
        if self.is_solo_piano:
            # Solo piano: the left hand takes bass and chords, the right hand the tune.
            left = Part("left_hand", "piano", False, 0.34, "harmony", pan=-0.1,
                        reverb=0.35 * reverb_scale)  # fmt: skip
            self.bass = self.chords = left
            self.lead = Part("right_hand", "piano", False, 0.42, "lead", pan=0.1,
                             reverb=0.35 * reverb_scale)  # fmt: skip
        else:
            self.bass = Part("bass", voices["bass"], False, 0.3, "bass", reverb=0.04,
                             ducked=ducked)  # fmt: skip
            self.chords = Part("chords", voices["chords"], False, 0.3, "harmony", pan=-0.15,
                               reverb=0.4 * reverb_scale, ducked=ducked, wide=True)  # fmt: skip
            self.lead = Part("lead", voices["lead"], False, 0.42, "lead", pan=0.1,
                             reverb=0.35 * reverb_scale, delay=style.delay)  # fmt: skip
        self.pad = (
            Part("pad", voices["pad"], False, 0.2, "pads", reverb=0.6 * reverb_scale,
                 ducked=ducked, wide=True)
            if "pad" in voices else None
        )  # fmt: skip
        self.arp = (
            Part("arp", voices["arp"], False, 0.22, "harmony", pan=0.3, reverb=0.3,
                 delay=style.delay * 1.2, ducked=ducked, wide=True)
            if "arp" in voices else None
        )  # fmt: skip
        self.riser = Part("riser", "riser", False, 0.25, "pads", reverb=0.5, wide=True)
        self.impact = Part("impact", "impact", False, 0.5, "pads", reverb=0.6)

    def drum(self, name: str) -> Part:
        """The part of drum `name`, placed by its mix (reverb scaled by the genre's)."""
        part = self.drums.get(name)
        if part is None:
            pan, reverb, level = _DRUM_MIX[name]
            part = Part(f"drums:{name}", name, True, level, "drums", pan=pan,
                        reverb=reverb * self._drum_reverb)  # fmt: skip
            self.drums[name] = part
        return part

    def note_counts(self) -> dict[str, int]:
        """How many notes each part has so far, for `cut`."""
        return {part.name: len(part.notes) for part in self._all()}

    def cut(self, at: int, *, since: dict[str, int]) -> None:
        """Drop the notes written after `since` (see `note_counts`) that start at `at` or later."""
        for part in self._all():
            kept = since.get(part.name, 0)
            part.notes[kept:] = [n for n in part.notes[kept:] if n.start < at]

    def _all(self) -> list[Part]:
        melodic = (self.bass, self.chords, self.lead, self.pad, self.arp, self.riser, self.impact)
        parts = list(self.drums.values())
        for part in melodic:
            # Solo piano's left hand is both bass and chords: count it once.
            if part is not None and all(part is not p for p in parts):
                parts.append(part)
        return parts

    def score(self) -> Score:
        parts = tuple(part for part in self._all() if part.notes)
        kicks = tuple(
            sorted(n.start for name, p in self.drums.items() if name in KICKS for n in p.notes)
        )
        return Score(parts=parts, kick_starts=kicks)


# Pan, reverb send, level for each drum; reverb sends are scaled by the genre's reverb amount.
_DRUM_MIX = {
    "kick": (0.0, 0.0, 0.55), "snare": (0.0, 0.5, 0.7), "clap": (0.05, 0.5, 0.65),
    "hat_closed": (0.25, 0.1, 0.5), "hat_open": (0.25, 0.2, 0.42), "hat_pedal": (-0.2, 0.1, 0.4),
    "ride": (0.3, 0.3, 0.42), "crash": (-0.2, 0.4, 0.35), "rim": (-0.25, 0.4, 0.45),
    "shaker": (-0.35, 0.2, 0.42), "brush": (-0.1, 0.3, 0.4), "taiko": (0.0, 0.6, 0.6),
    "timpani": (0.0, 0.6, 0.6), "tom": (0.15, 0.4, 0.55), "vinyl": (0.0, 0.0, 0.5),
    "cowbell": (0.2, 0.3, 0.4), "conga": (0.3, 0.3, 0.5), "bongo": (-0.3, 0.3, 0.45),
    "tambourine": (-0.3, 0.2, 0.4), "snap": (0.05, 0.5, 0.6), "chip_kick": (0.0, 0.0, 0.55),
    "chip_snare": (0.0, 0.2, 0.6), "chip_hat": (0.2, 0.1, 0.4), "kick_808": (0.0, 0.0, 0.55),
    "snare_tight": (0.0, 0.4, 0.65),
}  # fmt: skip


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


class _SectionWriter:
    """Writes one section's notes into the band's parts."""

    def __init__(
        self,
        plan: CompositionPlan,
        style: GenreStyle,
        band: _Band,
        section: Section,
        clock: _Clock,
        rng: np.random.Generator,
        *,
        occurrence: int,
    ) -> None:
        self.plan = plan
        self.style = style
        self.band = band
        self.section = section
        self.clock = clock
        self.rng = rng
        self.layers = LAYERS[section.name]
        self.occurrence = occurrence
        # Louder sections play harder as well as fuller: 9 dB from energy 0 to 1, so with the
        # layers a chorus or drop stands at least 3 LU above its verse.
        self.gain = 10.0 ** (-SECTION_RANGE_DB * (1.0 - section.energy) / 20.0)

    def bars(
        self,
        previous_voicing: tuple[int, ...] | None,
        *,
        is_last: bool,
        after: str,
    ) -> tuple[int, ...] | None:
        """Drums, bass, chords, pad and arpeggio bar by bar; returns the last chord voicing."""
        plan, style, band, section, layers = (
            self.plan,
            self.style,
            self.band,
            self.section,
            self.layers,
        )
        clock, rng = self.clock, self.rng
        low = (48 if band.is_solo_piano else 55) + 3 * section.register
        for bar_in_section in range(section.bars):
            bar = section.start_bar + bar_in_section
            chord = _chord_at(plan, style, bar_in_section)
            next_chord = _chord_at(plan, style, bar_in_section + 1)
            turned = self._is_turned(bar_in_section)
            if layers.drums and style.drums:
                is_phrase_end = bar_in_section % 8 == 7 or bar_in_section == section.bars - 1
                fill = style.fills and is_phrase_end and not is_last and section.bars > 1
                for hit in drum_hits(style, section, bar_in_section, rng, fill=fill):
                    band.drum(hit.drum).notes.append(
                        Note(clock.at(bar, hit.step), 1, 0, hit.velocity * self.gain)
                    )
                if bar_in_section == 0 and section.name in ("chorus", "drop") and after == "build":
                    band.impact.notes.append(clock.note(bar, 0, 16, 36 + plan.key.root, 1.0))
            if layers.bass:
                for step, length, pitch in bass_line(
                    style, chord, next_chord, section, rng, bar_in_section=bar_in_section
                ):
                    self._hold(band.bass, bar, step, length, pitch, 0.85)
            previous_voicing = voice_lead(previous_voicing, chord, low=low, high=low + 24)
            voicing = previous_voicing
            if turned:
                # Every other eight bars the chords open up: the second voice an octave higher.
                # Voice leading only ever gives close position, so this never repeats a bar.
                voicing = tuple(sorted((voicing[0], *voicing[2:], voicing[1] + 12)))
            on_chord = bar_in_section % style.chord_bars == 0
            for step, length, pitch, velocity in comp_notes(
                style, chord=chord, voicing=voicing, section=section,
                bar_in_section=bar_in_section, rng=rng,
            ):  # fmt: skip
                self._hold(band.chords, bar, step, length, pitch, velocity)
            if band.pad is not None and layers.pad and on_chord:
                # The pad carries a breakdown at full strength; elsewhere it follows the energy.
                swell = 1.0 if section.name == "breakdown" else self.gain
                self._sustain(band.pad, bar, voicing, bars=style.chord_bars, velocity=0.7 * swell)
            plays_arp = layers.arp or (not style.drums and section.name in ("verse", "bridge"))
            if band.arp is not None and plays_arp:
                self._arpeggiate(bar, voicing, reverse=turned)
        if section.name == "build":
            self._riser()
        return previous_voicing

    def melody(self, motifs: dict[str, Motif]) -> None:
        plan, style, section = self.plan, self.style, self.section
        if style.melody_density <= 0 or self.layers.lead == "none":
            return
        thin = self.layers.lead == "thin" and not (
            section.name == "verse" and plan.form in _FULL_VERSE_FORMS
        )
        motif = motifs["chorus" if section.name in ("chorus", "drop") else "verse"]
        center = LEAD_CENTER + 4 * section.register
        bars_per_phrase = PHRASE_STEPS // STEPS_PER_BAR
        # The bridge starts from the verse's motif upside down (see melody.DEVELOPMENT).
        offset = 6 if section.name == "bridge" else 0
        for phrase in range(section.bars // bars_per_phrase):
            local = phrase * bars_per_phrase
            first_bar = section.start_bar + local
            chords = (_chord_at(plan, style, local), _chord_at(plan, style, local + 1))
            notes = realize_phrase(
                motif, variant=phrase_variant(phrase + offset, occurrence=self.occurrence),
                key=plan.key, chords=chords, rng=self.rng, center=center, thin=thin,
            )  # fmt: skip
            velocity = self.gain * (0.8 if section.name == "breakdown" else 1.0)
            for note in notes:
                self.band.lead.notes.append(
                    self.clock.note(
                        first_bar, note.step, note.length, note.pitch, note.velocity * velocity
                    )
                )

    def ending(self, previous: tuple[int, ...] | None, *, written: dict[str, int]) -> None:
        """The tonic struck together on the last beat `ENDING_SECONDS` or more before the end,
        left to ring; this section's notes from that beat on give way to it."""
        plan, band, clock = self.plan, self.band, self.clock
        bar, step = _ending_at(plan, self.section)
        # Half a step early, so notes played a touch ahead of that beat go too.
        band.cut(clock.at(bar, step) - round(clock.step_samples / 2), since=written)
        tonic = build_chord(plan.key, 0, size=3)
        low = 48 if band.is_solo_piano else 55
        voicing = voice_lead(previous, tonic, low=low, high=low + 24)
        steps = max(1.0, (plan.frames - clock.at(bar, step)) / clock.step_samples)
        root = 36 + (tonic.root - 36) % 12
        if self.style.drums:
            for drum in ("kick", "crash"):
                band.drum(drum).notes.append(Note(clock.at(bar, step), 1, 0, 0.95))
        band.bass.notes.append(clock.note(bar, step, steps, root, 0.85))
        for pitch in voicing:
            band.chords.notes.append(clock.note(bar, step, steps, pitch, 0.8))
        if band.pad is not None:
            for pitch in voicing:
                band.pad.notes.append(clock.note(bar, step, steps, pitch, 0.6))
        if self.style.melody_density > 0:
            top = plan.key.degree_pitch(0, octave=5)
            band.lead.notes.append(clock.note(bar, step, steps, top, 0.75))

    def _is_turned(self, bar_in_section: int) -> bool:
        return (bar_in_section // 8 + self.occurrence) % 2 == 1

    def _hold(
        self, part: Part, bar: int, step: float, length: float, pitch: int, velocity: float
    ) -> None:
        """One note, split into re-struck pieces where it would outlast the render tail."""
        piece = max(4, int(MAX_HOLD_SECONDS * 44100 / self.clock.step_samples))
        offset = 0.0
        while offset < length:
            part.notes.append(
                self.clock.note(
                    bar, step + offset, min(piece, length - offset), pitch, velocity * self.gain
                )
            )
            offset += piece

    def _sustain(
        self, part: Part, bar: int, pitches: tuple[int, ...], *, bars: int, velocity: float
    ) -> None:
        """Hold a chord for `bars` bars, re-striking it where a note would outlast the tail."""
        total = min(bars, self.section.start_bar + self.section.bars - bar) * STEPS_PER_BAR
        piece = max(4, min(total, int(MAX_HOLD_SECONDS * 44100 / self.clock.step_samples)))
        for offset in range(0, total, piece):
            for pitch in pitches:
                part.notes.append(
                    self.clock.note(bar, offset, min(piece, total - offset) + 0.5, pitch, velocity)
                )

    def _arpeggiate(self, bar: int, voicing: tuple[int, ...], *, reverse: bool) -> None:
        arp, clock, rng, genre = self.band.arp, self.clock, self.rng, self.plan.genre
        if arp is None:
            return
        tones = [*voicing, *(p + 12 for p in voicing)]
        if reverse:
            tones.reverse()
        density = self.section.density
        if genre == "ambient":
            # Loose bell-like tones, as many as the section is dense.
            for step in range(0, STEPS_PER_BAR, 4):
                if rng.random() < density:
                    arp.notes.append(clock.note(bar, step, 6, int(rng.choice(tones)) + 12, 0.5))
            return
        # Sixteenths in the densest sections, eighths elsewhere (orchestral ostinati always).
        rate = 2 if genre == "cinematic" or density < 0.8 else 1
        octave = -12 if genre == "cinematic" else 12
        for index, step in enumerate(range(0, STEPS_PER_BAR, rate)):
            pitch = tones[index % len(tones)] + octave
            velocity = (0.8 if step % 4 == 0 else 0.6) * self.gain
            arp.notes.append(clock.note(bar, step, rate, pitch, velocity))

    def _riser(self) -> None:
        """A sweep over the build's last bars, ending on the next section's downbeat."""
        section, clock = self.section, self.clock
        seconds_per_step = clock.step_samples / self.plan.sample_rate
        steps = min(section.bars * STEPS_PER_BAR, math.floor(RISER_SECONDS / seconds_per_step))
        end = (section.start_bar + section.bars) * STEPS_PER_BAR
        start = clock.at(0, end - steps)
        hold = round(steps * clock.step_samples)
        self.band.riser.notes.append(Note(start, hold, 60 + self.plan.key.root, 0.9))


def _chord_at(plan: CompositionPlan, style: GenreStyle, bar_in_section: int) -> Chord:
    degree = plan.progression[(bar_in_section // style.chord_bars) % len(plan.progression)]
    return build_chord(plan.key, degree, size=style.chord_size_at(degree))


def _ending_at(plan: CompositionPlan, section: Section) -> tuple[int, int]:
    """(bar, step) of the final chord: the last beat `ENDING_SECONDS` before the end, or the
    section's first if it is shorter than that."""
    beat_seconds = plan.bar_seconds / BEATS_PER_BAR
    seconds = plan.frames / plan.sample_rate
    beat = math.floor((seconds - ENDING_SECONDS) / beat_seconds + 1e-9)
    bar, beat_in_bar = divmod(max(beat, section.start_bar * BEATS_PER_BAR), BEATS_PER_BAR)
    return bar, beat_in_bar * STEPS_PER_BAR // BEATS_PER_BAR
