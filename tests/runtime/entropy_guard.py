"""Import one module as Cloudflare's deploy-time snapshot does, and report what that took.

    python tests/runtime/entropy_guard.py MODULE [PATH ...]

PATHs, then tests/sdk_fakes and src, go first on sys.path. Entropy is refused at the top level as
in workerd (src/pyodide/internal/topLevelEntropy/): `os.urandom` costs one getentropy() call per
256 bytes, seeding a `random.Random` from the system costs ten (2,496 bytes), the module-level
`random` functions refuse to run, and `tempfile` names come from a fixed sequence. Which module may
draw how much is decided by the installed workers-runtime-sdk, the release pinned in
pyproject.toml: its `_workers_sdk_entropy_import_context` registers its rules with the
`_cloudflare` stand-in, exactly as it does inside workerd. Prints JSON: `modules` (name -> file)
and `windows` (each allowance the SDK opened: module, context, allowed, used). An entropy call
outside an allowance fails the import with workerd's message.
"""

from __future__ import annotations

import importlib
import json
import os
import random
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[2]
GETENTROPY_MAX_BYTES = 256
# random.Random seeds itself from 624 32-bit words of system entropy.
RANDOM_SEED_CALLS = 10


def _getentropy_calls(size: int) -> int:
    return -(-size // GETENTROPY_MAX_BYTES)


def _install_runtime_rules() -> None:
    from _cloudflare.allow_entropy import allow_bad_entropy_calls, take_entropy
    from _cloudflare.import_patch_manager import (
        block_calls,
        install_import_patch_manager,
        register_exec_patch,
    )

    real_urandom = os.urandom
    real_seed = random.Random.seed

    def urandom(size: int) -> bytes:
        take_entropy(_getentropy_calls(size))
        return real_urandom(size)

    def seed(self: random.Random, a: Any = None, version: int = 2) -> None:
        if a is None:
            take_entropy(RANDOM_SEED_CALLS)
        real_seed(self, a, version)

    os.urandom = urandom
    random._urandom = urandom  # type: ignore[attr-defined]
    random.Random.seed = seed  # type: ignore[method-assign]
    block_calls(random, allowlist=("Random", "SystemRandom"))

    @contextmanager
    def tempfile_context(module: ModuleType) -> Iterator[None]:
        yield
        module._RandomNameSequence = _FixedNames  # type: ignore[attr-defined]

    @contextmanager
    def multiprocessing_process_context(module: ModuleType) -> Iterator[None]:
        with allow_bad_entropy_calls(1):
            yield

    register_exec_patch("tempfile", tempfile_context)
    register_exec_patch("multiprocessing.process", multiprocessing_process_context)
    install_import_patch_manager()


class _FixedNames:
    characters = "abcdefghijklmnopqrstuvwxyz0123456789_"

    def __init__(self) -> None:
        self.index = 0

    def __iter__(self) -> _FixedNames:
        return self

    def __next__(self) -> str:
        self.index += 1
        value, name = self.index, []
        for _ in range(8):
            value, digit = divmod(value, len(self.characters))
            name.append(self.characters[digit])
        return "".join(name)


def main(module_name: str, *paths: str) -> None:
    sys.path[:0] = [*paths, str(PROJECT_ROOT / "tests" / "sdk_fakes"), str(PROJECT_ROOT / "src")]
    _install_runtime_rules()
    # What the SDK's .pth file loads inside workerd (its loader module already ran at start-up
    # here and found no `_cloudflare`, so the two are imported directly).
    importlib.import_module("_workers_sdk_entropy_import_context")
    importlib.import_module("_workers_sdk_package_patches")
    importlib.import_module(module_name)

    from _cloudflare.allow_entropy import windows

    loaded = {name: getattr(module, "__file__", None) for name, module in sys.modules.items()}
    print(json.dumps({"modules": loaded, "windows": windows()}))


if __name__ == "__main__":
    main(*sys.argv[1:])
