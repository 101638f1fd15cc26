"""The provider interface: request validation with typed errors, results, provider errors."""

from __future__ import annotations

from typing import Any

import pytest

from beatbun.errors import InvalidInput, RuntimeFailure
from beatbun.generation.composer.provider import Composer
from beatbun.generation.models import GenerationRequest
from beatbun.generation.provider import (
    CHECKS,
    INVALID_VALUE,
    NOT_AN_OBJECT,
    REFUSALS,
    MusicProvider,
    MusicRequest,
    ProviderError,
)
from tests.generation.sinks import MemorySink

# Every text a validation error may carry: pydantic's own `msg` has no translations.
OUR_WORDS = {*REFUSALS.values(), *CHECKS.values(), INVALID_VALUE, NOT_AN_OBJECT}


def test_request_defaults_are_instrumental_thirty_seconds() -> None:
    request = MusicRequest(prompt="  calm piano  ")

    assert request.prompt == "calm piano"
    assert request.duration_seconds == 30.0
    assert request.instrumental is True
    assert request.seed is None


@pytest.mark.parametrize(
    ("fields", "code", "field"),
    [
        ({"prompt": ""}, "empty_prompt", "prompt"),
        ({"prompt": "   \n"}, "empty_prompt", "prompt"),  # whitespace only is empty
        ({"prompt": "x" * 2001}, "prompt_too_long", "prompt"),
        ({"prompt": "x", "duration_seconds": 4.99}, "duration_out_of_range", "duration_seconds"),
        ({"prompt": "x", "duration_seconds": 300.5}, "duration_out_of_range", "duration_seconds"),
        (
            {"prompt": "x", "duration_seconds": "long"},
            "invalid_duration_seconds",
            "duration_seconds",
        ),
        ({"prompt": "x", "key": "H"}, "unknown_key", "key"),  # German B is not accepted
        ({"prompt": "x", "key": "E#"}, "unknown_key", "key"),  # enharmonic oddities are refused
        ({"prompt": "x", "key": "A lydian"}, "unknown_key", "key"),
        ({"prompt": "x", "mode": "dorian"}, "unknown_mode", "mode"),
        ({"prompt": "x", "key": "Am", "mode": "major"}, "conflicting_mode", "mode"),
        ({"prompt": "x", "bpm": 20}, "bpm_out_of_range", "bpm"),
        ({"prompt": "x", "seed": -1}, "seed_out_of_range", "seed"),
        ({"prompt": "x", "genres": [""]}, "invalid_genre", "genres"),
        ({"prompt": "x", "lyrics": "la la"}, "unknown_field", "lyrics"),
        ({}, "missing_field", "prompt"),
    ],
)
def test_request_invalid_raises_invalid_input(
    fields: dict[str, object], code: str, field: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        MusicRequest(**fields)

    assert caught.value.status == 422
    assert caught.value.code == code
    assert caught.value.field == field
    assert not caught.value.message.startswith(f"{field}:")  # the field travels beside it
    assert caught.value.template in OUR_WORDS


def test_refusal_keeps_its_values_apart_from_its_text() -> None:
    with pytest.raises(InvalidInput) as caught:
        MusicRequest(prompt="x", duration_seconds=900)

    assert caught.value.message == "Duration 900 s is outside 5..300 s"
    assert caught.value.field == "duration_seconds"
    assert caught.value.template == REFUSALS["duration_out_of_range"]
    assert caught.value.params == {"value": "900", "low": "5", "high": "300"}


@pytest.mark.parametrize(
    ("data", "code", "field", "message"),
    [
        ([1, 2, 3], "invalid_request", None, "The request must be a JSON object"),
        ({"prompt": "x", "bpm": "fast"}, "invalid_bpm", "bpm", "Input should be a valid number"),
        (
            {"prompt": "x" * 2001},
            "invalid_prompt",
            "prompt",
            "String should have at most 2000 characters",
        ),
        (
            {"prompt": "x", "volume": 11},
            "unknown_field",
            "volume",
            "Extra inputs are not permitted",
        ),
        (
            {"prompt": "x", "genres": [3]},
            "invalid_genres.0",
            "genres.0",
            "Input should be a valid string",
        ),
    ],
)
def test_generation_request_errors_are_worded_by_us(
    data: Any, code: str, field: str | None, message: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        GenerationRequest.parse(data)

    assert (caught.value.code, caught.value.field, caught.value.message) == (code, field, message)
    assert caught.value.template in OUR_WORDS


@pytest.mark.parametrize(
    ("key", "mode", "tonic", "resolved_mode"),
    [
        ("A minor", None, "A", "minor"),
        ("f#m", None, "F#", "minor"),
        ("Bb", "major", "Bb", "major"),
        ("e flat major", None, "Eb", "major"),
        ("C", None, "C", None),  # a bare tonic leaves the mode to the prompt or genre
    ],
)
def test_request_key_is_normalized(
    key: str, mode: str | None, tonic: str, resolved_mode: str | None
) -> None:
    request = MusicRequest(prompt="x", key=key, mode=mode)

    assert request.key == tonic
    assert request.mode == resolved_mode


def test_provider_error_is_a_runtime_failure_with_its_own_default_code() -> None:
    error = ProviderError("busy", provider="elevenlabs", retryable=True)

    assert isinstance(error, RuntimeFailure)
    assert error.status == 503
    assert error.code == "provider_error"


async def test_composer_generate_returns_wav_result() -> None:
    provider: MusicProvider = Composer()

    sink = MemorySink()
    result = await provider.generate(
        MusicRequest(prompt="dark techno", duration_seconds=5, seed=1),
        correlation_id="job-1",
        sink=sink,
    )

    assert provider.name == "composer"
    assert result.media_type == "audio/wav"
    assert result.frames == 5 * 44100
    assert result.duration_seconds == 5.0
    assert sink.data[:4] == b"RIFF"
    assert len(sink.data) == 44 + 5 * 44100 * 4
    assert result.plan["genre"] == "techno"
    assert result.plan["seed"] == 1
    assert result.correlation_id == "job-1"
