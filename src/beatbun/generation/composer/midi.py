"""A track's score as a Standard MIDI File (type 1), written with the pure-Python `mido`.

The first track holds the tempo, 4/4 and the key signature; then one track per part of
the score, named after the part, in the order the score lists them. Pitched parts get a
General MIDI program for their voice and a channel of their own (wrapping past 15 if a
score ever has more parts); every drum part plays on channel 10 (9 counted from 0), with
the General MIDI drum note of its drum. Times are the rendered ones (swing and human
timing included) at 480 ticks per quarter note.
"""

from __future__ import annotations

import io

import mido  # type: ignore[import-untyped]

from beatbun.generation.composer.arrangement import Score
from beatbun.generation.composer.plan import CompositionPlan

MIDI_MEDIA_TYPE = "audio/midi"
TICKS_PER_BEAT = 480
DRUM_CHANNEL = 9
# A drum hit is a one-shot; a sixteenth note is how long notation shows it.
_DRUM_TICKS = TICKS_PER_BEAT // 4
_MELODIC_CHANNELS = tuple(channel for channel in range(16) if channel != DRUM_CHANNEL)

# General MIDI program (0-based) for each voice: the nearest instrument family.
GM_PROGRAMS = {
    "piano": 0, "electric_piano": 4, "vibes": 11, "bell": 14, "glass": 98, "organ": 16,
    "pad": 89, "dark_pad": 95, "strings": 48, "low_strings": 42, "staccato_strings": 45,
    "brass": 61, "saw_lead": 81, "pluck_lead": 84, "guitar_lead": 29, "power_guitar": 30,
    "stab": 62, "pluck": 45, "synth_bass": 38, "pick_bass": 34, "acid_bass": 39,
    "sub_bass": 38, "bass_808": 38, "upright_bass": 32, "clean_guitar": 27,
    "distorted_guitar": 30, "acoustic_guitar": 25, "nylon_guitar": 24, "muted_guitar": 28,
    "chip_square": 80, "chip_pulse": 80, "chip_triangle": 79, "reese_bass": 38,
    "wobble_bass": 39, "slap_bass": 36, "sax": 65, "marimba": 12, "log_drum": 12,
    "riser": 97, "impact": 55,
}  # fmt: skip
# General MIDI (and GM2, for the vinyl crackle's scratch) percussion key for each drum.
GM_DRUM_NOTES = {
    "kick": 36, "snare": 38, "clap": 39, "hat_closed": 42, "hat_open": 46, "hat_pedal": 44,
    "ride": 51, "crash": 49, "rim": 37, "shaker": 70, "brush": 40, "taiko": 41,
    "timpani": 43, "tom": 45, "vinyl": 29, "cowbell": 56, "conga": 63, "bongo": 61,
    "tambourine": 54, "snap": 39, "chip_kick": 36, "chip_snare": 40, "chip_hat": 42,
    "kick_808": 35, "snare_tight": 40,
}  # fmt: skip
# Key signatures mido can write, by tonic pitch class: the spelling with fewer accidentals.
_MAJOR_KEYS = ("C", "Db", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
_MINOR_KEYS = ("Cm", "C#m", "Dm", "Ebm", "Em", "Fm", "F#m", "Gm", "G#m", "Am", "Bbm", "Bm")


def midi_file(plan: CompositionPlan, score: Score) -> bytes:
    """The score as the bytes of a .mid file; one note message pair per note of the score."""
    song = mido.MidiFile(type=1, ticks_per_beat=TICKS_PER_BEAT)
    keys = _MINOR_KEYS if plan.key.mode == "minor" else _MAJOR_KEYS
    song.tracks.append(
        mido.MidiTrack(
            [
                mido.MetaMessage("track_name", name=plan.genre_label, time=0),
                mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(plan.bpm), time=0),
                mido.MetaMessage("time_signature", numerator=4, denominator=4, time=0),
                mido.MetaMessage("key_signature", key=keys[plan.key.root], time=0),
                mido.MetaMessage("end_of_track", time=0),
            ]
        )
    )
    ticks_per_sample = plan.bpm / 60.0 * TICKS_PER_BEAT / plan.sample_rate
    melodic = 0
    for part in score.parts:
        if part.is_drum:
            channel = DRUM_CHANNEL
            setup = []
        else:
            channel = _MELODIC_CHANNELS[melodic % len(_MELODIC_CHANNELS)]
            melodic += 1
            setup = [
                mido.Message("program_change", channel=channel, program=GM_PROGRAMS[part.voice])
            ]
        # (tick, order, message): at one tick, note-offs go before note-ons.
        events: list[tuple[int, int, mido.Message]] = []
        for note in part.notes:
            start = round(note.start * ticks_per_sample)
            if part.is_drum:
                pitch, end = GM_DRUM_NOTES[part.voice], start + _DRUM_TICKS
            else:
                pitch = note.pitch
                end = max(start + 1, round((note.start + note.hold) * ticks_per_sample))
            velocity = min(127, max(1, round(note.velocity * 127)))
            events.append((start, 1, mido.Message("note_on", channel=channel, note=pitch, velocity=velocity)))  # fmt: skip
            events.append((end, 0, mido.Message("note_off", channel=channel, note=pitch, velocity=0)))  # fmt: skip
        events.sort(key=lambda event: (event[0], event[1]))
        track = mido.MidiTrack([mido.MetaMessage("track_name", name=part.name, time=0), *setup])
        now = 0
        for tick, _, message in events:
            track.append(message.copy(time=tick - now))
            now = tick
        track.append(mido.MetaMessage("end_of_track", time=0))
        song.tracks.append(track)
    out = io.BytesIO()
    song.save(file=out)
    return out.getvalue()
