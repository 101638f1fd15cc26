"""The audio routes (pages and API): ranges, HEAD, 304, and reads of at most 1 MiB each."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass

import httpx
import pytest

from beatbun.accounts.apikeys import create_api_key
from beatbun.accounts.sessions import create_session
from beatbun.api.deps import SESSION_COOKIE
from beatbun.main import create_app
from beatbun.runtime.base import (
    MAX_KEYS_PER_CALL,
    MAX_READ_BYTES,
    BlobListing,
    BlobObject,
    BlobStore,
    BlobStream,
    ByteRange,
    Conditions,
    HttpMetadata,
    Runtime,
)
from beatbun.tracks.models import Track
from beatbun.tracks.service import rename_track
from beatbun_local.runtime import LocalRuntime
from tests.factories import CLIENT, create_verified_account
from tests.tracks.conftest import make_tracks

# A 30 s 44.1 kHz 16-bit stereo WAV: 5,292,000 bytes of samples plus the 44-byte header.
TRACK_BYTES = 5_292_044
AUDIO = (bytes(range(256)) * (TRACK_BYTES // 256 + 1))[:TRACK_BYTES]


class CountingBlobStore:
    """A blob store that records the size of every read of object bytes into Python."""

    def __init__(self, inner: BlobStore) -> None:
        self.inner = inner
        self.reads: list[int] = []
        self.opened = 0

    async def put(
        self,
        key: str,
        data: bytes | str,
        *,
        http_metadata: HttpMetadata | None = None,
        custom_metadata: Mapping[str, str] | None = None,
    ) -> BlobObject:
        return await self.inner.put(
            key, data, http_metadata=http_metadata, custom_metadata=custom_metadata
        )

    async def get(
        self, key: str, *, range: ByteRange | None = None, only_if: Conditions | None = None
    ) -> BlobObject | None:
        found = await self.inner.get(key, range=range, only_if=only_if)
        if found is not None and found.body is not None:
            self.reads.append(len(found.body))
        return found

    async def stream(self, key: str, *, range: ByteRange | None = None) -> BlobStream | None:
        opened = await self.inner.stream(key, range=range)
        if opened is None:
            return None
        self.opened += 1
        return dataclasses.replace(opened, chunks=self._counted(opened.chunks))

    async def head(self, key: str) -> BlobObject | None:
        return await self.inner.head(key)

    async def delete(self, keys: str | Sequence[str]) -> None:
        await self.inner.delete(keys)

    async def list(
        self,
        *,
        prefix: str = "",
        cursor: str | None = None,
        limit: int = MAX_KEYS_PER_CALL,
        delimiter: str | None = None,
    ) -> BlobListing:
        return await self.inner.list(prefix=prefix, cursor=cursor, limit=limit, delimiter=delimiter)

    async def _counted(self, chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
        async for chunk in chunks:
            self.reads.append(len(chunk))
            yield chunk


@dataclass
class Served:
    client: httpx.AsyncClient
    blobs: CountingBlobStore
    track: Track
    cookie: str
    api_key: str

    def url(self, route: str) -> str:
        prefix = "/api/v1" if route == "api" else ""
        return f"{prefix}/tracks/{self.track.id}/audio"

    def auth(self, route: str) -> dict[str, str]:
        if route == "api":
            return {"Authorization": f"Bearer {self.api_key}"}
        return {"Cookie": self.cookie}


@pytest.fixture
async def served(runtime: LocalRuntime) -> AsyncIterator[Served]:
    """One track whose stored audio is a 30 s WAV's worth of bytes, behind a counting store."""
    account = await create_verified_account(runtime, email="listener@example.com")
    (track,) = await make_tracks(runtime, account_id=account.id, count=1)
    await runtime.blobs.put(track.blob_key, AUDIO)
    _, token = await create_session(
        runtime.db, account_id=account.id, stage="full", client=CLIENT, now=runtime.clock.now()
    )
    _, secret = await create_api_key(
        runtime.db, account_id=account.id, name="t", scopes=["read"], now=runtime.clock.now()
    )
    blobs = CountingBlobStore(runtime.blobs)
    parts = {f.name: getattr(runtime, f.name) for f in dataclasses.fields(Runtime)}
    app = create_app(runtime=Runtime(**{**parts, "blobs": blobs}))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield Served(client, blobs, track, f"{SESSION_COOKIE}={token}", secret)


ROUTES = ["web", "api"]


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize(
    ("params", "range_header", "status", "first", "last"),
    [
        ({}, None, 200, 0, TRACK_BYTES - 1),
        ({}, "bytes=0-", 206, 0, TRACK_BYTES - 1),  # what <audio> sends on play
        ({}, "bytes=-500", 206, TRACK_BYTES - 500, TRACK_BYTES - 1),  # suffix range
        ({}, "bytes=1000000-3999999", 206, 1_000_000, 3_999_999),  # spans three MiB reads
        ({}, "bytes=5000000-9999999", 206, 5_000_000, TRACK_BYTES - 1),  # end clipped
        ({"download": "true"}, None, 200, 0, TRACK_BYTES - 1),
    ],
)
async def test_audio_reads_at_most_one_mebibyte_at_a_time(
    served: Served,
    route: str,
    params: dict[str, str],
    range_header: str | None,
    status: int,
    first: int,
    last: int,
) -> None:
    headers = served.auth(route) | ({"Range": range_header} if range_header else {})
    response = await served.client.get(served.url(route), params=params, headers=headers)
    assert response.status_code == status
    assert response.content == AUDIO[first : last + 1]
    assert response.headers["content-length"] == str(last - first + 1)
    assert response.headers["accept-ranges"] == "bytes"
    if status == 206:
        assert response.headers["content-range"] == f"bytes {first}-{last}/{TRACK_BYTES}"
    else:
        assert "content-range" not in response.headers
    assert served.blobs.reads and max(served.blobs.reads) <= MAX_READ_BYTES
    assert sum(served.blobs.reads) == last - first + 1


@pytest.mark.parametrize("route", ROUTES)
async def test_audio_download_is_an_attachment(served: Served, route: str) -> None:
    response = await served.client.get(
        served.url(route), params={"download": "true"}, headers=served.auth(route)
    )
    assert response.status_code == 200
    assert response.headers["content-disposition"] == (
        f'attachment; filename="{served.track.file_name}"'
    )


@pytest.mark.parametrize("route", ROUTES)
async def test_audio_of_a_track_with_a_non_latin_title_is_served(
    served: Served, runtime: LocalRuntime, route: str
) -> None:
    title = "音楽 für Café"
    await rename_track(
        runtime, account_id=served.track.account_id, track_id=served.track.id, title=title
    )
    response = await served.client.get(
        served.url(route), params={"download": "true"}, headers=served.auth(route)
    )
    assert response.status_code == 200
    assert response.headers["content-disposition"] == (
        f'attachment; filename="f-r-caf-{served.track.id[:8]}.wav"'
    )


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize(
    ("range_header", "status", "length", "content_range"),
    [
        (None, 200, TRACK_BYTES, None),
        ("bytes=-500", 206, 500, f"bytes {TRACK_BYTES - 500}-{TRACK_BYTES - 1}/{TRACK_BYTES}"),
    ],
)
async def test_audio_head_has_the_get_headers_and_no_body(
    served: Served,
    route: str,
    range_header: str | None,
    status: int,
    length: int,
    content_range: str | None,
) -> None:
    headers = served.auth(route) | ({"Range": range_header} if range_header else {})
    got = await served.client.get(served.url(route), headers=headers)
    served.blobs.reads.clear()
    response = await served.client.head(served.url(route), headers=headers)
    assert response.status_code == status
    assert response.content == b""
    assert response.headers["content-length"] == str(length)
    assert response.headers.get("content-range") == content_range
    for name in ("etag", "accept-ranges", "content-type", "content-disposition", "cache-control"):
        assert response.headers[name] == got.headers[name]
    assert served.blobs.reads == []


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("method", ["GET", "HEAD"])
@pytest.mark.parametrize(
    "listed",
    [
        "{etag}",
        'W/{etag}, "other"',  # If-None-Match compares weakly and may list several tags
        "*",
    ],
)
async def test_audio_matching_etag_is_not_modified(
    served: Served, route: str, method: str, listed: str
) -> None:
    etag = (await served.client.head(served.url(route), headers=served.auth(route))).headers["etag"]
    opened = served.blobs.opened
    response = await served.client.request(
        method,
        served.url(route),
        headers=served.auth(route) | {"If-None-Match": listed.format(etag=etag)},
    )
    assert response.status_code == 304
    assert response.content == b""
    assert response.headers["etag"] == etag
    assert served.blobs.opened == opened and served.blobs.reads == []


@pytest.mark.parametrize("route", ROUTES)
async def test_audio_other_etag_is_served(served: Served, route: str) -> None:
    response = await served.client.get(
        served.url(route), headers=served.auth(route) | {"If-None-Match": '"stale"'}
    )
    assert response.status_code == 200 and len(response.content) == TRACK_BYTES


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("range_header", [f"bytes={TRACK_BYTES}-", "bytes=-0"])
async def test_audio_range_outside_the_file_is_not_satisfiable(
    served: Served, route: str, range_header: str
) -> None:
    response = await served.client.get(
        served.url(route), headers=served.auth(route) | {"Range": range_header}
    )
    assert response.status_code == 416
    assert served.blobs.opened == 0
