"""The Worker code path (src/entry.py and all it imports) must run under Pyodide, with the pins.

entropy_guard.py imports it in a fresh interpreter with the Workers SDK stand-ins and with entropy
refused as in Cloudflare's deploy-time snapshot, under the import-time entropy rules of the
installed workers-runtime-sdk (the release pinned in pyproject.toml). Then: nothing CPython-only
is loaded, none of our modules imports such a thing, every entropy allowance the SDK grants is used
exactly, and the environment holds exactly the pinned versions.
"""

from __future__ import annotations

import ast
import importlib.metadata
import json
import re
import subprocess
import sys
import tomllib
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement

PROJECT_ROOT = Path(__file__).resolve().parents[2]
ENTROPY_GUARD = Path(__file__).resolve().parent / "entropy_guard.py"
# The Pyodide of our compatibility date (pywrangler resolves against index.pyodide.org/0.28.3);
# the npm package `pyodide` of that version carries the index's pyodide-lock.json.
PYODIDE_LOCK = PROJECT_ROOT / "node_modules" / "pyodide" / "pyodide-lock.json"
PYODIDE_VERSION = "0.28.3"
# Environment markers of the Pyodide interpreter pywrangler resolves for (Python 3.13.2).
PYODIDE_MARKERS = {
    "python_version": "3.13",
    "python_full_version": "3.13.2",
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
    "sys_platform": "emscripten",
    "platform_system": "Emscripten",
    "platform_machine": "wasm32",
    "os_name": "posix",
    "extra": "",
}
# Modules that cannot load (or must not be loaded) inside a Worker.
NEVER_LOADED = {
    "uvicorn",
    "sqlite3",
    "_sqlite3",
    "multiprocessing",
    "dotenv",
    "cronsim",
    # The local cipher's AES-GCM; on Workers the same comes from WebCrypto.
    "cryptography",
    "beatbun_local",
}
# Our own code must not import these even where the standard library does.
NEVER_IMPORTED_BY_US = NEVER_LOADED | {
    "threading",
    "socket",
    "subprocess",
    "concurrent",
    "asyncio.subprocess",
}
# The SDK's import contexts whose allowance Rust code uses (hash-map seeds drawn through
# getrandom, which CPython's os.urandom never sees): there the guard sees no call at all.
NATIVE_ENTROPY_CONTEXTS = {"rust_package_context", "pydantic_core_context"}


def _guarded_import(module: str, *paths: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ENTROPY_GUARD), module, *map(str, paths)],
        capture_output=True,
        text=True,
        check=False,
        cwd=PROJECT_ROOT,
    )


@cache
def _worker_import() -> dict[str, Any]:
    completed = _guarded_import("entry")
    assert completed.returncode == 0, completed.stderr
    report: dict[str, Any] = json.loads(completed.stdout)
    return report


def test_entry_imports_without_entropy_or_cpython_only_modules() -> None:
    modules = _worker_import()["modules"]
    assert "entry" in modules and "beatbun.main" in modules
    loaded_forbidden = {
        name
        for name in modules
        if any(name == bad or name.startswith(bad + ".") for bad in NEVER_LOADED)
    }
    assert loaded_forbidden == set()


def test_every_entropy_allowance_of_the_pinned_sdk_is_used_exactly() -> None:
    windows = _worker_import()["windows"]
    wrong = [
        window
        for window in windows
        if window["used"] != window["allowed"]
        and not (window["context"] in NATIVE_ENTROPY_CONTEXTS and window["used"] == 0)
    ]
    assert wrong == []
    # FastAPI's telemetry and OpenTelemetry's context keys are the Python-level draws we make.
    drawn = {window["module"]: window["used"] for window in windows if window["used"]}
    assert drawn == {
        "fastapi.telemetry": 1,
        "opentelemetry.context": 3,
        "opentelemetry.trace.propagation": 1,
        "opentelemetry.baggage": 1,
    }


@pytest.mark.parametrize(
    "source",
    [
        "import uuid\nKEY = uuid.uuid4()\n",
        "import secrets\nTOKEN = secrets.token_hex(8)\n",
        "import os\nSALT = os.urandom(16)\n",
        "import random\nVALUE = random.random()\n",
        "import random\nRNG = random.Random()\n",
    ],
)
def test_a_module_the_sdk_does_not_list_cannot_draw_entropy_at_import(
    tmp_path: Path, source: str
) -> None:
    (tmp_path / "rogue.py").write_text(source)
    completed = _guarded_import("rogue", tmp_path)
    assert completed.returncode != 0
    assert "outside of request context" in completed.stderr


@pytest.mark.parametrize(("calls", "allowed"), [(1, True), (2, False)])
def test_a_listed_module_gets_exactly_its_allowance(
    tmp_path: Path, calls: int, allowed: bool
) -> None:
    # The SDK lets langsmith._internal._constants make one entropy call at import, no more.
    package = tmp_path / "langsmith" / "_internal"
    package.mkdir(parents=True)
    (package.parent / "__init__.py").write_text("")
    (package / "__init__.py").write_text("")
    (package / "_constants.py").write_text("import uuid\n" + "uuid.uuid4()\n" * calls)
    completed = _guarded_import("langsmith._internal._constants", tmp_path)
    assert (completed.returncode == 0) is allowed, completed.stderr
    if allowed:
        [window] = json.loads(completed.stdout)["windows"]
        assert (window["module"], window["allowed"], window["used"]) == (
            "langsmith._internal._constants",
            1,
            1,
        )


def test_our_modules_on_the_worker_path_import_nothing_cpython_only() -> None:
    offenders = []
    for name, file in _worker_import()["modules"].items():
        if not file or not (name == "entry" or name.startswith("beatbun")):
            continue
        for imported in _imports_of(Path(file)):
            if any(
                imported == bad or imported.startswith(bad + ".") for bad in NEVER_IMPORTED_BY_US
            ):
                offenders.append(f"{name} imports {imported}")
    assert offenders == []


def test_guard_detects_a_cpython_only_import(tmp_path: Path) -> None:
    module = tmp_path / "bad.py"
    module.write_text("import sqlite3\nfrom subprocess import run\n")
    assert set(_imports_of(module)) == {"sqlite3", "subprocess"}


def test_every_runtime_dependency_is_pinned_and_installed_at_its_pin() -> None:
    pins = _runtime_pins()
    assert "workers-runtime-sdk" in pins
    installed = {name: importlib.metadata.version(name) for name in pins}
    assert installed == pins
    locked = dict(
        re.findall(r"^([a-z0-9-]+)==(\S+)", (PROJECT_ROOT / "requirements.lock").read_text(), re.M)
    )
    assert {name: locked.get(name) for name in pins} == pins


def test_the_pins_include_everything_they_require_under_pyodide() -> None:
    pins = _runtime_pins()
    unmet = []
    for name in pins:
        for line in importlib.metadata.requires(name) or []:
            requirement = Requirement(line)
            if requirement.marker and not requirement.marker.evaluate(PYODIDE_MARKERS):
                continue
            pinned = pins.get(_normalized(requirement.name))
            if pinned is None or not requirement.specifier.contains(pinned, prereleases=True):
                unmet.append(f"{name} requires {line}")
    assert unmet == []


def test_compiled_runtime_dependencies_are_the_versions_pyodide_ships() -> None:
    lock = json.loads(PYODIDE_LOCK.read_text())
    package_json = json.loads((PYODIDE_LOCK.parent / "package.json").read_text())
    assert package_json["version"] == PYODIDE_VERSION
    assert lock["info"]["python"].startswith("3.13.")
    shipped = {_normalized(name): package for name, package in lock["packages"].items()}
    compiled = {
        name: shipped[name]["version"]
        for name in _runtime_pins()
        if name in shipped and not shipped[name]["file_name"].endswith("-none-any.whl")
    }
    assert {"numpy", "pydantic-core", "markupsafe"} <= compiled.keys()
    assert {name: _runtime_pins()[name] for name in compiled} == compiled


def _runtime_pins() -> dict[str, str]:
    project = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]
    pins = {}
    for requirement in project["dependencies"]:
        name, separator, version = requirement.partition("==")
        assert separator, f"{requirement} is not pinned with =="
        pins[_normalized(name)] = version
    return pins


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _imports_of(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names
