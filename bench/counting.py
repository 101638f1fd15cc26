"""Wrappers that count service calls: each D1 call and each R2 call is one round trip on Cloudflare."""

from __future__ import annotations

from collections import Counter
from typing import Any


class CountingDatabase:
    """Counts every call that goes to D1 (one round trip each on Cloudflare)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.calls = 0

    def prepare(self, sql: str) -> Any:
        return _CountingStatement(self, self.inner.prepare(sql))

    async def batch(self, statements: list[Any]) -> Any:
        self.calls += 1
        return await self.inner.batch([statement.inner for statement in statements])


class _CountingStatement:
    def __init__(self, database: CountingDatabase, inner: Any) -> None:
        self.database = database
        self.inner = inner

    def bind(self, *params: Any) -> _CountingStatement:
        return _CountingStatement(self.database, self.inner.bind(*params))

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.inner, name)

        async def counted(*args: Any, **kwargs: Any) -> Any:
            self.database.calls += 1
            return await method(*args, **kwargs)

        return counted


class CountingBlobStore:
    """Counts R2 calls by method (get, put, delete, list, head)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.calls: Counter[str] = Counter()

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.inner, name)

        async def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls[name] += 1
            return await method(*args, **kwargs)

        return counted
