"""Our Cloudflare adapters inside real Pyodide, with the real Workers SDK (tests/pyodide/README.md).

One Node process (harness.mjs) loads Pyodide, D1 and R2 from Miniflare, runs every selected
case of cases/*_cases.py and writes their results; each case is one pytest item here.
"""

from __future__ import annotations

import ast
import importlib.metadata
import json
import os
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
PROJECT_ROOT = HERE.parents[1]
SDK_PACKAGE = "workers-runtime-sdk"
HARNESS_TIMEOUT_SECONDS = 240

pytestmark = pytest.mark.wrangler


def _case_names() -> list[str]:
    names = []
    for path in sorted((HERE / "cases").glob("*_cases.py")):
        module = path.stem.removesuffix("_cases")
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.AsyncFunctionDef) and any(
                isinstance(d, ast.Name) and d.id == "case" for d in node.decorator_list
            ):
                names.append(f"{module}.{node.name}")
    return names


CASE_NAMES = _case_names()


def sdk_directory() -> Path:
    """Where the installed SDK's modules are, after checking it is the version the Worker pins.

    pywrangler vendors exactly pyproject.toml's pin into the Worker; `make install` installs the
    same pin from requirements.lock.
    """
    project = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]
    pins = dict(
        requirement.replace(" ", "").split("==", 1)
        for requirement in project["dependencies"]
        if "==" in requirement
    )
    try:
        installed = importlib.metadata.distribution(SDK_PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        installed = None
    if installed is None or installed.version != pins.get(SDK_PACKAGE):
        found = installed.version if installed is not None else "none"
        raise RuntimeError(
            f"{SDK_PACKAGE} {pins.get(SDK_PACKAGE)} is pinned but {found} is installed: "
            "run `make install`."
        )
    return Path(str(installed.locate_file("")))


@pytest.fixture(scope="module")
def results(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    selected = [
        item.callspec.params["name"]
        for item in request.session.items
        if item.path == Path(__file__) and hasattr(item, "callspec")
    ]
    out = tmp_path_factory.mktemp("pyodide") / "results.json"
    node = shutil.which("node", path=str(PROJECT_ROOT / ".venv" / "bin")) or shutil.which("node")
    if node is None or not (PROJECT_ROOT / "node_modules" / "pyodide").exists():
        raise RuntimeError("Node or node_modules/pyodide is missing: run `make test` (npm ci).")
    command = [node, str(HERE / "harness.mjs"), "--sdk", str(sdk_directory())]
    command += ["--out", str(out)]
    for name in selected:
        command += ["--case", name]
    completed = subprocess.run(
        command,
        cwd=PROJECT_ROOT,
        env={**os.environ, "WRANGLER_SEND_METRICS": "false", "NO_COLOR": "1"},
        capture_output=True,
        text=True,
        timeout=HARNESS_TIMEOUT_SECONDS,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    if completed.returncode != 0 or not out.exists():
        raise RuntimeError(f"The Pyodide harness failed:\n{completed.stdout}\n{completed.stderr}")
    report = json.loads(out.read_text())
    return {result["name"]: result for result in report["results"]}


@pytest.mark.parametrize("name", CASE_NAMES)
def test_case(name: str, results: Any) -> None:
    result = results.get(name)
    assert result is not None, f"The harness did not report {name}."
    if not result["passed"]:
        pytest.fail(result["error"], pytrace=False)
    for figure, value in result["figures"].items():
        print(f"{name}: {figure} = {value}")
