"""Builders for the export tests: a session with the password just confirmed, a ready export."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Sequence
from typing import Any, cast

from beatbun.accounts.models import Account, Session
from beatbun.accounts.reauth import confirm_password
from beatbun.accounts.sessions import create_session
from beatbun.privacy.export import build_pending_exports, open_export, request_export
from beatbun.runtime.base import BlobObject, BlobStore, MultipartUpload, Runtime, UploadedPart
from tests.factories import CLIENT, PASSWORD


async def confirmed_session(runtime: Runtime, account: Account) -> Session:
    """A full session whose password was confirmed just now, as the confirmation page does."""
    session, _ = await create_session(
        runtime.db, account_id=account.id, stage="full", client=CLIENT, now=runtime.clock.now()
    )
    return await confirm_password(runtime, account, session, password=PASSWORD, client=CLIENT)


async def ready_export(runtime: Runtime, account: Account, session: Session) -> str:
    """Ask for an export and build it; its request id."""
    request = await request_export(runtime, account, session, client=CLIENT, language="en")
    assert await build_pending_exports(runtime) == 1
    return request.id


async def download(
    runtime: Runtime, account: Account, session: Session, request_id: str
) -> zipfile.ZipFile:
    """The export as the owner downloads it, read back to the end and opened."""
    stream = await open_export(runtime, account, session, request_id)
    body = b"".join([chunk async for chunk in stream.chunks])
    assert len(body) == stream.object.size
    return zipfile.ZipFile(io.BytesIO(body))


class PartFailure(Exception):
    """The blob store refused a part, as a network error to R2 would."""


class WatchedBlobStore:
    """The blob store in front of it, but noting the size of every part handed to multipart
    uploads, and raising `failure` instead of storing part number `fail_at_part`."""

    def __init__(
        self,
        inner: BlobStore,
        *,
        fail_at_part: int | None = None,
        failure: type[BaseException] = PartFailure,
    ) -> None:
        self.inner = inner
        self.fail_at_part = fail_at_part
        self.failure = failure
        self.written: list[int] = []
        self.parts_stored = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def create_multipart_upload(self, key: str, **options: Any) -> MultipartUpload:
        return _WatchedUpload(self, await self.inner.create_multipart_upload(key, **options))


class _WatchedUpload:
    def __init__(self, store: WatchedBlobStore, inner: MultipartUpload) -> None:
        self.store = store
        self.inner = inner

    @property
    def key(self) -> str:
        return self.inner.key

    @property
    def upload_id(self) -> str:
        return self.inner.upload_id

    async def upload_part(self, part_number: int, data: bytes | memoryview) -> UploadedPart:
        if part_number == self.store.fail_at_part:
            raise self.store.failure(f"Part {part_number} was not stored.")
        self.store.written.append(memoryview(data).nbytes)
        uploaded = await self.inner.upload_part(part_number, data)
        self.store.parts_stored += 1
        return uploaded

    async def complete(self, parts: Sequence[UploadedPart]) -> BlobObject:
        return await self.inner.complete(parts)

    async def abort(self) -> None:
        await self.inner.abort()


def with_blobs(runtime: Runtime, blobs: WatchedBlobStore) -> Runtime:
    """`runtime` with `blobs` in front of its own blob store."""
    return Runtime(
        settings=runtime.settings,
        db=runtime.db,
        blobs=cast(BlobStore, blobs),
        user_queues=runtime.user_queues,
        clock=runtime.clock,
        kdf=runtime.kdf,
        mailer=runtime.mailer,
        cipher=runtime.cipher,
        fetcher=runtime.fetcher,
    )
