"""Request mapping, client timeout and provider choice, where a real server adds nothing."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Callable, Mapping

import httpx
import pytest
from fake_elevenlabs import API_KEY, sine_pcm

from beatbun.generation.composer.provider import Composer
from beatbun.generation.models import GenerationRequest
from beatbun.generation.provider import MusicRequest, ProviderError
from beatbun.generation.providers.elevenlabs import ElevenLabsProvider
from beatbun.generation.registry import provider_capabilities, provider_from_settings
from beatbun.runtime.base import FetchResponse, FetchStream
from beatbun.settings import Settings
from beatbun_local.fetch import HttpxFetcher
from tests.generation.sinks import MemorySink


class Recorder:
    """A MockTransport handler that keeps each request and answers with fitting PCM."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        length_ms = json.loads(request.content)["music_length_ms"]
        return httpx.Response(200, content=sine_pcm(length_ms * 44100 // 1000))

    def body(self) -> dict[str, object]:
        sent: dict[str, object] = json.loads(self.requests[-1].content)
        return sent


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
async def mock_client(recorder: Recorder) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.MockTransport(recorder)) as client:
        yield client


async def _send(client: httpx.AsyncClient, **fields: object) -> None:
    provider = ElevenLabsProvider(HttpxFetcher(client), api_key=API_KEY)
    request = GenerationRequest.parse(
        {"prompt": "rainy night", "duration_seconds": 5, **fields}
    ).to_music_request()
    await provider.generate(request, correlation_id="job-1", sink=MemorySink())


@pytest.mark.parametrize(
    ("fields", "prompt"),
    [
        ({}, "rainy night"),
        (
            {"genres": ["lo-fi"], "mood": "chill", "bpm": 80, "key": "A", "mode": "minor"},
            "lo-fi, chill, 80 BPM, A minor. rainy night",  # catalogue ids go out as names
        ),
        ({"genres": ["Jazz", "Soul"]}, "jazz, r&b / soul. rainy night"),  # any word of a genre
        ({"bpm": 92.5}, "92.5 BPM. rainy night"),
        ({"key": "F#"}, "key of F#. rainy night"),  # a tonic alone names no mode
        ({"mode": "major"}, "major key. rainy night"),
        ({"key": "Bbm"}, "Bb minor. rainy night"),  # the mode written into the key
    ],
)
async def test_request_prompt_carries_structured_fields(
    recorder: Recorder, mock_client: httpx.AsyncClient, fields: dict[str, object], prompt: str
) -> None:
    await _send(mock_client, **fields)

    assert recorder.body()["prompt"] == prompt


@pytest.mark.parametrize(
    ("seconds", "length_ms"),
    [(5, 5000), (7.5, 7500), (300, 300000), (12.3456, 12346)],  # sub-millisecond rounds
)
async def test_request_music_length_is_duration_in_ms(
    recorder: Recorder, mock_client: httpx.AsyncClient, seconds: float, length_ms: int
) -> None:
    await _send(mock_client, duration_seconds=seconds)

    assert recorder.body()["music_length_ms"] == length_ms


async def test_request_without_seed_omits_seed(
    recorder: Recorder, mock_client: httpx.AsyncClient
) -> None:
    await _send(mock_client)

    assert "seed" not in recorder.body()


async def test_request_with_vocals_does_not_force_instrumental(
    recorder: Recorder, mock_client: httpx.AsyncClient
) -> None:
    await _send(mock_client, instrumental=False)

    assert recorder.body()["force_instrumental"] is False


class DeadlineRecorder:
    """A `Fetcher` that keeps the deadline each call asked for and answers with fitting PCM."""

    def __init__(self, answer: Callable[[bytes], AsyncIterator[bytes]] | None = None) -> None:
        self.timeouts: list[float] = []
        self._answer = answer or _in_one_piece

    async def fetch(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
        timeout_seconds: float,
    ) -> FetchResponse:
        raise AssertionError("ElevenLabs streams its answer")

    @contextlib.asynccontextmanager
    async def stream(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
        timeout_seconds: float,
    ) -> AsyncIterator[FetchStream]:
        self.timeouts.append(timeout_seconds)
        length_ms = json.loads(body or b"{}")["music_length_ms"]
        yield FetchStream(200, {}, self._answer(sine_pcm(length_ms * 44100 // 1000)))


async def _in_one_piece(pcm: bytes) -> AsyncIterator[bytes]:
    yield pcm


async def _in_odd_pieces(pcm: bytes) -> AsyncIterator[bytes]:
    # 3-byte pieces split samples across chunk boundaries.
    for start in range(0, len(pcm), 3):
        yield pcm[start : start + 3]


async def test_request_default_deadline_outlasts_a_slow_generation() -> None:
    # ElevenLabs asks clients to wait at least 240 s for a song; the deadline is the whole call's.
    fetcher = DeadlineRecorder()
    provider = ElevenLabsProvider(fetcher, api_key=API_KEY)

    await provider.generate(
        MusicRequest(prompt="rainy night"), correlation_id="job-1", sink=MemorySink()
    )

    assert fetcher.timeouts[0] >= 240


async def test_answer_in_pieces_becomes_the_same_wav() -> None:
    provider = ElevenLabsProvider(DeadlineRecorder(_in_odd_pieces), api_key=API_KEY)

    sink = MemorySink()
    result = await provider.generate(
        MusicRequest(prompt="rain", duration_seconds=5), correlation_id="j", sink=sink
    )

    assert bytes(sink.data[44:]) == sine_pcm(5 * 44100)
    assert result.frames == 5 * 44100


async def test_endless_answer_stops_being_read_past_twice_the_length() -> None:
    read: list[int] = []

    async def endless(pcm: bytes) -> AsyncIterator[bytes]:
        while True:
            read.append(len(pcm))
            yield pcm

    provider = ElevenLabsProvider(DeadlineRecorder(endless), api_key=API_KEY)

    with pytest.raises(ProviderError) as caught:
        await provider.generate(
            MusicRequest(prompt="rain", duration_seconds=5), correlation_id="j", sink=MemorySink()
        )

    assert (caught.value.code, caught.value.retryable) == ("malformed_audio", False)
    assert len(read) == 3  # two songs' worth is still acceptable; the third piece is too much


def test_provider_without_key_is_refused(mock_client: httpx.AsyncClient) -> None:
    with pytest.raises(ValueError, match="Composer"):
        ElevenLabsProvider(HttpxFetcher(mock_client), api_key="")


def test_provider_from_settings_without_key_is_composer(mock_client: httpx.AsyncClient) -> None:
    settings = Settings.from_env({"ENVIRONMENT": "test"})

    provider = provider_from_settings(settings, HttpxFetcher(mock_client))

    assert isinstance(provider, Composer)


async def test_provider_from_settings_with_key_uses_elevenlabs_and_model(
    recorder: Recorder, mock_client: httpx.AsyncClient
) -> None:
    settings = Settings.from_env({"ELEVENLABS_API_KEY": API_KEY, "ELEVENLABS_MODEL": "music_v2"})

    provider = provider_from_settings(settings, HttpxFetcher(mock_client))
    await provider.generate(
        MusicRequest(prompt="rainy night"), correlation_id="job-1", sink=MemorySink()
    )

    assert provider.name == "elevenlabs"
    assert recorder.requests[0].headers["xi-api-key"] == API_KEY
    assert recorder.body()["model_id"] == "music_v2"


@pytest.mark.parametrize(
    ("env", "name", "sings"),
    [
        ({"ENVIRONMENT": "test"}, "composer", False),
        ({"ENVIRONMENT": "test", "ELEVENLABS_API_KEY": API_KEY}, "elevenlabs", True),
    ],
)
def test_registry_answers_what_the_chosen_provider_can_make(
    mock_client: httpx.AsyncClient, env: dict[str, str], name: str, sings: bool
) -> None:
    settings = Settings.from_env(env)

    provider = provider_from_settings(settings, HttpxFetcher(mock_client))

    assert provider.name == name
    assert provider_capabilities(settings) == provider.capabilities
    assert provider_capabilities(settings).supports_lyrics is sings
