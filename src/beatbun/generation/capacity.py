"""The global render capacity: a fixed number of slots shared by every user, in D1.

Jobs wait in one line ordered by rank = joined_at - head start (paid plans get a head start), so
paid jobs go first when load surges, yet a free job is overtaken only by paid jobs that joined
within the head start after it: nobody waits forever. A slot is a lease that ends by itself at
the job's deadline, so a crashed render cannot hold one.
"""

from __future__ import annotations

from beatbun.billing.credits import Plan
from beatbun.runtime.base import Database

PAID_HEAD_START_SECONDS = 120


async def try_acquire_slot(
    db: Database,
    *,
    job_id: str,
    account_id: str,
    plan: Plan,
    joined_at: float,
    leased_until: float,
    now: float,
    capacity: int,
) -> bool:
    """Join the line (once) and take a free slot if this job is among the first in line."""
    rank = joined_at - (PAID_HEAD_START_SECONDS if plan == "paid" else 0)
    results = await db.batch(
        [
            db.prepare(
                "INSERT OR IGNORE INTO render_line (job_id, account_id, rank, joined_at)"
                " VALUES (?, ?, ?, ?)"
            ).bind(job_id, account_id, rank, int(joined_at)),
            db.prepare("DELETE FROM render_slots WHERE leased_until <= ?").bind(int(now)),
            db.prepare(
                "INSERT INTO render_slots (job_id, account_id, leased_until)"
                " SELECT ?1, ?2, ?3"
                " WHERE NOT EXISTS (SELECT 1 FROM render_slots WHERE job_id = ?1)"
                " AND (SELECT count(*) FROM render_slots) < ?4"
                " AND ?1 IN (SELECT job_id FROM render_line ORDER BY rank, job_id"
                " LIMIT ?4 - (SELECT count(*) FROM render_slots))"
            ).bind(job_id, account_id, int(leased_until), capacity),
            db.prepare(
                "DELETE FROM render_line WHERE job_id = ?1"
                " AND EXISTS (SELECT 1 FROM render_slots WHERE job_id = ?1)"
            ).bind(job_id),
        ]
    )
    held = (
        await db.prepare("SELECT 1 AS held FROM render_slots WHERE job_id = ?").bind(job_id).first()
    )
    return results[2].meta.changes == 1 or held is not None


async def line_position(db: Database, *, job_id: str) -> int | None:
    """1 for the next job to get a slot; None once the job has one (or left the line)."""
    row = (
        await db.prepare(
            "SELECT (SELECT count(*) FROM render_line AS ahead"
            " WHERE ahead.rank < me.rank OR (ahead.rank = me.rank AND ahead.job_id < me.job_id)) + 1"
            " AS position FROM render_line AS me WHERE me.job_id = ?"
        )
        .bind(job_id)
        .first()
    )
    return None if row is None else int(row["position"])


async def release_slot(db: Database, *, job_id: str) -> None:
    await db.batch(
        [
            db.prepare("DELETE FROM render_slots WHERE job_id = ?").bind(job_id),
            db.prepare("DELETE FROM render_line WHERE job_id = ?").bind(job_id),
        ]
    )
