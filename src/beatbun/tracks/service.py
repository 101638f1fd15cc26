"""Tracks: listing, renaming, favourites, and opening the audio in ranges."""

from __future__ import annotations

import re
from dataclasses import dataclass

from beatbun.errors import InvalidInput, NotFound
from beatbun.i18n import N_
from beatbun.runtime.base import BlobObject, BlobStream, ByteRange, Runtime
from beatbun.tracks.models import Track
from beatbun.tracks.store import get_track, list_tracks, update_track
from beatbun.tracks.titles import chosen_title

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
AUDIO_GONE = N_("The audio of track '%(id)s' is no longer available.")


class RangeNotSatisfiable(InvalidInput):
    """The requested byte range lies outside the audio file."""

    status = 416
    default_code = "range_not_satisfiable"


@dataclass(frozen=True)
class AudioRange:
    start: int
    end: int  # inclusive, as in Content-Range

    @property
    def length(self) -> int:
        return self.end - self.start + 1


async def tracks_of(runtime: Runtime, *, account_id: str, limit: int = 100) -> list[Track]:
    return await list_tracks(runtime.db, account_id=account_id, limit=limit)


async def rename_track(runtime: Runtime, *, account_id: str, track_id: str, title: str) -> str:
    """Give the track the title typed (empty: the prompt's short title); returns the title.

    Raises InvalidInput for a title that is too long, NotFound for someone else's track.
    """
    track = await get_track(runtime.db, account_id=account_id, track_id=track_id)
    chosen = chosen_title(title, prompt=track.prompt)
    await update_track(runtime.db, account_id=account_id, track_id=track_id, title=chosen)
    return chosen


async def mark_favourite(
    runtime: Runtime, *, account_id: str, track_id: str, favourite: bool
) -> None:
    await update_track(runtime.db, account_id=account_id, track_id=track_id, favourite=favourite)


def parse_range(header: str | None, *, size: int) -> AudioRange | None:
    """One `bytes=` range (RFC 9110 §14.1.2), or None for the whole file.

    Raises RangeNotSatisfiable for a range outside the file; a header we do not understand
    (several ranges, other units) is ignored, as the RFC allows.
    """
    if not header:
        return None
    match = _RANGE.match(header.strip())
    if match is None or match.group(1) == match.group(2) == "":
        return None
    first, last = match.group(1), match.group(2)
    if first == "":
        length = min(int(last), size)
        if length == 0:
            raise RangeNotSatisfiable(
                N_("Range %(range)s is empty for a file of %(size)s bytes."),
                params={"range": header, "size": size},
            )
        return AudioRange(size - length, size - 1)
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or end < start:
        raise RangeNotSatisfiable(
            N_("Range %(range)s is outside a file of %(size)s bytes."),
            params={"range": header, "size": size},
        )
    return AudioRange(start, end)


async def audio_info(runtime: Runtime, track: Track) -> BlobObject:
    """The stored audio's size and etag; NotFound once R2's lifecycle rule has removed it."""
    found = await runtime.blobs.head(track.blob_key)
    if found is None:
        raise NotFound(AUDIO_GONE, code="audio_gone", params={"id": track.id})
    return found


async def open_audio(runtime: Runtime, track: Track, *, requested: AudioRange | None) -> BlobStream:
    """The audio (or the `requested` part of it) opened for reading, not yet read.

    Raises NotFound once R2's lifecycle rule has removed it.
    """
    range_ = (
        None if requested is None else ByteRange(offset=requested.start, length=requested.length)
    )
    opened = await runtime.blobs.stream(track.blob_key, range=range_)
    if opened is None:
        raise NotFound(AUDIO_GONE, code="audio_gone", params={"id": track.id})
    return opened
