"""The global render capacity: a fixed number of slots shared by every user, in D1.

Jobs wait in one line ordered by rank = joined_at - the plan's head start (`billing.plans`), so
paid jobs go first when load surges, yet a free job is overtaken only by paid jobs that joined
within the head start after it: nobody waits forever. A slot is a lease that ends by itself at
the job's deadline, so a crashed render cannot hold one; the batch that ends a job frees its
slot at once (`lifecycle`).
"""

from __future__ import annotations

from dataclasses import dataclass

from beatbun.billing.plans import PLANS, PlanId, plan_of
from beatbun.runtime.base import Database, Statement


@dataclass(frozen=True)
class SlotRequest:
    """Where a job stands after asking for a slot."""

    held: bool
    # 1 for the next job to get a slot; None once the job has one (or left the line).
    line_position: int | None


async def try_acquire_slot(
    db: Database,
    *,
    job_id: str,
    account_id: str,
    plan: PlanId,
    joined_at: float,
    leased_until: float,
    now: float,
    capacity: int,
) -> SlotRequest:
    """Join the line (once) and take a free slot if this job is among the first in line."""
    rank = joined_at - plan_of(plan).head_start_seconds
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
            # Read back in the same batch: one round trip per attempt.
            db.prepare("SELECT 1 AS held FROM render_slots WHERE job_id = ?").bind(job_id),
            db.prepare(
                "SELECT (SELECT count(*) FROM render_line AS ahead"
                " WHERE ahead.rank < me.rank OR (ahead.rank = me.rank AND ahead.job_id < me.job_id))"
                " + 1 AS position FROM render_line AS me WHERE me.job_id = ?"
            ).bind(job_id),
        ]
    )
    line = results[-1].results
    return SlotRequest(
        held=bool(results[-2].results),
        line_position=int(line[0]["position"]) if line else None,  # type: ignore[arg-type]
    )


def release_slot_statements(db: Database, *, job_id: str) -> list[Statement]:
    """Free the job's slot and its place in line, for the batch that ends the job."""
    return [
        db.prepare("DELETE FROM render_slots WHERE job_id = ?").bind(job_id),
        db.prepare("DELETE FROM render_line WHERE job_id = ?").bind(job_id),
    ]


def rerank_statement(db: Database, *, account_id: str) -> Statement:
    """Give the account's jobs already in line the head start of the plan its wallet is on now."""
    head_start = (
        "CASE (SELECT plan FROM wallets WHERE account_id = ?1) "
        + " ".join(f"WHEN '{plan.id}' THEN {plan.head_start_seconds}" for plan in PLANS.values())
        + " ELSE 0 END"
    )
    return db.prepare(
        f"UPDATE render_line SET rank = joined_at - ({head_start}) WHERE account_id = ?1"
    ).bind(account_id)
