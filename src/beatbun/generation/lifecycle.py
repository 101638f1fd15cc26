"""The D1 side of a job's life: start, finish with a track, or end with a refund.

Each transition is one batch guarded by the status it leaves, so the D1 row, the ledger and the
track table always agree, and a repeated call changes nothing.
"""

from __future__ import annotations

from beatbun.billing.credits import refund_statements
from beatbun.generation.models import Job
from beatbun.generation.store import (
    mark_ended_statement,
    mark_running_statement,
    mark_succeeded_statement,
)
from beatbun.runtime.base import Database
from beatbun.tracks.models import Track
from beatbun.tracks.store import insert_track_statement


async def start_job(db: Database, job: Job, *, now: float) -> bool:
    """Mark a queued job running; False if it is no longer queued (canceled meanwhile)."""
    result = await mark_running_statement(db, job_id=job.id, now=now).run()
    return result.meta.changes == 1


async def end_job(
    db: Database, job: Job, *, status: str, code: str, message: str, now: float
) -> bool:
    """Fail or cancel an unfinished job and refund it, exactly once; False if already finished."""
    note = "Canceled before it started" if status == "canceled" else f"Refund: {code}"
    results = await db.batch(
        [
            mark_ended_statement(
                db, job_id=job.id, status=status, code=code, message=message, now=now
            ),
            *refund_statements(
                db, account_id=job.account_id, amount=job.cost, job_id=job.id, note=note, now=now
            ),
        ]
    )
    return results[0].meta.changes == 1


async def complete_job(db: Database, job: Job, *, track: Track, now: float) -> bool:
    """Record the track and mark the job succeeded together; False if the job had ended meanwhile."""
    results = await db.batch(
        [
            mark_succeeded_statement(
                db, job_id=job.id, track_id=track.id, plan=track.plan, now=now
            ),
            insert_track_statement(db, track),
        ]
    )
    return results[0].meta.changes == 1
