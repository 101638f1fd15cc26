"""Deleting free-tier tracks when their 14 days are up.

R2's lifecycle rule deletes the audio under `tracks/free/` on its own, within about a day of the
due time; this cron task removes the rows (and the audio, should the rule lag), so the gallery
and the API stop listing them on time.

A kept track (`expires_at` NULL) is never deleted: the rows go first, in one statement that
re-checks the expiry as it deletes, and only the audio of the rows it deleted follows. A crash
between the two leaves expired audio without a row under `tracks/free/`, which nobody can reach
and the lifecycle rule removes; deleting the audio first could instead remove the audio of a
track that an upgrade kept a moment earlier.
"""

from __future__ import annotations

from beatbun.runtime.base import MAX_KEYS_PER_CALL, Runtime
from beatbun.tracks.models import export_keys_for
from beatbun.tracks.store import delete_expired_track_rows

BATCH = 500


async def delete_expired_tracks(runtime: Runtime) -> int:
    blob_keys = await delete_expired_track_rows(runtime.db, now=runtime.clock.now(), limit=BATCH)
    # The exports stored beside the audio (FLAC, MIDI, stems) go with it.
    keys = [key for blob_key in blob_keys for key in (blob_key, *export_keys_for(blob_key))]
    for start in range(0, len(keys), MAX_KEYS_PER_CALL):
        await runtime.blobs.delete(keys[start : start + MAX_KEYS_PER_CALL])
    return len(blob_keys)
