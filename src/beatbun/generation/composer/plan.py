"""The resolved composition plan: what the composer understood and will play."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from beatbun.generation.composer.theory import Key

BEATS_PER_BAR = 4
STEPS_PER_BAR = 16

# Plans of another version cannot be rendered again note for note (stems, MIDI).
COMPOSER_VERSION = 2


@dataclass(frozen=True, slots=True)
class Section:
    """A stretch of the form: `energy` decides which layers play and how hard, `density` how
    busy the figuration is (0..1), `register` moves the lead and chords up (+1) or down (-1)."""

    name: str
    start_bar: int
    bars: int
    energy: float
    density: float
    register: int


@dataclass(frozen=True, slots=True)
class CompositionPlan:
    """Every musical decision made before any sound: genre, tempo, key, form and voices.

    `sources` says, for genre, mood, bpm and key, whether the value came from a request field,
    the prompt text, or the genre's defaults.
    """

    genre: str
    genre_label: str
    form: str
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
    # What the prompt said, phrase by phrase ("ballad -> genre piano"), the content words it
    # did not understand, and, when it named no genre, the rule that chose one
    # ("instrument:piano", "mood:chill", "tempo:174" or "default"; see composer.prompt).
    understood: tuple[str, ...] = ()
    unknown: tuple[str, ...] = ()
    genre_rule: str | None = None

    @property
    def bar_seconds(self) -> float:
        return BEATS_PER_BAR * 60.0 / self.bpm

    @property
    def total_bars(self) -> int:
        return sum(section.bars for section in self.sections)

    def to_dict(self) -> dict[str, object]:
        return {
            "provider": "composer",
            "composer_version": COMPOSER_VERSION,
            "genre": self.genre,
            "genre_label": self.genre_label,
            "form": self.form,
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
                    "density": s.density,
                    "register": s.register,
                }
                for s in self.sections
            ],
            "instruments": dict(self.voices),
            "drums": list(self.drums),
            "sources": dict(self.sources),
            "understood": list(self.understood),
            "unknown": list(self.unknown),
            "genre_rule": self.genre_rule,
        }
