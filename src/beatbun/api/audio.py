"""Serving a track's audio with HTTP ranges, conditional requests and HEAD, for API and pages.

The route decides access and headers; the bytes come from `BlobStore.stream`. On Workers the
R2 body (a JS ReadableStream) goes to the JS Response whole through `runtime/streams.py`: what
crosses into Python is the object's metadata and a handle on the stream, never its bytes. Under
uvicorn the body is read from the file a piece of at most `MAX_READ_BYTES` at a time, so a
50 MB track never sits in memory at once, whatever the range.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from fastapi import Request
from fastapi.responses import Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from beatbun.runtime.base import BlobObject, BlobStream, Runtime
from beatbun.runtime.streams import BODY_STREAM_EXTENSION
from beatbun.tracks.models import Track
from beatbun.tracks.service import AudioRange, audio_info, open_audio, parse_range


async def audio_response(
    request: Request, runtime: Runtime, track: Track, *, download: bool
) -> Response:
    """200 or 206 with the audio, 304 for a matching If-None-Match, headers only for HEAD.

    Raises RangeNotSatisfiable (416) for a range outside the file, NotFound once it expired.
    """
    stored = await audio_info(runtime, track)

    async def opened(requested: AudioRange | None) -> BlobStream:
        return await open_audio(runtime, track, requested=requested)

    disposition = "attachment" if download else "inline"
    return await ranged_response(
        request,
        stored,
        opened,
        media_type=track.media_type,
        disposition=f'{disposition}; filename="{track.file_name}"',
        cache_control="private, no-store",
    )


async def ranged_response(
    request: Request,
    stored: BlobObject,
    opened: Callable[[AudioRange | None], Awaitable[BlobStream]],
    *,
    media_type: str,
    disposition: str,
    cache_control: str,
) -> Response:
    """The rules every stored file is served by: one byte range (206), If-None-Match (304),
    HEAD (headers only); `opened` opens the stored object, or the requested range of it.

    Raises RangeNotSatisfiable (416) for a range outside the file.
    """
    headers = {
        "accept-ranges": "bytes",
        "content-disposition": disposition,
        "cache-control": cache_control,
        "etag": stored.http_etag,
    }
    if _etag_listed(request.headers.get("if-none-match"), stored.http_etag):
        return Response(status_code=304, headers=headers)
    requested = parse_range(request.headers.get("range"), size=stored.size)
    status, length = 200, stored.size
    if requested is not None:
        status, length = 206, requested.length
        headers["content-range"] = f"bytes {requested.start}-{requested.end}/{stored.size}"
    headers["content-length"] = str(length)
    stream = None if request.method == "HEAD" else await opened(requested)
    return BlobResponse(stream, status_code=status, headers=headers, media_type=media_type)


class BlobResponse(StreamingResponse):
    """A blob as the body: handed over as a native stream where the server takes one, else
    sent a piece at a time; with no stream (HEAD), the headers alone."""

    def __init__(
        self,
        stream: BlobStream | None,
        *,
        status_code: int,
        headers: Mapping[str, str],
        media_type: str,
    ) -> None:
        super().__init__(
            stream.chunks if stream is not None else iter(()),
            status_code=status_code,
            headers=headers,
            media_type=media_type,
        )
        self.stream = stream

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        start = {
            "type": "http.response.start",
            "status": self.status_code,
            "headers": self.raw_headers,
        }
        if self.stream is None:
            await send(start)
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        elif self.stream.native is not None and BODY_STREAM_EXTENSION in (
            scope.get("extensions") or {}
        ):
            await send(start)
            await send({"type": BODY_STREAM_EXTENSION, "stream": self.stream.native})
        else:
            await super().__call__(scope, receive, send)


def _etag_listed(header: str | None, etag: str) -> bool:
    # If-None-Match compares weakly and may list several tags or "*" (RFC 9110 §13.1.2).
    if not header:
        return False
    tags = {tag.strip().removeprefix("W/") for tag in header.split(",")}
    return "*" in tags or etag in tags
