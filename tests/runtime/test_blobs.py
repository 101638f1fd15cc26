from __future__ import annotations

import hashlib
from datetime import timedelta
from pathlib import Path

import pytest

from beatbun.errors import BlobStoreError
from beatbun.runtime.base import BlobStore, ByteRange, Conditions, HttpMetadata
from beatbun.runtime.cloudflare import R2BlobStore
from beatbun.runtime.local.blobs import LocalBlobStore
from tests.fakes import ManualClock
from tests.runtime.js_bindings import FakeR2Binding


@pytest.fixture(params=["local", "cloudflare"])
def blobs(request: pytest.FixtureRequest, tmp_path: Path, clock: ManualClock) -> BlobStore:
    """Both adapters must pass every test that takes this fixture."""
    if request.param == "local":
        return LocalBlobStore(tmp_path / "r2", clock=clock)
    return R2BlobStore(FakeR2Binding())


@pytest.fixture
def local_blobs(tmp_path: Path, clock: ManualClock) -> LocalBlobStore:
    return LocalBlobStore(tmp_path / "r2", clock=clock)


async def test_put_then_get_returns_body_and_metadata(blobs: BlobStore) -> None:
    written = await blobs.put(
        "tracks/a.wav",
        b"RIFF1234",
        http_metadata=HttpMetadata(content_type="audio/wav"),
        custom_metadata={"owner": "u1"},
    )
    found = await blobs.get("tracks/a.wav")
    assert found is not None
    assert found.body == b"RIFF1234"
    assert found.size == 8
    assert found.etag == hashlib.md5(b"RIFF1234").hexdigest() == written.etag
    assert found.http_etag == f'"{written.etag}"'
    assert found.http_metadata.content_type == "audio/wav"
    assert found.custom_metadata == {"owner": "u1"}


async def test_put_string_stores_utf8(blobs: BlobStore) -> None:
    await blobs.put("t.txt", "héllo")
    found = await blobs.get("t.txt")
    assert found is not None and found.body == "héllo".encode()


async def test_get_missing_returns_none(blobs: BlobStore) -> None:
    assert await blobs.get("nope") is None
    assert await blobs.head("nope") is None


async def test_head_has_no_body(blobs: BlobStore) -> None:
    await blobs.put("k", b"abc")
    found = await blobs.head("k")
    assert found is not None and found.body is None and found.size == 3


@pytest.mark.parametrize(
    ("requested", "expected"),
    [
        (ByteRange(offset=2, length=3), b"234"),
        (ByteRange(offset=7), b"789"),
        (ByteRange(suffix=2), b"89"),
        (ByteRange(offset=8, length=100), b"89"),  # a length past the end is clipped
        (ByteRange(suffix=100), b"0123456789"),  # so is a suffix longer than the object
    ],
)
async def test_get_range(blobs: LocalBlobStore, requested: ByteRange, expected: bytes) -> None:
    await blobs.put("k", b"0123456789")
    found = await blobs.get("k", range=requested)
    assert found is not None and found.body == expected and found.size == 10


async def test_get_range_past_end_raises(blobs: BlobStore) -> None:
    await blobs.put("k", b"0123")
    with pytest.raises(BlobStoreError) as caught:
        await blobs.get("k", range=ByteRange(offset=4))
    assert caught.value.code == "range_not_satisfiable"


async def test_conditional_get_etag_does_not_match_returns_no_body(blobs: BlobStore) -> None:
    written = await blobs.put("k", b"abc")
    unchanged = await blobs.get("k", only_if=Conditions(etag_does_not_match=written.http_etag))
    assert unchanged is not None and unchanged.body is None
    changed = await blobs.get("k", only_if=Conditions(etag_does_not_match="other"))
    assert changed is not None and changed.body == b"abc"


async def test_local_conditional_get_uploaded_after(local_blobs: LocalBlobStore) -> None:
    blobs = local_blobs
    written = await blobs.put("k", b"abc")
    later = written.uploaded + timedelta(seconds=1)
    found = await blobs.get("k", only_if=Conditions(uploaded_after=later))
    assert found is not None and found.body is None


async def test_local_put_overwrites_and_replaces_file(
    local_blobs: LocalBlobStore, tmp_path: Path
) -> None:
    blobs = local_blobs
    await blobs.put("k", b"one")
    await blobs.put("k", b"two")
    found = await blobs.get("k")
    assert found is not None and found.body == b"two"
    assert len(list((tmp_path / "r2" / "objects").iterdir())) == 1


async def test_delete_one_and_many(blobs: BlobStore) -> None:
    for key in ("a", "b", "c"):
        await blobs.put(key, b"x")
    await blobs.delete("a")
    await blobs.delete(["b", "c", "never-existed"])
    assert (await blobs.list()).objects == []


async def test_list_prefix_limit_and_cursor(blobs: BlobStore) -> None:
    for index in range(5):
        await blobs.put(f"tracks/{index}", b"x")
    await blobs.put("other", b"x")
    first = await blobs.list(prefix="tracks/", limit=3)
    assert [o.key for o in first.objects] == ["tracks/0", "tracks/1", "tracks/2"]
    assert first.truncated and first.cursor
    second = await blobs.list(prefix="tracks/", limit=3, cursor=first.cursor)
    assert [o.key for o in second.objects] == ["tracks/3", "tracks/4"]
    assert not second.truncated and second.cursor is None


async def test_local_list_delimiter_groups_prefixes(local_blobs: LocalBlobStore) -> None:
    blobs = local_blobs
    for key in ("tracks/free/u1/a", "tracks/free/u2/b", "tracks/paid/u3/c", "tracks/top"):
        await blobs.put(key, b"x")
    listing = await blobs.list(prefix="tracks/", delimiter="/")
    assert listing.delimited_prefixes == ["tracks/free/", "tracks/paid/"]
    assert [o.key for o in listing.objects] == ["tracks/top"]


async def test_list_returns_custom_metadata(blobs: BlobStore) -> None:
    await blobs.put("k", b"x", custom_metadata={"owner": "u1"})
    assert (await blobs.list()).objects[0].custom_metadata == {"owner": "u1"}


@pytest.mark.parametrize("key", ["", "x" * 1025])
async def test_invalid_key_is_refused(blobs: LocalBlobStore, key: str) -> None:
    with pytest.raises(BlobStoreError):
        await blobs.put(key, b"x")


async def test_objects_survive_reopening(tmp_path: Path, clock: ManualClock) -> None:
    first = LocalBlobStore(tmp_path / "r2", clock=clock)
    await first.put("k", b"kept")
    first.close()
    found = await LocalBlobStore(tmp_path / "r2", clock=clock).get("k")
    assert found is not None and found.body == b"kept"
