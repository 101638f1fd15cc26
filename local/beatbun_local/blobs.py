"""R2 semantics on a local folder: object files plus a SQLite index of their metadata."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import os
import shutil
import sqlite3
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

from beatbun.errors import BlobStoreError
from beatbun.runtime.base import (
    MAX_KEYS_PER_CALL,
    MAX_READ_BYTES,
    BlobListing,
    BlobObject,
    BlobStream,
    ByteRange,
    Clock,
    Conditions,
    HttpMetadata,
    UploadedPart,
)
from beatbun.runtime.blobrules import (
    check_completion,
    check_delete_keys,
    check_key,
    check_list_limit,
    check_part,
    conditions_hold,
    custom_metadata_of,
    multipart_etag,
    resolve_range,
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS objects (
    key TEXT PRIMARY KEY,
    file TEXT NOT NULL,
    size INTEGER NOT NULL,
    etag TEXT NOT NULL,
    uploaded_ms INTEGER NOT NULL,
    http_metadata TEXT NOT NULL,
    custom_metadata TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS uploads (
    upload_id TEXT PRIMARY KEY,
    key TEXT NOT NULL,
    http_metadata TEXT NOT NULL,
    custom_metadata TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS parts (
    upload_id TEXT NOT NULL,
    part_number INTEGER NOT NULL,
    file TEXT NOT NULL,
    size INTEGER NOT NULL,
    etag TEXT NOT NULL,
    PRIMARY KEY (upload_id, part_number)
)
"""


class LocalBlobStore:
    """Objects live in `root/objects/`; writes go to a new file first, so readers never see half.

    Parts of multipart uploads live in `root/parts/` until `complete` joins them into a new
    object file or `abort` deletes them.
    """

    def __init__(self, root: Path, *, clock: Clock) -> None:
        self._objects = root / "objects"
        self._objects.mkdir(parents=True, exist_ok=True)
        self._parts = root / "parts"
        self._parts.mkdir(exist_ok=True)
        self._clock = clock
        self._index = sqlite3.connect(root / "index.sqlite", isolation_level=None)
        self._index.execute("PRAGMA journal_mode = WAL")
        self._index.executescript(_SCHEMA)

    async def put(
        self,
        key: str,
        data: bytes | str,
        *,
        http_metadata: HttpMetadata | None = None,
        custom_metadata: Mapping[str, str] | None = None,
    ) -> BlobObject:
        check_key(key)
        body = data.encode() if isinstance(data, str) else bytes(data)
        metadata = custom_metadata_of(custom_metadata)
        file_name = uuid.uuid4().hex
        temporary = self._objects / f"{file_name}.partial"
        temporary.write_bytes(body)
        os.replace(temporary, self._objects / file_name)
        return self._index_object(
            key,
            file_name=file_name,
            size=len(body),
            etag=hashlib.md5(body, usedforsecurity=False).hexdigest(),
            http=json.dumps(_http_to_dict(http_metadata or HttpMetadata())),
            custom=json.dumps(metadata),
        )

    async def create_multipart_upload(
        self,
        key: str,
        *,
        http_metadata: HttpMetadata | None = None,
        custom_metadata: Mapping[str, str] | None = None,
    ) -> LocalMultipartUpload:
        check_key(key)
        upload_id = uuid.uuid4().hex
        self._index.execute(
            "INSERT INTO uploads (upload_id, key, http_metadata, custom_metadata)"
            " VALUES (?, ?, ?, ?)",
            (
                upload_id,
                key,
                json.dumps(_http_to_dict(http_metadata or HttpMetadata())),
                json.dumps(custom_metadata_of(custom_metadata)),
            ),
        )
        return LocalMultipartUpload(self, key=key, upload_id=upload_id)

    def _index_object(
        self, key: str, *, file_name: str, size: int, etag: str, http: str, custom: str
    ) -> BlobObject:
        """Make `key` name the stored file `file_name`, and delete the file it named before."""
        row = (key, size, etag, int(self._clock.now() * 1000), http, custom)
        previous = self._file_of(key)
        self._index.execute(
            "INSERT OR REPLACE INTO objects (file, key, size, etag, uploaded_ms, http_metadata,"
            " custom_metadata) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (file_name, *row),
        )
        if previous:
            (self._objects / previous).unlink(missing_ok=True)
        # Built from the row just stored, exactly as head() would read it back.
        return _object_from_row(row)

    async def get(
        self, key: str, *, range: ByteRange | None = None, only_if: Conditions | None = None
    ) -> BlobObject | None:
        stored = self._lookup(key)
        if stored is None:
            return None
        found, file_name = stored
        if only_if is not None and not conditions_hold(found, only_if):
            return found
        offset, length = resolve_range(range, found.size)
        with open(self._objects / file_name, "rb") as file:  # noqa: ASYNC230
            file.seek(offset)
            body = file.read(length)
        return BlobObject(
            key=found.key,
            size=found.size,
            etag=found.etag,
            uploaded=found.uploaded,
            http_metadata=found.http_metadata,
            custom_metadata=found.custom_metadata,
            body=body,
            range=ByteRange(offset=offset, length=length) if range is not None else None,
        )

    async def stream(self, key: str, *, range: ByteRange | None = None) -> BlobStream | None:
        stored = self._lookup(key)
        if stored is None:
            return None
        found, file_name = stored
        offset, length = resolve_range(range, found.size)
        return BlobStream(
            object=dataclasses.replace(
                found, range=ByteRange(offset=offset, length=length) if range is not None else None
            ),
            chunks=_read_file(self._objects / file_name, key=key, offset=offset, length=length),
        )

    async def head(self, key: str) -> BlobObject | None:
        stored = self._lookup(key)
        return None if stored is None else stored[0]

    async def delete(self, keys: str | Sequence[str]) -> None:
        for key in check_delete_keys(keys):
            file_name = self._file_of(key)
            self._index.execute("DELETE FROM objects WHERE key = ?", (key,))
            if file_name:
                (self._objects / file_name).unlink(missing_ok=True)

    async def list(
        self,
        *,
        prefix: str = "",
        cursor: str | None = None,
        limit: int = MAX_KEYS_PER_CALL,
        delimiter: str | None = None,
    ) -> BlobListing:
        check_list_limit(limit)
        after = base64.urlsafe_b64decode(cursor.encode()).decode() if cursor else ""
        rows = self._index.execute(
            "SELECT key, size, etag, uploaded_ms, http_metadata, custom_metadata FROM objects"
            " WHERE substr(key, 1, ?) = ? AND key > ? ORDER BY key",
            (len(prefix), prefix, after),
        )
        objects: list[BlobObject] = []
        prefixes: list[str] = []
        last_key = ""
        for row in rows:
            key: str = row[0]
            if len(objects) + len(prefixes) == limit:
                token = base64.urlsafe_b64encode(last_key.encode()).decode()
                return BlobListing(
                    objects, truncated=True, cursor=token, delimited_prefixes=prefixes
                )
            cut = key.find(delimiter, len(prefix)) if delimiter else -1
            if delimiter and cut >= 0:
                common = key[: cut + len(delimiter)]
                if common not in prefixes:
                    prefixes.append(common)
                # Skip the rest of this "folder": everything sorting below common + U+10FFFF.
                last_key = common + "\U0010ffff"
                continue
            objects.append(_object_from_row(row))
            last_key = key
        return BlobListing(objects, truncated=False, cursor=None, delimited_prefixes=prefixes)

    def close(self) -> None:
        self._index.close()

    def _upload_part(self, upload_id: str, part_number: int, data: bytes | memoryview) -> str:
        self._upload_row(upload_id)
        file_name = f"{upload_id}-{part_number}"
        temporary = self._parts / f"{file_name}.partial"
        temporary.write_bytes(data)
        os.replace(temporary, self._parts / file_name)
        etag = hashlib.md5(data, usedforsecurity=False).hexdigest()
        self._index.execute(
            "INSERT OR REPLACE INTO parts (upload_id, part_number, file, size, etag)"
            " VALUES (?, ?, ?, ?, ?)",
            (upload_id, part_number, file_name, memoryview(data).nbytes, etag),
        )
        return etag

    def _complete(self, upload_id: str, parts: Sequence[UploadedPart]) -> BlobObject:
        key, http, custom = self._upload_row(upload_id)
        stored = {
            number: (etag, size, file)
            for number, etag, size, file in self._index.execute(
                "SELECT part_number, etag, size, file FROM parts WHERE upload_id = ?",
                (upload_id,),
            )
        }
        numbers = check_completion(
            parts, {number: (etag, size) for number, (etag, size, _) in stored.items()}
        )
        file_name = uuid.uuid4().hex
        temporary = self._objects / f"{file_name}.partial"
        with open(temporary, "wb") as joined:
            for number in numbers:
                with open(self._parts / stored[number][2], "rb") as part:
                    shutil.copyfileobj(part, joined, MAX_READ_BYTES)
        os.replace(temporary, self._objects / file_name)
        written = self._index_object(
            key,
            file_name=file_name,
            size=sum(stored[number][1] for number in numbers),
            etag=multipart_etag([stored[number][0] for number in numbers]),
            http=http,
            custom=custom,
        )
        self._abort(upload_id)
        return written

    def _abort(self, upload_id: str) -> None:
        files = self._index.execute(
            "SELECT file FROM parts WHERE upload_id = ?", (upload_id,)
        ).fetchall()
        self._index.execute("DELETE FROM parts WHERE upload_id = ?", (upload_id,))
        self._index.execute("DELETE FROM uploads WHERE upload_id = ?", (upload_id,))
        for (file_name,) in files:
            (self._parts / file_name).unlink(missing_ok=True)

    def _upload_row(self, upload_id: str) -> tuple[str, str, str]:
        row = self._index.execute(
            "SELECT key, http_metadata, custom_metadata FROM uploads WHERE upload_id = ?",
            (upload_id,),
        ).fetchone()
        if row is None:
            raise BlobStoreError(
                f"Multipart upload {upload_id!r} does not exist (completed or aborted).",
                code="no_such_upload",
            )
        return row[0], row[1], row[2]

    def _lookup(self, key: str) -> tuple[BlobObject, str] | None:
        """The object stored under `key` and the name of the file holding its bytes."""
        check_key(key)
        row = self._index.execute(
            "SELECT file, key, size, etag, uploaded_ms, http_metadata, custom_metadata"
            " FROM objects WHERE key = ?",
            (key,),
        ).fetchone()
        return None if row is None else (_object_from_row(row[1:]), row[0])

    def _file_of(self, key: str) -> str | None:
        row = self._index.execute("SELECT file FROM objects WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None


class LocalMultipartUpload:
    """A multipart upload to a `LocalBlobStore`, with R2's rules (see `MultipartUpload`)."""

    def __init__(self, store: LocalBlobStore, *, key: str, upload_id: str) -> None:
        self._store = store
        self._key = key
        self._upload_id = upload_id

    @property
    def key(self) -> str:
        return self._key

    @property
    def upload_id(self) -> str:
        return self._upload_id

    async def upload_part(self, part_number: int, data: bytes | memoryview) -> UploadedPart:
        check_part(part_number, memoryview(data).nbytes)
        etag = self._store._upload_part(self._upload_id, part_number, data)
        return UploadedPart(part_number=part_number, etag=etag)

    async def complete(self, parts: Sequence[UploadedPart]) -> BlobObject:
        return self._store._complete(self._upload_id, parts)

    async def abort(self) -> None:
        self._store._abort(self._upload_id)


async def _read_file(path: Path, *, key: str, offset: int, length: int) -> AsyncIterator[bytes]:
    """`length` bytes from `offset`, one read of at most MAX_READ_BYTES per piece.

    The file is opened on the first read: a stream that is never read holds no file open.
    """
    try:
        file = open(path, "rb")  # noqa: ASYNC230, SIM115
    except FileNotFoundError as exc:
        # A put() or delete() of the same key since stream() removed this version's file.
        raise BlobStoreError(f"Object {key!r} changed while it was being read.") from exc
    with file:
        file.seek(offset)
        left = length
        while left > 0:
            piece = file.read(min(MAX_READ_BYTES, left))
            if not piece:
                break
            left -= len(piece)
            yield piece


def _object_from_row(row: tuple[str, int, str, int, str, str]) -> BlobObject:
    key, size, etag, uploaded_ms, http, custom = row
    return BlobObject(
        key=key,
        size=size,
        etag=etag,
        uploaded=datetime.fromtimestamp(uploaded_ms / 1000, tz=UTC),
        http_metadata=HttpMetadata(**json.loads(http)),
        custom_metadata=json.loads(custom),
    )


def _http_to_dict(http: HttpMetadata) -> dict[str, str]:
    return {name: value for name, value in vars(http).items() if value is not None}
