"""`/api/v1/tracks`: rename, favourite, share and delete, and their OpenAPI entries."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from beatbun.accounts.apikeys import create_api_key
from beatbun.tracks.models import Track
from beatbun.tracks.store import get_track
from beatbun_local.runtime import LocalRuntime
from tests.factories import create_verified_account
from tests.tracks.conftest import make_tracks


async def _caller(
    runtime: LocalRuntime, email: str = "person@example.com"
) -> tuple[dict[str, str], Track]:
    account = await create_verified_account(runtime, email=email)
    (track,) = await make_tracks(runtime, account_id=account.id, count=1)
    _, secret = await create_api_key(
        runtime.db,
        account_id=account.id,
        name="t",
        scopes=["read", "generate"],
        now=runtime.clock.now(),
    )
    return {"Authorization": f"Bearer {secret}"}, track


async def test_patch_renames_and_favourites(
    client: httpx.AsyncClient, runtime: LocalRuntime
) -> None:
    headers, track = await _caller(runtime)
    response = await client.patch(
        f"/api/v1/tracks/{track.id}",
        json={"title": "Night drive", "favourite": True},
        headers=headers,
    )
    assert response.status_code == 200
    assert response.json() == {
        "id": track.id,
        "title": "Night drive",
        "favourite": True,
        "shared": False,
    }
    listed = (await client.get("/api/v1/tracks", headers=headers)).json()["data"][0]
    assert (listed["title"], listed["favourite"]) == ("Night drive", True)


async def test_patch_with_a_too_long_title_is_422(
    client: httpx.AsyncClient, runtime: LocalRuntime
) -> None:
    headers, track = await _caller(runtime)
    response = await client.patch(
        f"/api/v1/tracks/{track.id}", json={"title": "x" * 101}, headers=headers
    )
    assert response.status_code == 422
    assert response.json()["error"] == "title_too_long"


async def test_share_and_unshare_over_the_api(
    client: httpx.AsyncClient, runtime: LocalRuntime
) -> None:
    headers, track = await _caller(runtime)
    shared = await client.post(f"/api/v1/tracks/{track.id}/share", headers=headers)
    assert shared.status_code == 200
    url = shared.json()["url"]
    assert url.startswith("http://testserver/s/")
    path = url.removeprefix("http://testserver")
    assert (await client.get(path)).status_code == 200
    revoked = await client.delete(f"/api/v1/tracks/{track.id}/share", headers=headers)
    assert revoked.status_code == 204
    assert (await client.get(path)).status_code == 404


async def test_delete_hides_at_once_over_the_api(
    client: httpx.AsyncClient, runtime: LocalRuntime
) -> None:
    headers, track = await _caller(runtime)
    assert (await client.delete(f"/api/v1/tracks/{track.id}", headers=headers)).status_code == 204
    assert (await client.get(f"/api/v1/tracks/{track.id}", headers=headers)).status_code == 404
    assert (await client.get("/api/v1/tracks", headers=headers)).json()["data"] == []


async def test_another_callers_track_is_404_for_every_new_route(
    client: httpx.AsyncClient, runtime: LocalRuntime
) -> None:
    _, track = await _caller(runtime)
    stranger, _ = await _caller(runtime, "stranger@example.com")
    base = f"/api/v1/tracks/{track.id}"
    assert (await client.patch(base, json={"favourite": True}, headers=stranger)).status_code == 404
    assert (await client.post(f"{base}/share", headers=stranger)).status_code == 404
    assert (await client.delete(f"{base}/share", headers=stranger)).status_code == 404
    assert not (
        await get_track(runtime.db, account_id=track.account_id, track_id=track.id)
    ).favourite


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("patch", "/api/v1/tracks/{track_id}"),
        ("post", "/api/v1/tracks/{track_id}/share"),
        ("delete", "/api/v1/tracks/{track_id}/share"),
    ],
)
def test_new_routes_are_documented(app: FastAPI, method: str, path: str) -> None:
    operation = app.openapi()["paths"][path][method]
    assert operation["summary"] and operation["description"]
