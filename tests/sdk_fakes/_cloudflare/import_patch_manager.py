"""Per-module import patches (workerd: topLevelEntropy/import_patch_manager.py).

A module registered with `register_exec_patch(name)` (or `register_create_patch`) is created or
executed inside the registered context manager, which is where the Workers SDK opens its entropy
windows. `block_calls` swaps a module for a proxy whose functions refuse to run at the top level.
Handlers for after the snapshot and before the first request are accepted and not run: the guard
stops at the end of the top level.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from functools import partial
from importlib.machinery import ModuleSpec
from types import ModuleType
from typing import Any

from _cloudflare.allow_entropy import PATCHED

Context = Callable[[Any], AbstractContextManager[Any]]


@dataclass
class PatchInfo:
    create: Context | None = None
    exec: Context | None = None


PATCHES: dict[str, PatchInfo] = {}


def register_create_patch(name: str, context_manager: Context | None = None) -> Any:
    if context_manager is None:
        return partial(register_create_patch, name)
    PATCHES.setdefault(name, PatchInfo()).create = context_manager
    return context_manager


def register_exec_patch(name: str, context_manager: Context | None = None) -> Any:
    if context_manager is None:
        return partial(register_exec_patch, name)
    PATCHES.setdefault(name, PatchInfo()).exec = context_manager
    return context_manager


def register_after_snapshot(name: str, handler: Callable[[Any], None] | None = None) -> Any:
    return partial(register_after_snapshot, name) if handler is None else handler


def register_before_first_request(name: str, handler: Callable[[Any], None] | None = None) -> Any:
    return partial(register_before_first_request, name) if handler is None else handler


class BlockedCallModule:
    """Passes attribute reads to the module; a callable not in the allow-list refuses to run."""

    def __init__(self, module: ModuleType, allowlist: tuple[str, ...]) -> None:
        object.__setattr__(self, "_module", module)
        object.__setattr__(self, "_allowlist", allowlist)

    def __getattribute__(self, key: str) -> Any:
        module: ModuleType = object.__getattribute__(self, "_module")
        value = getattr(module, key)
        if not callable(value) or key in object.__getattribute__(self, "_allowlist"):
            return value

        def refused(*args: Any, **kwargs: Any) -> Any:
            raise RuntimeError(f"Cannot use {module.__name__}.{key}() outside of request context")

        return refused

    def __setattr__(self, key: str, value: Any) -> None:
        setattr(object.__getattribute__(self, "_module"), key, value)

    def __dir__(self) -> list[str]:
        return dir(object.__getattribute__(self, "_module"))


def block_calls(module: ModuleType, *, allowlist: tuple[str, ...] = ()) -> None:
    sys.modules[module.__name__] = BlockedCallModule(module, allowlist)  # type: ignore[assignment]


@contextmanager
def _patched(name: str, context: Context | None, target: Any) -> Iterator[None]:
    if context is None:
        yield
        return
    PATCHED.append((name, getattr(context, "__name__", repr(context))))
    try:
        with context(target):
            yield
    finally:
        PATCHED.pop()


class PatchLoader:
    def __init__(self, loader: Any, name: str, info: PatchInfo) -> None:
        self.loader = loader
        self.name = name
        self.info = info

    def __getattr__(self, key: str) -> Any:
        return getattr(self.loader, key)

    def create_module(self, spec: ModuleSpec) -> ModuleType | None:
        with _patched(self.name, self.info.create, spec):
            module: ModuleType | None = self.loader.create_module(spec)
            return module

    def exec_module(self, module: ModuleType) -> None:
        with _patched(self.name, self.info.exec, module):
            self.loader.exec_module(module)


class PatchFinder:
    """First on sys.meta_path: finds a patched module with the other finders, wraps its loader."""

    def invalidate_caches(self) -> None:
        pass

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> ModuleSpec | None:
        info = PATCHES.get(fullname)
        if info is None:
            return None
        for finder in sys.meta_path:
            find_spec = getattr(finder, "find_spec", None)
            if finder is self or find_spec is None:
                continue
            spec: ModuleSpec | None = find_spec(fullname, path, target)
            if spec is not None:
                spec.loader = PatchLoader(spec.loader, fullname, info)  # type: ignore[assignment]
                return spec
        return None


def install_import_patch_manager() -> None:
    sys.meta_path.insert(0, PatchFinder())
