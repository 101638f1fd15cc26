"""Shared renders: synthesizing audio is the slow part, so each distinct request renders once."""

from __future__ import annotations

import io
from functools import lru_cache

import pytest
from audio_measures import Render

from beatbun.generation.composer.provider import Composer
from beatbun.generation.provider import MusicRequest
from tests.generation.sinks import Written


@lru_cache(maxsize=64)
def _render(
    prompt: str, seconds: float, seed: int, fields: tuple[tuple[str, object], ...]
) -> Written:
    request = MusicRequest(prompt=prompt, duration_seconds=seconds, seed=seed, **dict(fields))
    file = io.BytesIO()
    result = Composer().compose(request, write=file.write)
    return Written(result=result, audio=file.getvalue())


@pytest.fixture(scope="session")
def render() -> Render:
    def run(prompt: str, *, seconds: float = 12.0, seed: int = 7, **fields: object) -> Written:
        return _render(prompt, seconds, seed, tuple(sorted(fields.items())))

    return run
