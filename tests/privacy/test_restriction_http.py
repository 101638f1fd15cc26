"""Restriction through the app: the API and the studio refuse to make anything new, with the
stable code and a way out, and charge nothing; tracks and bought exports stay playable and
downloadable; lifting the restriction opens everything again."""

from __future__ import annotations

import re
from dataclasses import dataclass

import httpx
import pytest

from beatbun.accounts.apikeys import create_api_key
from beatbun.billing.credits import get_wallet
from beatbun.privacy.restriction import lift_restriction, restrict
from beatbun.tracks.exports import buy_export
from beatbun_local.runtime import LocalRuntime
from tests.factories import CLIENT
from tests.privacy.members import Member, account_of, count, csrf, member
from tests.tracks.conftest import make_tracks

TOKEN = re.compile(r'name="request_token" value="([0-9a-f]+)"')
SHORT = {"prompt": "sunny pop", "duration_seconds": 5, "seed": 1}
LEDGER = "SELECT COUNT(*) AS n FROM credit_ledger WHERE account_id = ?"


@dataclass(frozen=True)
class Restricted:
    who: Member
    api: dict[str, str]
    track_id: str


@pytest.fixture
async def restricted(runtime: LocalRuntime) -> Restricted:
    """A member with one track (its MIDI bought) and an API key, who then restricted processing."""
    who = await member(runtime)
    (track,) = await make_tracks(runtime, account_id=who.account_id, count=1)
    account = await account_of(runtime, who)
    await buy_export(runtime, account=account, track_id=track.id, kind="midi")
    _, secret = await create_api_key(
        runtime.db,
        account_id=who.account_id,
        name="tests",
        scopes=("generate", "read"),
        now=runtime.clock.now(),
    )
    await restrict(runtime, account, reason="Checking my data.", client=CLIENT, language="en")
    return Restricted(who=who, api={"Authorization": f"Bearer {secret}"}, track_id=track.id)


async def _money(runtime: LocalRuntime, who: Member) -> tuple[int, int]:
    balance = (await get_wallet(runtime.db, who.account_id)).balance
    return balance, await count(runtime, LEDGER, who.account_id)


def _refused(response: httpx.Response) -> None:
    assert response.status_code == 403, response.text
    body = response.json()
    assert body["error"] == "account_restricted"
    # Plain text that names the page; pages link it (the studio's message), the API has no links.
    assert "Privacy & data page" in body["message"] and "/account/" not in body["message"]


async def test_api_generation_is_refused_and_charges_nothing(
    client: httpx.AsyncClient, runtime: LocalRuntime, restricted: Restricted
) -> None:
    before = await _money(runtime, restricted.who)
    _refused(await client.post("/api/v1/generations", json=SHORT, headers=restricted.api))
    assert await _money(runtime, restricted.who) == before


async def test_api_extension_variation_and_export_are_refused(
    client: httpx.AsyncClient, runtime: LocalRuntime, restricted: Restricted
) -> None:
    before = await _money(runtime, restricted.who)
    base = f"/api/v1/tracks/{restricted.track_id}"
    _refused(await client.post(f"{base}/extend", json={"seconds": 15}, headers=restricted.api))
    _refused(await client.post(f"{base}/variations", headers=restricted.api))
    _refused(await client.post(f"{base}/exports", json={"kind": "flac"}, headers=restricted.api))
    assert await _money(runtime, restricted.who) == before


async def test_studio_form_is_refused_with_the_way_out_and_charges_nothing(
    client: httpx.AsyncClient, runtime: LocalRuntime, restricted: Restricted
) -> None:
    who = restricted.who
    before = await _money(runtime, who)
    page = await client.get("/studio", headers=who.headers)
    token = TOKEN.search(page.text)
    assert token, page.text
    form = {
        "csrf_token": await csrf(client, who),
        "request_token": token.group(1),
        "prompt": "sunny pop",
        "duration_seconds": "5",
        "seed": "1",
    }
    response = await client.post("/studio", data=form, headers=who.headers)
    assert response.status_code == 403
    assert "Processing of your account is restricted" in response.text
    assert "/account/privacy" in response.text
    scripted = await client.post(
        "/studio", data=form, headers={**who.headers, "Accept": "application/json"}
    )
    _refused(scripted)
    assert await _money(runtime, who) == before


@pytest.mark.parametrize(
    ("action", "fields"),
    [("again", {}), ("extend", {"seconds": "15"}), ("exports", {"kind": "flac"})],
)
async def test_track_page_actions_are_refused(
    client: httpx.AsyncClient,
    runtime: LocalRuntime,
    restricted: Restricted,
    action: str,
    fields: dict[str, str],
) -> None:
    who = restricted.who
    before = await _money(runtime, who)
    token = await csrf(client, who, f"/tracks/{restricted.track_id}")
    response = await client.post(
        f"/tracks/{restricted.track_id}/{action}",
        data={"csrf_token": token, **fields},
        headers=who.headers,
    )
    assert response.status_code == 403
    assert "Processing of your account is restricted" in response.text
    assert await _money(runtime, who) == before


async def test_tracks_and_bought_exports_stay_playable_and_downloadable(
    client: httpx.AsyncClient, restricted: Restricted
) -> None:
    who, track = restricted.who, restricted.track_id
    played = await client.get(f"/tracks/{track}/audio", headers=who.headers)
    assert played.status_code == 200 and played.content[:4] == b"RIFF"
    downloaded = await client.get(f"/tracks/{track}/audio?download=1", headers=who.headers)
    assert downloaded.status_code == 200
    assert "attachment" in downloaded.headers["content-disposition"]
    api_audio = await client.get(f"/api/v1/tracks/{track}/audio", headers=restricted.api)
    assert api_audio.status_code == 200 and api_audio.content[:4] == b"RIFF"
    midi = await client.get(f"/tracks/{track}/exports/midi", headers=who.headers)
    assert midi.status_code == 200 and midi.content[:4] == b"MThd"


async def test_lifting_the_restriction_lets_the_api_generate_again(
    client: httpx.AsyncClient, runtime: LocalRuntime, restricted: Restricted
) -> None:
    account = await account_of(runtime, restricted.who)
    await lift_restriction(runtime, account, client=CLIENT, language="en")
    response = await client.post("/api/v1/generations", json=SHORT, headers=restricted.api)
    assert response.status_code == 201, response.text
    extended = await client.post(
        f"/api/v1/tracks/{restricted.track_id}/extend", json={"seconds": 15}, headers=restricted.api
    )
    assert extended.status_code == 202, extended.text
