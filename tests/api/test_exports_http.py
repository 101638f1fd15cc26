"""Exports over HTTP against the real local server: the API, the library and the track page.

One server for the module, seeded before it starts: an account with composer tracks (one per
test that buys), an API key, and a second account. The browser-like `Visitor` logs in.
"""

from __future__ import annotations

import asyncio
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import soundfile  # type: ignore[import-untyped]

from beatbun.accounts.apikeys import create_api_key
from beatbun.generation.queue import UserQueue
from beatbun.settings import Settings
from beatbun.tracks.models import STEMS
from beatbun_local.migrations import apply_migrations
from beatbun_local.runtime import LocalRuntime
from tests.conftest import MIGRATIONS, LiveServer, running_live_server
from tests.factories import create_verified_account
from tests.tracks.conftest import make_tracks
from tests.visitors import Visitor, log_in

EMAIL = "exporter@example.com"
TRACKS = 7


@dataclass(frozen=True)
class Seeded:
    server: LiveServer
    key: str
    other_key: str
    tracks: list[str]
    # A track whose plan names an older composer: no stems, no MIDI.
    old_track: str


async def _seeded(state: Path) -> tuple[str, str, list[str], str]:
    runtime = LocalRuntime.open(state, settings=Settings(environment="test"), user_queue=UserQueue)
    try:
        await apply_migrations(runtime.db, MIGRATIONS)
        account = await create_verified_account(runtime, email=EMAIL)
        made = await make_tracks(runtime, account_id=account.id, count=TRACKS + 1)
        old = made[-1]
        await (
            runtime.db.prepare(
                "UPDATE tracks SET plan = json_set(plan, '$.composer_version', 1) WHERE id = ?"
            )
            .bind(old.id)
            .run()
        )
        other = await create_verified_account(runtime, email="other@example.com")
        keys = []
        for owner in (account, other):
            _, secret = await create_api_key(
                runtime.db,
                account_id=owner.id,
                name="exports",
                scopes=["read", "generate"],
                now=runtime.clock.now(),
            )
            keys.append(secret)
        return keys[0], keys[1], [track.id for track in made[:-1]], old.id
    finally:
        runtime.close()


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    root = tmp_path_factory.mktemp("exports")
    key, other_key, tracks, old = asyncio.run(_seeded(root / "state"))
    for server in running_live_server(root):
        yield Seeded(server, key, other_key, tracks, old)


def _api(
    seeded: Seeded,
    method: str,
    path: str,
    *,
    key: str = "",
    headers: dict[str, str] | None = None,
    json: object = None,
) -> httpx.Response:
    return httpx.request(
        method,
        seeded.server.url + path,
        headers={"Authorization": f"Bearer {key or seeded.key}", **(headers or {})},
        json=json,
        timeout=60,
    )


def _balance(seeded: Seeded) -> int:
    balance: int = _api(seeded, "GET", "/api/v1/credits").json()["balance"]
    return balance


def test_api_buys_flac_once_then_serves_it_with_ranges(seeded: Seeded) -> None:
    track = seeded.tracks[0]
    before = _balance(seeded)
    created = _api(seeded, "POST", f"/api/v1/tracks/{track}/exports", json={"kind": "flac"})
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["kind"], body["status"], body["price"]) == ("flac", "ready", 1)
    (file,) = body["files"]
    assert file["url"] == f"/api/v1/tracks/{track}/exports/flac"
    again = _api(seeded, "POST", f"/api/v1/tracks/{track}/exports", json={"kind": "flac"})
    assert again.status_code == 200 and again.json()["id"] == body["id"]
    assert _balance(seeded) == before - 1

    whole = _api(seeded, "GET", file["url"])
    assert whole.status_code == 200
    assert whole.headers["content-type"] == "audio/flac"
    assert whole.headers["content-disposition"] == f'attachment; filename="{file["file_name"]}"'
    assert int(whole.headers["content-length"]) == body["size_bytes"] == len(whole.content)
    audio = _api(seeded, "GET", f"/api/v1/tracks/{track}/audio").content
    flac_samples, _ = soundfile.read(io.BytesIO(whole.content), dtype="int16")
    wav_samples, _ = soundfile.read(io.BytesIO(audio), dtype="int16")
    assert (flac_samples == wav_samples).all()

    part = _api(seeded, "GET", file["url"], headers={"Range": "bytes=0-3"})
    assert part.status_code == 206 and part.content == b"fLaC"
    assert part.headers["content-range"] == f"bytes 0-3/{body['size_bytes']}"
    head = _api(seeded, "HEAD", file["url"])
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == str(body["size_bytes"])
    cached = _api(seeded, "GET", file["url"], headers={"If-None-Match": whole.headers["etag"]})
    assert cached.status_code == 304


def test_api_lists_prices_then_stem_urls(seeded: Seeded) -> None:
    track = seeded.tracks[1]
    listed = _api(seeded, "GET", f"/api/v1/tracks/{track}/exports").json()
    assert listed["track_id"] == track
    assert [(item["kind"], item["status"], item["available"]) for item in listed["data"]] == [
        ("flac", "not_bought", True),
        ("midi", "not_bought", True),
        ("stems", "not_bought", True),
    ]
    assert (
        _api(seeded, "POST", f"/api/v1/tracks/{track}/exports", json={"kind": "stems"}).status_code
        == 201
    )
    stems = _api(seeded, "GET", f"/api/v1/tracks/{track}/exports").json()["data"][2]
    assert stems["status"] == "ready"
    assert [file["stem"] for file in stems["files"]] == list(STEMS)
    frames = soundfile.info(
        io.BytesIO(_api(seeded, "GET", f"/api/v1/tracks/{track}/audio").content)
    ).frames
    for file in stems["files"]:
        response = _api(seeded, "GET", file["url"])
        assert response.status_code == 200 and response.headers["content-type"] == "audio/wav"
        assert soundfile.info(io.BytesIO(response.content)).frames == frames


def test_api_midi_download(seeded: Seeded) -> None:
    track = seeded.tracks[2]
    created = _api(seeded, "POST", f"/api/v1/tracks/{track}/exports", json={"kind": "midi"})
    assert created.status_code == 201
    response = _api(seeded, "GET", f"/api/v1/tracks/{track}/exports/midi")
    assert response.status_code == 200 and response.headers["content-type"] == "audio/midi"
    assert response.content.startswith(b"MThd")


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"kind": "mp3"}, 422, None),
        ({"kind": "flac", "extra": 1}, 422, None),  # unknown fields are refused
        ({}, 422, None),
    ],
)
def test_api_refuses_a_bad_order(
    seeded: Seeded, body: dict[str, object], status: int, code: str | None
) -> None:
    before = _balance(seeded)
    response = _api(seeded, "POST", f"/api/v1/tracks/{seeded.tracks[3]}/exports", json=body)
    assert response.status_code == status
    assert _balance(seeded) == before


def test_api_stems_of_an_older_composer_track_are_unavailable(seeded: Seeded) -> None:
    before = _balance(seeded)
    response = _api(
        seeded, "POST", f"/api/v1/tracks/{seeded.old_track}/exports", json={"kind": "stems"}
    )
    assert response.status_code == 409
    assert response.json()["error"] == "export_unavailable"
    assert _balance(seeded) == before
    listed = _api(seeded, "GET", f"/api/v1/tracks/{seeded.old_track}/exports").json()["data"]
    assert [item["available"] for item in listed] == [True, False, False]


def test_api_not_bought_or_not_yours_is_not_found(seeded: Seeded) -> None:
    track = seeded.tracks[3]
    missing = _api(seeded, "GET", f"/api/v1/tracks/{track}/exports/midi")
    assert missing.status_code == 404 and missing.json()["error"] == "export_not_found"
    theirs = _api(
        seeded,
        "POST",
        f"/api/v1/tracks/{track}/exports",
        key=seeded.other_key,
        json={"kind": "flac"},
    )
    assert theirs.status_code == 404 and theirs.json()["error"] == "track_not_found"
    assert (
        _api(seeded, "GET", f"/api/v1/tracks/{track}/exports", key=seeded.other_key).status_code
        == 404
    )


def test_pricing_publishes_the_export_prices(seeded: Seeded) -> None:
    pricing = httpx.get(seeded.server.url + "/api/v1/pricing").json()
    assert pricing["export_formula"] == "flac: 1; midi: 1; stems: ceil(duration_seconds / 30)"
    assert {"kind": "stems", "duration_seconds": 120, "credits": 4} in pricing["export_examples"]
    page = httpx.get(seeded.server.url + "/pricing").text
    assert "stems one credit per started 30 seconds" in page


def test_library_offers_exports_and_buys_with_a_confirmed_form(seeded: Seeded) -> None:
    visitor = Visitor(seeded.server.url)
    assert log_in(visitor, EMAIL).status_code == 303
    track = seeded.tracks[4]
    library = visitor.get("/tracks").text
    offers = re.findall(
        rf'action="/tracks/{track}/exports".*?name="kind" value="(\w+)"', library, re.S
    )
    assert offers == ["flac", "midi", "stems"]
    assert "Get FLAC (lossless) · 1 credit" in library
    bought = visitor.post(
        f"/tracks/{track}/exports", {"kind": "flac", "back": "/tracks"}, csrf_from="/tracks"
    )
    assert bought.status_code == 303
    assert bought.headers["location"] == f"/tracks#exports-{track}"
    library = visitor.get("/tracks").text
    assert f'href="/tracks/{track}/exports/flac"' in library
    download = visitor.get(f"/tracks/{track}/exports/flac")
    assert download.status_code == 200 and download.content.startswith(b"fLaC")


def test_track_page_buys_stems_and_lists_each(seeded: Seeded) -> None:
    visitor = Visitor(seeded.server.url)
    assert log_in(visitor, EMAIL).status_code == 303
    track = seeded.tracks[5]
    bought = visitor.post(
        f"/tracks/{track}/exports",
        {"kind": "stems", "back": f"/tracks/{track}"},
        csrf_from=f"/tracks/{track}",
    )
    assert bought.status_code == 303
    page = visitor.get(f"/tracks/{track}").text
    for stem in STEMS:
        assert f'href="/tracks/{track}/exports/stems/{stem}"' in page
    assert visitor.get(f"/tracks/{track}/exports/stems/lead").status_code == 200
    old = visitor.get(f"/tracks/{seeded.old_track}").text
    assert "Stems and MIDI exist only for tracks of the current composer." in old


def test_page_purchase_without_a_kind_shows_the_error(seeded: Seeded) -> None:
    visitor = Visitor(seeded.server.url)
    assert log_in(visitor, EMAIL).status_code == 303
    track = seeded.tracks[6]
    response = visitor.post(
        f"/tracks/{track}/exports", {"kind": "wav"}, csrf_from=f"/tracks/{track}"
    )
    assert response.status_code == 422
    assert "Choose FLAC, MIDI or stems, not &#39;wav&#39;." in response.text


def test_api_docs_list_the_export_endpoints_with_curl(seeded: Seeded) -> None:
    page = httpx.get(seeded.server.url + "/docs/api").text
    for operation in (
        "GET /api/v1/tracks/{track_id}/exports",
        "POST /api/v1/tracks/{track_id}/exports",
        "GET /api/v1/tracks/{track_id}/exports/{kind}",
        "GET /api/v1/tracks/{track_id}/exports/stems/{stem}",
    ):
        assert f"<code>{operation}</code>" in page
    example = page.split('id="exports-heading"', 1)[1].split("</section>", 1)[0]
    assert f"curl -X POST {seeded.server.url}/api/v1/tracks/TRACK_ID/exports" in example
    assert f"curl -OJ {seeded.server.url}/api/v1/tracks/TRACK_ID/exports/stems/drums" in example
