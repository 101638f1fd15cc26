"""The ElevenLabs adapter against a fake server speaking the documented wire format over HTTP."""

from __future__ import annotations

import io
import logging
import socket
import wave

import httpx
import pytest
from fake_elevenlabs import API_KEY, SONG_ID, FakeElevenLabs, sine_pcm

from beatbun.generation.models import GenerationRequest
from beatbun.generation.provider import ProviderError
from beatbun.generation.providers.elevenlabs import ElevenLabsProvider
from beatbun_local.fetch import HttpxFetcher
from tests.generation.sinks import MemorySink, Written

FIVE_SECONDS = 5 * 44100


def _provider(
    fake: FakeElevenLabs,
    client: httpx.AsyncClient,
    *,
    api_key: str = API_KEY,
    model_id: str = "music_v1",
    timeout_seconds: float = 30.0,
) -> ElevenLabsProvider:
    return ElevenLabsProvider(
        HttpxFetcher(client),
        api_key=api_key,
        model_id=model_id,
        base_url=fake.url,
        timeout_seconds=timeout_seconds,
    )


async def _generate(provider: ElevenLabsProvider, **fields: object) -> Written:
    request = GenerationRequest.parse(
        {"prompt": "warm synthwave", "duration_seconds": 5, **fields}
    ).to_music_request()
    sink = MemorySink()
    result = await provider.generate(request, correlation_id="job-42", sink=sink)
    return Written(result=result, audio=bytes(sink.data))


async def _failure(provider: ElevenLabsProvider) -> ProviderError:
    with pytest.raises(ProviderError) as caught:
        await _generate(provider)
    assert caught.value.provider == "elevenlabs"
    return caught.value


async def test_generate_success_returns_mono_44k_wav(
    fake_elevenlabs: FakeElevenLabs, http_client: httpx.AsyncClient
) -> None:
    result = await _generate(_provider(fake_elevenlabs, http_client))

    with wave.open(io.BytesIO(result.audio)) as wav:
        header = (wav.getnchannels(), wav.getframerate(), wav.getsampwidth(), wav.getnframes())
    assert header == (1, 44100, 2, FIVE_SECONDS)
    assert (result.media_type, result.provider) == ("audio/wav", "elevenlabs")
    assert (result.channels, result.sample_rate, result.frames) == (1, 44100, FIVE_SECONDS)


async def test_generate_success_wav_carries_the_pcm_unchanged(
    fake_elevenlabs: FakeElevenLabs, http_client: httpx.AsyncClient
) -> None:
    result = await _generate(_provider(fake_elevenlabs, http_client))

    with wave.open(io.BytesIO(result.audio)) as wav:
        assert wav.readframes(wav.getnframes()) == sine_pcm(FIVE_SECONDS)


async def test_generate_success_peaks_follow_the_waveform(
    fake_elevenlabs: FakeElevenLabs, http_client: httpx.AsyncClient
) -> None:
    result = await _generate(_provider(fake_elevenlabs, http_client))

    assert len(result.peaks) == 1000
    assert max(high for _, high in result.peaks) == pytest.approx(16000 / 32767, abs=1e-3)
    assert min(low for low, _ in result.peaks) == pytest.approx(-16000 / 32768, abs=1e-3)


async def test_generate_sends_the_documented_request(
    fake_elevenlabs: FakeElevenLabs, http_client: httpx.AsyncClient
) -> None:
    await _generate(_provider(fake_elevenlabs, http_client), seed=9, instrumental=False)

    [sent] = fake_elevenlabs.requests
    assert (sent.method, sent.path, sent.query) == (
        "POST",
        "/v1/music",
        {"output_format": "pcm_44100"},
    )
    assert sent.headers["xi-api-key"] == API_KEY
    assert sent.json() == {
        "prompt": "warm synthwave",
        "music_length_ms": 5000,
        "model_id": "music_v1",
        "force_instrumental": False,
        "seed": 9,
    }


async def test_generate_correlation_id_is_sent_and_returned(
    fake_elevenlabs: FakeElevenLabs, http_client: httpx.AsyncClient
) -> None:
    result = await _generate(_provider(fake_elevenlabs, http_client))

    assert fake_elevenlabs.requests[0].headers["x-correlation-id"] == "job-42"
    assert result.correlation_id == "job-42"


async def test_generate_plan_records_what_was_sent_and_the_song_id(
    fake_elevenlabs: FakeElevenLabs, http_client: httpx.AsyncClient
) -> None:
    result = await _generate(_provider(fake_elevenlabs, http_client), bpm=90, seed=3)

    assert result.plan == {
        "prompt": "90 BPM. warm synthwave",
        "music_length_ms": 5000,
        "model_id": "music_v1",
        "force_instrumental": True,
        "seed": 3,
        "output_format": "pcm_44100",
        "song_id": SONG_ID,
    }


def _refusal(kind: str, field: str) -> dict[str, object]:
    return {"detail": {"status": kind, "data": {field: "an upbeat 80s synth-pop song"}}}


@pytest.mark.parametrize(
    ("status", "body", "code", "retryable"),
    [
        (400, _refusal("bad_prompt", "prompt_suggestion"), "prompt_refused", False),
        # We never send a plan, but its refusal means the same to the user.
        (
            400,
            _refusal("bad_composition_plan", "composition_plan_suggestion"),
            "prompt_refused",
            False,
        ),
        (400, {"detail": {"status": "invalid_request"}}, "provider_rejected_request", False),
        (422, {"detail": [{"loc": ["body"], "msg": "bad"}]}, "provider_rejected_request", False),
        (429, {"detail": {"status": "too_many_concurrent_requests"}}, "provider_busy", True),
        (429, {"detail": {"status": "system_busy"}}, "provider_overloaded", True),
        (429, b"", "provider_busy", True),  # a bare 429 still means wait for a slot
        (401, {"detail": {"status": "invalid_api_key"}}, "provider_auth_failed", False),
        (403, {"detail": {"status": "missing_permissions"}}, "provider_auth_failed", False),
        (500, b"Internal Server Error", "provider_unavailable", True),  # not JSON at all
        (503, {"detail": "maintenance"}, "provider_unavailable", True),
        (404, b"", "provider_rejected_request", False),  # a wrong base URL is not worth a retry
    ],
)
async def test_generate_error_status_maps_to_code(
    fake_elevenlabs: FakeElevenLabs,
    http_client: httpx.AsyncClient,
    status: int,
    body: bytes | dict[str, object],
    code: str,
    retryable: bool,
) -> None:
    fake_elevenlabs.answer_next(status, body)

    error = await _failure(_provider(fake_elevenlabs, http_client))

    assert (error.code, error.retryable) == (code, retryable)


async def test_generate_bad_prompt_message_quotes_the_suggestion(
    fake_elevenlabs: FakeElevenLabs, http_client: httpx.AsyncClient
) -> None:
    fake_elevenlabs.answer_next(400, _refusal("bad_prompt", "prompt_suggestion"))

    error = await _failure(_provider(fake_elevenlabs, http_client))

    assert "copyrighted" in error.message
    assert "'an upbeat 80s synth-pop song'" in error.message


async def test_generate_wrong_key_fails_as_auth_without_the_key(
    fake_elevenlabs: FakeElevenLabs, http_client: httpx.AsyncClient
) -> None:
    wrong_key = "sk_wrong_fedcba9876543210"

    error = await _failure(_provider(fake_elevenlabs, http_client, api_key=wrong_key))

    assert (error.code, error.retryable) == ("provider_auth_failed", False)
    assert "ELEVENLABS_API_KEY" in error.message
    assert wrong_key not in error.message


async def test_generate_key_echoed_by_service_is_kept_out_of_message_and_logs(
    fake_elevenlabs: FakeElevenLabs,
    http_client: httpx.AsyncClient,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    fake_elevenlabs.answer_next(
        401, {"detail": {"status": "invalid_api_key", "message": f"Unknown key {API_KEY}"}}
    )

    error = await _failure(_provider(fake_elevenlabs, http_client))

    assert "Unknown key [redacted]" in error.message
    assert API_KEY not in error.message
    assert caplog.records  # httpx and httpcore did log the exchange
    assert API_KEY not in caplog.text


async def test_generate_unknown_model_is_rejected_by_validation(
    fake_elevenlabs: FakeElevenLabs, http_client: httpx.AsyncClient
) -> None:
    provider = _provider(fake_elevenlabs, http_client, model_id="music_v9")

    error = await _failure(provider)

    assert (error.code, error.retryable) == ("provider_rejected_request", False)
    assert "HTTP 422 body.model_id" in error.message


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"\x00\x01\x02",  # half a sample at the end
        sine_pcm(2 * 44100),  # 2 s for 5 s asked: truncated
        sine_pcm(11 * 44100),  # more than double: not mono 44.1 kHz
    ],
)
async def test_generate_malformed_audio_is_not_retryable(
    fake_elevenlabs: FakeElevenLabs, http_client: httpx.AsyncClient, body: bytes
) -> None:
    fake_elevenlabs.answer_next(200, body, headers={"song-id": SONG_ID})

    error = await _failure(_provider(fake_elevenlabs, http_client))

    assert (error.code, error.retryable) == ("malformed_audio", False)


async def test_generate_slightly_short_audio_is_accepted(
    fake_elevenlabs: FakeElevenLabs, http_client: httpx.AsyncClient
) -> None:
    fake_elevenlabs.answer_next(200, sine_pcm(3 * 44100))

    result = await _generate(_provider(fake_elevenlabs, http_client))

    assert result.frames == 3 * 44100


async def test_generate_slow_answer_times_out_as_retryable(
    fake_elevenlabs: FakeElevenLabs, http_client: httpx.AsyncClient
) -> None:
    fake_elevenlabs.answer_next(200, sine_pcm(FIVE_SECONDS), delay_seconds=0.8)
    provider = _provider(fake_elevenlabs, http_client, timeout_seconds=0.2)

    error = await _failure(provider)

    assert (error.code, error.retryable) == ("provider_timeout", True)


async def test_generate_closed_port_is_unreachable_and_retryable(
    http_client: httpx.AsyncClient,
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    provider = ElevenLabsProvider(
        HttpxFetcher(http_client), api_key=API_KEY, base_url=f"http://127.0.0.1:{port}"
    )

    error = await _failure(provider)

    assert (error.code, error.retryable) == ("provider_unreachable", True)
