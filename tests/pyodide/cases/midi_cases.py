"""mido, which writes the MIDI export, under Pyodide as the Worker vendors it.

The same calls `generation/composer/midi.py` makes (type-1 file at 480 ticks per beat, tempo,
time and key signature, program change, drums on channel 10), written to bytes and read back.
"""

from __future__ import annotations

import io

import mido
from runner import case


@case
async def mido_writes_and_reads_a_standard_midi_file() -> None:
    song = mido.MidiFile(type=1, ticks_per_beat=480)
    song.tracks.append(
        mido.MidiTrack(
            [
                mido.MetaMessage("track_name", name="Drum and bass", time=0),
                mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(174), time=0),
                mido.MetaMessage("time_signature", numerator=4, denominator=4, time=0),
                mido.MetaMessage("key_signature", key="Dm", time=0),
            ]
        )
    )
    drums = mido.MidiTrack([mido.Message("program_change", channel=9, program=0)])
    for _ in range(4):
        drums.append(mido.Message("note_on", channel=9, note=36, velocity=110, time=0))
        drums.append(mido.Message("note_off", channel=9, note=36, velocity=0, time=240))
    song.tracks.append(drums)
    out = io.BytesIO()
    song.save(file=out)
    data = out.getvalue()
    assert data[:4] == b"MThd", data[:16]
    back = mido.MidiFile(file=io.BytesIO(data))
    assert (back.type, back.ticks_per_beat, len(back.tracks)) == (1, 480, 2)
    meta = {message.type: message for message in back.tracks[0]}
    assert round(mido.tempo2bpm(meta["set_tempo"].tempo)) == 174
    assert meta["key_signature"].key == "Dm"
    notes = [m for m in back.tracks[1] if m.type == "note_on"]
    assert [(m.channel, m.note) for m in notes] == [(9, 36)] * 4
