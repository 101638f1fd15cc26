"""The one catalogue of genres, moods and instruments, and the words people use for them.

The composer reads prompts through it, the studio draws its chips from it, the library and
the gallery label tracks with it, and requests are checked against it. Words are written in
English, German and French, lower case; `fold` compares them without accents, so "ré" and
"re", "Klavier" and "klavier" match alike. A phrase may also be written with hyphens or
without its spaces ("hip hop", "hip-hop", "hiphop" are one entry).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Literal

from beatbun.i18n import N_

InstrumentRole = Literal["melody", "bass", "drums"]


@dataclass(frozen=True, slots=True)
class Genre:
    """A genre the composer makes; `words` name it, its sub-genres and the scenes it suits."""

    id: str
    label: str
    description: str
    words: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Mood:
    """How a mood colours a genre: preferred mode, tempo lean (-1 slower..1 faster), brightness.

    `genre` is the genre a prompt with this mood and no genre gets (see `composer.prompt`).
    """

    id: str
    label: str
    words: tuple[str, ...]
    mode: str | None
    tempo_lean: float
    brightness: float
    genre: str


@dataclass(frozen=True, slots=True)
class Instrument:
    """An instrument a prompt can ask for and the composer voice that plays it.

    `voice` None keeps the genre's own (drums, bass) or, for a plain guitar, takes the
    genre's guitar (`GUITAR_BY_GENRE`). `harmonic` instruments also play the chords. `genre`
    is the genre a prompt naming this instrument and no genre gets; `chip` puts it in the
    studio's choices.
    """

    id: str
    label: str
    words: tuple[str, ...]
    voice: str | None
    role: InstrumentRole = "melody"
    harmonic: bool = False
    genre: str | None = None
    chip: bool = False


GENRES: dict[str, Genre] = {
    genre.id: genre
    for genre in (
        Genre("pop", N_("Pop"), N_("Catchy songs with a big chorus"), (
            "pop", "pop song", "popsong", "k-pop", "j-pop", "charts", "radio", "mainstream",
            "dance pop", "electropop", "indie pop", "popmusik", "schlager", "chanson pop",
            "eurovision", "boy band", "girl group",
        )),
        Genre("rock", N_("Rock"), N_("Guitars, bass and drums, played loud"), (
            "rock", "rock and roll", "rock n roll", "rock'n'roll", "hard rock", "classic rock",
            "indie", "indie rock", "alternative", "alt rock", "grunge", "garage rock", "garage",
            "stoner", "shoegaze", "emo", "blues", "blues rock", "britpop", "power ballad",
            "rockmusik", "rockig", "post rock", "surf",
        )),
        Genre("metal", N_("Metal"), N_("Heavy distorted riffs and double kicks"), (
            "metal", "heavy metal", "thrash", "death metal", "black metal", "doom", "metalcore",
            "djent", "nu metal", "power metal", "headbanging", "headbang",
        )),
        Genre("punk", N_("Punk"), N_("Fast, short and raw"), (
            "punk", "punk rock", "pop punk", "hardcore", "skate punk", "ska", "ska punk",
            "skatepark", "skate",
        )),
        Genre("house", N_("House"), N_("Four on the floor, warm chords, made for dancing"), (
            "house", "deep house", "tech house", "progressive house", "soulful house", "uk garage",
            "garage house", "tropical house", "edm", "dance", "club", "dancefloor",
            "dance music", "tanzmusik", "musique de danse", "workout", "gym", "fitness",
            "clubbing", "electronic", "electronica", "elektronisch", "electronique",
        )),
        Genre("techno", N_("Techno"), N_("Driving, hypnotic machine rhythms"), (
            "techno", "rave", "industrial", "warehouse", "minimal", "acid", "trance",
            "hardstyle", "hard techno", "berghain", "detroit", "schranz", "electro", "elektro",
        )),
        Genre("dnb", N_("Drum and bass"), N_("Fast breakbeats over deep bass"), (
            "drum and bass", "drum & bass", "drum n bass", "drum'n'bass", "dnb", "d&b",
            "jungle", "liquid", "neurofunk", "breakbeat", "running", "jogging",
        )),
        Genre("dubstep", N_("Dubstep"), N_("Half-time beats and wobbling bass drops"), (
            "dubstep", "brostep", "riddim", "wobble", "bass music", "dub",
        )),
        Genre("hiphop", N_("Hip-hop / trap"), N_("Beats for rapping: 808s, snappy drums"), (
            "hip hop", "rap", "deutschrap", "trap", "drill", "boom bap", "grime", "phonk", "rap beat",
            "cypher", "sprechgesang", "rappeur",
        )),
        Genre("rnb", N_("R&B / soul"), N_("Smooth grooves, lush chords, soulful"), (
            "r&b", "rnb", "r and b", "rhythm and blues", "soul", "neo soul", "motown",
            "gospel", "slow jam", "soulful",
        )),
        Genre("funk", N_("Funk"), N_("Tight syncopated grooves, slap bass, scratchy guitar"), (
            "funk", "funky", "p funk", "groovy", "jazz funk",
        )),
        Genre("disco", N_("Disco"), N_("Seventies dance floors: strings, octave bass, hi-hats"), (
            "disco", "nu disco", "italo disco", "70s", "seventies", "70er", "siebziger",
            "annees 70", "roller disco", "studio 54", "boogie",
        )),
        Genre("lofi", N_("Lo-fi"), N_("Dusty, relaxed beats to study or unwind to"), (
            "lo fi", "chillhop", "study music", "music to study", "study beats",
            "beats to study", "lernmusik", "musique pour etudier", "homework", "hausaufgaben",
            "devoirs", "chill beats", "beats to relax", "coffee shop",
        )),
        Genre("ambient", N_("Ambient"), N_("Slow textures and swells, no drums"), (
            "ambient", "drone", "soundscape", "meditation", "atmospheric", "yoga", "spa",
            "sleep music", "schlafmusik", "musique pour dormir", "new age", "ambiant",
            "entspannungsmusik", "relaxation", "klanglandschaft", "paysage sonore",
        )),
        Genre("jazz", N_("Jazz"), N_("Swing, walking bass and extended chords"), (
            "jazz", "swing", "bebop", "big band", "smooth jazz", "jazzy", "lounge",
            "cocktail bar", "jazzbar", "jazz club", "dinner", "restaurant", "cafe",
        )),
        Genre("bossa", N_("Bossa nova"), N_("Brazilian guitar, soft syncopation, warm chords"), (
            "bossa nova", "bossa", "samba", "brazilian", "brasilianisch", "bresilien",
            "bresilienne", "mpb", "beach bar", "strandbar", "bar de plage", "ipanema",
            "flamenco", "tango",
        )),
        Genre("reggaeton", N_("Reggaeton"), N_("The dembow beat: Latin club rhythm"), (
            "reggaeton", "dembow", "perreo", "latin", "latino", "latina", "urbano",
            "latin pop", "beach party", "strandparty", "dancehall", "moombahton", "reggae",
            "salsa", "cumbia",
        )),
        Genre("afrobeats", N_("Afrobeats"),
              N_("West African pop: bouncy percussion, bright hooks"), (
            "afrobeats", "afrobeat", "afro", "afropop", "amapiano", "naija", "afro house",
            "highlife", "azonto", "afrikanisch", "africain", "africaine",
        )),
        Genre("country", N_("Country"), N_("Twangy guitars, steady two-step, a story to tell"), (
            "country", "bluegrass", "americana", "western", "cowboy", "honky tonk",
            "nashville", "rodeo", "line dance", "road trip", "roadtrip",
        )),
        Genre("folk", N_("Folk / acoustic"), N_("Acoustic guitars and simple, honest songs"), (
            "folk", "acoustic", "singer songwriter", "campfire", "lagerfeuer", "feu de camp",
            "unplugged", "celtic", "irish", "folklore", "indie folk", "akustisch",
            "acoustique", "polka", "volksmusik", "liedermacher",
        )),
        Genre("cinematic", N_("Orchestral / cinematic"),
              N_("Strings, brass and drums for the big screen"), (
            "orchestral", "orchestra", "cinematic", "trailer", "film score", "film music",
            "soundtrack", "symphonic", "classical", "klassik", "klassisch", "orchester",
            "orchestre", "orchestrale", "filmmusik", "musique de film", "bande originale",
            "symphonie", "symphony", "opera", "baroque", "barock", "score", "movie",
            "fantasy", "medieval", "cinematique", "epic music", "heroes",
        )),
        Genre("synthwave", N_("Synthwave"), N_("Eighties synths, gated drums, neon nights"), (
            "synthwave", "retrowave", "outrun", "80s", "eighties", "80er", "achtziger",
            "annees 80", "vaporwave", "synthpop", "darkwave", "new wave", "night drive",
            "cyberpunk", "miami",
        )),
        Genre("chiptune", N_("Chiptune"), N_("Eight-bit game console sounds"), (
            "chiptune", "chip tune", "chipmusic", "8 bit", "8bit", "16 bit", "video game",
            "videogame", "game boy", "nintendo", "arcade", "retro game", "videospiel",
            "computerspiel", "jeu video", "jeux video", "pixel", "nes", "game music",
        )),
        Genre("piano", N_("Solo piano"), N_("One piano, nothing else"), (
            "solo piano", "piano solo", "ballad", "ballade", "lullaby", "wiegenlied",
            "schlaflied", "berceuse", "klavierstuck", "klaviermusik", "piano piece",
            "piece pour piano", "nocturne", "neoclassical", "neoklassik", "neoclassique",
            "klaviersolo", "solo klavier",
        )),
    )
}  # fmt: skip

MOODS: dict[str, Mood] = {
    mood.id: mood
    for mood in (
        Mood("chill", N_("Chill"), (
            "chill", "chilled", "relaxed", "relaxing", "calm", "mellow", "peaceful",
            "laid back", "cozy", "cosy", "gentle", "quiet", "soft", "study", "ruhig",
            "entspannt", "entspannend", "gemutlich", "sanft", "leise", "gechillt", "calme",
            "detendu", "detendue", "relaxant", "doux", "douce", "paisible", "tranquille",
            "cool",
        ), None, -0.5, 0.85, "lofi"),
        Mood("happy", N_("Happy"), (
            "happy", "uplifting", "joyful", "cheerful", "sunny", "fun", "summer", "bright",
            "feel good", "positive", "frohlich", "glucklich", "heiter", "sonnig",
            "gut gelaunt", "sommer", "lustig", "joyeux", "joyeuse", "heureux", "heureuse",
            "gai", "gaie", "ensoleille", "ete", "festif", "festive", "christmas", "xmas",
            "weihnacht", "weihnachtlich", "noel", "birthday", "geburtstag", "anniversaire",
        ), "major", 0.4, 1.2, "pop"),
        Mood("sad", N_("Sad"), (
            "sad", "melancholic", "melancholy", "emotional", "lonely", "heartbreak",
            "somber", "sorrow", "grief", "tearful", "nostalgic", "traurig", "melancholisch",
            "wehmutig", "einsam", "herzschmerz", "nostalgisch", "triste", "melancolique",
            "nostalgique", "chagrin", "larmes", "tears",
        ), "minor", -0.6, 0.8, "piano"),
        Mood("dark", N_("Dark"), (
            "dark", "ominous", "sinister", "menacing", "gritty", "moody", "eerie", "night",
            "spooky", "horror", "creepy", "halloween", "dustere", "duster", "dunkel",
            "finster", "unheimlich", "nacht", "sombre", "obscur", "obscure", "inquietant",
            "nuit", "effrayant",
        ), "minor", 0.0, 0.7, "techno"),
        Mood("epic", N_("Epic"), (
            "epic", "heroic", "powerful", "triumphant", "intense", "battle", "grand",
            "episch", "heroisch", "kraftvoll", "gewaltig", "kampf", "epique", "heroique",
            "puissant", "puissante", "grandiose", "triomphant", "bataille",
        ), "minor", 0.2, 1.1, "cinematic"),
        Mood("energetic", N_("Energetic"), (
            "energetic", "upbeat", "driving", "hype", "party", "aggressive", "pumping",
            "motivation", "motivating", "energisch", "energiegeladen", "treibend", "aggressiv",
            "training", "sport", "energique", "entrainant", "fete", "soiree", "agressif",
            "musculation", "laufen",
        ), None, 0.7, 1.2, "house"),
        Mood("dreamy", N_("Dreamy"), (
            "dreamy", "ethereal", "floating", "spacey", "sleep", "hazy", "dream",
            "vertraumt", "traumerisch", "schwebend", "traum", "schlaf", "reveur", "reveuse",
            "onirique", "ethere", "aerien", "reve", "sommeil", "dormir",
        ), "major", -0.3, 0.9, "ambient"),
        Mood("romantic", N_("Romantic"), (
            "romantic", "love", "tender", "warm", "sensual", "wedding", "valentine",
            "romantisch", "liebe", "zartlich", "hochzeit", "romantique", "amour", "tendre",
            "sensuel", "sensuelle", "mariage",
        ), "major", -0.3, 0.95, "rnb"),
    )
}  # fmt: skip
NEUTRAL_MOOD = Mood("neutral", N_("Neutral"), (), None, 0.0, 1.0, "pop")

INSTRUMENTS: dict[str, Instrument] = {
    instrument.id: instrument
    for instrument in (
        Instrument("piano", N_("Piano"), (
            "piano", "klavier", "flugel", "grand piano", "piano a queue", "pianist",
        ), "piano", harmonic=True, genre="piano", chip=True),
        Instrument("electric_piano", N_("Electric piano"), (
            "electric piano", "rhodes", "wurlitzer", "keys", "e piano", "piano electrique",
        ), "electric_piano", harmonic=True, genre="lofi", chip=True),
        Instrument("organ", N_("Organ"), (
            "organ", "hammond", "orgel", "orgue",
        ), "organ", harmonic=True, genre="rnb"),
        Instrument("guitar", N_("Guitar"), (
            "guitar", "gitarre", "guitare", "guitarist",
        ), None, harmonic=True, genre="folk", chip=True),
        Instrument("acoustic_guitar", N_("Acoustic guitar"), (
            "acoustic guitar", "country guitar", "western guitar", "steel guitar",
            "westerngitarre", "akustikgitarre", "akustisch gitarre", "guitare acoustique",
            "guitare folk",
        ), "acoustic_guitar", harmonic=True, genre="folk", chip=True),
        Instrument("nylon_guitar", N_("Nylon guitar"), (
            "nylon guitar", "classical guitar", "spanish guitar", "flamenco guitar",
            "konzertgitarre", "klassisch gitarre", "spanisch gitarre", "guitare classique",
            "guitare espagnole", "guitare nylon",
        ), "nylon_guitar", harmonic=True, genre="bossa"),
        Instrument("electric_guitar", N_("Electric guitar"), (
            "clean guitar", "electric guitar", "e gitarre", "elektrisch gitarre",
            "guitare electrique", "jangly guitar",
        ), "clean_guitar", harmonic=True, genre="rock"),
        Instrument("distorted_guitar", N_("Distorted guitar"), (
            "distorted guitar", "heavy guitar", "overdriven guitar", "power chords", "riffs",
            "verzerrt gitarre", "guitare saturee", "guitare distordue", "shred",
        ), "distorted_guitar", harmonic=True, genre="rock", chip=True),
        Instrument("muted_guitar", N_("Funk guitar"), (
            "muted guitar", "funk guitar", "scratch guitar", "chicken scratch", "wah",
        ), "muted_guitar", harmonic=True, genre="funk"),
        Instrument("strings", N_("Strings"), (
            "strings", "violin", "viola", "cello", "string quartet", "streicher", "geige",
            "violine", "cordes", "violon", "violoncelle", "quatuor",
        ), "strings", harmonic=True, genre="cinematic", chip=True),
        Instrument("brass", N_("Brass"), (
            "brass", "horns", "trumpet", "trombone", "blaser", "trompete", "posaune",
            "cuivres", "trompette",
        ), "brass", genre="cinematic", chip=True),
        Instrument("sax", N_("Saxophone"), (
            "sax", "saxophone", "saxofon", "saxophon",
        ), "sax", genre="jazz", chip=True),
        Instrument("synth", N_("Synth"), (
            "synth", "synthesizer", "synthesiser", "synthi", "synthe", "synthetiseur",
        ), "saw_lead", genre="synthwave", chip=True),
        Instrument("pads", N_("Pads"), (
            "pad", "pads", "flachen", "synthflachen", "nappes", "nappe",
        ), "pad", harmonic=True, genre="ambient", chip=True),
        Instrument("pluck", N_("Harp"), (
            "harp", "harfe", "harpe", "pluck", "plucks",
        ), "pluck", genre="cinematic"),
        Instrument("bells", N_("Bells"), (
            "bell", "bells", "glockenspiel", "chime", "chimes", "music box", "glocke",
            "glocken", "spieluhr", "cloche", "cloches", "carillon", "boite a musique",
        ), "bell", genre="ambient"),
        Instrument("vibraphone", N_("Vibraphone"), (
            "vibraphone", "vibes", "vibraphon", "vibrafon",
        ), "vibes", genre="jazz"),
        Instrument("marimba", N_("Marimba"), (
            "marimba", "xylophone", "xylophon", "xylofon",
        ), "marimba", genre="afrobeats"),
        Instrument("chip", N_("Chip sounds"), (
            "chip", "square wave", "square lead", "rechteckwelle", "onde carree",
        ), "chip_square", genre="chiptune"),
        Instrument("bass", N_("Bass"), (
            "bass", "bassline", "bass line", "basse", "ligne de basse",
        ), None, role="bass", chip=True),
        Instrument("upright_bass", N_("Double bass"), (
            "upright bass", "double bass", "kontrabass", "contrebasse", "acoustic bass",
        ), "upright_bass", role="bass", genre="jazz"),
        Instrument("slap_bass", N_("Slap bass"), (
            "slap bass", "slap", "slapbass",
        ), "slap_bass", role="bass", genre="funk"),
        Instrument("bass_808", N_("808 bass"), (
            "808", "808s", "808 bass",
        ), "bass_808", role="bass", genre="hiphop"),
        Instrument("reese_bass", N_("Reese bass"), (
            "reese", "reese bass",
        ), "reese_bass", role="bass", genre="dnb"),
        Instrument("wobble_bass", N_("Wobble bass"), (
            "wobble bass",
        ), "wobble_bass", role="bass", genre="dubstep"),
        Instrument("acid_bass", N_("Acid bass"), (
            "acid bass", "303", "tb 303",
        ), "acid_bass", role="bass", genre="techno"),
        Instrument("sub_bass", N_("Sub bass"), (
            "sub bass", "subbass", "sub",
        ), "sub_bass", role="bass"),
        Instrument("drums", N_("Drums"), (
            "drums", "drum kit", "schlagzeug", "batterie", "percussion", "perkussion",
        ), None, role="drums", chip=True),
        Instrument("log_drum", N_("Log drum"), (
            "log drum", "log drums",
        ), "log_drum", role="drums", genre="afrobeats"),
    )
}  # fmt: skip

# A plain "guitar" takes the genre's own guitar; other genres get the clean electric one.
GUITAR_BY_GENRE: dict[str, str] = {
    "rock": "distorted_guitar",
    "metal": "distorted_guitar",
    "punk": "distorted_guitar",
    "country": "acoustic_guitar",
    "folk": "acoustic_guitar",
    "piano": "acoustic_guitar",
    "bossa": "nylon_guitar",
    "reggaeton": "nylon_guitar",
    "funk": "muted_guitar",
    "disco": "muted_guitar",
}
DEFAULT_GUITAR = "clean_guitar"

# A stated tempo and nothing else picks the genre whose tempo it suits: the first row whose
# lower bound the tempo reaches.
TEMPO_GENRES: tuple[tuple[float, str], ...] = (
    (160.0, "dnb"),
    (135.0, "hiphop"),
    (125.0, "techno"),
    (115.0, "house"),
    (90.0, "pop"),
    (0.0, "lofi"),
)
DEFAULT_GENRE = "pop"

# Words that set nothing and carry no content ("a", "song", "mit", "chanson"): never unknown.
STOP_WORDS = frozenset((
    "a", "an", "the", "and", "or", "with", "without", "for", "of", "in", "on", "at", "to", "by",
    "from", "about", "into", "like", "some", "my", "me", "i", "we", "you", "it", "its", "this",
    "that", "is", "are", "be", "as", "so", "very", "really", "more", "less", "bit", "little",
    "lots", "lot", "please", "make", "create", "give", "want", "need", "write", "generate",
    "compose", "song", "songs", "track", "tracks", "music", "tune", "tunes", "beat", "beats",
    "piece", "instrumental", "sound", "sounds", "sounding", "vibe", "vibes", "feel", "feeling",
    "style", "type", "kind", "background", "bpm", "tempo", "key", "mode", "seconds", "second",
    "sec", "secs", "minutes", "minute", "min", "long", "short", "just", "also", "but", "not",
    "no", "something", "nice", "good", "great", "around", "approx", "ish", "time", "while", "one",
    "two", "solo", "loop", "loops",
    "ein", "eine", "einen", "einem", "einer", "eines", "der", "die", "das", "den", "dem", "des",
    "und", "oder", "mit", "ohne", "fur", "von", "vom", "im", "am", "an", "auf", "aus", "zu",
    "zum", "zur", "bei", "nach", "uber", "wie", "etwas", "ganz", "sehr", "bitte", "mach", "mache",
    "erstelle", "lied", "lieder", "stuck", "musik", "titel", "klang", "stil", "tonart",
    "sekunden", "minuten", "lang", "kurz", "ich", "wir", "mir", "mein", "meine", "eher", "auch",
    "aber", "nicht", "kein", "keine", "mal",
    "un", "une", "des", "le", "la", "les", "du", "de", "et", "ou", "avec", "sans", "pour", "par",
    "en", "au", "aux", "sur", "dans", "comme", "peu", "tres", "fais", "faire", "cree", "creer",
    "chanson", "morceau", "musique", "titre", "son", "tonalite", "secondes", "minutes", "longue",
    "court", "courte", "je", "nous", "moi", "mon", "ma", "mes", "aussi", "mais", "pas", "ne",
    "qui", "que", "quelque", "chose", "truc",
))  # fmt: skip
# Words that lean the genre's tempo range slower or faster.
TEMPO_WORDS: dict[str, tuple[str, ...]] = {
    "slower": ("slow", "downtempo", "lazy", "langsam", "gemächlich", "lent", "lentement"),
    "faster": ("fast", "uptempo", "up tempo", "frantic", "schnell", "zügig", "rapide", "vite"),
}


def fold(text: str) -> str:
    """`text` in lower case without accents, one character for each character of `text`."""
    return "".join(_fold_char(char) for char in text)


def genre_id(tag: str) -> str | None:
    """The genre a tag names: a genre id or any word of the catalogue for one."""
    return _find(tag, GENRES)


def mood_id(word: str) -> str | None:
    """The mood a word names: a mood id or any word of the catalogue for one."""
    return _find(word, MOODS)


def instrument_id(word: str) -> str | None:
    """The instrument a word names: an instrument id or any word of the catalogue for one."""
    return _find(word, INSTRUMENTS)


def chip_instruments() -> dict[str, Instrument]:
    """The instruments the studio offers as choices, in catalogue order."""
    return {key: item for key, item in INSTRUMENTS.items() if item.chip}


def phrase_of(entry_id: str) -> str:
    """An id as the words it stands for ("acoustic_guitar" -> "acoustic guitar")."""
    return entry_id.replace("_", " ")


def _find(
    word: str, entries: dict[str, Genre] | dict[str, Mood] | dict[str, Instrument]
) -> str | None:
    wanted = _spaced(fold(word))
    for key, entry in entries.items():
        if wanted in (_spaced(phrase_of(key)), *(_spaced(w) for w in entry.words)):
            return key
    return None


def _spaced(phrase: str) -> str:
    return " ".join(phrase.replace("-", " ").split())


def _fold_char(char: str) -> str:
    lower = char.lower()
    if len(lower) != 1:
        lower = char
    base = "".join(c for c in unicodedata.normalize("NFKD", lower) if not unicodedata.combining(c))
    return base if len(base) == 1 else lower
