"""Exports: stems that sum to the pre-master mix, MIDI that reads back, FLAC that decodes exactly.

Independent readers check each format: soundfile (libsndfile, with libFLAC) decodes the
WAVs and FLACs and verifies every frame's CRC; mido reads the MIDI back.
"""

from __future__ import annotations

import hashlib
import io
import struct
from collections.abc import AsyncIterator, Callable
from functools import lru_cache
from typing import Any

import mido  # type: ignore[import-untyped]
import numpy as np
import pytest
import soundfile  # type: ignore[import-untyped]
from numpy.typing import NDArray

from beatbun.errors import ExportUnavailable
from beatbun.generation.composer import exports
from beatbun.generation.composer import provider as composer_provider
from beatbun.generation.composer.arrangement import Score, arrange
from beatbun.generation.composer.flac import BATCH_BLOCKS, BLOCK_FRAMES, FlacEncoder
from beatbun.generation.composer.instruments import VOICES
from beatbun.generation.composer.midi import DRUM_CHANNEL, GM_DRUM_NOTES, GM_PROGRAMS, midi_file
from beatbun.generation.composer.plan import CompositionPlan
from beatbun.generation.composer.prompt import resolve_plan
from beatbun.generation.composer.provider import Composer
from beatbun.generation.composer.render import CHUNK_FRAMES, STEMS, premaster
from beatbun.generation.composer.stems import render_stems
from beatbun.generation.composer.styles import GENRES
from beatbun.generation.models import GenerationRequest

# One genre per kind of mix: sidechain ducking (house), a club form, long reverb tails
# and no drums (ambient), sparse solo piano, a band with guitars.
# Every drum `drums.render_drum` makes.
DRUMS = (
    "kick", "snare", "clap", "hat_closed", "hat_open", "hat_pedal", "ride", "crash", "rim",
    "shaker", "brush", "taiko", "timpani", "tom", "vinyl", "cowbell", "conga", "bongo",
    "tambourine", "snap", "chip_kick", "chip_snare", "chip_hat", "kick_808", "snare_tight",
)  # fmt: skip
STEM_PROMPTS = ("house", "techno 128 bpm", "ambient drift", "solo piano ballad", "garage rock")


@lru_cache(maxsize=16)
def _track(prompt: str, seconds: float = 10.0, seed: int = 5) -> tuple[dict[str, Any], bytes]:
    """A rendered track as the product stores it: (job request, plan) and the WAV."""
    request = {"prompt": prompt, "duration_seconds": seconds, "seed": seed}
    file = io.BytesIO()
    result = Composer().compose(
        GenerationRequest.parse(request).to_music_request(), write=file.write
    )
    return {"request": request, "plan": result.plan}, file.getvalue()


def _stored(prompt: str, seconds: float = 10.0) -> tuple[dict[str, Any], dict[str, Any]]:
    stored, _ = _track(prompt, seconds)
    return dict(stored["request"]), dict(stored["plan"])


def _score(prompt: str, seconds: float = 10.0) -> tuple[CompositionPlan, Score]:
    plan = exports.plan_for_export(*_stored(prompt, seconds))
    return plan, arrange(plan)


async def _stem_files(prompt: str, seconds: float = 10.0) -> dict[str, bytes]:
    header, chunks = exports.stems(*_stored(prompt, seconds))
    files = {name: bytearray(header) for name in STEMS}
    async for chunk in chunks:
        for name, samples in chunk.items():
            files[name] += samples.tobytes()
    return {name: bytes(data) for name, data in files.items()}


def _genre_plan(genre: str) -> CompositionPlan:
    request = {"prompt": genre, "genres": [genre], "duration_seconds": 20, "seed": 2}
    return resolve_plan(GenerationRequest.parse(request).to_music_request(), sample_rate=44100)


def _decode(data: bytes) -> NDArray[np.int16]:
    samples, _ = soundfile.read(io.BytesIO(data), dtype="int16", always_2d=True)
    return np.asarray(samples, dtype=np.int16)


def _wav_samples(wav: bytes) -> NDArray[np.int16]:
    return np.frombuffer(wav, dtype="<i2", offset=44).reshape(-1, 2)


# Stems


@pytest.mark.parametrize("prompt", STEM_PROMPTS)
async def test_stems_decode_with_the_tracks_length(prompt: str) -> None:
    files = await _stem_files(prompt)
    frames = _wav_samples(_track(prompt)[1]).shape[0]

    assert sorted(files) == sorted(STEMS)
    for data in files.values():
        info = soundfile.info(io.BytesIO(data))
        assert (info.frames, info.channels, info.samplerate) == (frames, 2, 44100)
        assert info.subtype == "PCM_16"


@pytest.mark.parametrize("prompt", STEM_PROMPTS)
async def test_stems_sum_to_the_premaster_mix_within_rounding(prompt: str) -> None:
    files = await _stem_files(prompt)
    plan, score = _score(prompt)
    mix = np.concatenate([block[0].T for block in premaster(plan, score)])

    total = sum(_decode(data).astype(np.int64) for data in files.values())

    assert isinstance(total, np.ndarray)
    # Each stem and the mix are rounded on their own: half a step each, at most.
    assert np.abs(total - mix).max() <= (len(STEMS) + 1) // 2
    assert np.abs(mix).max() > 1000


@pytest.mark.parametrize("genre", list(GENRES))
def test_stems_of_every_genre_sum_to_its_premaster_mix(genre: str) -> None:
    plan = _genre_plan(genre)
    score = arrange(plan)
    mix = np.concatenate([block[0].T for block in premaster(plan, score)])

    chunks = list(render_stems(plan, score))
    total = sum(np.concatenate([c[name] for c in chunks]).astype(np.int64) for name in STEMS)

    assert isinstance(total, np.ndarray)
    assert np.abs(total - mix).max() <= (len(STEMS) + 1) // 2


async def test_stems_split_the_band_by_role() -> None:
    files = {name: _decode(data) for name, data in (await _stem_files("garage rock")).items()}

    levels = {name: float(np.sqrt(np.mean(s.astype(np.float64) ** 2))) for name, s in files.items()}

    # Every role plays; the reverb returns alone keep the pads stem from being silent.
    assert all(level > 30.0 for level in levels.values()), levels


async def test_stems_of_a_drumless_track_have_a_silent_drum_stem() -> None:
    files = await _stem_files("ambient drift")

    assert not _decode(files["drums"]).any()
    assert _decode(files["pads"]).any()


@pytest.mark.parametrize("prompt", ["house", "garage rock"])
async def test_stems_follow_the_mastered_track(prompt: str) -> None:
    # The master is the same mix after gain and a limiter: the two move together.
    files = await _stem_files(prompt)
    total = sum(_decode(data).astype(np.float64) for data in files.values())
    master = _wav_samples(_track(prompt)[1]).astype(np.float64)

    assert isinstance(total, np.ndarray)
    correlation = np.corrcoef(total.reshape(-1), master.reshape(-1))[0, 1]
    assert correlation > 0.97


async def test_stems_without_threads_are_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    # Pyodide cannot start threads: there the stems are made between turns of the event loop.
    threaded = await _stem_files("house")
    monkeypatch.setattr(composer_provider, "CAN_START_THREADS", False)

    assert await _stem_files("house") == threaded


# Which tracks can have stems and MIDI


def test_plan_for_export_refuses_another_provider() -> None:
    request, plan = _stored("house")
    plan["provider"] = "elevenlabs"

    with pytest.raises(ExportUnavailable) as caught:
        exports.plan_for_export(request, plan)

    assert caught.value.code == "export_unavailable"
    assert caught.value.status == 409


def test_plan_for_export_refuses_an_earlier_composer_version() -> None:
    request, plan = _stored("house")
    plan["composer_version"] = 1

    with pytest.raises(ExportUnavailable) as caught:
        exports.plan_for_export(request, plan)

    assert "earlier version" in caught.value.message


def test_plan_for_export_refuses_a_plan_that_no_longer_comes_out_the_same() -> None:
    request, plan = _stored("house")
    plan["progression"] = ["I", "I", "I", "I"]

    with pytest.raises(ExportUnavailable):
        exports.plan_for_export(request, plan)


@pytest.mark.parametrize(
    "prompt",
    ["house", "ruhiges Klavier, 70 bpm", "piano calme en ré mineur", "reggaeton", "drum and bass"],
)
def test_plan_for_export_makes_the_stored_plan_again(prompt: str) -> None:
    request, plan = _stored(prompt)

    again = exports.plan_for_export(request, plan).to_dict()

    assert {k: again[k] for k in ("genre", "bpm", "key", "sections", "seed")} == {
        k: plan[k] for k in ("genre", "bpm", "key", "sections", "seed")
    }


def test_plan_for_export_makes_an_extensions_plan_again() -> None:
    request = {"prompt": "house", "duration_seconds": 30, "seed": 5, "extends_seconds": 15.0}
    result = Composer().compose(
        GenerationRequest.from_stored(request).to_music_request(), write=io.BytesIO().write
    )

    again = exports.plan_for_export(request, result.plan).to_dict()

    assert again["sections"] == result.plan["sections"]


def test_stems_come_a_chunk_at_a_time() -> None:
    # A long track's stems are never whole in memory: each piece is one chunk of the mix.
    plan, score = _score("house")

    lengths = [len(chunk["drums"]) for chunk in render_stems(plan, score)]

    assert len(lengths) > 1
    assert max(lengths) == CHUNK_FRAMES
    assert sum(lengths) == plan.frames


# MIDI


async def _midi(prompt: str) -> mido.MidiFile:
    return mido.MidiFile(file=io.BytesIO(await exports.midi(*_stored(prompt))))


def _meta(song: mido.MidiFile, kind: str) -> mido.MetaMessage:
    return next(message for message in song.tracks[0] if message.type == kind)


@pytest.mark.parametrize("prompt", ["house", "solo piano ballad", "garage rock"])
async def test_midi_has_the_planned_tempo_key_and_time_signature(prompt: str) -> None:
    song = await _midi(prompt)
    plan, _ = _score(prompt)
    tonic, mode = plan.key.tonic, plan.key.mode

    assert song.type == 1
    assert song.ticks_per_beat == 480
    assert mido.tempo2bpm(_meta(song, "set_tempo").tempo) == pytest.approx(plan.bpm, abs=1e-3)
    signature = _meta(song, "time_signature")
    assert (signature.numerator, signature.denominator) == (4, 4)
    key = _meta(song, "key_signature").key
    assert key.endswith("m") == (mode == "minor")
    assert _pitch_class(key.removesuffix("m")) == _pitch_class(tonic)


@pytest.mark.parametrize("prompt", ["house", "solo piano ballad", "garage rock", "chiptune"])
async def test_midi_has_one_track_per_part_with_every_note(prompt: str) -> None:
    song = await _midi(prompt)
    _, score = _score(prompt)

    counts = {
        _track_name(track): sum(1 for m in track if m.type == "note_on" and m.velocity > 0)
        for track in song.tracks[1:]
    }
    offs = {
        _track_name(track): sum(
            1 for m in track if m.type == "note_off" or (m.type == "note_on" and m.velocity == 0)
        )
        for track in song.tracks[1:]
    }

    assert counts == {part.name: len(part.notes) for part in score.parts}
    assert offs == counts


@pytest.mark.parametrize("prompt", ["house", "garage rock"])
async def test_midi_drums_play_on_channel_ten(prompt: str) -> None:
    song = await _midi(prompt)
    _, score = _score(prompt)
    drums = {part.name: part.voice for part in score.parts if part.is_drum}

    assert drums
    for track in song.tracks[1:]:
        name = _track_name(track)
        channels = {m.channel for m in track if m.type in ("note_on", "note_off")}
        if name in drums:
            assert channels == {DRUM_CHANNEL}
            assert {m.note for m in track if m.type == "note_on"} == {GM_DRUM_NOTES[drums[name]]}
        else:
            assert DRUM_CHANNEL not in channels
            assert any(m.type == "program_change" for m in track)


async def test_midi_notes_start_when_the_score_plays_them() -> None:
    song = await _midi("garage rock")
    plan, score = _score("garage rock")
    seconds_per_tick = 60.0 / plan.bpm / song.ticks_per_beat
    lead = next(track for track in song.tracks if _track_name(track) == "lead")
    part = next(part for part in score.parts if part.name == "lead")

    starts, now = [], 0
    for message in lead:
        now += message.time
        if message.type == "note_on" and message.velocity > 0:
            starts.append(now * seconds_per_tick)

    expected = sorted(note.start / plan.sample_rate for note in part.notes)
    # Rounded to a tick: about 1 ms at 120 BPM.
    assert np.abs(np.array(starts) - np.array(expected)).max() <= seconds_per_tick


@pytest.mark.parametrize("genre", list(GENRES))
def test_midi_of_every_genre_reads_back_with_every_note(genre: str) -> None:
    plan = _genre_plan(genre)
    score = arrange(plan)

    song = mido.MidiFile(file=io.BytesIO(midi_file(plan, score)))

    notes = [sum(1 for m in track if m.type == "note_on") for track in song.tracks[1:]]
    assert notes == [len(part.notes) for part in score.parts]


def test_midi_maps_every_voice_and_drum() -> None:
    assert set(VOICES) <= set(GM_PROGRAMS)
    assert set(DRUMS) <= set(GM_DRUM_NOTES)
    assert all(0 <= program < 128 for program in GM_PROGRAMS.values())
    assert all(27 <= note <= 87 for note in GM_DRUM_NOTES.values())


def _track_name(track: mido.MidiTrack) -> str:
    return str(next(m.name for m in track if m.type == "track_name"))


def _pitch_class(name: str) -> int:
    base = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}[name[0]]
    return (base + name[1:].count("#") - name[1:].count("b")) % 12


# FLAC


def _flac(samples: NDArray[np.int16], *, piece: int = 88200, sample_rate: int = 44100) -> bytes:
    encoder = FlacEncoder(
        sample_rate=sample_rate,
        channels=samples.shape[1],
        frames=samples.shape[0],
        md5=hashlib.md5(samples.astype("<i2").tobytes()).digest(),
    )
    pieces = [encoder.header()]
    for start in range(0, samples.shape[0], piece):
        pieces.append(encoder.encode(samples[start : start + piece]))
    pieces.append(encoder.finish())
    return b"".join(pieces)


def _streaminfo(flac: bytes) -> tuple[int, bytes]:
    """Total samples and MD5, read straight from the STREAMINFO block."""
    assert flac[:4] == b"fLaC"
    assert flac[4] & 0x7F == 0
    (packed,) = struct.unpack(">Q", flac[18:26])
    return packed & ((1 << 36) - 1), flac[26:42]


_rng = np.random.default_rng(3)
_noise = _rng.standard_normal((30000, 2))
_sine = np.sin(np.arange(20000) * 0.03)[:, None]
FLAC_CASES: dict[str, NDArray[np.int16]] = {
    # Left equals right: side/mid coding, a zero side channel.
    "mono-like": np.repeat((_noise[:, :1] * 3000).astype(np.int16), 2, axis=1),
    # Clipped full-scale noise: residuals larger than the samples, verbatim subframes.
    "loud": np.clip(_noise * 40000.0, -32768, 32767).astype(np.int16),
    "full-scale corners": np.tile(np.array([[32767, -32768], [-32768, 32767]], np.int16), (5000, 1)),
    "silent": np.zeros((9000, 2), np.int16),
    # Constant subframes that are not zero, on one channel only.
    "dc offset": np.column_stack([np.full(9000, -1234), (_noise[:9000, 0] * 100)]).astype(np.int16),
    # Rare full-scale spikes in silence: huge residuals where the Rice parameter is small.
    "impulses": np.where(_rng.random((30000, 2)) < 0.001, 32767, 0).astype(np.int16),
    # A slow random walk: high predictor orders win.
    "random walk": np.clip(np.cumsum(_noise * 40.0, axis=0), -32768, 32767).astype(np.int16),
    "one frame": np.array([[-5, 7]], np.int16),
    "a block less one": (_noise[:4095] * 500).astype(np.int16),
    "a block and one": (_noise[:4097] * 500).astype(np.int16),
    "odd length": (np.hstack([_sine, -_sine]) * 20000 + _noise[:20000] * 30).astype(np.int16)[:12345],
    "one channel": (_sine * 12000).astype(np.int16)[:10001],
}  # fmt: skip


@pytest.mark.parametrize("name", list(FLAC_CASES))
def test_flac_decodes_to_exactly_the_samples(name: str) -> None:
    samples = FLAC_CASES[name]

    flac = _flac(samples)

    assert np.array_equal(_decode(flac), samples)
    assert _streaminfo(flac) == (samples.shape[0], hashlib.md5(samples.tobytes()).digest())


@pytest.mark.parametrize("piece", [1, 4096, 10007])
def test_flac_does_not_depend_on_how_the_samples_arrive(piece: int) -> None:
    samples = FLAC_CASES["odd length"]

    assert _flac(samples, piece=piece) == _flac(samples)


def test_flac_of_several_batches_from_a_reused_buffer() -> None:
    # Longer than a few batches of blocks, handed in through one buffer the caller refills.
    samples = np.concatenate([FLAC_CASES["random walk"]] * 6)
    encoder = FlacEncoder(
        sample_rate=44100,
        channels=2,
        frames=samples.shape[0],
        md5=hashlib.md5(samples.tobytes()).digest(),
    )
    buffer = np.empty((5000, 2), np.int16)
    pieces = [encoder.header()]
    for start in range(0, samples.shape[0], buffer.shape[0]):
        piece = samples[start : start + buffer.shape[0]]
        buffer[: piece.shape[0]] = piece
        pieces.append(encoder.encode(buffer[: piece.shape[0]]))
        buffer[...] = 0
    pieces.append(encoder.finish())

    assert samples.shape[0] > 2 * BATCH_BLOCKS * BLOCK_FRAMES
    assert np.array_equal(_decode(b"".join(pieces)), samples)


@pytest.mark.parametrize("sample_rate", [44100, 48000, 37800])
def test_flac_keeps_the_sample_rate(sample_rate: int) -> None:
    flac = _flac(FLAC_CASES["a block and one"], sample_rate=sample_rate)

    assert soundfile.info(io.BytesIO(flac)).samplerate == sample_rate
    assert np.array_equal(_decode(flac), FLAC_CASES["a block and one"])


def test_flac_frames_carry_crcs_the_decoder_checks() -> None:
    flac = bytearray(_flac(FLAC_CASES["odd length"]))
    flac[-1] ^= 0x01  # the last frame's CRC-16

    with pytest.raises(soundfile.LibsndfileError):
        soundfile.read(io.BytesIO(bytes(flac)), dtype="int16")


def test_flac_encoder_refuses_more_or_fewer_frames_than_announced() -> None:
    encoder = FlacEncoder(sample_rate=44100, channels=2, frames=10, md5=bytes(16))
    encoder.encode(np.zeros((9, 2), np.int16))

    with pytest.raises(ValueError, match="9 frames arrived, 10 were announced"):
        encoder.finish()
    with pytest.raises(ValueError, match="More than the 10 frames"):
        encoder.encode(np.zeros((2, 2), np.int16))


def _opener(data: bytes, *, piece: int = 65536) -> Callable[[], AsyncIterator[bytes]]:
    async def open_wav() -> AsyncIterator[bytes]:
        for start in range(0, len(data), piece):
            yield data[start : start + piece]

    return open_wav


async def _flac_of(data: bytes, *, piece: int = 65536) -> bytes:
    return b"".join([chunk async for chunk in exports.flac_of_wav(_opener(data, piece=piece))])


@pytest.mark.parametrize("prompt", ["house", "solo piano ballad", "garage rock"])
async def test_flac_of_a_track_decodes_to_its_wav(prompt: str) -> None:
    wav = _track(prompt)[1]

    flac = await _flac_of(wav, piece=7777)

    assert np.array_equal(_decode(flac), _wav_samples(wav))
    assert _streaminfo(flac)[1] == hashlib.md5(wav[44:]).digest()
    assert len(flac) < 0.8 * len(wav)


async def test_flac_of_a_wav_with_other_chunks_before_its_data() -> None:
    samples = FLAC_CASES["one channel"]
    file = io.BytesIO()
    soundfile.write(file, samples, 22050, subtype="PCM_16", format="WAV")
    data = file.getvalue()
    listed = data[:36] + b"LIST" + struct.pack("<I", 5) + b"INFOx\0" + data[36:]
    listed = listed[:4] + struct.pack("<I", len(listed) - 8) + listed[8:]

    flac = await _flac_of(listed, piece=3)

    assert np.array_equal(_decode(flac), samples)


async def test_flac_of_wav_without_threads_is_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    wav = _track("house")[1]
    threaded = await _flac_of(wav)
    monkeypatch.setattr(exports, "CAN_START_THREADS", False)

    assert await _flac_of(wav) == threaded


def _wav_of(samples: NDArray[Any], *, subtype: str) -> bytes:
    file = io.BytesIO()
    soundfile.write(file, samples, 44100, subtype=subtype, format="WAV")
    return file.getvalue()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"ID3\x04\x00" + bytes(200), "Only WAV audio"),  # an MP3 track
        (_wav_of(np.zeros((100, 2)), subtype="PCM_24"), "16-bit"),
        (_wav_of(np.zeros((100, 2)), subtype="FLOAT"), "Only WAV audio"),
        (_wav_of(np.zeros((100, 4), np.int16), subtype="PCM_16"), "16-bit mono or stereo"),
        (_wav_of(np.zeros((100, 2), np.int16), subtype="PCM_16")[:-10], "ends before"),
    ],
    ids=["mp3", "24-bit", "float", "four channels", "truncated"],
)
async def test_flac_of_wav_refuses_what_it_cannot_encode(data: bytes, message: str) -> None:
    with pytest.raises(ExportUnavailable) as caught:
        await _flac_of(data)

    assert caught.value.code == "export_unavailable"
    assert message in caught.value.message
