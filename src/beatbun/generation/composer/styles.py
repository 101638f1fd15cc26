"""Genre definitions: tempo ranges, forms, progressions, drum patterns, parts and voices."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class DrumLine:
    """One drum voice over a bar of 16 steps: `x` accent, `o` normal, `g` ghost, `.` rest."""

    drum: str
    pattern: str
    min_energy: float = 0.0


@dataclass(frozen=True, slots=True)
class GenreStyle:
    """Everything that makes a genre sound like itself; progressions are 0-based scale degrees.

    `bass` and `comp` name patterns in `patterns.py`; `form` names a form in `forms.py`.
    `fill_drums` play the fills at phrase ends (the first also rolls in builds); empty means
    the genre never fills.
    """

    name: str
    tempo: tuple[int, int]
    mode: str
    progressions: Mapping[str, tuple[tuple[int, ...], ...]]
    chord_size: int
    drums: tuple[DrumLine, ...]
    bass: str
    comp: str
    voices: Mapping[str, str]
    keys: tuple[str, ...]
    form: str
    melody_density: float = 0.5
    swing: float = 0.0
    sidechain: float = 0.0
    reverb: float = 0.25
    delay: float = 0.1
    chord_bars: int = 1
    trap_hats: bool = False
    fill_drums: tuple[str, ...] = ("snare", "tom")

    @property
    def fills(self) -> bool:
        return bool(self.drums and self.fill_drums)

    def chord_size_at(self, degree: int) -> int:
        """Thirds stacked on `degree`: the genre's `chord_size`, but the tonic stays a triad.

        A tonic seventh holds the triad of another key (Imaj7 the mediant's minor, i7 the
        relative major), and the ear and key finders then hear that key instead.
        """
        return 3 if degree % 7 == 0 else self.chord_size


# Every progression starts on the tonic and its last chord leads back to it (V, IV or bVII),
# so the key is clear from the harmony alone.
_MAJOR_POP = ((0, 4, 5, 3), (0, 5, 3, 4), (0, 3, 0, 4))
_MINOR_POP = ((0, 5, 6, 0), (0, 5, 3, 4), (0, 3, 6, 0))
_MAJOR_ROCK = ((0, 3, 4, 3), (0, 4, 3, 0), (0, 3, 0, 4))
_MINOR_ROCK = ((0, 5, 6, 0), (0, 0, 5, 6), (0, 3, 5, 4))
_MAJOR_JAZZ = ((0, 5, 1, 4), (0, 3, 1, 4), (0, 2, 1, 4))
_MINOR_JAZZ = ((0, 3, 1, 4), (0, 5, 1, 4))
_MINOR_CLUB = ((0, 0, 5, 6), (0, 3, 6, 0), (0, 5, 6, 6))
_MAJOR_CLUB = ((0, 3, 0, 4), (0, 5, 3, 4))
_MAJOR_FOLK = ((0, 3, 0, 4), (0, 4, 3, 0), (0, 5, 3, 4))
_MAJOR_SOUL = ((0, 5, 1, 4), (0, 3, 1, 4), (0, 1, 3, 4))
_MINOR_SOUL = ((0, 5, 3, 4), (0, 3, 5, 4), (0, 5, 4, 0))
_BACKBEAT = "....x.......x..."

GENRES: dict[str, GenreStyle] = {
    "pop": GenreStyle(
        name="pop", tempo=(96, 124), mode="major", form="song",
        progressions={"major": _MAJOR_POP, "minor": _MINOR_POP}, chord_size=3,
        drums=(
            DrumLine("kick", "x......ox......."),
            DrumLine("snare", _BACKBEAT, 0.5),
            DrumLine("clap", _BACKBEAT, 0.9),
            DrumLine("hat_closed", "o.g.o.g.o.g.o.g.", 0.3),
            DrumLine("shaker", "gogggogggogggogg", 0.9),
        ),
        bass="pop", comp="broken", keys=("C", "G", "D", "F", "A", "E"),
        voices={"chords": "piano", "bass": "synth_bass", "lead": "pluck_lead", "pad": "pad"},
        melody_density=0.6, sidechain=0.2, reverb=0.25, delay=0.15,
    ),
    "rock": GenreStyle(
        name="rock", tempo=(100, 140), mode="major", form="song",
        progressions={"major": _MAJOR_ROCK, "minor": _MINOR_ROCK}, chord_size=3,
        drums=(
            DrumLine("kick", "x.......x.x....."),
            DrumLine("snare", _BACKBEAT, 0.3),
            DrumLine("hat_closed", "x.o.x.o.x.o.x.o.", 0.3),
            DrumLine("ride", "x.o.x.o.x.o.x.o.", 0.95),
        ),
        bass="root8", comp="power", keys=("E", "A", "D", "G"),
        voices={"chords": "distorted_guitar", "bass": "pick_bass", "lead": "guitar_lead"},
        melody_density=0.5, reverb=0.18, delay=0.06, fill_drums=("tom", "snare"),
    ),
    "metal": GenreStyle(
        name="metal", tempo=(90, 180), mode="minor", form="song",
        progressions={"minor": _MINOR_ROCK, "major": _MAJOR_ROCK},
        chord_size=3,
        drums=(
            DrumLine("kick", "x.x...x.x.x...x."),
            DrumLine("kick", "xxxxxxxxxxxxxxxx", 0.95),
            DrumLine("snare", _BACKBEAT, 0.3),
            DrumLine("hat_closed", "x.x.x.x.x.x.x.x.", 0.3),
            DrumLine("ride", "x...x...x...x...", 0.95),
        ),
        bass="gallop", comp="gallop", keys=("E", "D", "C#", "B"),
        voices={"chords": "distorted_guitar", "bass": "pick_bass", "lead": "distorted_guitar"},
        melody_density=0.45, reverb=0.15, delay=0.05, fill_drums=("tom", "snare"),
    ),
    "punk": GenreStyle(
        name="punk", tempo=(160, 200), mode="major", form="song",
        progressions={"major": _MAJOR_ROCK, "minor": _MINOR_ROCK}, chord_size=3,
        drums=(
            DrumLine("kick", "x...x...x...x..."),
            DrumLine("snare", "..x...x...x...x.", 0.3),
            DrumLine("hat_closed", "x.x.x.x.x.x.x.x.", 0.3),
            DrumLine("ride", "x...x...x...x...", 0.95),
        ),
        bass="punk", comp="punk", keys=("E", "A", "D", "G", "C"),
        voices={"chords": "distorted_guitar", "bass": "pick_bass", "lead": "guitar_lead"},
        melody_density=0.4, reverb=0.12, delay=0.0,
    ),
    "house": GenreStyle(
        name="house", tempo=(120, 126), mode="minor", form="club",
        progressions={"minor": _MINOR_CLUB, "major": _MAJOR_CLUB}, chord_size=4,
        drums=(
            DrumLine("kick", "x...x...x...x..."),
            DrumLine("clap", _BACKBEAT, 0.5),
            DrumLine("hat_open", "..o...o...o...o.", 0.3),
            DrumLine("hat_closed", "g.g.g.g.g.g.g.g.", 0.6),
            DrumLine("shaker", "gogogogogogogogo", 0.9),
        ),
        bass="offbeat", comp="stabs", keys=("A", "F", "C", "G", "D"),
        voices={"chords": "organ", "bass": "synth_bass", "lead": "bell", "pad": "pad"},
        melody_density=0.35, sidechain=0.55, reverb=0.2, delay=0.2, fill_drums=("snare", "clap"),
    ),
    "techno": GenreStyle(
        name="techno", tempo=(128, 138), mode="minor", form="club",
        progressions={"minor": ((0, 0, 0, 0), (0, 0, 6, 0), (0, 5, 0, 6)), "major": ((0, 0, 3, 0),)},
        chord_size=3,
        drums=(
            DrumLine("kick", "x...x...x...x..."),
            DrumLine("hat_open", "..o...o...o...o.", 0.5),
            DrumLine("hat_closed", "gogogogogogogogo", 0.3),
            DrumLine("rim", "...o..o....o.o..", 0.6),
        ),
        bass="rolling", comp="arp", keys=("A", "F", "G", "D", "E"),
        voices={"chords": "stab", "bass": "acid_bass", "lead": "stab", "pad": "dark_pad"},
        melody_density=0.0, sidechain=0.5, reverb=0.3, delay=0.28,
        fill_drums=("snare_tight", "rim"),
    ),
    "dnb": GenreStyle(
        name="dnb", tempo=(170, 176), mode="minor", form="club",
        progressions={"minor": _MINOR_CLUB, "major": _MAJOR_CLUB}, chord_size=4, chord_bars=2,
        drums=(
            DrumLine("kick", "x.........x....."),
            DrumLine("snare", "....x..g..g.x..g", 0.3),
            DrumLine("hat_closed", "o.o.o.o.o.o.o.o.", 0.3),
            DrumLine("ride", "..o...o...o...o.", 0.9),
            DrumLine("shaker", "gggggggggggggggg", 0.6),
        ),
        bass="reese", comp="pad", keys=("F", "G", "A", "D", "E"),
        voices={"chords": "pad", "bass": "reese_bass", "lead": "pluck", "pad": "dark_pad"},
        melody_density=0.3, sidechain=0.3, reverb=0.3, delay=0.25,
        fill_drums=("snare", "snare_tight"),
    ),
    "dubstep": GenreStyle(
        name="dubstep", tempo=(138, 142), mode="minor", form="club",
        progressions={"minor": _MINOR_CLUB, "major": _MAJOR_CLUB}, chord_size=3, chord_bars=2,
        drums=(
            DrumLine("kick", "x.....x........."),
            DrumLine("snare", "........x.......", 0.3),
            DrumLine("clap", "........x.......", 0.9),
            DrumLine("hat_closed", "..o...o...o...o.", 0.3),
            DrumLine("hat_open", "..............o.", 0.9),
        ),
        bass="wobble", comp="pad", keys=("F", "E", "G", "D", "A"),
        voices={"chords": "dark_pad", "bass": "wobble_bass", "lead": "saw_lead"},
        melody_density=0.25, sidechain=0.35, reverb=0.28, delay=0.22,
    ),
    "hiphop": GenreStyle(
        name="hiphop", tempo=(130, 160), mode="minor", form="hiphop",
        progressions={"minor": _MINOR_POP, "major": _MAJOR_POP}, chord_size=3,
        drums=(
            DrumLine("kick_808", "x......x..x....."),
            DrumLine("clap", "........x.......", 0.4),
            DrumLine("hat_closed", "oooooooooooooooo", 0.3),
            DrumLine("hat_open", "..............o.", 0.9),
        ),
        bass="808", comp="pad", keys=("C", "F", "G", "D", "A", "E"),
        voices={"chords": "dark_pad", "bass": "bass_808", "lead": "bell"},
        melody_density=0.45, reverb=0.2, delay=0.18, trap_hats=True,
        fill_drums=("clap", "snare_tight"),
    ),
    "rnb": GenreStyle(
        name="rnb", tempo=(68, 96), mode="minor", form="song",
        progressions={"minor": _MINOR_SOUL, "major": _MAJOR_SOUL}, chord_size=4,
        drums=(
            DrumLine("kick", "x..x...x..x....."),
            DrumLine("snare", _BACKBEAT, 0.3),
            DrumLine("snap", _BACKBEAT, 0.6),
            DrumLine("hat_closed", "o.o.o.ogo.o.o.og", 0.3),
        ),
        bass="rnb", comp="keys", keys=("Eb", "Ab", "Db", "F", "Bb", "C"),
        voices={"chords": "electric_piano", "bass": "synth_bass", "lead": "vibes", "pad": "strings"},
        melody_density=0.5, swing=0.12, sidechain=0.1, reverb=0.3, delay=0.15,
        fill_drums=("snare", "snap"),
    ),
    "funk": GenreStyle(
        name="funk", tempo=(95, 115), mode="minor", form="song",
        progressions={"minor": ((0, 3, 0, 3), (0, 0, 3, 4), (0, 3, 0, 4)),
                      "major": ((0, 3, 0, 4), (0, 0, 3, 4))},
        chord_size=4,
        drums=(
            DrumLine("kick", "x.x.......x..x.."),
            DrumLine("snare", "....x..g.g..x..g"),
            DrumLine("hat_closed", "xgogxgogxgogxgog", 0.3),
            DrumLine("hat_open", "..............o.", 0.8),
            DrumLine("tambourine", "....o.......o...", 0.9),
        ),
        bass="slap", comp="scratch", keys=("E", "A", "D", "G", "C"),
        voices={"chords": "muted_guitar", "bass": "slap_bass", "lead": "brass", "pad": "organ"},
        melody_density=0.45, swing=0.08, reverb=0.15, delay=0.05,
    ),
    "disco": GenreStyle(
        name="disco", tempo=(115, 125), mode="minor", form="song",
        progressions={"minor": _MINOR_SOUL, "major": _MAJOR_SOUL}, chord_size=4,
        drums=(
            DrumLine("kick", "x...x...x...x..."),
            DrumLine("snare", "....x.......x.g.", 0.3),
            DrumLine("hat_open", "..x...x...x...x.", 0.3),
            DrumLine("hat_closed", "o..go..go..go..g", 0.5),
            DrumLine("tambourine", "gogogogogogogogo", 0.9),
        ),
        bass="disco", comp="offbeat", keys=("A", "D", "E", "G", "C"),
        voices={"chords": "clean_guitar", "bass": "pick_bass", "lead": "strings", "pad": "pad"},
        melody_density=0.4, sidechain=0.2, reverb=0.25, delay=0.1, fill_drums=("tom", "snare"),
    ),
    "lofi": GenreStyle(
        name="lofi", tempo=(70, 90), mode="major", form="ballad",
        progressions={"major": _MAJOR_SOUL, "minor": _MINOR_SOUL},
        chord_size=4,
        drums=(
            DrumLine("kick", "x......x.x......"),
            DrumLine("snare", _BACKBEAT, 0.3),
            DrumLine("hat_closed", "o.g.o.g.o.g.o.g.", 0.3),
            DrumLine("vinyl", "x.......x......."),
        ),
        bass="lofi", comp="keys", keys=("F", "C", "Eb", "A", "D", "Bb"),
        voices={"chords": "electric_piano", "bass": "sub_bass", "lead": "piano"},
        melody_density=0.35, swing=0.18, sidechain=0.15, reverb=0.3, delay=0.1,
        fill_drums=("rim", "snare"),
    ),
    "ambient": GenreStyle(
        name="ambient", tempo=(60, 80), mode="major", form="ambient",
        progressions={"major": ((0, 3, 0, 4), (0, 5, 3, 0)), "minor": ((0, 5, 3, 6), (0, 3, 0, 4))},
        chord_size=4, drums=(), bass="drone", comp="pad", keys=("D", "E", "A", "C", "F"),
        voices={"chords": "pad", "bass": "sub_bass", "lead": "bell", "arp": "glass"},
        melody_density=0.2, reverb=0.6, delay=0.35, chord_bars=2, fill_drums=(),
    ),
    "jazz": GenreStyle(
        name="jazz", tempo=(100, 160), mode="major", form="jazz",
        progressions={"major": _MAJOR_JAZZ, "minor": _MINOR_JAZZ}, chord_size=4,
        drums=(
            DrumLine("ride", "x...o.g.x...o.g."),
            DrumLine("hat_pedal", _BACKBEAT),
            DrumLine("kick", "g...g...g...g...", 0.9),
            DrumLine("brush", "..g.....g..g....", 0.5),
        ),
        bass="walking", comp="comp", keys=("F", "Bb", "Eb", "C", "G"),
        voices={"chords": "piano", "bass": "upright_bass", "lead": "sax"},
        melody_density=0.55, swing=0.33, reverb=0.22, delay=0.0, fill_drums=("brush", "tom"),
    ),
    "bossa": GenreStyle(
        name="bossa", tempo=(120, 140), mode="major", form="ballad",
        progressions={"major": ((0, 0, 1, 4), (0, 3, 1, 4), (0, 5, 1, 4)), "minor": _MINOR_JAZZ}, chord_size=4, chord_bars=2,
        drums=(
            DrumLine("kick", "o..go..go..go..g"),
            DrumLine("rim", "x..x..x...x..x.."),
            DrumLine("shaker", "ogogogogogogogog", 0.3),
            DrumLine("hat_closed", "..o...o...o...o.", 0.9),
        ),
        bass="bossa", comp="bossa", keys=("D", "F", "G", "C", "A"),
        voices={"chords": "nylon_guitar", "bass": "upright_bass", "lead": "vibes"},
        melody_density=0.45, reverb=0.25, delay=0.05, fill_drums=("rim", "bongo"),
    ),
    "reggaeton": GenreStyle(
        name="reggaeton", tempo=(88, 100), mode="minor", form="song",
        progressions={"minor": _MINOR_POP, "major": _MAJOR_POP}, chord_size=3,
        drums=(
            DrumLine("kick", "x...x...x...x..."),
            DrumLine("snare", "...x..x....x..x."),
            DrumLine("hat_closed", "o.o.o.o.o.o.o.o.", 0.6),
            DrumLine("clap", "...x..x....x..x.", 0.9),
        ),
        bass="dembow", comp="dembow", keys=("A", "C", "D", "E", "F#", "G"),
        voices={"chords": "pluck", "bass": "sub_bass", "lead": "pluck_lead", "pad": "pad"},
        melody_density=0.55, sidechain=0.15, reverb=0.22, delay=0.15,
    ),
    "afrobeats": GenreStyle(
        name="afrobeats", tempo=(100, 115), mode="minor", form="song",
        progressions={"minor": _MINOR_SOUL, "major": _MAJOR_POP}, chord_size=4,
        drums=(
            DrumLine("kick", "x.....x.x.....x."),
            DrumLine("rim", "..x..x...x..x..."),
            DrumLine("clap", _BACKBEAT, 0.6),
            DrumLine("shaker", "ogogogogogogogog", 0.3),
            DrumLine("conga", "o..go.g.o..go.g.", 0.6),
        ),
        bass="afro", comp="skank", keys=("G", "A", "C", "D", "F"),
        voices={"chords": "marimba", "bass": "log_drum", "lead": "clean_guitar", "pad": "pad"},
        melody_density=0.45, swing=0.1, sidechain=0.15, reverb=0.22, delay=0.12,
        fill_drums=("conga", "bongo"),
    ),
    "country": GenreStyle(
        name="country", tempo=(90, 120), mode="major", form="song",
        progressions={"major": _MAJOR_FOLK, "minor": _MINOR_ROCK}, chord_size=3,
        drums=(
            DrumLine("kick", "x.......x......."),
            DrumLine("rim", _BACKBEAT),
            DrumLine("brush", "o.o.o.o.o.o.o.o.", 0.3),
            DrumLine("snare", "ggggxgggggggxggg", 0.9),
            DrumLine("tambourine", _BACKBEAT, 0.9),
        ),
        bass="country", comp="boomchick", keys=("G", "D", "A", "E", "C"),
        voices={"chords": "acoustic_guitar", "bass": "pick_bass", "lead": "clean_guitar"},
        melody_density=0.5, reverb=0.2, delay=0.08,
    ),
    "folk": GenreStyle(
        name="folk", tempo=(80, 110), mode="major", form="song",
        progressions={"major": _MAJOR_FOLK, "minor": _MINOR_POP}, chord_size=3,
        drums=(
            DrumLine("kick", "x.......x.......", 0.5),
            DrumLine("clap", _BACKBEAT, 0.8),
            DrumLine("shaker", "o.o.o.o.o.o.o.o.", 0.3),
            DrumLine("tambourine", "..o...o...o...o.", 0.9),
        ),
        bass="folk", comp="strum", keys=("G", "D", "C", "A", "E"),
        voices={"chords": "acoustic_guitar", "bass": "upright_bass", "lead": "nylon_guitar"},
        melody_density=0.45, reverb=0.25, delay=0.05, fill_drums=("tambourine", "kick"),
    ),
    "cinematic": GenreStyle(
        name="cinematic", tempo=(80, 110), mode="minor",
        form="cinematic",
        # No dominant: the strings' and brass's overtones already pull the ear a fifth up.
        progressions={"minor": ((0, 5, 3, 0), (0, 5, 0, 3)), "major": ((0, 5, 3, 0), (0, 5, 0, 3))},
        chord_size=3,
        drums=(
            DrumLine("taiko", "x.......x.....o.", 0.5),
            DrumLine("taiko", "....o.o.....o.oo", 0.9),
            DrumLine("timpani", "x...............", 0.3),
        ),
        bass="sustain", comp="pad", keys=("D", "C", "E", "A", "G"),
        voices={"chords": "strings", "bass": "low_strings", "lead": "brass", "arp": "staccato_strings"},
        melody_density=0.4, reverb=0.45, delay=0.0, fill_drums=("taiko", "timpani"),
    ),
    "synthwave": GenreStyle(
        name="synthwave", tempo=(85, 118), mode="minor", form="song",
        progressions={"minor": ((0, 5, 6, 0), (0, 5, 3, 4)), "major": ((0, 4, 5, 3), (0, 3, 0, 4))},
        chord_size=3,
        drums=(
            DrumLine("kick", "x.......x..x...."),
            DrumLine("snare", _BACKBEAT, 0.3),
            DrumLine("hat_closed", "o.o.o.o.o.o.o.o.", 0.5),
        ),
        bass="pump", comp="pad", keys=("A", "E", "F#", "C", "D"),
        voices={"chords": "pad", "bass": "synth_bass", "lead": "saw_lead", "arp": "pluck"},
        melody_density=0.5, sidechain=0.35, reverb=0.4, delay=0.3, fill_drums=("tom", "snare"),
    ),
    "chiptune": GenreStyle(
        name="chiptune", tempo=(120, 160), mode="major", form="song",
        progressions={"major": _MAJOR_POP, "minor": _MINOR_POP}, chord_size=3,
        drums=(
            DrumLine("chip_kick", "x.....x.x......."),
            DrumLine("chip_snare", _BACKBEAT, 0.3),
            DrumLine("chip_hat", "o.g.o.g.o.g.o.g.", 0.5),
        ),
        bass="chip", comp="chip", keys=("C", "G", "D", "A", "F"),
        voices={"chords": "chip_pulse", "bass": "chip_triangle", "lead": "chip_square"},
        melody_density=0.65, reverb=0.05, delay=0.1, fill_drums=("chip_snare", "chip_kick"),
    ),
    "piano": GenreStyle(
        name="piano", tempo=(60, 90), mode="major", form="ballad",
        progressions={"major": _MAJOR_POP, "minor": _MINOR_POP}, chord_size=3,
        drums=(), bass="piano", comp="ballad", keys=("C", "F", "G", "D", "Eb", "A"),
        voices={"chords": "piano", "bass": "piano", "lead": "piano"},
        melody_density=0.45, reverb=0.3, delay=0.0, fill_drums=(),
    ),
}  # fmt: skip
