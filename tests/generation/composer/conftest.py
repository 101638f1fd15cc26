"""Shared renders: synthesizing audio is the slow part, so each distinct request renders once."""

from __future__ import annotations

from functools import lru_cache

import pytest
from audio_measures import Render

from beatbun.generation.composer.provider import Composer
from beatbun.generation.provider import MusicRequest, ProviderResult


@lru_cache(maxsize=64)
def _render(
    prompt: str, seconds: float, seed: int, fields: tuple[tuple[str, object], ...]
) -> ProviderResult:
    request = MusicRequest(prompt=prompt, duration_seconds=seconds, seed=seed, **dict(fields))
    return Composer().compose(request)


@pytest.fixture(scope="session")
def render() -> Render:
    def run(
        prompt: str, *, seconds: float = 12.0, seed: int = 7, **fields: object
    ) -> ProviderResult:
        return _render(prompt, seconds, seed, tuple(sorted(fields.items())))

    return run
