"""`BlobStore.stream` on both adapters, the ASGI stream handoff, and audio through the Worker."""

from __future__ import annotations

import dataclasses
import email.message
import hashlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from starlette.types import Message, Receive, Scope, Send

import entry
from beatbun.accounts.apikeys import create_api_key
from beatbun.errors import BlobStoreError
from beatbun.runtime.base import MAX_READ_BYTES, BlobStore, ByteRange
from beatbun.runtime.cloudflare import D1Database, R2BlobStore, runtime_from_env
from beatbun.runtime.streams import BODY_STREAM_EXTENSION, StreamHandoff
from beatbun_local.blobs import LocalBlobStore
from beatbun_local.migrations import apply_migrations
from tests.fakes import ManualClock
from tests.runtime.js_bindings import (
    FakeD1Binding,
    FakeDurableObjectNamespace,
    FakeEnv,
    FakeR2Binding,
    FakeReadableStream,
)
from tests.tracks.conftest import sample_track

MIGRATIONS = Path(__file__).resolve().parents[2] / "d1" / "migrations"
DATA = (bytes(range(256)) * 20_673)[:5_292_044]  # a 30 s stereo WAV's worth of bytes
# R2 picks its chunk sizes; one bigger than a read shows that the adapter splits it.
R2_CHUNK_BYTES = 4 * 1024 * 1024


@pytest.fixture(params=["local", "cloudflare"])
def blobs(request: pytest.FixtureRequest, tmp_path: Path, clock: ManualClock) -> BlobStore:
    if request.param == "local":
        return LocalBlobStore(tmp_path / "r2", clock=clock)
    return R2BlobStore(FakeR2Binding(chunk_bytes=R2_CHUNK_BYTES))


async def _read_all(chunks: AsyncIterator[bytes]) -> list[bytes]:
    return [chunk async for chunk in chunks]


@pytest.mark.parametrize(
    ("requested", "first", "length"),
    [
        (None, 0, len(DATA)),
        (ByteRange(offset=1_000_000, length=3_000_000), 1_000_000, 3_000_000),
        (ByteRange(offset=5_000_000), 5_000_000, len(DATA) - 5_000_000),
        (ByteRange(suffix=500), len(DATA) - 500, 500),
    ],
)
async def test_stream_yields_the_range_in_pieces_of_at_most_a_mebibyte(
    blobs: BlobStore, requested: ByteRange | None, first: int, length: int
) -> None:
    await blobs.put("k", DATA)
    opened = await blobs.stream("k", range=requested)
    assert opened is not None
    assert opened.object.size == len(DATA) and opened.object.body is None
    assert opened.object.etag == hashlib.md5(DATA).hexdigest()
    if requested is not None:
        assert opened.object.range == ByteRange(offset=first, length=length)
    pieces = await _read_all(opened.chunks)
    assert max(len(piece) for piece in pieces) <= MAX_READ_BYTES
    assert b"".join(pieces) == DATA[first : first + length]


async def test_stream_of_a_missing_key_is_none(blobs: BlobStore) -> None:
    assert await blobs.stream("missing") is None


async def test_stream_range_past_the_end_raises(blobs: BlobStore) -> None:
    await blobs.put("k", b"abc")
    with pytest.raises(BlobStoreError) as caught:
        await blobs.stream("k", range=ByteRange(offset=3))
    assert caught.value.code == "range_not_satisfiable"


async def test_local_stream_of_a_replaced_object_raises_on_read(
    tmp_path: Path, clock: ManualClock
) -> None:
    blobs = LocalBlobStore(tmp_path / "r2", clock=clock)
    await blobs.put("k", b"old")
    opened = await blobs.stream("k")
    await blobs.put("k", b"new")
    assert opened is not None
    with pytest.raises(BlobStoreError):
        await _read_all(opened.chunks)


async def test_r2_stream_hands_over_the_body_stream_unread() -> None:
    binding = FakeR2Binding(chunk_bytes=R2_CHUNK_BYTES)
    await binding.put("k", DATA)
    opened = await R2BlobStore(binding).stream("k", range=ByteRange(offset=0, length=len(DATA)))
    assert opened is not None
    assert isinstance(opened.native, FakeReadableStream) and not opened.native.locked
    assert binding.reads == []  # no byte of the object has entered Python
    assert binding.calls[-1] == ("get", ("k",), {"range": {"offset": 0, "length": len(DATA)}})


async def test_r2_stream_chunks_copy_at_most_a_mebibyte_at_a_time() -> None:
    binding = FakeR2Binding(chunk_bytes=R2_CHUNK_BYTES)
    await binding.put("k", DATA)
    opened = await R2BlobStore(binding).stream("k")
    assert opened is not None
    assert b"".join(await _read_all(opened.chunks)) == DATA
    assert max(binding.reads) == MAX_READ_BYTES and sum(binding.reads) == len(DATA)


async def test_r2_stream_read_twice_raises_blob_store_error() -> None:
    binding = FakeR2Binding()
    await binding.put("k", b"abc")
    opened = await R2BlobStore(binding).stream("k")
    assert opened is not None
    async for _ in opened.native:  # the JS Response took the stream
        pass
    with pytest.raises(BlobStoreError):
        await _read_all(opened.chunks)


async def test_stream_handoff_advertises_the_extension_and_keeps_the_stream() -> None:
    native = object()
    sent: list[dict[str, Any]] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        assert BODY_STREAM_EXTENSION in scope["extensions"] and scope["extensions"]["other"] == 1
        await send({"type": "http.response.start", "status": 206, "headers": []})
        await send({"type": BODY_STREAM_EXTENSION, "stream": native})

    async def send(message: Message) -> None:
        sent.append(dict(message))

    async def receive() -> Message:
        raise AssertionError("not read")

    handoff = StreamHandoff(app)
    await handoff({"type": "http", "extensions": {"other": 1}}, receive, send)
    assert handoff.stream is native
    assert sent[-1] == {"type": "http.response.body", "body": b"", "more_body": False}


@dataclasses.dataclass
class Worker:
    env: FakeEnv
    db: FakeD1Binding
    audio: FakeR2Binding


@pytest.fixture
async def worker() -> Worker:
    db, audio = FakeD1Binding(), FakeR2Binding(chunk_bytes=R2_CHUNK_BYTES)
    env = FakeEnv(SITE_NAME="Edge Bun", ENVIRONMENT="test", DB=db, AUDIO=audio)
    env.__dict__["USER_QUEUE"] = FakeDurableObjectNamespace(entry.UserQueue, env)
    await apply_migrations(D1Database(db), MIGRATIONS)
    return Worker(env, db, audio)


async def _api_track(worker: Worker) -> tuple[str, str]:
    """A track whose audio is `DATA`, and an API key of its owner: (track id, key)."""
    track = dataclasses.replace(sample_track(), size_bytes=len(DATA))
    worker.db.connection.execute(
        "INSERT INTO accounts (id, email, display_name, birth_date, age_group, email_verified_at,"
        " password_hash, created_at) VALUES (?, 'a@example.com', 'A', '1990-01-01', 'adult',"
        " 1, 'x', 1)",
        (track.account_id,),
    )
    worker.db.connection.execute(
        "INSERT INTO tracks (id, account_id, job_id, title, prompt, plan, media_type,"
        " duration_seconds, size_bytes, blob_key, retention, created_at, expires_at, licence,"
        " licence_plan, licensed_at, peaks)"
        " VALUES (?, ?, ?, ?, ?, '{}', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '[]')",
        (
            track.id,
            track.account_id,
            track.job_id,
            track.title,
            track.prompt,
            track.media_type,
            track.duration_seconds,
            track.size_bytes,
            track.blob_key,
            track.retention,
            track.created_at,
            track.expires_at,
            track.licence,
            track.licence_plan,
            track.licensed_at,
        ),
    )
    await worker.audio.put(track.blob_key, DATA)
    runtime = runtime_from_env(worker.env)
    _, secret = await create_api_key(
        runtime.db, account_id=track.account_id, name="t", scopes=["read"], now=1.0
    )
    return track.id, secret


class FakeRequest:
    """`workers.Request`: `url`, `headers` (an HTTPMessage) and the JS request it wraps."""

    def __init__(self, url: str, *, method: str = "GET", **headers: str) -> None:
        self.url = url
        self.headers = email.message.Message()
        for name, value in headers.items():
            self.headers[name] = value
        self.js_object = {"method": method, "url": url, "headers": headers}


@pytest.mark.parametrize(
    ("range_header", "status", "content_range", "length"),
    [
        (None, 200, None, len(DATA)),
        ("bytes=0-", 206, f"bytes 0-{len(DATA) - 1}/{len(DATA)}", len(DATA)),
        ("bytes=-500", 206, f"bytes {len(DATA) - 500}-{len(DATA) - 1}/{len(DATA)}", 500),
    ],
)
async def test_worker_audio_is_the_r2_body_stream_untouched(
    worker: Worker,
    range_header: str | None,
    status: int,
    content_range: str | None,
    length: int,
) -> None:
    track_id, key = await _api_track(worker)
    headers = {"authorization": f"Bearer {key}"} | ({"range": range_header} if range_header else {})
    response = await entry.Default(ctx=None, env=worker.env).fetch(
        FakeRequest(f"https://beatbun.example/api/v1/tracks/{track_id}/audio", **headers)
    )
    assert isinstance(response.body, FakeReadableStream) and not response.body.locked
    assert response.status == status
    sent = dict(response.headers)
    assert sent["content-length"] == str(length) and sent.get("content-range") == content_range
    assert sent["accept-ranges"] == "bytes" and sent["content-type"] == "audio/wav"
    assert worker.audio.reads == []  # not one byte of audio entered Python


async def test_worker_audio_head_sends_headers_and_opens_no_stream(worker: Worker) -> None:
    track_id, key = await _api_track(worker)
    response = await entry.Default(ctx=None, env=worker.env).fetch(
        FakeRequest(
            f"https://beatbun.example/api/v1/tracks/{track_id}/audio",
            method="HEAD",
            authorization=f"Bearer {key}",
        )
    )
    assert response["status"] == 200 and response["body"] == b""
    assert dict(response["headers"])["content-length"] == str(len(DATA))
    assert [call[0] for call in worker.audio.calls if call[0] == "get"] == []
