"""R2 through `R2BlobStore` over Miniflare's R2, with the SDK's binding wrapper in between."""

from __future__ import annotations

import time
import tracemalloc
from datetime import UTC, datetime

from runner import case
from support import unique, wrapped_env

from beatbun.errors import BlobStoreError
from beatbun.runtime.base import MIN_PART_BYTES, ByteRange, Conditions, HttpMetadata
from beatbun.runtime.blobwriter import BlobWriter
from beatbun.runtime.cloudflare import R2BlobStore

DATA = bytes(range(256)) * 4


def _store() -> R2BlobStore:
    return R2BlobStore(wrapped_env().AUDIO)


@case
async def put_get_head_delete() -> None:
    store, key = _store(), unique("r2/object-")
    http = HttpMetadata(
        content_type="audio/wav", content_disposition="inline", cache_control="no-store"
    )
    written = await store.put(key, DATA, http_metadata=http, custom_metadata={"track": "t1"})
    assert (written.key, written.size, written.body) == (key, len(DATA), None)
    assert (
        written.uploaded.tzinfo is UTC
        and abs(written.uploaded - datetime.now(UTC)).total_seconds() < 60
    )
    found = await store.get(key)
    assert found is not None and found.body == DATA and type(found.body) is bytes
    assert (found.etag, found.http_metadata, found.custom_metadata) == (
        written.etag,
        http,
        {"track": "t1"},
    )
    head = await store.head(key)
    assert head is not None and head.body is None and head.size == len(DATA)
    assert head.http_metadata == http and head.custom_metadata == {"track": "t1"}
    await store.put(unique("r2/text-"), "plain text")
    await store.delete(key)
    assert await store.get(key) is None and await store.head(key) is None


@case
async def ranges() -> None:
    store, key = _store(), unique("r2/range-")
    await store.put(key, DATA)
    cases = [
        (ByteRange(offset=10, length=5), DATA[10:15]),
        (ByteRange(offset=1000), DATA[1000:]),
        (ByteRange(suffix=7), DATA[-7:]),
        (ByteRange(offset=0, length=len(DATA)), DATA),
    ]
    for requested, expected in cases:
        found = await store.get(key, range=requested)
        assert found is not None and found.body == expected, (requested, found)
        assert found.size == len(DATA)
    part = await store.get(key, range=ByteRange(offset=10, length=5))
    assert part is not None and part.range == ByteRange(offset=10, length=5), part.range
    try:
        await store.get(key, range=ByteRange(offset=len(DATA) + 1))
    except BlobStoreError as exc:
        assert exc.code == "range_not_satisfiable", exc.code
    else:
        raise AssertionError("a range past the end was served")


@case
async def conditional_get() -> None:
    store, key = _store(), unique("r2/cond-")
    written = await store.put(key, DATA)
    unchanged = await store.get(key, only_if=Conditions(etag_does_not_match=written.etag))
    # R2 answers a failed precondition with the object's metadata and no body (§4.1).
    assert unchanged is not None and unchanged.body is None and unchanged.etag == written.etag
    changed = await store.get(key, only_if=Conditions(etag_does_not_match="0" * 32))
    assert changed is not None and changed.body == DATA
    matched = await store.get(key, only_if=Conditions(etag_matches=written.etag))
    assert matched is not None and matched.body == DATA


@case
async def list_pages_prefixes_and_metadata() -> None:
    store, prefix = _store(), unique("r2/list-") + "/"
    keys = [f"{prefix}a/{n}" for n in range(3)] + [f"{prefix}b/x", f"{prefix}top"]
    for key in keys:
        await store.put(
            key,
            b"x",
            http_metadata=HttpMetadata(content_type="audio/wav"),
            custom_metadata={"k": key},
        )
    first = await store.list(prefix=prefix, limit=2)
    assert first.truncated and first.cursor and [o.key for o in first.objects] == sorted(keys)[:2]
    rest = await store.list(prefix=prefix, cursor=first.cursor)
    assert not rest.truncated and rest.cursor is None
    assert [o.key for o in first.objects + rest.objects] == sorted(keys)
    listed = first.objects[0]
    assert listed.http_metadata.content_type == "audio/wav" and listed.custom_metadata == {
        "k": listed.key
    }
    assert listed.uploaded.tzinfo is UTC and listed.body is None
    folders = await store.list(prefix=prefix, delimiter="/")
    assert [o.key for o in folders.objects] == [f"{prefix}top"]
    assert folders.delimited_prefixes == [f"{prefix}a/", f"{prefix}b/"]
    await store.delete(keys)
    assert (await store.list(prefix=prefix)).objects == []


@case
async def stream_reads_in_pieces() -> None:
    store, key = _store(), unique("r2/stream-")
    await store.put(key, DATA)
    stream = await store.stream(key, range=ByteRange(offset=100, length=300))
    assert stream is not None and stream.object.size == len(DATA) and stream.object.body is None
    assert stream.object.range == ByteRange(offset=100, length=300), stream.object.range
    assert b"".join([piece async for piece in stream.chunks]) == DATA[100:400]
    whole = await store.stream(key)
    assert whole is not None and whole.native.constructor.name == "ReadableStream"
    assert await store.stream(unique("r2/missing-")) is None


@case
async def multipart_upload() -> dict[str, float]:
    store, key = _store(), unique("r2/multipart-")
    upload = await store.create_multipart_upload(
        key, http_metadata=HttpMetadata(content_type="audio/wav")
    )
    assert upload.key == key and upload.upload_id
    first = bytes(range(256)) * (MIN_PART_BYTES // 256)
    started = time.monotonic()
    part_one = await upload.upload_part(1, memoryview(first))
    seconds = time.monotonic() - started
    # Handed to the SDK wrapper as anything iterable, the part is checked byte by byte in Python:
    # 13 s for these 5 MiB. As an ArrayBuffer it is not walked (about 1 s here, mostly Miniflare).
    assert seconds < 6, f"uploading 5 MiB took {seconds:.1f} s"
    part_two = await upload.upload_part(2, b"tail")
    written = await upload.complete([part_one, part_two])
    assert (written.key, written.size) == (key, MIN_PART_BYTES + 4)
    found = await store.get(key, range=ByteRange(suffix=6))
    assert found is not None and found.body == first[-2:] + b"tail"
    assert found.http_metadata.content_type == "audio/wav"
    aborted_key = unique("r2/aborted-")
    aborted = await store.create_multipart_upload(aborted_key)
    await aborted.upload_part(1, b"never stored")
    await aborted.abort()
    assert await store.head(aborted_key) is None
    assert [o.key for o in (await store.list(prefix=aborted_key)).objects] == []
    return {"seconds_to_upload_one_5_MiB_part": round(seconds, 3)}


@case
async def missing_multipart_upload_is_our_error() -> None:
    store = _store()
    upload = await store.create_multipart_upload(unique("r2/gone-"))
    await upload.abort()
    try:
        await upload.upload_part(1, b"late")
    except BlobStoreError as exc:
        assert exc.code == "no_such_upload", exc.code
    else:
        raise AssertionError("a part went to an aborted upload")


@case
async def blob_writer_stores_in_parts() -> dict[str, int]:
    # runtime/blobwriter.py as rendered audio goes to R2: 12 MiB in pieces, 5 MiB parts.
    store, key = _store(), unique("r2/writer-")
    piece = bytes(range(256)) * 256
    tracemalloc.start()
    try:
        async with BlobWriter(store, key, part_bytes=MIN_PART_BYTES) as writer:
            for _ in range(12 * 1024 * 1024 // len(piece)):
                await writer.write(piece)
            writer.rewrite_start(b"RIFF")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    head = await store.head(key)
    assert head is not None and head.size == 12 * 1024 * 1024, head
    ends = [
        await store.get(key, range=ByteRange(offset=offset, length=8))
        for offset in (0, MIN_PART_BYTES - 4)
    ]
    assert [found.body for found in ends if found] == [b"RIFF" + piece[4:8], piece[-4:] + piece[:4]]
    # Two parts held at once (the first is kept for rewrite_start), and nothing like 12 MiB.
    assert peak < 2 * MIN_PART_BYTES + 1024 * 1024, peak
    failed_key = unique("r2/writer-failed-")
    try:
        async with BlobWriter(store, failed_key) as writer:
            await writer.write(piece * 100)
            raise LookupError("the render failed")
    except LookupError:
        pass
    assert await store.head(failed_key) is None
    return {"python_peak_bytes": peak, "object_bytes": head.size}
