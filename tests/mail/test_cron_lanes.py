"""The two cron triggers: hourly the other domains' work, every five minutes the mail."""

from __future__ import annotations

from beatbun.mail.drain import drain_mail
from beatbun.mail.mailqueue import BULK
from beatbun.privacy.erasure import erase_due_accounts
from beatbun.scheduled import MAIL_CRON, MAIL_TASKS, TASKS, run_scheduled
from beatbun_local.runtime import LocalRuntime
from beatbun_local.server import read_crons
from tests.mail.queueing import queue_mail
from tests.processes import PROJECT_ROOT


def test_wrangler_has_the_mail_trigger_beside_the_hourly_one() -> None:
    assert read_crons(PROJECT_ROOT / "wrangler.toml") == ["0 * * * *", MAIL_CRON]


def test_each_task_runs_once_when_both_triggers_fire_at_minute_0() -> None:
    assert drain_mail in MAIL_TASKS and erase_due_accounts in TASKS
    assert not set(TASKS) & set(MAIL_TASKS)
    assert len(set(TASKS)) == len(TASKS) and len(set(MAIL_TASKS)) == len(MAIL_TASKS)


async def test_the_hourly_trigger_sends_no_mail(runtime: LocalRuntime) -> None:
    await queue_mail(runtime, "service@example.com")
    await run_scheduled(runtime, cron="0 * * * *", scheduled_time=runtime.clock.now())
    assert runtime.mailer.messages() == []


async def test_the_mail_trigger_sends_bulk_mail_and_records_its_run(runtime: LocalRuntime) -> None:
    await queue_mail(runtime, "policy@example.com", priority=BULK, topic="policy:terms:2")
    await run_scheduled(runtime, cron=MAIL_CRON, scheduled_time=runtime.clock.now())
    assert [message.to for message in runtime.mailer.messages()] == ["policy@example.com"]
    run = await runtime.db.prepare("SELECT cron, tasks FROM cron_runs").first()
    assert run == {"cron": MAIL_CRON, "tasks": len(MAIL_TASKS)}
