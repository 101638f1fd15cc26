"""Serving a track's audio with HTTP ranges, for the API and the pages alike.

Whole-file downloads stream in 1 MiB slices read from R2 one at a time, so a 50 MB track never
sits in a Worker's 128 MB memory at once.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from fastapi import Request
from fastapi.responses import Response, StreamingResponse

from beatbun.runtime.base import Runtime
from beatbun.tracks.models import Track
from beatbun.tracks.service import audio_info, parse_range, read_audio

CHUNK_BYTES = 1024 * 1024


async def audio_response(
    request: Request, runtime: Runtime, track: Track, *, download: bool
) -> Response:
    stored = await audio_info(runtime, track)
    disposition = "attachment" if download else "inline"
    headers = {
        "accept-ranges": "bytes",
        "content-disposition": f'{disposition}; filename="{track.file_name}"',
        "cache-control": "private, no-store",
        "etag": stored.http_etag,
    }
    if request.headers.get("if-none-match", "").strip() == stored.http_etag:
        return Response(status_code=304, headers=headers)
    requested = parse_range(request.headers.get("range"), size=stored.size)
    if requested is not None:
        body = await read_audio(runtime, track, start=requested.start, length=requested.length)
        headers["content-range"] = f"bytes {requested.start}-{requested.end}/{stored.size}"
        return Response(body, status_code=206, media_type=track.media_type, headers=headers)
    headers["content-length"] = str(stored.size)
    return StreamingResponse(
        _slices(runtime, track, size=stored.size), media_type=track.media_type, headers=headers
    )


async def _slices(runtime: Runtime, track: Track, *, size: int) -> AsyncIterator[bytes]:
    for start in range(0, size, CHUNK_BYTES):
        yield await read_audio(runtime, track, start=start, length=min(CHUNK_BYTES, size - start))
