"""Cloudflare's `_headers` file, read the way Workers static assets read it.

Format (developers.cloudflare.com/workers/static-assets/headers): a URL pattern on its own
line, then indented `Name: value` lines for it, or `! Name` to drop a header an earlier rule
set. In a pattern `*` matches any run of characters and `:name` one path segment. Headers of
every matching rule apply; a name set by several rules gets their values joined by commas.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

HEADERS_FILE = "_headers"


@dataclass(frozen=True)
class HeaderRule:
    pattern: str
    headers: tuple[tuple[str, str], ...]
    detach: tuple[str, ...] = ()

    def matches(self, path: str) -> bool:
        return _compile(self.pattern).fullmatch(path) is not None


def read_headers_file(public_dir: Path) -> list[HeaderRule]:
    """The rules of `public_dir/_headers`, or none when the file does not exist."""
    path = public_dir / HEADERS_FILE
    return parse_headers(path.read_text(encoding="utf-8")) if path.is_file() else []


def parse_headers(text: str) -> list[HeaderRule]:
    """Raises ValueError naming the line when it is neither a pattern, a header nor a comment."""
    rules: list[HeaderRule] = []
    pattern: str | None = None
    headers: list[tuple[str, str]] = []
    detach: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if not line[0].isspace():
            if pattern is not None:
                rules.append(HeaderRule(pattern, tuple(headers), tuple(detach)))
            pattern, headers, detach = _check_pattern(stripped, number), [], []
            continue
        if pattern is None:
            raise ValueError(f"_headers line {number}: a header comes before any URL pattern.")
        if stripped.startswith("!"):
            detach.append(stripped[1:].strip().lower())
            continue
        name, colon, value = stripped.partition(":")
        if not colon or not name.strip():
            raise ValueError(f"_headers line {number}: expected 'Name: value', got {stripped!r}.")
        headers.append((name.strip().lower(), value.strip()))
    if pattern is not None:
        rules.append(HeaderRule(pattern, tuple(headers), tuple(detach)))
    return rules


def headers_for(rules: list[HeaderRule], path: str) -> tuple[dict[str, str], set[str]]:
    """The headers to set on the asset at `path`, and the names to remove from it."""
    merged: dict[str, str] = {}
    removed: set[str] = set()
    for rule in rules:
        if not rule.matches(path):
            continue
        for name, value in rule.headers:
            merged[name] = f"{merged[name]}, {value}" if name in merged else value
        removed.update(rule.detach)
    for name in removed:
        merged.pop(name, None)
    return merged, removed


def _check_pattern(pattern: str, number: int) -> str:
    # Absolute rules name a host; locally every request is for the one site.
    if not pattern.startswith("/"):
        raise ValueError(
            f"_headers line {number}: only path patterns such as '/static/*' are supported,"
            f" got {pattern!r}."
        )
    return pattern


@cache
def _compile(pattern: str) -> re.Pattern[str]:
    parts = re.split(r"(\*|:[A-Za-z]\w*)", pattern)
    regex = "".join(
        ".*" if part == "*" else "[^/]+" if part.startswith(":") else re.escape(part)
        for part in parts
    )
    return re.compile(regex)
