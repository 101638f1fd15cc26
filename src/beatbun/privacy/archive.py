"""A zip archive written into the blob store as it is made, in parts: never whole in memory.

`zipfile` writes to any object with `write`; given one that cannot seek, it puts each entry's
sizes and CRC in a data descriptor after the entry's bytes instead of going back to its
header. So the archive is a stream: what `zipfile` writes collects in a small sink, and after
every piece the sink is emptied into a `BlobWriter`, which uploads a part each time one fills.
Memory holds one piece of input and one part of output at most.
"""

from __future__ import annotations

import contextlib
import zipfile
from collections.abc import AsyncIterator
from datetime import datetime

from beatbun.runtime.base import BlobObject, BlobStore, HttpMetadata
from beatbun.runtime.blobwriter import DEFAULT_PART_BYTES, BlobWriter

# Text entries go to the compressor this much at a time.
PIECE_BYTES = 1024 * 1024
# Owner may read and write, others read: what `unzip` gives extracted files.
FILE_MODE = 0o644 << 16


class ZipArchive:
    """The entries of a zip being uploaded: `add_text` deflates, `add_stream` stores as is.

    Made by `zip_upload`; `stored` is the object once its block is left normally.
    """

    def __init__(self, writer: BlobWriter) -> None:
        self._writer = writer
        self._sink = _Sink()
        self._zip = zipfile.ZipFile(self._sink, "w")
        self.stored: BlobObject | None = None

    async def add_text(self, name: str, data: bytes, *, when: datetime) -> None:
        """Add `data` (JSON, HTML, text) under `name`, deflated."""
        info = _info(name, when, zipfile.ZIP_DEFLATED)
        with self._zip.open(info, "w") as entry:
            for start in range(0, len(data), PIECE_BYTES):
                entry.write(data[start : start + PIECE_BYTES])
                await self._drain()
        await self._drain()

    async def add_stream(
        self, name: str, chunks: AsyncIterator[bytes], *, size: int, when: datetime
    ) -> None:
        """Add the bytes of `chunks` under `name`, stored as they are (audio is compressed, or
        does not compress). `size` is the expected length: above 4 GiB the entry needs Zip64.
        """
        info = _info(name, when, zipfile.ZIP_STORED)
        info.file_size = size
        with self._zip.open(info, "w") as entry:
            async for chunk in chunks:
                entry.write(chunk)
                await self._drain()
        await self._drain()

    async def _finish(self) -> None:
        """Write the central directory and store the object."""
        self._zip.close()
        await self._drain()
        self.stored = await self._writer.close()

    async def _drain(self) -> None:
        for piece in self._sink.take():
            await self._writer.write(piece)


@contextlib.asynccontextmanager
async def zip_upload(
    blobs: BlobStore,
    key: str,
    *,
    http_metadata: HttpMetadata | None = None,
    part_bytes: int = DEFAULT_PART_BYTES,
) -> AsyncIterator[ZipArchive]:
    """`async with zip_upload(blobs, key) as archive:` stores the zip under `key` on leaving.

    Leaving the block by an exception (cancellation included) aborts the upload: nothing is
    stored, and no part is left. Raises what the blob store raises.
    """
    # Every part goes as it fills: a zip needs no header rewritten at the end.
    writer = BlobWriter(
        blobs, key, http_metadata=http_metadata, part_bytes=part_bytes, holds_first=False
    )
    archive = ZipArchive(writer)
    try:
        yield archive
        await archive._finish()
    except BaseException:
        await writer.abort()
        raise


class _Sink:
    """Where `zipfile` writes: it keeps the pieces until `take` hands them on."""

    def __init__(self) -> None:
        self._pieces: list[bytes] = []

    def write(self, data: bytes | bytearray | memoryview, /) -> int:
        piece = data if isinstance(data, bytes) else bytes(data)
        self._pieces.append(piece)
        return len(piece)

    def flush(self) -> None:
        """Nothing is buffered here beyond what `take` returns."""

    def close(self) -> None:
        """`zipfile` leaves open what it was given; the upload is closed by its owner."""

    def take(self) -> list[bytes]:
        pieces, self._pieces = self._pieces, []
        return pieces


def _info(name: str, when: datetime, compress_type: int) -> zipfile.ZipInfo:
    # A zip timestamp has no zone and cannot be before 1980; ours are UTC.
    stamp = max(when.timetuple()[:6], (1980, 1, 1, 0, 0, 0))
    info = zipfile.ZipInfo(name, date_time=stamp)
    info.compress_type = compress_type
    info.external_attr = FILE_MODE
    return info
