"""The rendered file: determinism, exact length, a valid WAV, and peaks for the player."""

from __future__ import annotations

import io
import json
import wave

import numpy as np
import pytest
from audio_measures import Render, decode

from beatbun.generation.composer import provider as composer_provider
from beatbun.generation.composer.arrangement import arrange
from beatbun.generation.composer.prompt import resolve_plan
from beatbun.generation.composer.provider import Composer
from beatbun.generation.composer.render import CHUNK_FRAMES, TrackRender
from beatbun.generation.composer.wav import PeakMeter
from beatbun.generation.provider import MusicRequest
from tests.generation.sinks import MemorySink


def test_render_same_seed_same_bytes(render: Render) -> None:
    first = render("house", seconds=8, seed=11)

    file = io.BytesIO()
    fresh = Composer().compose(
        MusicRequest(prompt="house", duration_seconds=8, seed=11), write=file.write
    )

    assert file.getvalue() == first.audio
    assert fresh.peaks == first.peaks


@pytest.mark.parametrize("genre", ["pop", "ambient"])
def test_render_mixed_again_equals_render_kept(genre: str) -> None:
    # A long track is mixed again for each mastering pass instead of being kept in memory;
    # the samples must not depend on which.
    plan = resolve_plan(
        MusicRequest(prompt=genre, genres=(genre,), duration_seconds=9, seed=4), sample_rate=44100
    )
    kept = TrackRender(plan, arrange(plan))
    remixed = TrackRender(plan, arrange(plan), kept_mix_bytes=0)

    kept_chunks = [step for step in kept.steps() if step is not None]
    remixed_chunks = [step for step in remixed.steps() if step is not None]

    assert b"".join(c.tobytes() for c in kept_chunks) == b"".join(
        c.tobytes() for c in remixed_chunks
    )
    assert (kept.loudness, kept.peaks) == (remixed.loudness, remixed.peaks)


async def test_generate_without_threads_writes_the_same_file(
    render: Render, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Pyodide cannot start threads: there the render runs between turns of the event loop.
    monkeypatch.setattr(composer_provider, "CAN_START_THREADS", False)
    sink = MemorySink()

    await Composer().generate(
        MusicRequest(prompt="house", duration_seconds=8, seed=11), correlation_id="j", sink=sink
    )

    assert bytes(sink.data) == render("house", seconds=8, seed=11).audio


def test_render_hands_out_the_audio_a_chunk_at_a_time() -> None:
    pieces: list[int] = []
    result = Composer().compose(
        MusicRequest(prompt="rock", duration_seconds=9, seed=2),
        write=lambda piece: pieces.append(piece.nbytes),
    )

    assert pieces[0] == 44
    assert max(pieces[1:]) == CHUNK_FRAMES * 4
    assert sum(pieces) == 44 + result.frames * 4


def test_render_different_seed_different_music(render: Render) -> None:
    first = decode(render("house", seconds=8, seed=11))
    other = decode(render("house", seconds=8, seed=12))

    assert first.shape == other.shape
    correlation = np.corrcoef(first[:, 0], other[:, 0])[0, 1]
    assert correlation < 0.5


def test_render_duration_is_sample_exact(render: Render) -> None:
    result = render("rock", seconds=7.3, seed=1)

    with wave.open(io.BytesIO(result.audio)) as reader:
        assert reader.getnchannels() == 2
        assert reader.getsampwidth() == 2
        assert reader.getframerate() == 44100
        assert reader.getnframes() == round(7.3 * 44100)
    assert len(result.audio) == 44 + round(7.3 * 44100) * 4
    assert result.frames == round(7.3 * 44100)


def test_render_peaks_are_min_max_pairs_of_the_audio(render: Render) -> None:
    result = render("pop", seconds=12)
    audio = decode(result)

    assert len(result.peaks) == 1000
    lows = np.array([p[0] for p in result.peaks])
    highs = np.array([p[1] for p in result.peaks])
    assert np.all(lows <= highs)
    assert np.all((lows >= -1.0) & (highs <= 1.0))
    assert highs.max() == round(audio.max() * 32768 / 32767, 4)
    assert lows.min() == round(audio.min(), 4)


def test_peak_meter_short_input_gives_one_pair_per_frame() -> None:
    samples = np.array([[0, 0], [16384, -16384], [-32768, 32767]], dtype=np.int16)
    meter = PeakMeter(expected_frames=3, channels=2)

    meter.add(samples[:2])
    meter.add(samples[2:])

    assert meter.result() == ((0.0, 0.0), (-0.5, 0.5), (-1.0, 1.0))


def test_peak_meter_pieces_of_any_length_give_the_same_peaks() -> None:
    samples = np.random.default_rng(1).integers(-30000, 30000, (100_003, 1), dtype=np.int16)
    whole = PeakMeter(expected_frames=80_000, channels=1)
    whole.add(samples)
    pieces = PeakMeter(expected_frames=80_000, channels=1)
    for start in range(0, samples.shape[0], 7_777):
        pieces.add(samples[start : start + 7_777])

    assert pieces.result() == whole.result()
    assert len(whole.result()) == 1000
    assert min(low for low, _ in whole.result()) == round(samples.min() / 32768, 4)


def test_render_plan_is_json_and_reports_loudness(render: Render) -> None:
    result = render("chill lo-fi piano at 80 bpm in A minor", seconds=10)

    plan = json.loads(json.dumps(result.plan))

    assert (plan["genre"], plan["bpm"], plan["key"]) == ("lofi", 80.0, "A minor")
    assert abs(plan["loudness_lufs"] - -14.0) < 0.2
    assert plan["true_peak_dbtp"] <= -1.0
    assert plan["duration_seconds"] == 10.0


def test_render_fades_out_to_silence(render: Render) -> None:
    audio = decode(render("techno", seconds=12))

    tail = np.abs(audio[-441:]).max()
    body = np.abs(audio[: -4 * 44100]).max()
    assert tail < 0.01 * body
