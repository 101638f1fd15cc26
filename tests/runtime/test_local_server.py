from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from beatbun.scheduled import run_scheduled
from beatbun_local.runtime import LocalRuntime
from beatbun_local.server import due_crons, load_dev_vars, next_cron_run, read_crons
from tests.fakes import ManualClock

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def test_read_crons_uses_the_wrangler_schedule() -> None:
    assert read_crons(PROJECT_ROOT / "wrangler.toml") == ["0 * * * *", "*/5 * * * *"]


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        ("2026-11-20T10:15:00", ("2026-11-20T11:00:00", "0 * * * *")),
        ("2026-11-20T10:59:59", ("2026-11-20T11:00:00", "0 * * * *")),
        ("2026-11-20T11:00:00", ("2026-11-20T12:00:00", "0 * * * *")),  # strictly after now
    ],
)
def test_next_cron_run(now: str, expected: tuple[str, str]) -> None:
    moment = datetime.fromisoformat(now).replace(tzinfo=UTC).timestamp()
    when, cron = next_cron_run(["0 * * * *"], moment)
    assert (when.replace(tzinfo=None).isoformat(), cron) == expected


def test_next_cron_run_picks_the_earliest_of_several() -> None:
    moment = datetime(2026, 11, 20, 10, 1, tzinfo=UTC).timestamp()
    when, cron = next_cron_run(["0 * * * *", "*/5 * * * *"], moment)
    assert (when.minute, cron) == (5, "*/5 * * * *")


def test_due_crons_are_every_trigger_at_that_time() -> None:
    crons = ["0 * * * *", "*/5 * * * *"]
    on_the_hour = datetime(2026, 11, 20, 10, 58, tzinfo=UTC).timestamp()
    when, _ = next_cron_run(crons, on_the_hour)
    assert due_crons(crons, on_the_hour, when) == crons
    past = datetime(2026, 11, 20, 11, 1, tzinfo=UTC).timestamp()
    when, _ = next_cron_run(crons, past)
    assert due_crons(crons, past, when) == ["*/5 * * * *"]


async def test_scheduled_handler_records_run(runtime: LocalRuntime, clock: ManualClock) -> None:
    await run_scheduled(runtime, cron="0 * * * *", scheduled_time=clock.now())
    rows = await runtime.db.prepare("SELECT cron, scheduled_at, finished_at FROM cron_runs").all()
    assert rows.results == [
        {"cron": "0 * * * *", "scheduled_at": int(clock.now()), "finished_at": int(clock.now())}
    ]


def test_load_dev_vars_reads_wrangler_dotenv_format(tmp_path: Path) -> None:
    dev_vars = tmp_path / ".dev.vars"
    dev_vars.write_text('# comment\nSITE_NAME="Bun Local"\nAPP_SECRET=abc=def\nEMPTY=\n')
    assert load_dev_vars(dev_vars) == {
        "SITE_NAME": "Bun Local",
        "APP_SECRET": "abc=def",
        "EMPTY": "",
    }


def test_load_dev_vars_missing_file_means_defaults(tmp_path: Path) -> None:
    assert load_dev_vars(tmp_path / "absent") == {}


def test_dev_vars_example_builds_valid_settings() -> None:
    from beatbun.settings import Settings

    settings = Settings.from_env(load_dev_vars(PROJECT_ROOT / ".dev.vars.example"))
    assert settings.environment == "development"
