"""The resolved composition plan: what the composer understood and will play."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from beatbun.generation.composer.theory import Key

BEATS_PER_BAR = 4
STEPS_PER_BAR = 16

# Relative lengths and energy of each section; energy decides which layers play.
SECTION_WEIGHT = {"intro": 1.0, "verse": 2.0, "chorus": 2.0, "bridge": 1.5, "outro": 1.0}
SECTION_ENERGY = {"intro": 0.35, "verse": 0.65, "chorus": 1.0, "bridge": 0.45, "outro": 0.55}


@dataclass(frozen=True, slots=True)
class Section:
    name: str
    start_bar: int
    bars: int
    energy: float


@dataclass(frozen=True, slots=True)
class CompositionPlan:
    """Every musical decision made before any sound: genre, tempo, key, form and voices.

    `sources` says, for genre, mood, bpm and key, whether the value came from a request field,
    the prompt text, or the genre's defaults.
    """

    genre: str
    genre_label: str
    mood: str
    bpm: float
    key: Key
    sections: tuple[Section, ...]
    voices: Mapping[str, str]
    drums: tuple[str, ...]
    progression: tuple[int, ...]
    progression_symbols: tuple[str, ...]
    seed: int
    frames: int
    sample_rate: int
    brightness: float
    sources: Mapping[str, str]

    @property
    def bar_seconds(self) -> float:
        return BEATS_PER_BAR * 60.0 / self.bpm

    @property
    def total_bars(self) -> int:
        return sum(section.bars for section in self.sections)

    def to_dict(self) -> dict[str, object]:
        return {
            "provider": "composer",
            "genre": self.genre,
            "genre_label": self.genre_label,
            "mood": self.mood,
            "bpm": round(self.bpm, 2),
            "key": self.key.label,
            "time_signature": "4/4",
            "duration_seconds": round(self.frames / self.sample_rate, 6),
            "seed": self.seed,
            "instrumental": True,
            "progression": list(self.progression_symbols),
            "sections": [
                {
                    "name": s.name,
                    "start_seconds": round(s.start_bar * self.bar_seconds, 3),
                    "bars": s.bars,
                    "energy": s.energy,
                }
                for s in self.sections
            ],
            "instruments": dict(self.voices),
            "drums": list(self.drums),
            "sources": dict(self.sources),
        }


def plan_sections(*, duration_seconds: float, bpm: float) -> tuple[Section, ...]:
    """Scale intro/verse/chorus/bridge/outro to the duration; the bars cover it completely."""
    bar_seconds = BEATS_PER_BAR * 60.0 / bpm
    total = max(1, math.ceil(duration_seconds / bar_seconds - 1e-9))
    names = _form_for(total)
    unit = 4 if total >= 40 else 2 if total >= 8 else 1
    weights = [SECTION_WEIGHT[name] for name in names]
    scale = total / sum(weights)
    bars = [max(1, round(w * scale / unit) * unit) for w in weights]
    # Absorb rounding in the longest chorus (or the last section), never below one bar.
    target = names.index("chorus") if "chorus" in names else len(names) - 1
    choruses = [i for i, name in enumerate(names) if name == "chorus"]
    if choruses:
        target = choruses[-1]
    bars[target] += total - sum(bars)
    while bars[target] < 1:
        donor = max(range(len(bars)), key=lambda i: bars[i])
        bars[donor] -= 1
        bars[target] += 1
    sections = []
    start = 0
    for name, length in zip(names, bars, strict=True):
        if length > 0:
            sections.append(Section(name, start, length, SECTION_ENERGY[name]))
            start += length
    return tuple(sections)


def _form_for(total_bars: int) -> list[str]:
    if total_bars < 6:
        return ["chorus"]
    if total_bars < 12:
        return ["intro", "chorus", "outro"]
    if total_bars < 24:
        return ["intro", "verse", "chorus", "outro"]
    if total_bars < 48:
        return ["intro", "verse", "chorus", "bridge", "chorus", "outro"]
    repeats = max(2, round(total_bars / 44))
    return ["intro", *(["verse", "chorus"] * repeats), "bridge", "chorus", "outro"]
