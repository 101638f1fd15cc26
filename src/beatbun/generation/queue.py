"""The per-user queue Durable Object: a user's jobs, their order, and every change as an event.

One instance per user (`id_from_name(account_id)`), so a user's jobs are serialized in one place
whatever tab, device or API client submitted them. Work happens in the alarm, in two steps:
one alarm starts jobs (clients see "running" at once) and the next one runs them. A job is
marked running in storage before it runs, so after a crash or restart the alarm finds it and
either runs it again (up to `MAX_ATTEMPTS`) or fails it with a refund: nothing is left hanging.

The alarm gives the instance's turn up while a provider renders and while kept audio moves
(`Actor.outside_turn`), so `enqueue`, `cancel` and `plan_changed` answer at once meanwhile. That
is safe because a running job's row belongs to the run alone: `cancel` refuses it, `_expire`,
`_run_started` and `_start_next` pass over it, and `plan_changed` touches queued rows only.
Which jobs this instance is running is kept in memory: a second alarm firing meanwhile must not
start them again, and after a crash (a new instance) they are rightly run again.

Every recorded event is pushed at once to the user's open progress sockets (`Actor.changed`,
`runtime/pushrules.py`); nothing polls, so an object with idle sockets stays asleep.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from typing import Any, ClassVar

from beatbun.billing.plans import PlanId, plan_of
from beatbun.errors import AppError, Conflict, NotFound
from beatbun.generation.capacity import try_acquire_slot
from beatbun.generation.lifecycle import DEADLINE_EXCEEDED, DEADLINE_MESSAGE, end_job, start_job
from beatbun.generation.models import Job
from beatbun.generation.provider import MusicProvider
from beatbun.generation.registry import provider_from_settings
from beatbun.generation.runner import run_job
from beatbun.generation.store import JOB_NOT_FOUND
from beatbun.i18n import N_
from beatbun.mail.drain import send_queued_mail
from beatbun.runtime.actors import Actor
from beatbun.runtime.base import ActorStorage, Row, Runtime
from beatbun.runtime.pushrules import CLOSE_SESSIONS_CHANGED, SESSIONS_CHANGED_REASON
from beatbun.tracks.retention import move_kept_audio

logger = logging.getLogger(__name__)

# A job that ran this many times without finishing (crashes, restarts) fails and is refunded.
MAX_ATTEMPTS = 2
# How often a job waiting for a global render slot asks again.
CAPACITY_RETRY_SECONDS = 2.0
# While a job runs, an alarm stays set this far ahead: if the process dies, the job resumes then.
RESUME_AFTER_SECONDS = 10.0
# Events kept for clients catching up after a disconnection.
EVENTS_KEPT = 1000

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS queue (id TEXT PRIMARY KEY, status TEXT NOT NULL, plan TEXT NOT NULL,"
    " created_at REAL NOT NULL, deadline_at REAL NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,"
    " line_position INTEGER, job TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY AUTOINCREMENT, at REAL NOT NULL,"
    " job_id TEXT NOT NULL, body TEXT NOT NULL)",
    # One row while kept tracks' audio waits to move out of the free tier's prefix.
    "CREATE TABLE IF NOT EXISTS audio_moves (account_id TEXT PRIMARY KEY)",
)


class UserQueue(Actor):
    RPC_METHODS: ClassVar[frozenset[str]] = frozenset(
        {
            "ping",
            "enqueue",
            "cancel",
            "events_since",
            "snapshot",
            "plan_changed",
            "end_sockets",
            "forget",
        }
    )
    READ_ONLY_METHODS: ClassVar[frozenset[str]] = frozenset(
        {"ping", "events_since", "snapshot", "end_sockets"}
    )

    def __init__(self, *, actor_id: str, storage: ActorStorage, runtime: Runtime) -> None:
        super().__init__(actor_id=actor_id, storage=storage, runtime=runtime)
        # Once per instance, not per call: the tables outlive it, and the SQL API is synchronous.
        for statement in _SCHEMA:
            self.storage.sql(statement)
        # Jobs this instance is running outside its turn, and the accounts whose kept audio it
        # is moving (with those asked to move again meanwhile); see the module docstring.
        self._in_flight: set[str] = set()
        self._moving: set[str] = set()
        self._moves_asked_again: set[str] = set()

    async def ping(self) -> str:
        return "pong"

    async def enqueue(self, job: dict[str, Any], plan: PlanId) -> dict[str, int | None]:
        """Take a paid-for job (idempotent: the same job twice is queued once)."""
        inserted = self.storage.sql(
            "INSERT OR IGNORE INTO queue (id, status, plan, created_at, deadline_at, job)"
            " VALUES (?, 'queued', ?, ?, ?, ?) RETURNING id",
            job["id"],
            plan,
            job["created_at"],
            job["deadline_at"],
            json.dumps(job, separators=(",", ":")),
        )
        position = self._positions().get(job["id"])
        if inserted:
            self._emit(job["id"], "queued", status="queued", position=position)
            await self._wake(self.runtime.clock.now())
        return {"position": position, "seq": self._last_seq()}

    async def cancel(self, job_id: str) -> dict[str, str]:
        """Cancel a job that has not started, with a full refund; a started one cannot be.

        Raises NotFound for a job this queue never received, which covers other users' jobs.
        """
        row = self._row(job_id)
        status = str(row["status"])
        if status == "running":
            raise Conflict(
                N_("This track is already being made and can no longer be canceled."),
                code="already_started",
            )
        if status == "queued":
            await self._end(
                row, status="canceled", code="canceled", message="Canceled before it started."
            )
            self._announce_positions()
        return {"status": str(self._row(job_id)["status"])}

    async def plan_changed(self, account_id: str, plan: PlanId) -> None:
        """Apply a new plan to the jobs still waiting, and move kept audio if the plan keeps it.

        Concurrency follows at once: the alarm starts as many jobs as the new plan allows.
        """
        self.storage.sql("UPDATE queue SET plan = ? WHERE status = 'queued'", plan)
        if plan_of(plan).retention == "paid":
            self.storage.sql(
                "INSERT OR IGNORE INTO audio_moves (account_id) VALUES (?)", account_id
            )
            if account_id in self._moving:
                # Tracks kept by this change may come after the running move's last page.
                self._moves_asked_again.add(account_id)
        await self._wake(self.runtime.clock.now())

    async def events_since(self, seq: int, limit: int = 200) -> list[dict[str, Any]]:
        """Every event after `seq`, oldest first: how a reconnecting client catches up."""
        return self._events(seq, limit)

    def events_after(self, seq: int) -> list[dict[str, Any]]:
        return self._events(seq, EVENTS_KEPT)

    def _events(self, seq: int, limit: int) -> list[dict[str, Any]]:
        rows = self.storage.sql(
            "SELECT seq, at, body FROM events WHERE seq > ? ORDER BY seq LIMIT ?", seq, limit
        )
        return [
            {"seq": row["seq"], "at": row["at"], **json.loads(str(row["body"]))} for row in rows
        ]

    async def end_sockets(self) -> None:
        """Close every live progress socket once the account's sessions changed.

        Each client reconnects, and the handshake lets only a live session through again.
        """
        self.close_sockets(CLOSE_SESSIONS_CHANGED, SESSIONS_CHANGED_REASON)

    async def forget(self) -> None:
        """Delete everything this queue stores, its alarm included: its account is being erased.

        The account's sockets are closed first. The object holds no table afterwards; only a
        new instance (which makes the empty tables again) can take jobs.
        """
        self.close_sockets(CLOSE_SESSIONS_CHANGED, SESSIONS_CHANGED_REASON)
        await self.storage.delete_all()

    async def snapshot(self) -> dict[str, Any]:
        """The unfinished jobs with their positions, and the last event's number."""
        positions = self._positions()
        rows = self.storage.sql(
            "SELECT id, status FROM queue WHERE status IN ('queued', 'running') ORDER BY rowid"
        )
        jobs = [
            {
                "job_id": row["id"],
                "status": row["status"],
                "position": positions.get(str(row["id"])),
            }
            for row in rows
        ]
        return {"jobs": jobs, "seq": self._last_seq()}

    async def alarm(self) -> None:
        await self._move_kept_audio()
        now = self.runtime.clock.now()
        await self._expire(now)
        await self._run_started()
        await self._start_next(self.runtime.clock.now())
        await self._rearm()
        await self._send_account_mail()

    @contextlib.asynccontextmanager
    async def open_provider(self) -> AsyncIterator[MusicProvider]:
        """The music provider for this run; the settings choose it (the composer by default)."""
        yield provider_from_settings(self.runtime.settings, self.runtime.fetcher)

    async def _send_account_mail(self) -> None:
        """Send the account's service mail while the object is awake (a refund's notice, say);
        the cron sends whatever this does not get to."""
        # One object per account: any job names it.
        rows = self.storage.sql(
            "SELECT json_extract(job, '$.account_id') AS account_id FROM queue LIMIT 1"
        )
        for row in rows:
            async with self.outside_turn():
                await send_queued_mail(self.runtime, account_id=str(row["account_id"]))

    async def _move_kept_audio(self) -> None:
        for row in self.storage.sql("SELECT account_id FROM audio_moves"):
            account_id = str(row["account_id"])
            if account_id in self._moving:
                continue  # an earlier alarm is moving it and deletes the row when done
            # Should the process die mid-move, this alarm picks the move up again.
            await self.storage.set_alarm(self.runtime.clock.now() + RESUME_AFTER_SECONDS)
            self._moving.add(account_id)
            try:
                await self._move_account(account_id)
            finally:
                self._moving.discard(account_id)
            self.storage.sql("DELETE FROM audio_moves WHERE account_id = ?", account_id)

    async def _move_account(self, account_id: str) -> None:
        # The move touches D1 and R2, never this object's storage, and is safe beside another
        # run (tracks.retention), so it needs no turn; 100 tracks take about 2 s.
        self._moves_asked_again.discard(account_id)
        while True:
            async with self.outside_turn():
                while await move_kept_audio(self.runtime, account_id=account_id):
                    pass
            if account_id not in self._moves_asked_again:
                return
            self._moves_asked_again.discard(account_id)

    async def _expire(self, now: float) -> None:
        for row in self.storage.sql(
            "SELECT * FROM queue WHERE status IN ('queued', 'running') AND deadline_at <= ?", now
        ):
            if str(row["id"]) in self._in_flight:
                continue  # its run times out by itself at the deadline and ends it
            await self._end(
                row,
                status="failed",
                code=DEADLINE_EXCEEDED,
                message=DEADLINE_MESSAGE,
            )

    async def _run_started(self) -> None:
        rows = []
        for (job_id,) in self._runnable():
            # Count the attempt before running, so a crash mid-run is remembered.
            rows += self.storage.sql(
                "UPDATE queue SET attempts = attempts + 1 WHERE id = ? RETURNING *", job_id
            )
        if not rows:
            return
        # Claimed before the first await: an alarm firing while these run passes them over.
        self._in_flight.update(str(row["id"]) for row in rows)
        # If this run dies with the process, this alarm resumes it (or fails it, past its attempts).
        await self.storage.set_alarm(self.runtime.clock.now() + RESUME_AFTER_SECONDS)
        # Out of the turn while they render; each run takes it back for its own state changes.
        async with self.outside_turn():
            await asyncio.gather(*(self._run_claimed(row) for row in rows))

    def _runnable(self) -> list[tuple[str]]:
        """The started jobs that no run of this instance is working on, oldest first."""
        rows = self.storage.sql("SELECT id FROM queue WHERE status = 'running' ORDER BY rowid")
        return [(str(row["id"]),) for row in rows if str(row["id"]) not in self._in_flight]

    async def _run_claimed(self, row: Row) -> None:
        try:
            await self._run(row)
        finally:
            self._in_flight.discard(str(row["id"]))

    async def _run(self, row: Row) -> None:
        """Run one claimed job; called outside the turn, it takes the turn for each change.

        The row is this run's alone until it returns (see the module docstring).
        """
        job = _job_of(row)
        if int(row["attempts"]) > MAX_ATTEMPTS:  # type: ignore[arg-type]
            async with self.turn:
                await self._end(
                    row,
                    status="failed",
                    code="interrupted",
                    message="Making the track was interrupted. Your credits were refunded.",
                )
            return
        try:
            async with self.open_provider() as provider:
                track = await run_job(self.runtime, job, provider=provider, plan=str(row["plan"]))
        except AppError as exc:
            logger.warning("Job %s failed: %s (%s)", job.id, exc.message, exc.code)
            async with self.turn:
                await self._end(row, status="failed", code=exc.code, message=_user_message(exc))
            return
        async with self.turn:
            if track is None:  # the job ended while it ran (its deadline passed): refunded
                self._set_status(job.id, "failed")
                return
            self._set_status(job.id, "succeeded")
            self._emit(job.id, "succeeded", status="succeeded", track_id=track.id)

    async def _start_next(self, now: float) -> None:
        running = len(self.storage.sql("SELECT id FROM queue WHERE status = 'running'"))
        started = False
        for row in self.storage.sql("SELECT * FROM queue WHERE status = 'queued' ORDER BY rowid"):
            if running >= plan_of(str(row["plan"])).concurrency:
                break
            job = _job_of(row)
            slot = await try_acquire_slot(
                self.runtime.db,
                job_id=job.id,
                account_id=job.account_id,
                plan=str(row["plan"]),  # type: ignore[arg-type]
                joined_at=job.created_at,
                leased_until=job.deadline_at,
                now=now,
                capacity=self.runtime.settings.render_capacity,
            )
            if not slot.held:
                self._announce_waiting(row, slot.line_position)
                break
            if not await start_job(self.runtime.db, job, now=now):
                continue
            self._set_status(job.id, "running")
            self._emit(job.id, "running", status="running")
            running += 1
            started = True
        if started:
            self._announce_positions()

    async def _rearm(self) -> None:
        now = self.runtime.clock.now()
        moves = {str(row["account_id"]) for row in self.storage.sql("SELECT * FROM audio_moves")}
        if self._runnable() or moves - self._moving:
            await self.storage.set_alarm(now)  # run what was just started, move what was asked
        elif self._in_flight or self._moving:
            # Work goes on in an earlier alarm; should the process die, this one resumes it.
            await self.storage.set_alarm(now + RESUME_AFTER_SECONDS)
        elif self.storage.sql("SELECT id FROM queue WHERE status = 'queued' LIMIT 1"):
            await self.storage.set_alarm(now + CAPACITY_RETRY_SECONDS)
        else:
            await self.storage.delete_alarm()

    async def _wake(self, now: float) -> None:
        pending = await self.storage.get_alarm()
        if pending is None or pending > now:
            await self.storage.set_alarm(now)

    async def _end(self, row: Row, *, status: str, code: str, message: str) -> None:
        job = _job_of(row)
        ended = await end_job(
            self.runtime.db,
            job,
            status=status,
            code=code,
            message=message,
            now=self.runtime.clock.now(),
        )
        self._set_status(job.id, status)
        if ended:
            self._emit(
                job.id,
                status,
                status=status,
                error={"code": code, "message": message},
                refunded=job.cost,
            )

    def _announce_waiting(self, row: Row, position: int | None) -> None:
        if position is not None and position != row["line_position"]:
            self.storage.sql(
                "UPDATE queue SET line_position = ? WHERE id = ?", position, str(row["id"])
            )
            self._emit(str(row["id"]), "waiting", status="queued", line_position=position)

    def _announce_positions(self) -> None:
        for job_id, position in self._positions().items():
            self._emit(job_id, "queued", status="queued", position=position)

    def _emit(self, job_id: str, event_type: str, **body: Any) -> None:
        payload = json.dumps({"job_id": job_id, "type": event_type, **body}, separators=(",", ":"))
        self.storage.sql(
            "INSERT INTO events (at, job_id, body) VALUES (?, ?, ?)",
            self.runtime.clock.now(),
            job_id,
            payload,
        )
        self.storage.sql(
            "DELETE FROM events WHERE seq <= (SELECT max(seq) FROM events) - ?", EVENTS_KEPT
        )
        # Pushed to the user's open sockets at once (on Workers the output gate holds the
        # message until this write is stored).
        self.changed()

    def _positions(self) -> dict[str, int]:
        """The queued jobs in order, each with its position: 1 for the next of them to start.

        A job that has started or ended has none.
        """
        rows = self.storage.sql("SELECT id FROM queue WHERE status = 'queued' ORDER BY rowid")
        return {str(row["id"]): n for n, row in enumerate(rows, start=1)}

    def _last_seq(self) -> int:
        return int(self.storage.sql("SELECT coalesce(max(seq), 0) AS seq FROM events")[0]["seq"])  # type: ignore[arg-type]

    def _row(self, job_id: str) -> Row:
        rows = self.storage.sql("SELECT * FROM queue WHERE id = ?", job_id)
        if not rows:
            raise NotFound(JOB_NOT_FOUND, code="generation_not_found", params={"id": job_id})
        return rows[0]

    def _set_status(self, job_id: str, status: str) -> None:
        self.storage.sql("UPDATE queue SET status = ? WHERE id = ?", status, job_id)


def _job_of(row: Row) -> Job:
    data = json.loads(str(row["job"]))
    return Job(**data)


def _user_message(exc: AppError) -> str:
    return f"{exc.message} Your credits were refunded."
