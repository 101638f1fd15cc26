"""A fresh fake ElevenLabs server and HTTP client per test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from fake_elevenlabs import FakeElevenLabs, serve


@pytest.fixture
def fake_elevenlabs() -> Iterator[FakeElevenLabs]:
    yield from serve(FakeElevenLabs())


@pytest.fixture
async def http_client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client
