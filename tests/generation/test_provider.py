"""The provider interface: a frozen request, declared capabilities, results, provider errors."""

from __future__ import annotations

import dataclasses

import pytest

from beatbun.errors import RuntimeFailure
from beatbun.generation.composer.provider import Composer
from beatbun.generation.models import GenerationRequest
from beatbun.generation.provider import MusicProvider, MusicRequest, ProviderError
from beatbun.generation.providers.elevenlabs import ElevenLabsProvider
from tests.generation.sinks import MemorySink


def test_music_request_is_frozen() -> None:
    request = GenerationRequest.parse({"prompt": "calm piano"}).to_music_request()

    with pytest.raises(dataclasses.FrozenInstanceError):
        request.prompt = "loud"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("provider", "lyrics", "extend"),
    [(Composer, False, True), (ElevenLabsProvider, True, False)],
)
def test_providers_declare_what_they_can_make(
    provider: type[Composer] | type[ElevenLabsProvider], lyrics: bool, extend: bool
) -> None:
    capabilities = provider.capabilities

    assert (capabilities.supports_lyrics, capabilities.supports_extend) == (lyrics, extend)
    assert capabilities.media_types == ("audio/wav",)
    assert capabilities.max_duration_seconds == 300.0
    assert capabilities.supports_variations


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
