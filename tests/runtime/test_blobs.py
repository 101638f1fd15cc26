from __future__ import annotations

import hashlib
from datetime import timedelta
from pathlib import Path

import pytest
from pyodide.ffi import JsException

from beatbun.errors import BlobStoreError
from beatbun.runtime.base import (
    MAX_PARTS,
    MIN_PART_BYTES,
    BlobStore,
    ByteRange,
    Conditions,
    HttpMetadata,
    UploadedPart,
)
from beatbun.runtime.blobwriter import BlobWriter
from beatbun.runtime.cloudflare import R2BlobStore
from beatbun_local.blobs import LocalBlobStore
from tests.fakes import ManualClock
from tests.runtime.blob_recorder import RecordingBlobStore
from tests.runtime.js_bindings import FakeR2Binding

PART = MIN_PART_BYTES


@pytest.fixture(params=["local", "cloudflare"])
def blobs(request: pytest.FixtureRequest, tmp_path: Path, clock: ManualClock) -> BlobStore:
    """Both adapters must pass every test that takes this fixture."""
    if request.param == "local":
        return LocalBlobStore(tmp_path / "r2", clock=clock)
    return R2BlobStore(FakeR2Binding())


def _leftover_parts(blobs: BlobStore, tmp_path: Path) -> list[object]:
    """What an adapter still keeps of unfinished multipart uploads."""
    if isinstance(blobs, LocalBlobStore):
        return list((tmp_path / "r2" / "parts").iterdir())
    binding: FakeR2Binding = blobs._binding  # type: ignore[attr-defined]
    return [part for parts in binding.uploads.values() for part in parts]


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


async def test_multipart_joins_parts_in_part_number_order(blobs: BlobStore) -> None:
    first, last = b"a" * PART, b"tail"
    upload = await blobs.create_multipart_upload(
        "tracks/big.wav",
        http_metadata=HttpMetadata(content_type="audio/wav"),
        custom_metadata={"owner": "u1"},
    )
    second = await upload.upload_part(2, last)
    one = await upload.upload_part(1, memoryview(first))
    written = await upload.complete([second, one])
    found = await blobs.get("tracks/big.wav")
    assert found is not None and found.body == first + last
    digests = hashlib.md5(first).digest() + hashlib.md5(last).digest()
    assert written.etag == found.etag == f"{hashlib.md5(digests).hexdigest()}-2"
    assert found.size == PART + 4
    assert found.http_metadata.content_type == "audio/wav"
    assert found.custom_metadata == {"owner": "u1"}


async def test_multipart_key_is_absent_until_complete(blobs: BlobStore) -> None:
    upload = await blobs.create_multipart_upload("k")
    await upload.upload_part(1, b"x" * PART)
    assert await blobs.head("k") is None
    assert (await blobs.list()).objects == []


async def test_multipart_complete_replaces_an_existing_object(blobs: BlobStore) -> None:
    await blobs.put("k", b"old")
    upload = await blobs.create_multipart_upload("k")
    await upload.complete([await upload.upload_part(1, b"new")])
    found = await blobs.get("k")
    assert found is not None and found.body == b"new"


async def test_multipart_abort_leaves_nothing_behind(blobs: BlobStore, tmp_path: Path) -> None:
    await blobs.put("k", b"kept")
    upload = await blobs.create_multipart_upload("k")
    await upload.upload_part(1, b"x" * PART)
    await upload.abort()
    found = await blobs.get("k")
    assert found is not None and found.body == b"kept"
    assert _leftover_parts(blobs, tmp_path) == []
    with pytest.raises(BlobStoreError) as caught:
        await upload.upload_part(2, b"y")
    assert caught.value.code == "no_such_upload"


@pytest.mark.parametrize(
    "sizes",
    [
        [PART - 1, 10],  # a part before the last is under 5 MiB
        [PART, PART + 1, 10],  # the parts before the last differ in size
        [PART, PART + 1],  # the last part is larger than the others
    ],
)
async def test_multipart_complete_refuses_part_sizes_r2_refuses(
    blobs: BlobStore, sizes: list[int]
) -> None:
    upload = await blobs.create_multipart_upload("k")
    parts = [await upload.upload_part(n, b"x" * size) for n, size in enumerate(sizes, 1)]
    with pytest.raises(BlobStoreError) as caught:
        await upload.complete(parts)
    assert caught.value.code == "invalid_part_size"
    assert await blobs.head("k") is None


@pytest.mark.parametrize(
    "parts",
    [
        [],  # nothing to join
        [UploadedPart(part_number=1, etag="0" * 32)],  # not the etag R2 gave
        [UploadedPart(part_number=2, etag="0" * 32)],  # never uploaded
    ],
)
async def test_multipart_complete_refuses_unknown_parts(
    blobs: BlobStore, parts: list[UploadedPart]
) -> None:
    upload = await blobs.create_multipart_upload("k")
    await upload.upload_part(1, b"x")
    with pytest.raises(BlobStoreError) as caught:
        await upload.complete(parts)
    assert caught.value.code == "invalid_parts"


@pytest.mark.parametrize("number", [0, MAX_PARTS + 1])
async def test_multipart_part_number_outside_r2_range_is_refused(
    blobs: BlobStore, number: int
) -> None:
    upload = await blobs.create_multipart_upload("k")
    with pytest.raises(ValueError, match="Part number"):
        await upload.upload_part(number, b"x")


async def test_r2_multipart_sends_parts_as_js_buffers() -> None:
    binding = FakeR2Binding()
    upload = await R2BlobStore(binding).create_multipart_upload("k")
    # The fake refuses a memoryview or a Uint8Array: the SDK wrapper walks them item by item.
    await upload.upload_part(1, memoryview(bytearray(b"abc")))
    assert [call[0] for call in binding.calls] == ["createMultipartUpload", "uploadPart"]


async def test_fake_r2_refuses_a_small_part_before_the_last() -> None:
    binding = FakeR2Binding()
    upload = await binding.createMultipartUpload("k")
    first = await upload.uploadPart(1, b"x")
    second = await upload.uploadPart(2, b"y")
    with pytest.raises(JsException, match="minimum allowed"):
        await upload.complete([first, second])


async def test_writer_small_object_is_one_put(blobs: BlobStore) -> None:
    recording = RecordingBlobStore(blobs)
    async with BlobWriter(
        recording, "k", custom_metadata={"owner": "u1"}, part_bytes=PART
    ) as writer:
        await writer.write(b"abc")
        await writer.write(memoryview(b"def"))
    found = await blobs.get("k")
    assert found is not None and found.body == b"abcdef"
    assert found.custom_metadata == {"owner": "u1"}
    assert recording.writes == [("put", 6)]


async def test_writer_large_object_goes_in_equal_parts(blobs: BlobStore) -> None:
    recording = RecordingBlobStore(blobs)
    data = bytes(range(256)) * (PART * 5 // 2 // 256) + b"end"
    async with BlobWriter(recording, "k", part_bytes=PART) as writer:
        # Pieces that do not line up with the parts.
        for start in range(0, len(data), 1_000_003):
            await writer.write(data[start : start + 1_000_003])
    assert writer.written == len(data)
    found = await blobs.get("k")
    assert found is not None and found.body == data
    assert recording.writes == [("part", PART), ("part", PART), ("part", len(data) - 2 * PART)]


async def test_writer_exactly_one_part_is_one_put(blobs: BlobStore) -> None:
    recording = RecordingBlobStore(blobs)
    async with BlobWriter(recording, "k", part_bytes=PART) as writer:
        await writer.write(b"x" * PART)
    assert recording.writes == [("put", PART)]


async def test_writer_not_holding_the_first_part_sends_each_part_as_it_fills(
    blobs: BlobStore,
) -> None:
    recording = RecordingBlobStore(blobs)
    data = bytes(range(256)) * (PART * 2 // 256) + b"end"
    writer = BlobWriter(recording, "k", part_bytes=PART, holds_first=False)
    await writer.write(data[: PART + 1])
    assert recording.writes == [("part", PART)]
    with pytest.raises(RuntimeError, match="holds_first"):
        writer.rewrite_start(b"RIFF")
    await writer.write(data[PART + 1 :])
    await writer.close()
    found = await blobs.get("k")
    assert found is not None and found.body == data
    assert recording.writes == [("part", PART), ("part", PART), ("part", 3)]


async def test_writer_error_in_block_stores_nothing(blobs: BlobStore, tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="render failed"):
        async with BlobWriter(blobs, "k", part_bytes=PART) as writer:
            await writer.write(b"x" * (PART + 1))
            raise RuntimeError("render failed")
    assert await blobs.head("k") is None
    assert _leftover_parts(blobs, tmp_path) == []


@pytest.mark.parametrize("size", [100, 2 * PART + 100])  # one put; a multipart upload
async def test_writer_rewrite_start_changes_the_stored_start(blobs: BlobStore, size: int) -> None:
    async with BlobWriter(blobs, "k", part_bytes=PART) as writer:
        await writer.write(b"HEAD" + bytes(size - 4))
        writer.rewrite_start(b"RIFF")
    found = await blobs.get("k")
    assert found is not None and found.body == b"RIFF" + bytes(size - 4)


async def test_writer_rewrite_start_past_what_was_written_is_refused(blobs: BlobStore) -> None:
    writer = BlobWriter(blobs, "k")
    await writer.write(b"ab")
    with pytest.raises(ValueError, match="Only 2 bytes"):
        writer.rewrite_start(b"abc")
    await writer.abort()


async def test_writer_refuses_writes_after_close(blobs: BlobStore) -> None:
    writer = BlobWriter(blobs, "k")
    await writer.close()
    with pytest.raises(RuntimeError, match="after close"):
        await writer.write(b"x")


def test_writer_refuses_parts_below_r2_minimum(blobs: BlobStore) -> None:
    with pytest.raises(ValueError, match="part_bytes"):
        BlobWriter(blobs, "k", part_bytes=PART - 1)
