"""A stand-in for ElevenLabs Music that speaks its wire format over real HTTP on 127.0.0.1.

It checks requests as the documented API does (method, path, `output_format`, `xi-api-key`, body
fields and ranges, 422 for an invalid body) and otherwise answers with PCM of the requested
length. Tests script other answers with `answer_next`; every request is recorded. It is stricter
than the real API may be in one respect: unknown body fields are refused, so a misspelt field
name fails a test. The 401 body shape is our guess; the adapter reads only its status.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

API_KEY = "sk_fake_0123456789abcdef"
OUTPUT_FORMATS = frozenset(
    {"auto", "mp3_44100_128", "mp3_44100_192", "mp3_48000_192", "pcm_44100", "pcm_48000"}
)
MODELS = frozenset({"music_v1", "music_v2"})
BODY_FIELDS = frozenset(
    {
        "prompt",
        "composition_plan",
        "music_length_ms",
        "model_id",
        "seed",
        "force_instrumental",
        "store_for_inpainting",
    }
)
SONG_ID = "song_fake_1"


@dataclass(frozen=True)
class CannedAnswer:
    """One scripted answer; `delay_seconds` holds it back to provoke client timeouts."""

    status: int
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    delay_seconds: float = 0.0


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    query: Mapping[str, str]
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> object:
        return json.loads(self.body)


class FakeElevenLabs:
    """The ASGI app plus its script and log; `url` is set once the server listens."""

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self.url = ""
        self._script: deque[CannedAnswer] = deque()
        self.app = Starlette(routes=[Route("/v1/music", self._music, methods=["POST"])])

    def answer_next(
        self,
        status: int,
        body: bytes | Mapping[str, object] = b"",
        *,
        headers: Mapping[str, str] | None = None,
        delay_seconds: float = 0.0,
    ) -> None:
        """Queue an answer for a request that passes validation (a dict body is sent as JSON)."""
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        self._script.append(CannedAnswer(status, raw, headers or {}, delay_seconds))

    async def _music(self, request: Request) -> Response:
        body = await request.body()
        self.requests.append(
            RecordedRequest(
                request.method,
                request.url.path,
                dict(request.query_params),
                dict(request.headers),
                body,
            )
        )
        if request.headers.get("xi-api-key") != API_KEY:
            return _detail(401, "invalid_api_key", "Invalid API key")
        problem = _body_problem(body) or _format_problem(request.query_params.get("output_format"))
        if problem:
            return JSONResponse({"detail": [problem]}, status_code=422)
        if self._script:
            answer = self._script.popleft()
            await asyncio.sleep(answer.delay_seconds)
            return Response(answer.body, status_code=answer.status, headers=dict(answer.headers))
        length_ms = json.loads(body)["music_length_ms"]
        return Response(
            sine_pcm(length_ms * 44100 // 1000),
            media_type="application/octet-stream",
            headers={"song-id": SONG_ID},
        )


def sine_pcm(frames: int, *, amplitude: int = 16000) -> bytes:
    """A 440 Hz tone as 16-bit little-endian mono PCM, the `pcm_44100` payload."""
    tone = amplitude * np.sin(2 * np.pi * 440 * np.arange(frames) / 44100)
    return np.round(tone).astype("<i2").tobytes()


def _body_problem(body: bytes) -> dict[str, object] | None:
    try:
        data = json.loads(body)
    except ValueError:
        return _problem("body", "Input should be a valid JSON object", "json_invalid")
    if not isinstance(data, dict):
        return _problem("body", "Input should be a valid JSON object", "dict_type")
    unknown = sorted(set(data) - BODY_FIELDS)
    if unknown:
        return _problem(unknown[0], "Extra inputs are not permitted", "extra_forbidden")
    if ("prompt" in data) == ("composition_plan" in data):
        return _problem("prompt", "Give exactly one of prompt or composition_plan", "value_error")
    checks: list[tuple[str, Callable[[Any], bool]]] = [
        ("prompt", lambda v: isinstance(v, str) and bool(v.strip())),
        ("music_length_ms", lambda v: _is_int(v) and 3000 <= v <= 600000),
        ("model_id", lambda v: v in MODELS),
        ("seed", lambda v: _is_int(v) and v >= 0),
        ("force_instrumental", lambda v: isinstance(v, bool)),
    ]
    for name, is_valid in checks:
        if name in data and not is_valid(data[name]):
            return _problem(name, f"Invalid value {data[name]!r}", "value_error")
    return None


def _format_problem(output_format: str | None) -> dict[str, object] | None:
    if output_format is None or output_format in OUTPUT_FORMATS:
        return None
    return _problem("output_format", f"Unknown format {output_format!r}", "enum")


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _problem(location: str, message: str, kind: str) -> dict[str, object]:
    return {"loc": ["body", location], "msg": message, "type": kind}


def _detail(status: int, kind: str, message: str) -> JSONResponse:
    return JSONResponse({"detail": {"status": kind, "message": message}}, status_code=status)


def server_env(fake: FakeElevenLabs) -> dict[str, str]:
    """The settings that point a live server at `fake` instead of ElevenLabs."""
    return {"ELEVENLABS_API_KEY": API_KEY, "ELEVENLABS_BASE_URL": fake.url}


def serve(fake: FakeElevenLabs) -> Iterator[FakeElevenLabs]:
    """Run `fake` under uvicorn in a thread on a free loopback port until the generator closes."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    config = uvicorn.Config(
        fake.app, log_level="warning", lifespan="off", ws="none", timeout_graceful_shutdown=1
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("The fake ElevenLabs server stopped before it started listening.")
        threading.Event().wait(0.01)
    fake.url = f"http://127.0.0.1:{port}"
    try:
        yield fake
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        listener.close()
