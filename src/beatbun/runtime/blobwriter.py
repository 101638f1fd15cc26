"""Writing one object in parts, so a large file never sits whole in memory on its way to R2."""

from __future__ import annotations

from collections.abc import Mapping
from types import TracebackType

from beatbun.runtime.base import (
    MIN_PART_BYTES,
    BlobObject,
    BlobStore,
    HttpMetadata,
    MultipartUpload,
    UploadedPart,
)

# A 30 s stereo WAV (5.3 MB) is one put, a 300 s one (50.5 MB) seven parts: fewer calls than
# R2's 5 MiB minimum would need, and 16 MiB of buffers at most.
DEFAULT_PART_BYTES = 8 * 1024 * 1024


class BlobWriter:
    """Stores what is written to it under `key`, in parts of exactly `part_bytes` but the last.

    An object that fits in one part is stored by one `put` when the writer closes; a larger one
    by a multipart upload. The first part is held back until `close`, so `rewrite_start` can
    still change it (a file header whose sizes are known only at the end); later parts go as
    they fill. So at most two parts are in memory at once, or one with `holds_first=False`
    (every part goes as it fills, and `rewrite_start` is refused).

    Use it as `async with BlobWriter(...) as writer:`. Leaving the block normally stores the
    object; leaving it by an exception (cancellation included) aborts the upload, and nothing is
    stored. Raises what the blob store raises.
    """

    def __init__(
        self,
        blobs: BlobStore,
        key: str,
        *,
        http_metadata: HttpMetadata | None = None,
        custom_metadata: Mapping[str, str] | None = None,
        part_bytes: int = DEFAULT_PART_BYTES,
        holds_first: bool = True,
    ) -> None:
        if part_bytes < MIN_PART_BYTES:
            raise ValueError(f"part_bytes must be at least {MIN_PART_BYTES}, got {part_bytes}.")
        self._blobs = blobs
        self._key = key
        self._http_metadata = http_metadata
        self._custom_metadata = custom_metadata
        self._part_bytes = part_bytes
        self._holds_first = holds_first
        # The part being filled (allocated on the first write, reused), and the full first part.
        self._buffer = bytearray()
        self._filled = 0
        self._first: bytearray | None = None
        self._upload: MultipartUpload | None = None
        self._parts: list[UploadedPart] = []
        # Part 1 is the held-back first part, uploaded at close; later parts are numbered on.
        self._next_part = 2 if holds_first else 1
        self._written = 0
        self._closed = False

    @property
    def written(self) -> int:
        """Bytes written so far."""
        return self._written

    async def __aenter__(self) -> BlobWriter:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if kind is None:
            await self.close()
        else:
            await self.abort()

    async def write(self, data: bytes | bytearray | memoryview) -> None:
        """Add `data` after what was written before; uploads each later part as it fills."""
        self._check_open("write")
        view = memoryview(data).cast("B")
        self._written += view.nbytes
        if view.nbytes and not self._buffer:
            self._buffer = bytearray(self._part_bytes)
        while view.nbytes:
            if self._filled == self._part_bytes:
                # Only once more data follows: an object of exactly one part is a single put.
                await self._part_done()
            taken = min(self._part_bytes - self._filled, view.nbytes)
            self._buffer[self._filled : self._filled + taken] = view[:taken]
            self._filled += taken
            view = view[taken:]

    def rewrite_start(self, data: bytes) -> None:
        """Replace the first `len(data)` bytes written; they must have been written already."""
        self._check_open("rewrite_start")
        if not self._holds_first:
            raise RuntimeError("BlobWriter.rewrite_start() needs holds_first=True.")
        first = self._first if self._first is not None else self._buffer
        held = len(first) if self._first is not None else self._filled
        if len(data) > held:
            raise ValueError(f"Only {held} bytes are written; cannot rewrite {len(data)}.")
        first[: len(data)] = data

    async def close(self) -> BlobObject:
        """Store the object; returns it as `head` would."""
        self._check_open("close")
        self._closed = True
        try:
            if self._upload is None and self._first is None:
                return await self._blobs.put(
                    self._key,
                    bytes(memoryview(self._buffer)[: self._filled]),
                    http_metadata=self._http_metadata,
                    custom_metadata=self._custom_metadata,
                )
            upload = await self._open_upload()
            if self._first is not None:
                self._parts.append(await upload.upload_part(1, memoryview(self._first)))
            if self._filled:
                await self._upload_buffer()
            return await upload.complete(self._parts)
        except BaseException:
            await self._abort_upload()
            raise
        finally:
            self._buffer, self._first = bytearray(), None

    async def abort(self) -> None:
        """Drop what was written; nothing is stored. Safe to call more than once."""
        self._closed = True
        self._buffer, self._first = bytearray(), None
        await self._abort_upload()

    async def _part_done(self) -> None:
        if self._first is None and self._holds_first:
            self._first, self._buffer = self._buffer, bytearray(self._part_bytes)
            self._filled = 0
        else:
            await self._upload_buffer()

    async def _upload_buffer(self) -> None:
        upload = await self._open_upload()
        number, self._next_part = self._next_part, self._next_part + 1
        part = memoryview(self._buffer)[: self._filled]
        # The store has read the part when this returns, so the buffer can be reused.
        self._parts.append(await upload.upload_part(number, part))
        self._filled = 0

    async def _open_upload(self) -> MultipartUpload:
        if self._upload is None:
            self._upload = await self._blobs.create_multipart_upload(
                self._key,
                http_metadata=self._http_metadata,
                custom_metadata=self._custom_metadata,
            )
        return self._upload

    async def _abort_upload(self) -> None:
        upload, self._upload = self._upload, None
        if upload is not None:
            await upload.abort()

    def _check_open(self, method: str) -> None:
        if self._closed:
            raise RuntimeError(f"BlobWriter.{method}() after close() or abort(); open a new one.")
