"""The library: an account's tracks searched, filtered, sorted and cut into pages.

Pages are keyset pages: a page's link names the last (or first) track shown, by its sort value
and id, and the next page starts right after it. A track made meanwhile, or one deleted, never
shifts a page onto tracks already seen, as an offset would.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from typing import Literal, get_args

from beatbun.errors import InvalidInput
from beatbun.i18n import N_
from beatbun.runtime.base import Database, SqlValue
from beatbun.tracks.models import Track
from beatbun.tracks.store import COLUMNS, LIVE, track_from_row

PAGE_SIZE = 25
MAX_SEARCH_CHARS = 100
Sort = Literal["newest", "oldest", "longest", "shortest", "name"]
Keep = Literal["all", "expiring", "kept"]
SORTS: tuple[Sort, ...] = get_args(Sort)
KEEPS: tuple[Keep, ...] = get_args(Keep)


@dataclass(frozen=True)
class _Order:
    column: str
    descending: bool
    # What the cursor keeps of a track for this order.
    value_of: str


_ORDERS: dict[Sort, _Order] = {
    "newest": _Order("created_at", True, "created_at"),
    "oldest": _Order("created_at", False, "created_at"),
    "longest": _Order("duration_seconds", True, "duration_seconds"),
    "shortest": _Order("duration_seconds", False, "duration_seconds"),
    "name": _Order("title COLLATE NOCASE", False, "title"),
}


@dataclass(frozen=True)
class LibraryQuery:
    """What the library shows: `after`/`before` are cursors from a `LibraryPage`."""

    search: str = ""
    genre: str = ""
    keep: Keep = "all"
    favourites: bool = False
    sort: Sort = "newest"
    after: str | None = None
    before: str | None = None

    @classmethod
    def parse(cls, params: dict[str, str]) -> LibraryQuery:
        """The query from a page's parameters; raises InvalidInput naming the bad one."""
        search = " ".join(params.get("q", "").split())
        if len(search) > MAX_SEARCH_CHARS:
            raise InvalidInput(
                N_("Search for at most %(limit)s characters."),
                code="search_too_long",
                field="q",
                params={"limit": MAX_SEARCH_CHARS},
            )
        sort = params.get("sort") or "newest"
        keep = params.get("keep") or "all"
        if sort not in SORTS or keep not in KEEPS:
            raise InvalidInput(
                N_("The library cannot be sorted or filtered that way."),
                code="invalid_library_query",
                field="sort" if sort not in SORTS else "keep",
            )
        return cls(
            search=search,
            genre=params.get("genre", "").strip()[:40],
            keep=keep,
            favourites=params.get("favourites") in ("1", "on", "true"),
            sort=sort,
            after=params.get("after") or None,
            before=params.get("before") or None,
        )

    @property
    def is_filtered(self) -> bool:
        return bool(self.search or self.genre or self.keep != "all" or self.favourites)

    def params(self, **cursor: str) -> dict[str, str]:
        """The query as page parameters (defaults left out), with a new cursor."""
        values = {
            "q": self.search,
            "genre": self.genre,
            "keep": "" if self.keep == "all" else self.keep,
            "favourites": "1" if self.favourites else "",
            "sort": "" if self.sort == "newest" else self.sort,
            **cursor,
        }
        return {name: value for name, value in values.items() if value}


@dataclass(frozen=True)
class LibraryPage:
    tracks: list[Track]
    # Cursors for the pages after and before this one; None where there is none.
    after: str | None
    before: str | None
    query: LibraryQuery = field(default_factory=LibraryQuery)


async def library_page(db: Database, *, account_id: str, query: LibraryQuery) -> LibraryPage:
    """One page of the account's tracks; raises InvalidInput for a cursor it did not make."""
    order = _ORDERS[query.sort]
    conditions = ["account_id = ?", LIVE]
    params: list[SqlValue] = [account_id]
    if query.search:
        # instr, not LIKE: D1 caps LIKE patterns at 50 bytes, and nothing needs escaping.
        conditions.append(
            "(instr(lower(title), lower(?)) > 0 OR instr(lower(prompt), lower(?)) > 0)"
        )
        params += [query.search, query.search]
    if query.genre:
        conditions.append("genre = ?")
        params.append(query.genre)
    if query.keep != "all":
        conditions.append(
            "expires_at IS NOT NULL" if query.keep == "expiring" else "expires_at IS NULL"
        )
    if query.favourites:
        conditions.append("favourite = 1")
    backwards = query.before is not None and query.after is None
    cursor = query.before if backwards else query.after
    # Going back reads the same order upside down from the cursor, then turns the page over.
    descending = order.descending != backwards
    if cursor is not None:
        value, track_id = _decode(cursor, sort=query.sort)
        beyond = "<" if descending else ">"
        conditions.append(f"({order.column} {beyond} ? OR ({order.column} = ? AND id {beyond} ?))")
        params += [value, value, track_id]
    direction = "DESC" if descending else "ASC"
    result = await (
        db.prepare(
            f"SELECT {COLUMNS} FROM tracks WHERE {' AND '.join(conditions)}"
            f" ORDER BY {order.column} {direction}, id {direction} LIMIT ?"
        )
        .bind(*params, PAGE_SIZE + 1)
        .all()
    )
    tracks = [track_from_row(row) for row in result.results[:PAGE_SIZE]]
    more = len(result.results) > PAGE_SIZE
    if backwards:
        tracks.reverse()
    if not tracks:
        return LibraryPage(tracks=[], after=None, before=None, query=query)
    has_after = more if not backwards else True
    has_before = more if backwards else cursor is not None
    return LibraryPage(
        tracks=tracks,
        after=_encode(tracks[-1], sort=query.sort) if has_after else None,
        before=_encode(tracks[0], sort=query.sort) if has_before else None,
        query=query,
    )


async def genres_in_library(db: Database, *, account_id: str) -> list[str]:
    """The genres the account's tracks have, for the library's filter."""
    result = await (
        db.prepare(
            f"SELECT DISTINCT genre FROM tracks WHERE account_id = ? AND {LIVE} AND genre != ''"
            " ORDER BY genre"
        )
        .bind(account_id)
        .all()
    )
    return [str(row["genre"]) for row in result.results]


def _encode(track: Track, *, sort: Sort) -> str:
    value = getattr(track, _ORDERS[sort].value_of)
    raw = json.dumps([sort, value, track.id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str, *, sort: Sort) -> tuple[SqlValue, str]:
    """The cursor's sort value and track id; a cursor of another order is refused too."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        made_for, value, track_id = json.loads(raw)
    except (binascii.Error, ValueError, TypeError):
        made_for, value, track_id = None, None, None
    valid = isinstance(value, int | float | str) and not isinstance(value, bool)
    if made_for != sort or not valid or not isinstance(track_id, str):
        raise InvalidInput(
            N_("This page link is broken. Go back to the first page of your library."),
            code="invalid_cursor",
        )
    return value, track_id
