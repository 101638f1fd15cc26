"""A blob store wrapper that records the size of every write that reaches the store."""

from __future__ import annotations

from typing import Any

from beatbun.runtime.base import BlobObject, BlobStore, MultipartUpload, UploadedPart


class RecordingBlobStore:
    """Passes every call to `inner`; `writes` lists ("put" | "part", bytes) in call order."""

    def __init__(self, inner: BlobStore) -> None:
        self.inner = inner
        self.writes: list[tuple[str, int]] = []
        self.aborted = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def put(self, key: str, data: bytes | str, **options: Any) -> BlobObject:
        self.writes.append(("put", len(data)))
        return await self.inner.put(key, data, **options)

    async def create_multipart_upload(self, key: str, **options: Any) -> MultipartUpload:
        return _RecordingUpload(self, await self.inner.create_multipart_upload(key, **options))


class _RecordingUpload:
    def __init__(self, store: RecordingBlobStore, inner: MultipartUpload) -> None:
        self._store = store
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def upload_part(self, part_number: int, data: bytes | memoryview) -> UploadedPart:
        self._store.writes.append(("part", memoryview(data).nbytes))
        return await self._inner.upload_part(part_number, data)

    async def abort(self) -> None:
        self._store.aborted += 1
        await self._inner.abort()
