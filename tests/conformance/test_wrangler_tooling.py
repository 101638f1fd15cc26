"""Real Cloudflare tooling, offline: the config and bundle, and the migrations wrangler applies."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from beatbun.billing.plans import FREE_RETENTION_SECONDS
from beatbun.privacy.ledger import KEPT_SECONDS, LEDGER_PREFIX
from beatbun_local.database import LocalDatabase
from beatbun_local.migrations import apply_migrations
from tests.conformance.wrangler import PROJECT_ROOT, d1_execute, run_wrangler

pytestmark = pytest.mark.wrangler

SCHEMA_QUERY = (
    "SELECT type, name, tbl_name, sql FROM sqlite_master"
    " WHERE name NOT LIKE '\\_cf\\_%' ESCAPE '\\' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"
    " ORDER BY type, name"
)


def test_deploy_dry_run_lists_every_binding(tmp_path: Path) -> None:
    completed = run_wrangler("deploy", "--dry-run", "--outdir", str(tmp_path / "dist"))
    assert completed.returncode == 0, completed.stderr
    output = completed.stdout
    for binding in (
        "env.USER_QUEUE (UserQueue)",
        "env.DB (beatbun)",
        "env.AUDIO (beatbun-audio)",
        "env.ASSETS",
    ):
        assert binding in output
    assert "beatbun/web/templates/base.html" in output  # templates travel with the code
    assert (tmp_path / "dist" / "entry.py").is_file()


def test_uploaded_modules_hold_nothing_that_only_runs_locally(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    completed = run_wrangler("deploy", "--dry-run", "--outdir", str(dist))
    assert completed.returncode == 0, completed.stderr
    modules = sorted(dist.rglob("*.py"))
    assert dist / "beatbun" / "runtime" / "cloudflare.py" in modules

    offenders = {
        str(module.relative_to(dist)): sorted(LOCAL_ONLY & imported_modules(module))
        for module in modules
    }
    assert {name: found for name, found in offenders.items() if found} == {}
    # The composer's command line lives in the local package, never in the upload.
    assert dist / "beatbun" / "compose.py" not in modules


def imported_modules(module: Path) -> set[str]:
    """The top-level names of every module `module` imports, wherever the import statement is."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(module.read_text(), filename=str(module))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


# What only the local runtime may use: CPython-only modules and the local package itself.
LOCAL_ONLY = {
    "beatbun_local",
    "sqlite3",
    "uvicorn",
    "threading",
    "dotenv",
    "cronsim",
    "cryptography",
}


async def test_migrations_give_the_same_schema_under_wrangler_and_locally(tmp_path: Path) -> None:
    persist = tmp_path / "wrangler"
    applied = run_wrangler(
        "d1", "migrations", "apply", "DB", "--local", "--persist-to", str(persist)
    )
    assert applied.returncode == 0, applied.stdout + applied.stderr
    wrangler_schema = d1_execute(persist, SCHEMA_QUERY)[0]["results"]

    db = LocalDatabase(tmp_path / "d1.sqlite")
    await apply_migrations(db, PROJECT_ROOT / "d1" / "migrations")
    local_schema = (await db.prepare(SCHEMA_QUERY).all()).results

    assert local_schema == wrangler_schema
    assert {"d1_migrations", "cron_runs"} <= {row["name"] for row in local_schema}


async def test_wrangler_and_local_record_the_same_migrations(tmp_path: Path) -> None:
    persist = tmp_path / "wrangler"
    run_wrangler("d1", "migrations", "apply", "DB", "--local", "--persist-to", str(persist))
    query = "SELECT id, name FROM d1_migrations ORDER BY id"
    wrangler_rows = d1_execute(persist, query)[0]["results"]
    db = LocalDatabase(tmp_path / "d1.sqlite")
    await apply_migrations(db, PROJECT_ROOT / "d1" / "migrations")
    assert (await db.prepare(query).all()).results == wrangler_rows
    assert [row["name"] for row in wrangler_rows] == sorted(
        p.name for p in (PROJECT_ROOT / "d1" / "migrations").glob("*.sql")
    )


def test_r2_lifecycle_expires_free_tier_audio_after_14_days() -> None:
    rules = json.loads((PROJECT_ROOT / "r2" / "lifecycle.json").read_text())["rules"]
    free = next(rule for rule in rules if rule["conditions"].get("prefix") == "tracks/free/")
    assert free["enabled"] is True
    assert free["deleteObjectsTransition"]["condition"] == {
        "type": "Age",
        "maxAge": FREE_RETENTION_SECONDS,
    }
    assert FREE_RETENTION_SECONDS == 14 * 86400
    assert not any(rule["conditions"].get("prefix", "").startswith("tracks/paid") for rule in rules)


def test_r2_lifecycle_expires_the_deletion_ledger_after_time_travels_window() -> None:
    rules = json.loads((PROJECT_ROOT / "r2" / "lifecycle.json").read_text())["rules"]
    ledger = next(rule for rule in rules if rule["conditions"].get("prefix") == LEDGER_PREFIX)
    assert ledger["enabled"] is True
    assert ledger["deleteObjectsTransition"]["condition"] == {"type": "Age", "maxAge": KEPT_SECONDS}
    assert KEPT_SECONDS == 30 * 86400
