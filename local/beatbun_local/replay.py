"""`python -m beatbun_local.replay` (`make replay-erasures`): the deletion ledger, replayed locally.

After putting back a copy of the local D1 file (what a D1 Time Travel restore does in
production), this erases again every account the ledger says was erased. It opens the state
folder the local server uses (`BEATBUN_STATE_DIR`, default `.state`, or `--state-dir`) with its
settings (`.dev.vars`). In production the same runs through
`POST /api/v1/operator/erasures/replay`.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from beatbun.generation.queue import UserQueue
from beatbun.privacy.replay import replay_erasures
from beatbun_local.migrations import apply_migrations
from beatbun_local.runtime import LocalRuntime
from beatbun_local.server import PROJECT_ROOT, local_settings, state_dir


async def replay(folder: Path) -> int:
    """Replay the ledger on the state folder `folder`; how many accounts were erased again."""
    runtime = LocalRuntime.open(folder, settings=local_settings(), user_queue=UserQueue)
    try:
        await apply_migrations(runtime.db, PROJECT_ROOT / "d1" / "migrations")
        return await replay_erasures(runtime)
    finally:
        runtime.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description="Erase again every account the deletion ledger holds (after a D1 restore)."
    )
    parser.add_argument(
        "--state-dir", type=Path, default=None, help="the local state folder (default: .state)"
    )
    args = parser.parse_args(argv)
    replayed = asyncio.run(replay(args.state_dir or state_dir()))
    print(f"Erased again: {replayed} account(s).")


if __name__ == "__main__":
    main()
