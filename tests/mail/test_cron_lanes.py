"""The two cron triggers: hourly runs everything, every five minutes only the mail."""

from __future__ import annotations

from beatbun.mail.mailqueue import BULK, drain_mail
from beatbun.privacy.erasure import erase_due_accounts
from beatbun.scheduled import MAIL_CRON, MAIL_TASKS, TASKS, run_scheduled
from beatbun_local.runtime import LocalRuntime
from beatbun_local.server import read_crons
from tests.mail.queueing import queue_mail
from tests.processes import PROJECT_ROOT


def test_wrangler_has_the_mail_trigger_beside_the_hourly_one() -> None:
    assert read_crons(PROJECT_ROOT / "wrangler.toml") == ["0 * * * *", MAIL_CRON]


def test_the_mail_trigger_runs_only_mail_tasks() -> None:
    assert drain_mail in MAIL_TASKS and drain_mail in TASKS
    assert erase_due_accounts in TASKS and erase_due_accounts not in MAIL_TASKS
    assert all(task in TASKS for task in MAIL_TASKS)


async def test_the_mail_trigger_sends_bulk_mail_and_records_its_run(runtime: LocalRuntime) -> None:
    await queue_mail(runtime, "policy@example.com", priority=BULK, topic="policy:terms:2")
    await run_scheduled(runtime, cron=MAIL_CRON, scheduled_time=runtime.clock.now())
    assert [message.to for message in runtime.mailer.messages()] == ["policy@example.com"]
    run = await runtime.db.prepare("SELECT cron, tasks FROM cron_runs").first()
    assert run == {"cron": MAIL_CRON, "tasks": len(MAIL_TASKS)}
