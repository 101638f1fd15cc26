"""Making a track's exports and storing them beside its audio, a part at a time.

FLAC is encoded from the stored WAV, read twice (for STREAMINFO's MD5, then to encode) in
small pieces; MIDI and stems are made again from the plan and the job's stored request
(`generation.composer.exports`). Every file is written with `BlobWriter`, so none sits whole
in memory; the five stems come out of one pass over the score, each writer sending its parts
as they fill.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping

from beatbun.billing.pricing import ExportKind
from beatbun.errors import ExportUnavailable, NotFound
from beatbun.generation.composer import exports as composer_exports
from beatbun.generation.store import get_job
from beatbun.i18n import N_
from beatbun.runtime.base import MIN_PART_BYTES, HttpMetadata, Runtime
from beatbun.runtime.blobwriter import BlobWriter
from beatbun.tracks.models import STEMS, Track, export_key_for
from beatbun.tracks.retention import copy_blob
from beatbun.tracks.service import AUDIO_GONE
from beatbun.tracks.store import get_track

# R2's smallest part: the five stems' writers hold one part each (26 MB), which with the
# stems' render (about 32 MB for any length) stays within the job's 64 MB memory budget.
STEM_PART_BYTES = MIN_PART_BYTES

MEDIA_TYPES: dict[ExportKind, str] = {
    "flac": "audio/flac",
    "midi": "audio/midi",
    "stems": "audio/wav",
}


def file_name_for(track: Track, kind: ExportKind, stem: str | None = None) -> str:
    """The name a download of the export is saved under."""
    if kind == "flac":
        return f"{track.file_stem}.flac"
    if kind == "midi":
        return f"{track.file_stem}.mid"
    return f"{track.file_stem}-{stem}.wav"


async def store_export(runtime: Runtime, track: Track, kind: ExportKind, written: list[str]) -> int:
    """Make the export and store its files beside the audio, noting each key in `written` as it
    starts; returns the bytes stored. Raises what making or storing it raises."""
    if kind == "flac":

        async def open_wav() -> AsyncIterator[bytes]:
            # Read twice, a piece at a time: once for STREAMINFO's MD5, then to encode.
            source = await runtime.blobs.stream(track.blob_key)
            if source is None:
                raise NotFound(AUDIO_GONE, code="audio_gone", params={"id": track.id})
            async for piece in source.chunks:
                yield piece

        key = export_key_for(track.blob_key, kind="flac")
        written.append(key)
        return await _store(
            runtime, key, composer_exports.flac_of_wav(open_wav), track=track, kind=kind
        )
    request = await _request_of(runtime, track)
    if kind == "midi":
        key = export_key_for(track.blob_key, kind="midi")
        written.append(key)
        data = await composer_exports.midi(request, track.plan)
        return await _store(runtime, key, _once(data), track=track, kind=kind)
    return await _store_stems(runtime, track, request, written)


async def _store_stems(
    runtime: Runtime, track: Track, request: Mapping[str, object], written: list[str]
) -> int:
    """Write the five stems from one pass over the score; returns the bytes stored."""
    header, chunks = composer_exports.stems(request, track.plan)
    writers = {}
    for name in STEMS:
        key = export_key_for(track.blob_key, kind="stems", stem=name)
        written.append(key)
        writers[name] = _writer(runtime, key, track=track, kind="stems", stem=name)
    try:
        for writer in writers.values():
            await writer.write(header)
        async for block in chunks:
            for name, writer in writers.items():
                await writer.write(block[name].data.cast("B"))
        return sum([(await writer.close()).size for writer in writers.values()])
    except BaseException:
        for writer in writers.values():
            await writer.abort()
        raise


async def _store(
    runtime: Runtime,
    key: str,
    pieces: AsyncIterator[bytes],
    *,
    track: Track,
    kind: ExportKind,
) -> int:
    async with _writer(runtime, key, track=track, kind=kind) as writer:
        async for piece in pieces:
            await writer.write(piece)
    return writer.written


def _writer(
    runtime: Runtime, key: str, *, track: Track, kind: ExportKind, stem: str | None = None
) -> BlobWriter:
    return BlobWriter(
        runtime.blobs,
        key,
        http_metadata=HttpMetadata(
            content_type=MEDIA_TYPES[kind],
            content_disposition=f'attachment; filename="{file_name_for(track, kind, stem)}"',
        ),
        custom_metadata={"owner": track.account_id, "track": track.id, "export": kind},
        part_bytes=STEM_PART_BYTES,
        # Nothing is rewritten: each part goes as soon as it fills.
        holds_first=False,
    )


async def _request_of(runtime: Runtime, track: Track) -> Mapping[str, object]:
    """The request the track was made from, which stems and MIDI re-render."""
    try:
        job = await get_job(runtime.db, account_id=track.account_id, job_id=track.job_id)
    except NotFound:
        raise ExportUnavailable(
            N_("Track '%(id)s' no longer has the settings it was made with."),
            params={"id": track.id},
        ) from None
    return job.request


async def follow_move(runtime: Runtime, track: Track, written: list[str]) -> None:
    """Move the export if `tracks.retention` moved the track's audio while it was made."""
    try:
        now_at = await get_track(runtime.db, account_id=track.account_id, track_id=track.id)
    except NotFound:
        return  # deleted meanwhile: the purge removes the exports under both prefixes
    if now_at.blob_key == track.blob_key:
        return
    old_base, new_base = track.blob_key.removesuffix(".wav"), now_at.blob_key.removesuffix(".wav")
    for key in written:
        await copy_blob(runtime.blobs, key, new_base + key[len(old_base) :])
    await runtime.blobs.delete(written)


async def _once(data: bytes) -> AsyncIterator[bytes]:
    yield data
