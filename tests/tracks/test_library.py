"""The library's searches, filters, orders and keyset pages, on real SQLite."""

from __future__ import annotations

from typing import Any

import pytest

from beatbun.errors import InvalidInput
from beatbun.tracks.deletion import delete_track
from beatbun.tracks.library import PAGE_SIZE, LibraryQuery, genres_in_library, library_page
from beatbun.tracks.service import mark_favourite
from beatbun_local.runtime import LocalRuntime
from tests.factories import clone_track, create_verified_account
from tests.tracks.conftest import make_tracks


async def _library(runtime: LocalRuntime, count: int) -> tuple[str, list[str]]:
    """An account with `count` tracks made one second apart, newest last; their ids."""
    account = await create_verified_account(runtime)
    (original,) = await make_tracks(runtime, account_id=account.id, count=1)
    ids = [original.id, *await clone_track(runtime, original, copies=count - 1)]
    for number, track_id in enumerate(ids):
        await _set(runtime, track_id, created_at=original.created_at + number)
    return account.id, ids


async def _set(runtime: LocalRuntime, track_id: str, **values: Any) -> None:
    columns = ", ".join(f"{name} = ?" for name in values)
    await (
        runtime.db.prepare(f"UPDATE tracks SET {columns} WHERE id = ?")
        .bind(*values.values(), track_id)
        .run()
    )


async def _ids(runtime: LocalRuntime, account_id: str, **query: Any) -> list[str]:
    page = await library_page(runtime.db, account_id=account_id, query=LibraryQuery(**query))
    return [track.id for track in page.tracks]


async def test_library_newest_first_by_default(runtime: LocalRuntime) -> None:
    account_id, ids = await _library(runtime, 3)
    assert await _ids(runtime, account_id) == ids[::-1]


async def test_library_search_matches_prompt_and_title_in_any_case(runtime: LocalRuntime) -> None:
    account_id, ids = await _library(runtime, 3)
    await _set(runtime, ids[0], prompt="Rainy Day piano")
    await _set(runtime, ids[1], title="My RAINY one")
    assert set(await _ids(runtime, account_id, search="rainy")) == {ids[0], ids[1]}
    # Text with LIKE's wildcards is plain text.
    assert await _ids(runtime, account_id, search="%") == []


async def test_library_filters_by_genre_keep_and_favourite(runtime: LocalRuntime) -> None:
    account_id, ids = await _library(runtime, 4)
    await _set(runtime, ids[0], genre="techno")
    await _set(runtime, ids[1], expires_at=None)
    await mark_favourite(runtime, account_id=account_id, track_id=ids[2], favourite=True)
    assert await _ids(runtime, account_id, genre="techno") == [ids[0]]
    assert await _ids(runtime, account_id, keep="kept") == [ids[1]]
    assert ids[1] not in await _ids(runtime, account_id, keep="expiring")
    assert await _ids(runtime, account_id, favourites=True) == [ids[2]]
    assert "techno" in await genres_in_library(runtime.db, account_id=account_id)


@pytest.mark.parametrize(
    ("sort", "order"),
    [
        ("oldest", [0, 1, 2]),
        ("longest", [1, 2, 0]),
        ("shortest", [0, 2, 1]),
        # Names compare without case: "alpha" < "Beta" < "gamma".
        ("name", [2, 0, 1]),
    ],
)
async def test_library_sorts(runtime: LocalRuntime, sort: str, order: list[int]) -> None:
    account_id, ids = await _library(runtime, 3)
    for track_id, seconds, title in zip(
        ids, (5.0, 30.0, 12.0), ("Beta", "gamma", "alpha"), strict=True
    ):
        await _set(runtime, track_id, duration_seconds=seconds, title=title)
    assert await _ids(runtime, account_id, sort=sort) == [ids[i] for i in order]


@pytest.mark.parametrize("sort", ["newest", "oldest", "longest", "shortest", "name"])
async def test_library_pages_cover_every_track_once(runtime: LocalRuntime, sort: str) -> None:
    account_id, ids = await _library(runtime, 2 * PAGE_SIZE + 5)
    # Ties on the sort value are broken by id, so equal lengths and names still page cleanly.
    seen: list[str] = []
    query = LibraryQuery(sort=sort)  # type: ignore[arg-type]
    while True:
        page = await library_page(runtime.db, account_id=account_id, query=query)
        seen += [track.id for track in page.tracks]
        if page.after is None:
            break
        query = LibraryQuery(sort=sort, after=page.after)  # type: ignore[arg-type]
    assert sorted(seen) == sorted(ids) and len(seen) == len(ids)


async def test_library_pages_stay_put_when_tracks_are_added(runtime: LocalRuntime) -> None:
    account_id, ids = await _library(runtime, PAGE_SIZE + 3)
    first = await library_page(runtime.db, account_id=account_id, query=LibraryQuery())
    assert first.after is not None and first.before is None
    # A new track arrives at the top between the two page loads.
    (newest,) = await clone_track(runtime, first.tracks[0], copies=1)
    await _set(runtime, newest, created_at=first.tracks[0].created_at + 100)
    second = await library_page(
        runtime.db, account_id=account_id, query=LibraryQuery(after=first.after)
    )
    assert [track.id for track in second.tracks] == ids[:3][::-1]
    assert second.after is None and second.before is not None
    back = await library_page(
        runtime.db, account_id=account_id, query=LibraryQuery(before=second.before)
    )
    assert [track.id for track in back.tracks] == [track.id for track in first.tracks]
    assert back.before is not None  # the new track, on a page of its own before these


async def test_library_hides_deleted_tracks(runtime: LocalRuntime) -> None:
    account_id, ids = await _library(runtime, 2)
    await delete_track(runtime, account_id=account_id, track_id=ids[0])
    assert await _ids(runtime, account_id) == [ids[1]]


async def test_library_shows_only_the_owners_tracks(runtime: LocalRuntime) -> None:
    await _library(runtime, 2)
    other = await create_verified_account(runtime, email="other@example.com")
    assert await _ids(runtime, other.id) == []


@pytest.mark.parametrize(
    "cursor",
    [
        "not-base64!",
        "bm90IGpzb24",  # "not json"
        "WyJuYW1lIiwiYSIsImlkIl0",  # a cursor of the name order, used with the date order
        "WyJuZXdlc3QiLHRydWUsImlkIl0",  # ["newest", true, "id"]: not a sort value
    ],
)
async def test_library_refuses_a_broken_cursor(runtime: LocalRuntime, cursor: str) -> None:
    account_id, _ = await _library(runtime, 1)
    with pytest.raises(InvalidInput) as raised:
        await library_page(runtime.db, account_id=account_id, query=LibraryQuery(after=cursor))
    assert raised.value.code == "invalid_cursor"


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"q": "x" * 101}, "search_too_long"),
        ({"sort": "loudest"}, "invalid_library_query"),
        ({"keep": "forever"}, "invalid_library_query"),
    ],
)
def test_library_query_refuses_bad_parameters(params: dict[str, str], code: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        LibraryQuery.parse(params)
    assert raised.value.code == code


def test_library_query_round_trips_through_page_parameters() -> None:
    query = LibraryQuery.parse(
        {"q": "  rainy   day ", "genre": "lofi", "keep": "kept", "favourites": "1", "sort": "name"}
    )
    assert query.search == "rainy day" and query.is_filtered
    assert LibraryQuery.parse(query.params()) == query
    assert LibraryQuery().params() == {}
