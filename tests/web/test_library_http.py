"""The library, track and shared pages over HTTP against the app, with real SQLite and audio."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import httpx
import pytest

from beatbun.accounts.sessions import create_session
from beatbun.tracks.deletion import UNDO_SECONDS
from beatbun.tracks.library import PAGE_SIZE
from beatbun.tracks.models import Track
from beatbun.tracks.store import get_track
from beatbun.web.tracks import waveform_path
from beatbun_local.runtime import LocalRuntime
from tests.factories import CLIENT, clone_track, create_verified_account
from tests.fakes import ManualClock
from tests.tracks.conftest import make_tracks

CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Member:
    account_id: str
    headers: dict[str, str]
    track: Track


async def _member(runtime: LocalRuntime, email: str = "person@example.com") -> Member:
    account = await create_verified_account(runtime, email=email)
    (track,) = await make_tracks(runtime, account_id=account.id, count=1)
    _, token = await create_session(
        runtime.db, account_id=account.id, stage="full", client=CLIENT, now=runtime.clock.now()
    )
    headers = {"Cookie": f"__Host-session={token}", "Origin": "http://testserver"}
    return Member(account.id, headers, track)


async def _post(
    client: httpx.AsyncClient, member: Member, path: str, data: dict[str, str] | None = None
) -> httpx.Response:
    page = await client.get("/tracks", headers=member.headers)
    found = CSRF_INPUT.search(page.text)
    assert found, page.text
    return await client.post(
        path, data={"csrf_token": found.group(1), **(data or {})}, headers=member.headers
    )


async def _share(client: httpx.AsyncClient, member: Member) -> str:
    response = await _post(client, member, f"/tracks/{member.track.id}/share")
    assert response.status_code == 303
    page = await client.get(f"/tracks/{member.track.id}", headers=member.headers)
    found = re.search(r"http://testserver(/s/[A-Za-z0-9_-]{43})", page.text)
    assert found, "the track page shows its public link"
    return found.group(1)


@pytest.fixture
async def member(runtime: LocalRuntime) -> Member:
    return await _member(runtime)


async def test_library_lists_tracks_with_filters_and_player(
    client: httpx.AsyncClient, member: Member
) -> None:
    page = await client.get("/tracks", headers=member.headers)
    assert page.status_code == 200
    assert f'href="/tracks/{member.track.id}"' in page.text
    assert f'src="/tracks/{member.track.id}/audio"' in page.text
    for control in ('name="q"', 'name="genre"', 'name="keep"', 'name="sort"', 'name="favourites"'):
        assert control in page.text
    assert '<script type="module" src="/static/js/library.js"' in page.text


async def test_library_search_without_a_match_says_so(
    client: httpx.AsyncClient, member: Member
) -> None:
    page = await client.get("/tracks?q=nothing+like+this", headers=member.headers)
    assert page.status_code == 200
    assert "No track matches" in page.text and member.track.id not in page.text


async def test_library_bad_query_is_422_with_the_message_by_the_search(
    client: httpx.AsyncClient, member: Member
) -> None:
    page = await client.get("/tracks?q=" + "x" * 101, headers=member.headers)
    assert page.status_code == 422
    assert 'id="library-error"' in page.text and "at most 100 characters" in page.text


async def test_library_pages_link_onwards_past_a_page(
    client: httpx.AsyncClient, runtime: LocalRuntime, member: Member
) -> None:
    await clone_track(runtime, member.track, copies=PAGE_SIZE)
    first = await client.get("/tracks?sort=name", headers=member.headers)
    next_link = re.search(r'href="(/tracks\?[^"]*after=[^"]+)" rel="next"', first.text)
    assert next_link, "a next-page link"
    second = await client.get(next_link.group(1).replace("&amp;", "&"), headers=member.headers)
    assert second.status_code == 200
    assert second.text.count("data-track-row=") == 1
    assert 'rel="prev"' in second.text and 'rel="next"' not in second.text


async def test_rename_sets_the_title_and_returns(
    client: httpx.AsyncClient, runtime: LocalRuntime, member: Member
) -> None:
    response = await _post(
        client,
        member,
        f"/tracks/{member.track.id}/rename",
        {"title": " Night  drive ", "back": "/tracks?sort=name"},
    )
    assert response.status_code == 303 and response.headers["location"] == "/tracks?sort=name"
    track = await get_track(runtime.db, account_id=member.account_id, track_id=member.track.id)
    assert track.title == "Night drive"


async def test_rename_never_returns_off_the_library(
    client: httpx.AsyncClient, member: Member
) -> None:
    response = await _post(
        client,
        member,
        f"/tracks/{member.track.id}/rename",
        {"title": "x", "back": "https://evil.example/"},
    )
    assert response.headers["location"] == f"/tracks/{member.track.id}"


async def test_rename_too_long_shows_the_error_by_the_field(
    client: httpx.AsyncClient, runtime: LocalRuntime, member: Member
) -> None:
    response = await _post(
        client, member, f"/tracks/{member.track.id}/rename", {"title": "y" * 101}
    )
    assert response.status_code == 422
    assert f'id="title-error-{member.track.id}"' in response.text
    assert "at most 100 characters" in response.text
    assert 'value="' + "y" * 101 + '"' in response.text  # what was typed is kept
    track = await get_track(runtime.db, account_id=member.account_id, track_id=member.track.id)
    assert track.title == member.track.title


async def test_favourite_toggles_by_form_and_by_script(
    client: httpx.AsyncClient, runtime: LocalRuntime, member: Member
) -> None:
    path = f"/tracks/{member.track.id}/favourite"
    response = await _post(client, member, path, {"favourite": "1"})
    assert response.status_code == 303
    assert (
        await get_track(runtime.db, account_id=member.account_id, track_id=member.track.id)
    ).favourite
    page = await client.get("/tracks", headers=member.headers)
    token = CSRF_INPUT.search(page.text)
    assert token
    scripted = await client.post(
        path,
        data={"csrf_token": token.group(1), "favourite": "0"},
        headers={**member.headers, "Accept": "application/json"},
    )
    assert scripted.status_code == 200
    assert scripted.json() == {"id": member.track.id, "favourite": False}


async def test_delete_offers_undo_and_undo_brings_it_back(
    client: httpx.AsyncClient, runtime: LocalRuntime, member: Member
) -> None:
    response = await _post(client, member, f"/tracks/{member.track.id}/delete")
    assert response.status_code == 303
    assert response.headers["location"] == f"/tracks?deleted={member.track.id}"
    library = await client.get(response.headers["location"], headers=member.headers)
    assert (
        "was deleted" in library.text
        and f'action="/tracks/{member.track.id}/restore"' in library.text
    )
    assert f'data-seconds-left="{UNDO_SECONDS}"' in library.text
    assert f'data-track-row="{member.track.id}"' not in library.text
    for path in (f"/tracks/{member.track.id}", f"/tracks/{member.track.id}/audio"):
        assert (await client.get(path, headers=member.headers)).status_code == 404
    undone = await _post(client, member, f"/tracks/{member.track.id}/restore", {"back": "/tracks"})
    assert undone.status_code == 303
    assert (
        await client.get(f"/tracks/{member.track.id}/audio", headers=member.headers)
    ).status_code == 200


async def test_undo_after_the_window_says_it_is_too_late(
    client: httpx.AsyncClient, clock: ManualClock, member: Member
) -> None:
    await _post(client, member, f"/tracks/{member.track.id}/delete")
    clock.advance(UNDO_SECONDS)
    library = await client.get(f"/tracks?deleted={member.track.id}", headers=member.headers)
    assert "was deleted" not in library.text
    late = await _post(client, member, f"/tracks/{member.track.id}/restore")
    assert late.status_code == 409 and "too late to undo" in late.text


async def test_track_page_shows_plan_prompt_seed_expiry_and_settings(
    client: httpx.AsyncClient, member: Member
) -> None:
    page = await client.get(f"/tracks/{member.track.id}", headers=member.headers)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    plan = member.track.plan
    assert f"{round(plan['bpm'])} BPM" in page.text
    tonic, mode = plan["key"].split()
    assert f"<dd>{tonic} {mode}</dd>" in page.text
    assert member.track.prompt in page.text and f"<dd>{plan['seed']}</dd>" in page.text
    assert "data-countdown" in page.text and '<svg class="wave"' in page.text
    studio = re.search(r'href="(/studio\?[^"]+)"', page.text)
    assert studio and "prompt=test+track+0" in studio.group(1) and "seed" not in studio.group(1)


async def test_use_these_settings_prefills_the_studio(
    client: httpx.AsyncClient, member: Member
) -> None:
    page = await client.get(f"/tracks/{member.track.id}", headers=member.headers)
    studio_link = re.search(r'href="(/studio\?[^"]+)"', page.text)
    assert studio_link
    studio = await client.get(studio_link.group(1).replace("&amp;", "&"), headers=member.headers)
    assert studio.status_code == 200
    assert ">test track 0</textarea>" in studio.text
    assert f'value="{round(member.track.plan["bpm"])}"' in studio.text
    assert f'<option value="{member.track.tonic}" selected>' in studio.text


async def test_make_another_queues_the_same_settings_with_a_new_seed(
    client: httpx.AsyncClient, runtime: LocalRuntime, member: Member
) -> None:
    response = await _post(client, member, f"/tracks/{member.track.id}/again")
    assert response.status_code == 303 and response.headers["location"].startswith("/studio?job=")
    job_id = response.headers["location"].split("=", 1)[1]
    row = await runtime.db.prepare("SELECT request FROM jobs WHERE id = ?").bind(job_id).first()
    assert row is not None
    request = json.loads(str(row["request"]))
    assert request["prompt"] == member.track.prompt
    assert request["bpm"] == round(member.track.plan["bpm"])
    assert request["seed"] != member.track.seed


async def test_make_another_without_credits_says_so_on_the_track_page(
    client: httpx.AsyncClient, runtime: LocalRuntime, member: Member
) -> None:
    await (
        runtime.db.prepare("UPDATE wallets SET balance = 0 WHERE account_id = ?")
        .bind(member.account_id)
        .run()
    )
    response = await _post(client, member, f"/tracks/{member.track.id}/again")
    assert response.status_code == 402
    assert 'href="/pricing"' in response.text and member.track.title in response.text


async def test_shared_page_plays_for_anyone_and_tells_robots_to_stay_away(
    client: httpx.AsyncClient, member: Member
) -> None:
    await _post(client, member, f"/tracks/{member.track.id}/rename", {"title": "Night drive"})
    link = await _share(client, member)
    page = await client.get(link)
    assert page.status_code == 200
    assert page.headers["x-robots-tag"] == "noindex"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert '<meta name="robots" content="noindex">' in page.text
    assert "Night drive" in page.text and f'src="{link}/audio"' in page.text
    # Nothing of the owner: not their name, address, prompt or track id.
    for private in ("Test Person", "person@example.com", member.track.prompt, member.track.id):
        assert private not in page.text
    audio = await client.get(f"{link}/audio", headers={"Range": "bytes=0-11"})
    assert audio.status_code == 206 and audio.content[:4] == b"RIFF"
    assert audio.headers["x-robots-tag"] == "noindex"


async def test_revoked_link_is_404_at_once(client: httpx.AsyncClient, member: Member) -> None:
    link = await _share(client, member)
    assert (await _post(client, member, f"/tracks/{member.track.id}/unshare")).status_code == 303
    assert (await client.get(link)).status_code == 404
    assert (await client.get(f"{link}/audio")).status_code == 404
    again = await _share(client, member)
    assert again != link and (await client.get(link)).status_code == 404


async def test_deleted_tracks_link_is_404_at_once(
    client: httpx.AsyncClient, member: Member
) -> None:
    link = await _share(client, member)
    await _post(client, member, f"/tracks/{member.track.id}/delete")
    assert (await client.get(link)).status_code == 404
    assert (await client.get(f"{link}/audio")).status_code == 404


async def test_every_track_route_is_404_for_another_account(
    client: httpx.AsyncClient, runtime: LocalRuntime, member: Member
) -> None:
    stranger = await _member(runtime, "stranger@example.com")
    track_id = member.track.id
    for path in (
        f"/tracks/{track_id}",
        f"/tracks/{track_id}/audio",
        f"/tracks/{track_id}/licence.txt",
    ):
        assert (await client.get(path, headers=stranger.headers)).status_code == 404, path
    for action, data in (
        ("rename", {"title": "mine now"}),
        ("favourite", {"favourite": "1"}),
        ("delete", {}),
        ("restore", {}),
        ("again", {}),
        ("share", {}),
        ("unshare", {}),
    ):
        response = await _post(client, stranger, f"/tracks/{track_id}/{action}", data)
        assert response.status_code == 404, action
    owner_view = await get_track(runtime.db, account_id=member.account_id, track_id=track_id)
    assert owner_view == member.track


async def test_forms_without_csrf_token_are_refused(
    client: httpx.AsyncClient, member: Member
) -> None:
    response = await client.post(f"/tracks/{member.track.id}/delete", headers=member.headers)
    assert response.status_code == 403


async def test_logged_out_visitors_get_no_library(
    client: httpx.AsyncClient, member: Member
) -> None:
    assert (await client.get("/tracks")).status_code == 401
    assert (await client.get(f"/tracks/{member.track.id}")).status_code == 401


@pytest.mark.parametrize(
    ("language", "library", "share"),
    [
        ("de", "Deine Bibliothek", "Öffentlichen Link erstellen"),
        ("fr", "Ta bibliothèque", "Créer un lien public"),
    ],
)
async def test_library_pages_speak_the_readers_language(
    client: httpx.AsyncClient, member: Member, language: str, library: str, share: str
) -> None:
    headers = {**member.headers, "Accept-Language": language}
    assert library in (await client.get("/tracks", headers=headers)).text
    page = (await client.get(f"/tracks/{member.track.id}", headers=headers)).text
    assert share in page and "{days}" in page  # the countdown's format, for the script
    assert "min left" not in page


def test_waveform_path_draws_one_bar_per_slice_within_the_box() -> None:
    peaks = [[-0.5, 0.5], [-1.0, 1.0], [0.0, 0.0], [-0.2, 0.9]] * 250
    path = waveform_path(peaks, bars=160)
    assert path.count("M") == 160
    # Full scale reaches the top (0) and spans the box (100); silence still shows a hairline.
    assert "M1.15 0.0h.7v100.0h-.7z" in path
    assert waveform_path([]) == ""
