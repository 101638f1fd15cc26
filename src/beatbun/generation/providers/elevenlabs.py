"""ElevenLabs Music as a `MusicProvider`: one synchronous HTTPS call that answers with raw PCM.

Wire format relied on (ElevenLabs' music quickstart and compose reference, its SDK examples, and
shared/music-provider-apis.md): `POST /v1/music?output_format=pcm_44100` with header `xi-api-key`
and a JSON body `{prompt, music_length_ms (3000..600000), model_id, seed, force_instrumental}`.
A 200 carries 16-bit little-endian mono PCM at 44.1 kHz and a `song-id` header. Refusals are 400
`{"detail": {"status": "bad_prompt", "data": {"prompt_suggestion": ...}}}` (or `bad_composition_plan`
with `composition_plan_suggestion`), validation failures 422, rate limits 429 with `detail.status`
`too_many_concurrent_requests` or `system_busy`. The 400 and 429 bodies are taken from our notes
alone: the public pages we could search name the fields and formats but do not show them.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import numpy as np

from beatbun.generation.catalogue import GENRES
from beatbun.generation.composer.wav import PeakMeter, wav_header
from beatbun.generation.provider import (
    MAX_DURATION_SECONDS,
    AudioSink,
    Capabilities,
    MusicRequest,
    ProviderError,
    ProviderResult,
)
from beatbun.runtime.base import Fetcher, FetchError, FetchTimeout

PROVIDER = "elevenlabs"
DEFAULT_BASE_URL = "https://api.elevenlabs.io"
DEFAULT_MODEL = "music_v1"
# A song takes minutes and there is no webhook; the vendor asks clients to wait at least 240 s.
# The whole call (connect, the wait for headers, the body) must end within it.
DEFAULT_TIMEOUT_SECONDS = 300.0
OUTPUT_FORMAT = "pcm_44100"
SAMPLE_RATE = 44100
# Less than half the requested length is a truncated song; more than double is not the format
# we asked for (stereo or another rate), so its WAV header would lie.
MIN_LENGTH_RATIO = 0.5
MAX_LENGTH_RATIO = 2.0
MAX_REASON_CHARS = 300

# detail.status of a 400 refusal -> what was refused, and the data field with the vendor's rewrite.
_REFUSALS = {
    "bad_prompt": ("prompt", "prompt_suggestion"),
    "bad_composition_plan": ("composition plan", "composition_plan_suggestion"),
}
# detail.status of a 429 -> our code: wait for a free slot, or back off because the service is full.
_RATE_LIMITS = {
    "too_many_concurrent_requests": "provider_busy",
    "system_busy": "provider_overloaded",
}


class ElevenLabsProvider:
    """Generates through ElevenLabs Music and wraps its PCM as a 44.1 kHz 16-bit mono WAV.

    Every failure is a `ProviderError` with a stable `code` and `retryable`; no message carries
    the API key, even when the service echoes it back.
    """

    name = PROVIDER
    capabilities = Capabilities(
        supports_lyrics=True,
        media_types=("audio/wav",),
        max_duration_seconds=MAX_DURATION_SECONDS,
        # Its songs have no plan we could continue or re-render; a seed is honoured.
        supports_extend=False,
        supports_variations=True,
        supports_exports=False,
    )

    def __init__(
        self,
        fetcher: Fetcher,
        *,
        api_key: str,
        model_id: str = DEFAULT_MODEL,
        base_url: str = DEFAULT_BASE_URL,
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
    ) -> None:
        if not api_key:
            raise ValueError(
                "ElevenLabsProvider needs an API key; without one use the built-in Composer "
                "(registry.provider_from_settings chooses for you)."
            )
        self._fetcher = fetcher
        self._api_key = api_key
        self._model_id = model_id
        self._url = f"{base_url.rstrip('/')}/v1/music?output_format={OUTPUT_FORMAT}"
        self._timeout_seconds = timeout_seconds

    async def generate(
        self, request: MusicRequest, *, correlation_id: str, sink: AudioSink
    ) -> ProviderResult:
        body = _request_body(request, model_id=self._model_id)
        headers = {
            "xi-api-key": self._api_key,
            "x-correlation-id": correlation_id,
            "content-type": "application/json",
        }
        requested_frames = round(request.duration_seconds * SAMPLE_RATE)
        try:
            async with self._fetcher.stream(
                "POST",
                self._url,
                headers=headers,
                body=json.dumps(body).encode(),
                timeout_seconds=self._timeout_seconds,
            ) as answer:
                if answer.status != 200:
                    said = b"".join([chunk async for chunk in answer.chunks])
                    message, code, retryable = _classify(answer.status, said)
                    raise ProviderError(
                        message.replace(self._api_key, "[redacted]"),
                        provider=PROVIDER,
                        code=code,
                        retryable=retryable,
                    )
                # The PCM goes on to storage as it arrives: the song is never held whole.
                frames, peaks = await _write_wav(
                    answer.chunks, sink=sink, requested_frames=requested_frames
                )
        # FetchTimeout is a FetchError, so it has to be caught first.
        except FetchTimeout as exc:
            raise ProviderError(
                f"ElevenLabs did not answer within {self._timeout_seconds:g} s.",
                provider=PROVIDER,
                code="provider_timeout",
                retryable=True,
            ) from exc
        except FetchError as exc:
            raise ProviderError(
                f"ElevenLabs could not be reached: {exc.message}",
                provider=PROVIDER,
                code="provider_unreachable",
                retryable=True,
            ) from exc
        return ProviderResult(
            media_type="audio/wav",
            sample_rate=SAMPLE_RATE,
            channels=1,
            frames=frames,
            provider=PROVIDER,
            peaks=peaks.result(),
            plan={**body, "output_format": OUTPUT_FORMAT, "song_id": answer.headers.get("song-id")},
            correlation_id=correlation_id,
        )


def _request_body(request: MusicRequest, *, model_id: str) -> dict[str, object]:
    body: dict[str, object] = {
        "prompt": _enriched_prompt(request),
        # MusicRequest keeps 5..300 s, inside the API's 3..600 s, so no clamping is needed.
        "music_length_ms": round(request.duration_seconds * 1000),
        "model_id": model_id,
        "force_instrumental": request.instrumental,
    }
    if request.seed is not None:
        body["seed"] = request.seed
    return body


def _enriched_prompt(request: MusicRequest) -> str:
    """The prompt behind the structured fields the API has no field for, as words it reads."""
    # Catalogue ids arrive ("rnb", "dnb"); the model reads their English names better.
    words = [GENRES[genre].label.lower() for genre in request.genres]
    if request.mood:
        words.append(request.mood)
    if request.bpm is not None:
        words.append(f"{request.bpm:g} BPM")
    if request.key is not None:
        words.append(f"{request.key} {request.mode}" if request.mode else f"key of {request.key}")
    elif request.mode is not None:
        words.append(f"{request.mode} key")
    return f"{', '.join(words)}. {request.prompt}" if words else request.prompt


async def _write_wav(
    chunks: AsyncIterator[bytes], *, sink: AudioSink, requested_frames: int
) -> tuple[int, PeakMeter]:
    """Write a WAV of the PCM to `sink` as it arrives; returns its frames and waveform peaks.

    The header's sizes are written last, once the length is known. Reading stops once the body
    is longer than any acceptable song. Raises `ProviderError` `malformed_audio`, not
    retryable: the song has been paid for, and asking again would pay a second time.
    """
    await sink.write(wav_header(frames=0, sample_rate=SAMPLE_RATE, channels=1))
    peaks = PeakMeter(expected_frames=requested_frames, channels=1)
    most_bytes = MAX_LENGTH_RATIO * requested_frames * 2
    pcm_bytes = 0
    odd = b""  # a chunk may end inside a sample
    async for chunk in chunks:
        pcm_bytes += len(chunk)
        if pcm_bytes > most_bytes:
            break
        # 16-bit little-endian PCM is byte for byte the data of a 16-bit PCM WAV.
        await sink.write(chunk)
        pending = odd + chunk
        whole = len(pending) // 2 * 2
        peaks.add(np.frombuffer(pending, dtype="<i2", count=whole // 2).reshape(-1, 1))
        odd = pending[whole:]
    if not pcm_bytes or pcm_bytes % 2:
        problem = (
            "an empty body" if not pcm_bytes else f"{pcm_bytes} bytes, not whole 16-bit samples"
        )
    elif pcm_bytes > most_bytes:
        problem = f"more than {most_bytes / 2 / SAMPLE_RATE:g} s of audio"
        problem += f" for {requested_frames / SAMPLE_RATE:g} s requested"
    elif pcm_bytes / 2 / requested_frames < MIN_LENGTH_RATIO:
        problem = (
            f"{pcm_bytes / 2 / SAMPLE_RATE:.1f} s of audio "
            f"for {requested_frames / SAMPLE_RATE:g} s requested"
        )
    else:
        frames = pcm_bytes // 2
        sink.rewrite_start(wav_header(frames=frames, sample_rate=SAMPLE_RATE, channels=1))
        return frames, peaks
    raise ProviderError(
        f"ElevenLabs sent {problem} as {OUTPUT_FORMAT}.",
        provider=PROVIDER,
        code="malformed_audio",
        retryable=False,
    )


def _classify(status: int, said: bytes) -> tuple[str, str, bool]:
    """(message, code, retryable) for a non-200 answer whose body is `said`."""
    detail = _detail(said)
    fields = detail if isinstance(detail, dict) else {}
    kind = fields.get("status")
    reason = _reason(status, detail)
    if status == 400 and isinstance(kind, str) and kind in _REFUSALS:
        what, suggestion_field = _REFUSALS[kind]
        data = fields.get("data")
        suggestion = data.get(suggestion_field) if isinstance(data, dict) else None
        message = f"ElevenLabs refused the {what}: it names a copyrighted work or artist."
        if isinstance(suggestion, str) and suggestion:
            message += f" It suggests instead: {suggestion!r}."
        return message, "prompt_refused", False
    if status in (401, 403):
        return (
            f"ElevenLabs refused our credentials ({reason}); check ELEVENLABS_API_KEY.",
            "provider_auth_failed",
            False,
        )
    if status == 429:
        code = _RATE_LIMITS.get(kind, "provider_busy") if isinstance(kind, str) else "provider_busy"
        return f"ElevenLabs is at capacity ({reason}).", code, True
    if status >= 500:
        return f"ElevenLabs failed ({reason}).", "provider_unavailable", True
    return f"ElevenLabs rejected the request ({reason}).", "provider_rejected_request", False


def _detail(said: bytes) -> object:
    try:
        body = json.loads(said)
    except ValueError:
        return None
    return body.get("detail") if isinstance(body, dict) else None


def _reason(status: int, detail: object) -> str:
    """`HTTP <status>` and whatever the body says about it, cut short."""
    if isinstance(detail, dict):
        words = [detail.get("status"), detail.get("message")]
        said = " ".join(word for word in words if isinstance(word, str))
    elif isinstance(detail, list) and detail and isinstance(detail[0], dict):
        # FastAPI-style validation errors: [{"loc": [...], "msg": ..., "type": ...}, ...]
        first = detail[0]
        said = f"{'.'.join(map(str, first.get('loc', ())))}: {first.get('msg', '')}"
    else:
        said = detail if isinstance(detail, str) else ""
    return f"HTTP {status} {said}".strip()[:MAX_REASON_CHARS]
