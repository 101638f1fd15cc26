"""The cron entry point, called by `Default.scheduled` on Workers and the local cron runner."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from beatbun.accounts.secondfactor import reseal_totp_secrets
from beatbun.billing.subscriptions import end_lapsed_terms
from beatbun.generation.lifecycle import fail_overdue_jobs
from beatbun.mail.campaignsend import queue_campaign_batches
from beatbun.mail.drain import drain_mail
from beatbun.policies.announcements import announce_policy_changes
from beatbun.privacy.erasure import erase_due_accounts
from beatbun.privacy.export import build_pending_exports, delete_expired_exports
from beatbun.privacy.unconsented import erase_unconsented_sign_ups, send_missing_parent_links
from beatbun.runtime.base import Runtime
from beatbun.tracks.deletion import purge_deleted_tracks
from beatbun.tracks.expiry import delete_expired_tracks
from beatbun.tracks.exports import refund_stale_exports
from beatbun.tracks.retention import move_all_kept_audio
from beatbun.tracks.warnings import warn_expiring_tracks

ScheduledTask = Callable[[Runtime], Awaitable[object]]

logger = logging.getLogger(__name__)

# The periodic work of every domain but the mail, run hourly in this order; a task that raises
# is logged and the ones after it run regardless. The mail trigger (below) fires at minute 0
# too, as its own invocation, so no task is in both: each runs once an hour at :00.
# Grace ends before the move, so an account that lost its plan has nothing moved for it.
TASKS: tuple[ScheduledTask, ...] = (
    fail_overdue_jobs,
    refund_stale_exports,  # exports whose request died before they were made
    end_lapsed_terms,
    delete_expired_tracks,
    purge_deleted_tracks,  # tracks their owners deleted, once the undo window has passed
    delete_expired_exports,  # personal-data exports past their download days
    move_all_kept_audio,
    # TOTP keys stored in plaintext before migration 0032, or under a retired DATA_KEYS key.
    reseal_totp_secrets,
    # Accounts whose deletion's grace period is over; late, as it waits on Stripe when a
    # customer is to be deleted. One account's failure holds up no other account.
    erase_due_accounts,
    # Teens' sign-ups no parent or guardian agreed to in time.
    erase_unconsented_sign_ups,
    # Parents' links of waiting teens' accounts made before parents consented themselves.
    send_missing_parent_links,
    # Exports the after-response build missed (or whose builder died), the longest task; their
    # "ready" mails go out with the next mail run.
    build_pending_exports,
)

# The second trigger: the mail, every five minutes, in its own invocation (its own budget of
# D1 calls), so bulk sends go out in batches through the hour and expiry warnings keep up.
MAIL_CRON = "*/5 * * * *"
MAIL_TASKS: tuple[ScheduledTask, ...] = (
    warn_expiring_tracks,  # free-plan tracks that go in 3 days, or in 1
    # The next batch of notices of a significant policy change, sent by the drain after it.
    announce_policy_changes,
    # The next batch of every campaign being sent, likewise.
    queue_campaign_batches,
    drain_mail,  # both lanes at the provider's rate, within its budgets of time and D1 calls
)


async def run_scheduled(runtime: Runtime, *, cron: str, scheduled_time: float) -> None:
    """Run the trigger's tasks, then record the run (operators see it in /healthz).

    `MAIL_CRON` runs `MAIL_TASKS`; any other trigger runs the others (`TASKS`). Every task runs
    even when one before it raised; the run is then not recorded, and the failures are raised
    together once all tasks are done.
    """
    tasks = MAIL_TASKS if cron == MAIL_CRON else TASKS
    failures: list[Exception] = []
    for task in tasks:
        try:
            await task(runtime)
        except Exception as exc:
            logger.exception("Scheduled task %s failed", getattr(task, "__name__", task))
            failures.append(exc)
    if failures:
        raise ExceptionGroup(f"{len(failures)} scheduled task(s) failed", failures)
    await (
        runtime.db.prepare(
            "INSERT INTO cron_runs (cron, scheduled_at, finished_at, tasks) VALUES (?, ?, ?, ?)"
        )
        .bind(cron, int(scheduled_time), int(runtime.clock.now()), len(tasks))
        .run()
    )
