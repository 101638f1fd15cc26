"""The fake ElevenLabs server refuses what the real API refuses, so adapter tests mean something."""

from __future__ import annotations

import httpx
import pytest
from fake_elevenlabs import API_KEY, FakeElevenLabs

VALID = {"prompt": "calm piano", "music_length_ms": 3000, "model_id": "music_v1"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**VALID, "music_length_ms": 2999}, "music_length_ms"),
        ({**VALID, "music_length_ms": 600001}, "music_length_ms"),
        ({**VALID, "music_length_ms": True}, "music_length_ms"),  # JSON true is not an int
        ({**VALID, "composition_plan": {}}, "prompt"),  # prompt and plan are exclusive
        ({**VALID, "seed": "7"}, "seed"),
        ({**VALID, "force_instrumental": "yes"}, "force_instrumental"),
        ({**VALID, "length_ms": 3000}, "length_ms"),  # misspelt fields are refused
    ],
)
async def test_fake_invalid_body_is_422(
    fake_elevenlabs: FakeElevenLabs, http_client: httpx.AsyncClient, body: object, field: str
) -> None:
    response = await http_client.post(
        f"{fake_elevenlabs.url}/v1/music", json=body, headers={"xi-api-key": API_KEY}
    )

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", field]


async def test_fake_unknown_output_format_is_422(
    fake_elevenlabs: FakeElevenLabs, http_client: httpx.AsyncClient
) -> None:
    response = await http_client.post(
        f"{fake_elevenlabs.url}/v1/music",
        params={"output_format": "wav_44100"},
        json=VALID,
        headers={"xi-api-key": API_KEY},
    )

    assert response.status_code == 422


async def test_fake_missing_key_is_401(
    fake_elevenlabs: FakeElevenLabs, http_client: httpx.AsyncClient
) -> None:
    response = await http_client.post(f"{fake_elevenlabs.url}/v1/music", json=VALID)

    assert response.status_code == 401


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("GET", "/v1/music", 405), ("POST", "/v1/musics", 404)],
)
async def test_fake_other_routes_are_refused(
    fake_elevenlabs: FakeElevenLabs,
    http_client: httpx.AsyncClient,
    method: str,
    path: str,
    status: int,
) -> None:
    response = await http_client.request(method, f"{fake_elevenlabs.url}{path}")

    assert response.status_code == status
