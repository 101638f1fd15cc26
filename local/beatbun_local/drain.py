"""`python -m beatbun_local.drain`: send the local mail queue now, as the five-minute cron does.

It opens the state folder the local server uses (`BEATBUN_STATE_DIR`, default `.state`, or
`--state-dir`) with its settings (`.dev.vars`: `MAIL_RATE_PER_SECOND`, `MAIL_CLAIM_SECONDS`),
drains both lanes at the shared rate for up to `--budget` seconds, and prints how many emails
went to the outbox. Safe beside the running server: they share the queue's claims and the rate.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from beatbun.generation.queue import UserQueue
from beatbun.mail.drain import CRON_DRAIN_SECONDS, drain_mail
from beatbun_local.migrations import apply_migrations
from beatbun_local.runtime import LocalRuntime
from beatbun_local.server import PROJECT_ROOT, local_settings, state_dir


async def drain(folder: Path, *, budget_seconds: float) -> int:
    """Drain the queue of the state folder `folder`; how many emails were sent."""
    runtime = LocalRuntime.open(folder, settings=local_settings(), user_queue=UserQueue)
    try:
        await apply_migrations(runtime.db, PROJECT_ROOT / "d1" / "migrations")
        return await drain_mail(runtime, budget_seconds=budget_seconds)
    finally:
        runtime.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Send what the local mail queue holds.")
    parser.add_argument(
        "--state-dir", type=Path, default=None, help="the local state folder (default: .state)"
    )
    parser.add_argument(
        "--budget",
        type=float,
        default=CRON_DRAIN_SECONDS,
        help=f"stop after this many seconds (default: {CRON_DRAIN_SECONDS:g})",
    )
    args = parser.parse_args(argv)
    sent = asyncio.run(drain(args.state_dir or state_dir(), budget_seconds=args.budget))
    print(f"Sent: {sent} email(s).")


if __name__ == "__main__":
    main()
