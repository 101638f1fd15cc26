"""The composer's sound sources and tone: voices, drums, the tone stage and spectral balance."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from audio_measures import SAMPLE_RATE, Render, decode
from numpy.typing import NDArray

from beatbun.generation.composer.balance import TARGETS, TONES, measure_balance
from beatbun.generation.composer.drums import render_drum
from beatbun.generation.composer.instruments import VOICES, Wavetables, render_note
from beatbun.generation.composer.mixing import ToneStage
from beatbun.generation.composer.styles import GENRES

# The voices and drums the composer's genres may use (the shared plan lists them).
PLANNED_VOICES = (
    "piano", "electric_piano", "vibes", "bell", "glass", "organ", "pad", "dark_pad", "strings",
    "low_strings", "staccato_strings", "brass", "saw_lead", "pluck_lead", "guitar_lead",
    "power_guitar", "stab", "pluck", "synth_bass", "pick_bass", "acid_bass", "sub_bass",
    "bass_808", "upright_bass", "clean_guitar", "distorted_guitar", "acoustic_guitar",
    "nylon_guitar", "muted_guitar", "chip_square", "chip_pulse", "chip_triangle", "reese_bass",
    "wobble_bass", "slap_bass", "sax", "marimba", "log_drum", "riser", "impact",
)  # fmt: skip
PLANNED_DRUMS = (
    "kick", "snare", "clap", "hat_closed", "hat_open", "hat_pedal", "ride", "crash", "rim",
    "shaker", "brush", "taiko", "timpani", "tom", "vinyl", "cowbell", "conga", "bongo",
    "tambourine", "snap", "chip_kick", "chip_snare", "chip_hat", "kick_808", "snare_tight",
)  # fmt: skip
GUITARS = ("clean_guitar", "distorted_guitar", "acoustic_guitar", "nylon_guitar")
HOLD_SECONDS = 0.25


def _note(
    voice: str, *, pitch: int = 57, divisor: int | None = None, seconds: float = HOLD_SECONDS
) -> NDArray[np.float32]:
    patch = VOICES[voice]
    if divisor is not None:
        patch = dataclasses.replace(patch, rate_divisor=divisor)
    rate = SAMPLE_RATE // patch.rate_divisor
    return render_note(
        patch, pitch=pitch, hold=round(seconds * rate), sample_rate=SAMPLE_RATE,
        tables=Wavetables(),
    )  # fmt: skip


def _spectrum(
    sound: NDArray[np.float32], rate: int
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    # Zero-padded to eight times the length, so peaks fall between the plain DFT's bins.
    size = 8 * sound.size
    magnitude = np.abs(np.fft.rfft(sound.astype(np.float64) * np.hanning(sound.size), size))
    freqs = np.fft.rfftfreq(size, 1.0 / rate)
    return np.asarray(freqs, dtype=np.float64), np.asarray(magnitude, dtype=np.float64)


@pytest.mark.parametrize("divisor", [1, 2, 4])
@pytest.mark.parametrize("voice", PLANNED_VOICES)
def test_voice_renders_finite_sound_of_its_length(voice: str, divisor: int) -> None:
    rate = SAMPLE_RATE // divisor
    patch = VOICES[voice]

    sound = _note(voice, divisor=divisor)

    assert sound.dtype == np.float32
    assert np.all(np.isfinite(sound))
    # The hold plus the release at most; a string or a decaying voice may die away sooner.
    longest = round(HOLD_SECONDS * rate) + round(patch.release * rate)
    assert min(round(0.05 * rate), longest) <= sound.size <= longest
    # Every note fades out: no click where it stops.
    assert abs(float(sound[-1])) < 1e-3
    assert float(np.sqrt(np.mean(sound.astype(np.float64) ** 2))) > 1e-3
    assert float(np.max(np.abs(sound))) < 2.0


@pytest.mark.parametrize("rate", [SAMPLE_RATE, SAMPLE_RATE // 2])
@pytest.mark.parametrize("drum", PLANNED_DRUMS)
def test_drum_renders_finite_sound(drum: str, rate: int) -> None:
    sound = render_drum(drum, sample_rate=rate, rng=np.random.default_rng(1))

    assert sound.dtype == np.float32
    assert np.all(np.isfinite(sound))
    assert 0.03 * rate <= sound.size <= 2.5 * rate
    assert 0.1 < float(np.max(np.abs(sound))) < 1.5


def test_every_planned_name_is_defined() -> None:
    assert set(PLANNED_VOICES) <= set(VOICES)
    for genre in GENRES.values():
        assert set(genre.voices.values()) <= set(VOICES), genre.name
        assert {line.drum for line in genre.drums} <= set(PLANNED_DRUMS), genre.name


@pytest.mark.parametrize("pitch", [40, 45, 52, 57, 64])
@pytest.mark.parametrize("voice", GUITARS)
def test_guitar_sounds_its_fundamental(voice: str, pitch: int) -> None:
    rate = SAMPLE_RATE // VOICES[voice].rate_divisor
    expected = 440.0 * 2.0 ** ((pitch - 69) / 12.0)
    sound = _note(voice, pitch=pitch, seconds=1.0)

    freqs, magnitude = _spectrum(sound, rate)
    near = (freqs > 0.8 * expected) & (freqs < 1.2 * expected)
    below = (freqs > 30.0) & (freqs < 0.8 * expected)

    peak = freqs[near][np.argmax(magnitude[near])]
    assert abs(peak - expected) / expected < 0.01
    # The fundamental is present and nothing sounds below it.
    assert magnitude[near].max() > 0.1 * magnitude.max()
    assert magnitude[below].max() < 0.1 * magnitude[near].max()


@pytest.mark.parametrize("pitch", [40, 45, 52, 57])
def test_distorted_guitar_has_more_harmonics_than_clean(pitch: int) -> None:
    fundamental = 440.0 * 2.0 ** ((pitch - 69) / 12.0)

    def harmonics(voice: str) -> int:
        """How many harmonics below 5 kHz of the ringing note are within 30 dB of the loudest."""
        rate = SAMPLE_RATE // VOICES[voice].rate_divisor
        sound = _note(voice, pitch=pitch, seconds=1.0)[round(0.2 * rate) : rate]
        freqs, magnitude = _spectrum(sound, rate)
        levels = np.array([
            magnitude[np.abs(freqs - k * fundamental) < 0.03 * fundamental].max()
            for k in range(1, int(5000.0 // fundamental))
        ])  # fmt: skip
        return int((levels > 10 ** (-30 / 20) * levels.max()).sum())

    assert harmonics("distorted_guitar") >= harmonics("clean_guitar") + 4


def test_chip_pulse_lacks_every_fourth_harmonic_and_square_the_even_ones() -> None:
    def levels(voice: str) -> NDArray[np.float64]:
        freqs, magnitude = _spectrum(_note(voice, pitch=57), SAMPLE_RATE)
        return np.array([magnitude[np.abs(freqs - 220.0 * k) < 5.0].max() for k in (1, 2, 3, 4)])

    pulse = levels("chip_pulse")
    square = levels("chip_square")

    assert pulse[3] < 0.05 * pulse[1]
    assert pulse[1] > 0.5 * pulse[0]
    assert square[1] < 0.05 * square[0] and square[3] < 0.05 * square[0]
    assert square[2] > 0.2 * square[0]


def test_riser_grows_louder_and_brighter_over_its_hold() -> None:
    rate = SAMPLE_RATE // VOICES["riser"].rate_divisor
    sound = _note("riser").astype(np.float64)
    hold = round(HOLD_SECONDS * rate)
    first, last = sound[: hold // 4], sound[3 * hold // 4 : hold]

    def centroid(part: NDArray[np.float64]) -> float:
        freqs, magnitude = _spectrum(part.astype(np.float32), rate)
        return float((freqs * magnitude**2).sum() / (magnitude**2).sum())

    assert np.sqrt(np.mean(last**2)) > 4.0 * np.sqrt(np.mean(first**2))
    assert centroid(last) > 1.5 * centroid(first)


def test_wobble_bass_opens_its_filter_on_the_grid() -> None:
    patch = VOICES["wobble_bass"]
    rate = SAMPLE_RATE // patch.rate_divisor
    hold = rate  # one second: four wobbles at the voice's rate
    sound = render_note(
        patch, pitch=40, hold=hold, sample_rate=SAMPLE_RATE, tables=Wavetables()
    ).astype(np.float64)
    # Energy above 400 Hz, per 25 ms: the filter opening and closing.
    window = rate // 40
    frames = sound[: hold // window * window].reshape(-1, window)
    spectra = np.abs(np.fft.rfft(frames * np.hanning(window), axis=1)) ** 2
    bright = spectra[:, np.fft.rfftfreq(window, 1.0 / rate) > 400.0].sum(axis=1)
    bright /= bright.max()

    peaks = (bright[1:-1] > bright[:-2]) & (bright[1:-1] >= bright[2:]) & (bright[1:-1] > 0.5)
    assert int(peaks.sum()) == round(patch.lfo)


def test_tone_stage_is_continuous_across_chunks() -> None:
    # Chunks of 30000 frames: the stage also works in steps of its own inside each chunk.
    chunk = 30000
    signal = np.random.default_rng(3).standard_normal((5, 2, 3 * chunk)).astype(np.float32)
    # One call over the whole signal is the reference the chunked calls must match.
    reference = signal.copy()
    ToneStage(genre="pop").process(reference)
    chunked = ToneStage(genre="pop")

    pieces = [signal[..., i * chunk : (i + 1) * chunk].copy() for i in range(3)]
    for piece in pieces:
        chunked.process(piece)

    assert np.allclose(np.concatenate(pieces, axis=-1), reference, atol=1e-5)
    assert not np.allclose(reference, signal, atol=1e-2)


@pytest.mark.parametrize("freq", [100.0, 4000.0, 11025.0, 21000.0])
def test_tone_stage_lifts_the_air_band_only(freq: float) -> None:
    boost = 10.0 ** (TONES["pop"].air / 20.0) - 1.0
    # The documented response: 1 + a * sin(w) ** 2.
    expected = 20 * np.log10(1.0 + boost * np.sin(2 * np.pi * freq / SAMPLE_RATE) ** 2)
    t = np.arange(SAMPLE_RATE) / SAMPLE_RATE
    tone = np.sin(2 * np.pi * freq * t).astype(np.float32)[None, :].repeat(2, axis=0)
    before = float(np.sqrt(np.mean(tone[:, 1000:].astype(np.float64) ** 2)))

    ToneStage(genre="pop").process(tone)

    after = float(np.sqrt(np.mean(tone[:, 1000:].astype(np.float64) ** 2)))
    assert 20 * np.log10(after / before) == pytest.approx(expected, abs=0.05)
    assert (expected > 0.9 * TONES["pop"].air) == (freq == 11025.0)


def test_balance_measures_energy_shares() -> None:
    t = np.arange(4 * SAMPLE_RATE) / SAMPLE_RATE
    low, middle, high = 0.6, 0.3, 0.2
    mono = (
        low * np.sin(2 * np.pi * 110.0 * t)
        + middle * np.sin(2 * np.pi * 1000.0 * t)
        + high * np.sin(2 * np.pi * 6000.0 * t)
    )
    stereo = (np.stack([mono, mono], axis=1) * 16384).astype(np.int16)
    total = low**2 + middle**2 + high**2

    balance = measure_balance(stereo, sample_rate=SAMPLE_RATE)

    assert balance.low_share == pytest.approx(low**2 / total, abs=0.005)
    assert balance.high_share == pytest.approx(high**2 / total, abs=0.005)


def test_balance_refuses_silence() -> None:
    with pytest.raises(ValueError, match="silent"):
        measure_balance(np.zeros((SAMPLE_RATE, 2), dtype=np.int16), sample_rate=SAMPLE_RATE)


def test_every_genre_has_balance_targets_and_a_tone() -> None:
    assert set(TARGETS) == set(GENRES) == set(TONES)


@pytest.mark.parametrize("genre", ["pop", "techno", "hiphop", "cinematic", "piano", "metal"])
def test_rendered_genre_meets_its_spectral_balance(render: Render, genre: str) -> None:
    result = render(genre, seconds=30, genres=(genre,))

    balance = measure_balance(decode(result), sample_rate=SAMPLE_RATE)

    target = TARGETS[genre]
    assert target.admits(balance), (genre, balance, target)
