"""A runtime whose storage stops, or lets someone else act, after a chosen number of operations.

Every R2 call and every D1 round trip (a statement's `all`/`run`/`first`/`raw`, a `batch`) is
one operation. Each completes whole or not at all, so stopping before operation N, for every
N, reaches every state a crash (an exception, or the process killed) can leave behind.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from beatbun.runtime.base import (
    MAX_KEYS_PER_CALL,
    BlobListing,
    BlobObject,
    BlobStore,
    BlobStream,
    ByteRange,
    Conditions,
    Database,
    HttpMetadata,
    QueryResult,
    Runtime,
    SqlValue,
    Statement,
)


class Crash(BaseException):
    """The process died here: it passes every `except Exception`, as a kill would."""


class Operations:
    """Counts operations; raises `failure` instead of operation `crash_at` (0-based), and runs
    `then` right after operation `then_at` completes."""

    def __init__(
        self,
        *,
        crash_at: int | None = None,
        failure: type[BaseException] = Crash,
        then_at: int | None = None,
        then: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.done = 0
        self.crash_at = crash_at
        self.failure = failure
        self.then_at = then_at
        self.then = then

    def before(self) -> None:
        if self.done == self.crash_at:
            raise self.failure(f"Stopped before storage operation {self.done}.")

    async def after(self) -> None:
        self.done += 1
        if self.then is not None and self.done - 1 == self.then_at:
            await self.then()


def faulty(runtime: Runtime, operations: Operations) -> Runtime:
    """`runtime` with its database and blob store counted by `operations`."""
    return Runtime(
        settings=runtime.settings,
        db=FaultyDatabase(runtime.db, operations),
        blobs=FaultyBlobStore(runtime.blobs, operations),
        user_queues=runtime.user_queues,
        clock=runtime.clock,
        kdf=runtime.kdf,
        mailer=runtime.mailer,
        cipher=runtime.cipher,
        fetcher=runtime.fetcher,
    )


class FaultyBlobStore:
    def __init__(self, inner: BlobStore, operations: Operations) -> None:
        self.inner = inner
        self.operations = operations

    async def put(
        self,
        key: str,
        data: bytes | str,
        *,
        http_metadata: HttpMetadata | None = None,
        custom_metadata: Mapping[str, str] | None = None,
    ) -> BlobObject:
        self.operations.before()
        stored = await self.inner.put(
            key, data, http_metadata=http_metadata, custom_metadata=custom_metadata
        )
        await self.operations.after()
        return stored

    async def get(
        self, key: str, *, range: ByteRange | None = None, only_if: Conditions | None = None
    ) -> BlobObject | None:
        self.operations.before()
        found = await self.inner.get(key, range=range, only_if=only_if)
        await self.operations.after()
        return found

    async def stream(self, key: str, *, range: ByteRange | None = None) -> BlobStream | None:
        self.operations.before()
        opened = await self.inner.stream(key, range=range)
        await self.operations.after()
        return opened

    async def head(self, key: str) -> BlobObject | None:
        self.operations.before()
        found = await self.inner.head(key)
        await self.operations.after()
        return found

    async def delete(self, keys: str | Sequence[str]) -> None:
        self.operations.before()
        await self.inner.delete(keys)
        await self.operations.after()

    async def list(
        self,
        *,
        prefix: str = "",
        cursor: str | None = None,
        limit: int = MAX_KEYS_PER_CALL,
        delimiter: str | None = None,
    ) -> BlobListing:
        self.operations.before()
        listing = await self.inner.list(
            prefix=prefix, cursor=cursor, limit=limit, delimiter=delimiter
        )
        await self.operations.after()
        return listing


class FaultyDatabase:
    def __init__(self, inner: Database, operations: Operations) -> None:
        self.inner = inner
        self.operations = operations

    def prepare(self, sql: str) -> FaultyStatement:
        return FaultyStatement(self.inner.prepare(sql), self.operations)

    async def batch(self, statements: Sequence[Statement]) -> list[QueryResult]:
        self.operations.before()
        inner = [s.inner if isinstance(s, FaultyStatement) else s for s in statements]
        results = await self.inner.batch(inner)
        await self.operations.after()
        return results


class FaultyStatement:
    def __init__(self, inner: Statement, operations: Operations) -> None:
        self.inner = inner
        self.operations = operations

    def bind(self, *params: SqlValue | bool) -> FaultyStatement:
        return FaultyStatement(self.inner.bind(*params), self.operations)

    async def all(self) -> QueryResult:
        self.operations.before()
        result = await self.inner.all()
        await self.operations.after()
        return result

    async def run(self) -> QueryResult:
        self.operations.before()
        result = await self.inner.run()
        await self.operations.after()
        return result

    async def first(self, column: str | None = None) -> Any:
        self.operations.before()
        result = await self.inner.first(column)
        await self.operations.after()
        return result

    async def raw(self, *, column_names: bool = False) -> list[list[SqlValue]]:
        self.operations.before()
        result = await self.inner.raw(column_names=column_names)
        await self.operations.after()
        return result
