"""Runs the conformance cases inside Pyodide and answers one JSON result per case.

A case is an `async def` in a `*_cases.py` module of this folder, decorated with `@case`; it
passes unless it raises, and may return a dict of figures. tests/pyodide/test_conformance.py
finds the cases by reading these files, so each one is its own pytest item.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import time
import traceback
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

CaseFunction = Callable[[], Awaitable[dict[str, Any] | None]]
CASES: dict[str, CaseFunction] = {}
CASE_TIMEOUT_SECONDS = 30


def case(function: CaseFunction) -> CaseFunction:
    CASES[f"{function.__module__.removesuffix('_cases')}.{function.__name__}"] = function
    return function


async def run(selected_json: str) -> str:
    for path in sorted(Path(__file__).parent.glob("*_cases.py")):
        importlib.import_module(path.stem)
    selected = json.loads(selected_json) or list(CASES)
    results = [await _run_one(name) for name in selected]
    return json.dumps(results)


async def _run_one(name: str) -> dict[str, Any]:
    function = CASES.get(name)
    if function is None:
        return {"name": name, "passed": False, "error": f"No case named {name!r}."}
    started = time.monotonic()
    try:
        figures = await asyncio.wait_for(function(), CASE_TIMEOUT_SECONDS)
    except BaseException:  # a failed case is reported, and the next one runs
        return {
            "name": name,
            "passed": False,
            "error": traceback.format_exc(),
            "seconds": time.monotonic() - started,
        }
    return {
        "name": name,
        "passed": True,
        "figures": figures or {},
        "seconds": time.monotonic() - started,
    }
