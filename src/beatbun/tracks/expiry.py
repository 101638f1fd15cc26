"""Deleting free-tier tracks when their 14 days are up.

R2's lifecycle rule deletes the audio on its own, within about a day of the due time; this
cron task removes the rows (and the audio, should the rule lag), so the gallery and the API stop
listing them on time.
"""

from __future__ import annotations

from beatbun.runtime.base import Runtime
from beatbun.tracks.store import delete_expired_track_rows, expired_blob_keys

# R2 deletes at most 1000 keys per call.
BATCH = 500


async def delete_expired_tracks(runtime: Runtime) -> int:
    now = runtime.clock.now()
    blob_keys = await expired_blob_keys(runtime.db, now=now, limit=BATCH)
    if not blob_keys:
        return 0
    await runtime.blobs.delete(blob_keys)
    await delete_expired_track_rows(runtime.db, now=now, limit=BATCH)
    return len(blob_keys)
