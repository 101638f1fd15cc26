"""The Worker code path (src/entry.py and all it imports) must run under Pyodide.

It is imported in a fresh interpreter with the Workers SDK stand-ins and with entropy made to
fail, as it does in Cloudflare's deploy-time snapshot; then every module it loaded is checked: nothing CPython-only is loaded at all, and none of our modules imports such a thing.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SDK_FAKES = PROJECT_ROOT / "tests" / "sdk_fakes"
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
    "beatbun.runtime.local",
}
# Our own code must not import these even where the standard library does.
NEVER_IMPORTED_BY_US = NEVER_LOADED | {
    "threading",
    "socket",
    "subprocess",
    "concurrent",
    "asyncio.subprocess",
}

# Modules whose import the Workers SDK lets draw entropy (workers-py runtime-sdk,
# _workers_sdk_entropy_import_context.py: Rust hash-map seeds, OpenTelemetry's context keys).
ENTROPY_ALLOWED_BY_THE_RUNTIME = {
    "pydantic_core",
    "jiter",
    "numpy.random.mtrand",
    "opentelemetry.context",
    "opentelemetry.trace.propagation",
    "opentelemetry.baggage",
    "fastapi.telemetry",
}

IMPORT_ENTRY = f"""
import json, os, random, sys
sys.path[:0] = [{str(SDK_FAKES)!r}, {str(PROJECT_ROOT / "src")!r}]
allowed = {sorted(ENTROPY_ALLOWED_BY_THE_RUNTIME)!r}
real_urandom = os.urandom

def importing_allowed_module():
    frame = sys._getframe(2)
    while frame is not None:
        if frame.f_code.co_name == "<module>" and frame.f_globals.get("__name__") in allowed:
            return True
        frame = frame.f_back
    return False

def guarded_urandom(size):
    if importing_allowed_module():
        return real_urandom(size)
    raise RuntimeError("Disallowed operation called within global scope")

def refuse(*args, **kwargs):
    raise RuntimeError("Disallowed operation called within global scope")

os.urandom = guarded_urandom
random.random = refuse
random.getrandbits = refuse
import entry
print(json.dumps({{name: getattr(module, "__file__", None) for name, module in sys.modules.items()}}))
"""


def _loaded_modules() -> dict[str, str | None]:
    completed = subprocess.run(
        [sys.executable, "-c", IMPORT_ENTRY],
        capture_output=True,
        text=True,
        check=False,
        cwd=PROJECT_ROOT,
    )
    assert completed.returncode == 0, completed.stderr
    modules: dict[str, str | None] = json.loads(completed.stdout)
    return modules


def test_entry_imports_without_entropy_or_cpython_only_modules() -> None:
    modules = _loaded_modules()
    assert "entry" in modules and "beatbun.main" in modules
    loaded_forbidden = {
        name
        for name in modules
        if any(name == bad or name.startswith(bad + ".") for bad in NEVER_LOADED)
    }
    assert loaded_forbidden == set()


def test_our_modules_on_the_worker_path_import_nothing_cpython_only() -> None:
    offenders = []
    for name, file in _loaded_modules().items():
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


def _imports_of(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names
