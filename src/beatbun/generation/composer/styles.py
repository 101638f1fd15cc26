"""Genre and mood definitions: tempo ranges, progressions, drum patterns, parts and voices."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from beatbun.i18n import N_


@dataclass(frozen=True, slots=True)
class DrumLine:
    """One drum voice over a bar of 16 steps: `x` accent, `o` normal, `g` ghost, `.` rest."""

    drum: str
    pattern: str
    min_energy: float = 0.0


@dataclass(frozen=True, slots=True)
class GenreStyle:
    """Everything that makes a genre sound like itself; progressions are 0-based scale degrees."""

    name: str
    label: str
    tempo: tuple[int, int]
    mode: str
    progressions: Mapping[str, tuple[tuple[int, ...], ...]]
    chord_size: int
    drums: tuple[DrumLine, ...]
    bass: str
    comp: str
    voices: Mapping[str, str]
    keys: tuple[str, ...]
    melody_density: float = 0.5
    swing: float = 0.0
    sidechain: float = 0.0
    reverb: float = 0.25
    delay: float = 0.1
    chord_bars: int = 1
    trap_hats: bool = False
    fills: bool = True
    extras: tuple[str, ...] = field(default=())


_MINOR_POP = ((0, 5, 2, 6), (0, 3, 5, 4), (0, 5, 3, 4))
_MAJOR_POP = ((0, 4, 5, 3), (5, 3, 0, 4), (0, 5, 3, 4))

GENRES: dict[str, GenreStyle] = {
    "pop": GenreStyle(
        name="pop", label=N_("Pop"), tempo=(96, 124), mode="major",
        progressions={"major": _MAJOR_POP, "minor": _MINOR_POP}, chord_size=3,
        drums=(
            DrumLine("kick", "x.......x.o....."),
            DrumLine("snare", "....x.......x...", 0.5),
            DrumLine("clap", "....x.......x...", 0.9),
            DrumLine("hat_closed", "o.g.o.g.o.g.o.g.", 0.3),
            DrumLine("shaker", "gogggogggogggogg", 0.9),
        ),
        bass="pop", comp="broken", keys=("C", "G", "D", "F", "A", "E"),
        voices={"chords": "piano", "bass": "synth_bass", "lead": "pluck_lead", "pad": "pad"},
        melody_density=0.6, sidechain=0.2, reverb=0.25, delay=0.15,
    ),
    "rock": GenreStyle(
        name="rock", label=N_("Rock"), tempo=(100, 150), mode="major",
        progressions={"major": ((0, 3, 4, 3), (0, 4, 5, 3), (5, 3, 0, 4)),
                      "minor": ((0, 5, 6, 0), (0, 6, 5, 6), (0, 3, 6, 5))},
        chord_size=3,
        drums=(
            DrumLine("kick", "x.......x.x....."),
            DrumLine("snare", "....x.......x...", 0.3),
            DrumLine("hat_closed", "x.o.x.o.x.o.x.o.", 0.3),
            DrumLine("ride", "x.o.x.o.x.o.x.o.", 0.95),
        ),
        bass="root8", comp="power", keys=("E", "A", "D", "G"),
        voices={"chords": "power_guitar", "bass": "pick_bass", "lead": "guitar_lead"},
        melody_density=0.5, reverb=0.18, delay=0.06,
    ),
    "house": GenreStyle(
        name="house", label=N_("House"), tempo=(120, 126), mode="minor",
        progressions={"minor": ((0, 5, 2, 6), (0, 3, 6, 2), (0, 6, 5, 6)), "major": ((5, 3, 0, 4), (1, 4, 0, 5))},
        chord_size=4,
        drums=(
            DrumLine("kick", "x...x...x...x..."),
            DrumLine("clap", "....x.......x...", 0.5),
            DrumLine("hat_open", "..o...o...o...o.", 0.3),
            DrumLine("hat_closed", "g.g.g.g.g.g.g.g.", 0.6),
            DrumLine("shaker", "gogogogogogogogo", 0.9),
        ),
        bass="offbeat", comp="stabs", keys=("A", "F", "C", "G", "D"),
        voices={"chords": "organ", "bass": "synth_bass", "lead": "bell", "pad": "pad"},
        melody_density=0.35, sidechain=0.55, reverb=0.2, delay=0.2,
    ),
    "techno": GenreStyle(
        name="techno", label=N_("Techno"), tempo=(126, 138), mode="minor",
        progressions={"minor": ((0, 0, 0, 0), (0, 0, 6, 0), (0, 5, 0, 6)), "major": ((0, 0, 3, 0),)},
        chord_size=3,
        drums=(
            DrumLine("kick", "x...x...x...x..."),
            DrumLine("hat_open", "..o...o...o...o.", 0.5),
            DrumLine("hat_closed", "gogogogogogogogo", 0.3),
            DrumLine("rim", "...o..o....o.o..", 0.6),
            DrumLine("clap", "....o.......o...", 0.9),
        ),
        bass="rolling", comp="arp", keys=("A", "F", "G", "D", "E"),
        voices={"chords": "stab", "bass": "acid_bass", "lead": "stab", "pad": "pad"},
        melody_density=0.0, sidechain=0.5, reverb=0.3, delay=0.28,
    ),
    "hiphop": GenreStyle(
        name="hiphop", label=N_("Hip-hop / trap"), tempo=(130, 160), mode="minor",
        progressions={"minor": _MINOR_POP, "major": ((5, 3, 0, 4),)}, chord_size=3,
        drums=(
            DrumLine("kick", "x......x..x....."),
            DrumLine("clap", "........x.......", 0.4),
            DrumLine("hat_closed", "oooooooooooooooo", 0.3),
            DrumLine("hat_open", "..............o.", 0.9),
        ),
        bass="808", comp="pad", keys=("C", "F", "G", "D", "A", "E"),
        voices={"chords": "dark_pad", "bass": "bass_808", "lead": "bell"},
        melody_density=0.45, reverb=0.2, delay=0.18, trap_hats=True,
    ),
    "lofi": GenreStyle(
        name="lofi", label=N_("Lo-fi"), tempo=(70, 90), mode="major",
        progressions={"major": ((1, 4, 0, 5), (3, 2, 1, 0), (0, 5, 1, 4)), "minor": ((0, 3, 6, 2), (0, 5, 3, 4))},
        chord_size=4,
        drums=(
            DrumLine("kick", "x......x..x....."),
            DrumLine("snare", "....x.......x...", 0.3),
            DrumLine("hat_closed", "o.g.o.g.o.g.o.g.", 0.3),
            DrumLine("vinyl", "x.......x......."),
        ),
        bass="lofi", comp="keys", keys=("F", "C", "Eb", "A", "D", "Bb"),
        voices={"chords": "electric_piano", "bass": "sub_bass", "lead": "piano"},
        melody_density=0.35, swing=0.18, sidechain=0.15, reverb=0.3, delay=0.1,
    ),
    "ambient": GenreStyle(
        name="ambient", label=N_("Ambient"), tempo=(60, 80), mode="major",
        progressions={"major": ((0, 3, 5, 4), (0, 5, 3, 3)), "minor": ((0, 5, 3, 6), (0, 3, 0, 5))},
        chord_size=4, drums=(), bass="drone", comp="pad", keys=("D", "E", "A", "C", "F"),
        voices={"chords": "pad", "bass": "sub_bass", "lead": "bell", "arp": "glass"},
        melody_density=0.2, reverb=0.6, delay=0.35, chord_bars=2, fills=False,
    ),
    "jazz": GenreStyle(
        name="jazz", label=N_("Jazz"), tempo=(110, 170), mode="major",
        progressions={"major": ((1, 4, 0, 0), (1, 4, 0, 5), (0, 5, 1, 4)), "minor": ((1, 4, 0, 0), (0, 3, 1, 4))},
        chord_size=4,
        drums=(
            DrumLine("ride", "x...o.g.x...o.g."),
            DrumLine("hat_pedal", "....o.......o..."),
            DrumLine("kick", "g...g...g...g...", 0.9),
            DrumLine("brush", "..g.....g..g....", 0.5),
        ),
        bass="walking", comp="comp", keys=("F", "Bb", "Eb", "C", "G"),
        voices={"chords": "piano", "bass": "upright_bass", "lead": "vibes"},
        melody_density=0.55, swing=0.33, reverb=0.22, delay=0.0, fills=False,
    ),
    "cinematic": GenreStyle(
        name="cinematic", label=N_("Orchestral / cinematic"), tempo=(80, 110), mode="minor",
        progressions={"minor": ((0, 5, 2, 6), (0, 5, 3, 4), (0, 3, 5, 6)), "major": ((0, 4, 5, 3), (0, 3, 0, 4))},
        chord_size=3,
        drums=(
            DrumLine("taiko", "x.......x.....o.", 0.5),
            DrumLine("taiko", "....o.o.....o.oo", 0.9),
            DrumLine("timpani", "x...............", 0.3),
        ),
        bass="sustain", comp="pad", keys=("D", "C", "E", "A", "G"),
        voices={"chords": "strings", "bass": "low_strings", "lead": "brass", "arp": "staccato_strings"},
        melody_density=0.4, reverb=0.45, delay=0.0,
    ),
    "synthwave": GenreStyle(
        name="synthwave", label=N_("Synthwave"), tempo=(85, 118), mode="minor",
        progressions={"minor": ((0, 5, 2, 6), (0, 5, 3, 4)), "major": ((5, 3, 0, 4), (0, 4, 5, 3))},
        chord_size=3,
        drums=(
            DrumLine("kick", "x...x...x...x..."),
            DrumLine("snare", "....x.......x...", 0.3),
            DrumLine("hat_closed", "o.o.o.o.o.o.o.o.", 0.5),
        ),
        bass="pump", comp="pad", keys=("A", "E", "F#", "C", "D"),
        voices={"chords": "pad", "bass": "synth_bass", "lead": "saw_lead", "arp": "pluck"},
        melody_density=0.5, sidechain=0.35, reverb=0.4, delay=0.3,
    ),
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Mood:
    """How a mood colours a genre: preferred mode, tempo lean (-1 slower..1 faster), brightness."""

    name: str
    mode: str | None
    tempo_lean: float
    brightness: float


MOODS: dict[str, Mood] = {
    "happy": Mood("happy", "major", 0.4, 1.2),
    "sad": Mood("sad", "minor", -0.6, 0.8),
    "dark": Mood("dark", "minor", 0.0, 0.7),
    "chill": Mood("chill", None, -0.5, 0.85),
    "epic": Mood("epic", "minor", 0.2, 1.1),
    "energetic": Mood("energetic", None, 0.7, 1.2),
    "dreamy": Mood("dreamy", "major", -0.3, 0.9),
    "romantic": Mood("romantic", "major", -0.3, 0.95),
    "neutral": Mood("neutral", None, 0.0, 1.0),
}
