"""The compiled catalogs travel in the Worker bundle (wrangler skips `.mo` without our rule)."""

from __future__ import annotations

from pathlib import Path

import pytest

from beatbun.i18n import LANGUAGES
from tests.conformance.wrangler import run_wrangler

pytestmark = pytest.mark.wrangler


def test_deploy_dry_run_bundles_every_compiled_catalog(tmp_path: Path) -> None:
    completed = run_wrangler("deploy", "--dry-run", "--outdir", str(tmp_path / "dist"))
    assert completed.returncode == 0, completed.stderr
    for language in set(LANGUAGES) - {"en"}:
        bundled = tmp_path / "dist" / "beatbun" / "locale" / language / "LC_MESSAGES"
        assert (bundled / "messages.mo").is_file(), language
