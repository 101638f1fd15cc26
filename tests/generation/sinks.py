"""An `AudioSink` that keeps the file in memory, for tests of providers on their own."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from beatbun.generation.provider import ProviderResult


class MemorySink:
    """Keeps what a provider writes, in order, as a file would hold it."""

    def __init__(self) -> None:
        self.data = bytearray()

    async def write(self, data: bytes | bytearray | memoryview) -> None:
        self.data += memoryview(data).cast("B")

    def rewrite_start(self, data: bytes) -> None:
        self.data[: len(data)] = data


@dataclass(frozen=True)
class Written:
    """A provider's result with the file it wrote; the result's fields read through."""

    result: ProviderResult
    audio: bytes

    def __getattr__(self, name: str) -> Any:
        return getattr(self.result, name)
