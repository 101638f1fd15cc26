"""Run the pinned wrangler (node_modules/.bin) offline, as the conformance tests need it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[2]
WRANGLER = PROJECT_ROOT / "node_modules" / ".bin" / "wrangler"


def run_wrangler(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run wrangler with the virtualenv's Node first on PATH; never prompts, never phones home."""
    if not WRANGLER.exists():
        raise RuntimeError(f"{WRANGLER} is missing: run `make test` (it runs `npm ci`).")
    node_dir = Path(shutil.which("node") or "").parent
    env = {
        **os.environ,
        "PATH": f"{PROJECT_ROOT / '.venv' / 'bin'}{os.pathsep}{node_dir}{os.pathsep}{os.environ['PATH']}",
        "WRANGLER_SEND_METRICS": "false",
        "CI": "true",
        "NO_COLOR": "1",
    }
    return subprocess.run(
        [str(WRANGLER), *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def d1_execute(persist_to: Path, sql: str) -> Any:
    """`wrangler d1 execute DB --local --json`: one result per statement, or {"error": ...}."""
    completed = run_wrangler(
        "d1",
        "execute",
        "DB",
        "--local",
        "--json",
        "--persist-to",
        str(persist_to),
        "--command",
        sql,
    )
    return json.loads(completed.stdout)
