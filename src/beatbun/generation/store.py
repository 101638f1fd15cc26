"""Jobs in D1. Every status change is guarded by the status it leaves, so a late or repeated
update (a retried alarm, a second worker) changes nothing."""

from __future__ import annotations

import json
from typing import Any

from beatbun.errors import NotFound
from beatbun.generation.models import Job
from beatbun.i18n import N_
from beatbun.runtime.base import Database, Row, Statement

# Said by D1's copy of the jobs and by the user's queue alike.
JOB_NOT_FOUND = N_("Generation '%(id)s' not found.")

_COLUMNS = (
    "id, account_id, status, request, cost, provider, correlation_id, created_at, deadline_at,"
    " started_at, finished_at, plan, track_id, error_code, error_message"
)


# The constraint an account that may not make anything now fails (see `insert_job_statement`).
ACCOUNT_REFUSED = "jobs.status"
_ACCOUNT_MAY_MAKE = (
    "EXISTS (SELECT 1 FROM accounts WHERE id = ? AND restricted_at IS NULL"
    " AND erasure_due_at IS NULL AND (age_group = 'adult' OR parent_consented_at IS NOT NULL))"
)


def insert_job_statement(
    db: Database, job: Job, *, request_hash: str, idempotency_key: str
) -> Statement:
    """Insert the job only if its debit is in the same batch, before it: no job without payment.

    An account restricted, awaiting its erasure or waiting for a parent's consent when the
    batch runs gets a NULL status, which the column's NOT NULL refuses as ConstraintViolation
    (target `ACCOUNT_REFUSED`): the whole batch is undone, the debit with it.
    """
    return db.prepare(
        "INSERT INTO jobs (id, account_id, status, request, request_hash, cost, provider,"
        " correlation_id, idempotency_key, created_at, deadline_at)"
        f" SELECT ?, ?, CASE WHEN {_ACCOUNT_MAY_MAKE} THEN 'queued' END, ?, ?, ?, ?, ?, ?, ?, ?"
        " WHERE EXISTS (SELECT 1 FROM credit_ledger WHERE job_id = ? AND kind = 'debit')"
    ).bind(
        job.id,
        job.account_id,
        job.account_id,
        json.dumps(job.request, separators=(",", ":")),
        request_hash,
        job.cost,
        job.provider,
        job.correlation_id,
        idempotency_key,
        job.created_at,
        job.deadline_at,
        job.id,
    )


async def get_job(db: Database, *, account_id: str, job_id: str) -> Job:
    """The job if it belongs to the account; anyone else's job is NotFound, never Forbidden."""
    row = (
        await db.prepare(f"SELECT {_COLUMNS} FROM jobs WHERE id = ? AND account_id = ?")
        .bind(job_id, account_id)
        .first()
    )
    if row is None:
        raise NotFound(JOB_NOT_FOUND, code="generation_not_found", params={"id": job_id})
    return job_from_row(row)


async def find_job_by_key(
    db: Database, *, account_id: str, idempotency_key: str
) -> tuple[Job, str] | None:
    """The job created under this idempotency key, with its request hash."""
    row = (
        await db.prepare(
            f"SELECT {_COLUMNS}, request_hash FROM jobs WHERE account_id = ? AND idempotency_key = ?"
        )
        .bind(account_id, idempotency_key)
        .first()
    )
    return (job_from_row(row), str(row["request_hash"])) if row else None


async def list_jobs(
    db: Database, *, account_id: str, limit: int, before: int | None = None
) -> list[Job]:
    result = (
        await db.prepare(
            f"SELECT {_COLUMNS} FROM jobs WHERE account_id = ? AND created_at < ?"
            " ORDER BY created_at DESC, id DESC LIMIT ?"
        )
        .bind(account_id, before if before is not None else 2**52, limit)
        .all()
    )
    return [job_from_row(row) for row in result.results]


async def list_overdue_jobs(db: Database, *, before: float, limit: int = 100) -> list[Job]:
    result = await (
        db.prepare(
            f"SELECT {_COLUMNS} FROM jobs WHERE status IN ('queued', 'running') AND deadline_at < ?"
            " ORDER BY deadline_at LIMIT ?"
        )
        .bind(int(before), limit)
        .all()
    )
    return [job_from_row(row) for row in result.results]


def mark_running_statement(db: Database, *, job_id: str, now: float) -> Statement:
    return db.prepare(
        "UPDATE jobs SET status = 'running', started_at = ? WHERE id = ? AND status = 'queued'"
    ).bind(int(now), job_id)


def mark_succeeded_statement(
    db: Database, *, job_id: str, track_id: str, plan: dict[str, Any], now: float
) -> Statement:
    return db.prepare(
        "UPDATE jobs SET status = 'succeeded', track_id = ?, plan = ?, finished_at = ?"
        " WHERE id = ? AND status = 'running'"
    ).bind(track_id, json.dumps(plan, separators=(",", ":")), int(now), job_id)


def mark_ended_statement(
    db: Database, *, job_id: str, status: str, code: str, message: str, now: float
) -> Statement:
    """Fail or cancel a job that has not finished; a finished job stays as it is."""
    return db.prepare(
        "UPDATE jobs SET status = ?, error_code = ?, error_message = ?, finished_at = ?"
        " WHERE id = ? AND status IN ('queued', 'running')"
    ).bind(status, code, message, int(now), job_id)


def job_from_row(row: Row) -> Job:
    def optional_int(name: str) -> int | None:
        value = row.get(name)
        return None if value is None else int(value)

    plan = row.get("plan")
    return Job(
        id=str(row["id"]),
        account_id=str(row["account_id"]),
        status=row["status"],  # type: ignore[arg-type]
        request=json.loads(str(row["request"])),
        cost=int(row["cost"]),  # type: ignore[arg-type]
        provider=str(row["provider"]),
        correlation_id=str(row["correlation_id"]),
        created_at=int(row["created_at"]),  # type: ignore[arg-type]
        deadline_at=int(row["deadline_at"]),  # type: ignore[arg-type]
        started_at=optional_int("started_at"),
        finished_at=optional_int("finished_at"),
        plan=json.loads(str(plan)) if plan else None,
        track_id=str(row["track_id"]) if row.get("track_id") else None,
        error_code=str(row["error_code"]) if row.get("error_code") else None,
        error_message=str(row["error_message"]) if row.get("error_message") else None,
    )
