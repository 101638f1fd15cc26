"""The D1 side of a job's life: start, finish with a track, or end with a refund.

Each transition is one batch guarded by the status it leaves, so the D1 row, the ledger and the
track table always agree, and a repeated call changes nothing. The batches that end a job also
free its render slot and its place in the line: a finished job holds neither.
"""

from __future__ import annotations

from beatbun.billing.credits import Note, refund_statements
from beatbun.generation.capacity import release_slot_statements
from beatbun.generation.models import Job
from beatbun.generation.store import (
    list_overdue_jobs,
    mark_ended_statement,
    mark_running_statement,
    mark_succeeded_statement,
)
from beatbun.i18n import N_
from beatbun.runtime.base import Database, Runtime
from beatbun.tracks.models import Track
from beatbun.tracks.store import insert_track_statement

OVERDUE_GRACE_SECONDS = 60
# How a job that ran out of time ends, whoever notices first: its queue or the cron sweep.
DEADLINE_EXCEEDED = "deadline_exceeded"
DEADLINE_MESSAGE = "The track was not ready in time. Your credits were refunded."


async def start_job(db: Database, job: Job, *, now: float) -> bool:
    """Mark a queued job running; False if it is no longer queued (canceled meanwhile)."""
    result = await mark_running_statement(db, job_id=job.id, now=now).run()
    return result.meta.changes == 1


async def end_job(
    db: Database, job: Job, *, status: str, code: str, message: str, now: float
) -> bool:
    """Fail or cancel an unfinished job and refund it, exactly once; False if already finished."""
    note = (
        Note(N_("Canceled before it started"))
        if status == "canceled"
        else Note(N_("Refund: %(reason)s"), {"reason": code})
    )
    results = await db.batch(
        [
            mark_ended_statement(
                db, job_id=job.id, status=status, code=code, message=message, now=now
            ),
            *refund_statements(
                db, account_id=job.account_id, amount=job.cost, job_id=job.id, note=note, now=now
            ),
            *release_slot_statements(db, job_id=job.id),
        ]
    )
    return results[0].meta.changes == 1


async def complete_job(db: Database, job: Job, *, track: Track, now: float) -> bool:
    """Record the track and mark the job succeeded together; False if the job had ended meanwhile.

    The slot is freed either way: a job that ended meanwhile no longer needs it.
    """
    results = await db.batch(
        [
            mark_succeeded_statement(
                db, job_id=job.id, track_id=track.id, plan=track.plan, now=now
            ),
            insert_track_statement(db, track),
            *release_slot_statements(db, job_id=job.id),
        ]
    )
    return results[0].meta.changes == 1


async def fail_overdue_jobs(runtime: Runtime) -> int:
    """Fail and refund jobs still unfinished a minute past their deadline.

    The user's queue does this itself; this sweep (run by cron) covers a queue that was never
    told about its job, for instance when the process died between the debit and the enqueue.
    """
    now = runtime.clock.now()
    overdue = await list_overdue_jobs(runtime.db, before=now - OVERDUE_GRACE_SECONDS)
    ended = 0
    for job in overdue:
        if await end_job(
            runtime.db,
            job,
            status="failed",
            code=DEADLINE_EXCEEDED,
            message=DEADLINE_MESSAGE,
            now=now,
        ):
            ended += 1
    return ended
