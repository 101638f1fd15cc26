"""Licence certificates: what they state, their verification code, and who may download them."""

from __future__ import annotations

import dataclasses

import httpx
import pytest

from beatbun.accounts.apikeys import create_api_key
from beatbun.accounts.sessions import create_session
from beatbun.api.deps import SESSION_COOKIE
from beatbun.billing.plans import PlanId
from beatbun.settings import Settings
from beatbun.tracks.licence import TERMS, is_genuine, licence_certificate, licence_code
from beatbun.tracks.models import Track
from beatbun_local.runtime import LocalRuntime
from tests.factories import CLIENT, create_verified_account
from tests.tracks.conftest import make_tracks, sample_track

SECRET = "a-test-secret-that-is-long-enough"
SETTINGS = Settings(environment="test", app_secret=SECRET, site_name="Beat Bun")


def test_certificate_states_track_owner_date_plan_licence_and_terms() -> None:
    track = sample_track(licence="commercial", licence_plan="creator")
    certificate = licence_certificate(track, settings=SETTINGS).text
    assert max(len(line) for line in certificate.splitlines()) <= 78
    text = " ".join(certificate.split())
    for line in (
        "Beat Bun: licence certificate",
        "Track: Rainy Day Lo-Fi",
        f"Track id: {track.id}",
        "Owner account id: acc_42",
        "Created: 2027-01-15T08:00:00Z",
        "Plan at creation: Creator",
        "Licence: Commercial licence",
        "Use the track in commercial work worldwide",
        "1. You may use the track, whole or in part",
        f"{len(TERMS['commercial'])}. You may not register the track",
        "It does not change if the account's plan changes later",
        f"Verification code: {licence_code(track, secret=SECRET)}",
    ):
        assert line in text, line


def test_certificate_of_a_free_track_grants_the_personal_licence() -> None:
    text = " ".join(licence_certificate(sample_track(), settings=SETTINGS).text.split())
    assert "Licence: Personal licence" in text and "Plan at creation: Free" in text
    assert "Commercial" not in text


@pytest.mark.parametrize(
    "change",
    [
        {"id": "fedcba9876543210fedcba9876543210"},
        {"title": "Rainy Day Lo-Fi (remix)"},
        {"account_id": "acc_43"},
        {"created_at": 1_800_000_001},
        {"licence": "commercial"},
        {"licence_plan": "pro"},
        {"licensed_at": 1_800_000_001},
    ],
)
def test_verification_code_changes_when_a_field_changes(change: dict[str, object]) -> None:
    track = sample_track()
    changed = dataclasses.replace(track, **change)  # type: ignore[arg-type]
    assert licence_code(changed, secret=SECRET) != licence_code(track, secret=SECRET)
    assert not is_genuine(changed, licence_code(track, secret=SECRET), secret=SECRET)


def test_verification_code_needs_the_app_secret() -> None:
    track = sample_track()
    code = licence_code(track, secret=SECRET)
    assert len(code) == 64 and is_genuine(track, code.upper(), secret=SECRET)
    assert not is_genuine(track, code, secret="another-secret")


def test_verification_code_ignores_what_may_change_without_the_licence() -> None:
    track = sample_track()
    moved = dataclasses.replace(
        track, retention="paid", expires_at=None, blob_key="tracks/paid/acc_42/x.wav"
    )
    assert licence_code(moved, secret=SECRET) == licence_code(track, secret=SECRET)


async def _signed_in(
    runtime: LocalRuntime, email: str, *, plan: PlanId = "creator"
) -> tuple[str, list[Track]]:
    """A session cookie for a new account that has made one track on `plan`."""
    account = await create_verified_account(runtime, email=email)
    tracks = await make_tracks(runtime, account_id=account.id, count=1, plan=plan)
    _, token = await create_session(
        runtime.db, account_id=account.id, stage="full", client=CLIENT, now=runtime.clock.now()
    )
    return f"{SESSION_COOKIE}={token}", tracks


async def test_licence_download_is_a_text_attachment_for_the_owner(
    client: httpx.AsyncClient, runtime: LocalRuntime
) -> None:
    cookie, (track,) = await _signed_in(runtime, "owner@example.com")
    response = await client.get(f"/tracks/{track.id}/licence.txt", headers={"Cookie": cookie})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert response.headers["content-disposition"] == (
        f'attachment; filename="{track.file_stem}-licence.txt"'
    )
    assert response.text == licence_certificate(track, settings=runtime.settings).text
    assert "owner@example.com" not in response.text and track.account_id in response.text


async def test_licence_download_of_another_accounts_track_is_not_found(
    client: httpx.AsyncClient, runtime: LocalRuntime
) -> None:
    _, (track,) = await _signed_in(runtime, "owner@example.com")
    stranger, _ = await _signed_in(runtime, "stranger@example.com")
    response = await client.get(f"/tracks/{track.id}/licence.txt", headers={"Cookie": stranger})
    assert response.status_code == 404


async def test_api_licence_returns_the_certificate_to_the_owner(
    client: httpx.AsyncClient, runtime: LocalRuntime
) -> None:
    _, (track,) = await _signed_in(runtime, "owner@example.com")
    _, secret = await create_api_key(
        runtime.db, account_id=track.account_id, name="t", scopes=["read"], now=runtime.clock.now()
    )
    response = await client.get(
        f"/api/v1/tracks/{track.id}/licence", headers={"Authorization": f"Bearer {secret}"}
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["track_id"], body["plan"], body["plan_name"]) == (track.id, "creator", "Creator")
    assert body["licence"]["id"] == "commercial" and body["licence"]["terms"]
    assert body["verification_code"] == licence_code(track, secret=runtime.settings.app_secret)
    assert body["certificate"] == licence_certificate(track, settings=runtime.settings).text


async def test_api_licence_of_another_accounts_track_is_not_found(
    client: httpx.AsyncClient, runtime: LocalRuntime
) -> None:
    _, (track,) = await _signed_in(runtime, "owner@example.com")
    stranger = await create_verified_account(runtime, email="stranger@example.com")
    _, secret = await create_api_key(
        runtime.db, account_id=stranger.id, name="t", scopes=["read"], now=runtime.clock.now()
    )
    response = await client.get(
        f"/api/v1/tracks/{track.id}/licence", headers={"Authorization": f"Bearer {secret}"}
    )
    assert response.status_code == 404 and response.json()["error"] == "track_not_found"


async def test_track_page_shows_the_licence_and_links_the_certificate(
    client: httpx.AsyncClient, runtime: LocalRuntime
) -> None:
    cookie, (track,) = await _signed_in(runtime, "owner@example.com")
    page = await client.get(f"/tracks/{track.id}", headers={"Cookie": cookie})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "Commercial licence" in page.text and "Creator" in page.text
    assert f'href="/tracks/{track.id}/licence.txt"' in page.text
    gallery = await client.get("/tracks", headers={"Cookie": cookie})
    assert "Commercial licence" in gallery.text and "Kept" in gallery.text


async def test_track_url_answers_the_studio_script_with_json(
    client: httpx.AsyncClient, runtime: LocalRuntime
) -> None:
    cookie, (track,) = await _signed_in(runtime, "owner@example.com")
    response = await client.get(
        f"/tracks/{track.id}", headers={"Cookie": cookie, "Accept": "application/json"}
    )
    assert response.status_code == 200 and response.headers["vary"] == "accept"
    body = response.json()
    assert body["peaks"] and body["audio_url"] == f"/tracks/{track.id}/audio"
    assert body["licence"]["id"] == "commercial"


async def test_gallery_shows_the_countdown_beside_a_free_tracks_licence(
    client: httpx.AsyncClient, runtime: LocalRuntime
) -> None:
    cookie, (track,) = await _signed_in(runtime, "free@example.com", plan="free")
    gallery = await client.get("/tracks", headers={"Cookie": cookie})
    assert "Deleted in 14 d 0 h" in gallery.text and "Personal licence" in gallery.text
    assert f'href="/tracks/{track.id}/licence.txt"' in gallery.text
