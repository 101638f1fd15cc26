"""`pyodide.ffi` as the Cloudflare adapters use it."""

from __future__ import annotations

from typing import Any


class JsException(Exception):
    """A JS error surfacing in Python; `str()` is the JS message, e.g. "D1_ERROR: ..."."""

    def __init__(self, message: str, name: str = "Error") -> None:
        super().__init__(message)
        self.name = name
        self.message = message


class _JsNull:
    def __repr__(self) -> str:
        return "jsnull"

    def __bool__(self) -> bool:
        return False


jsnull = _JsNull()


def to_js(value: Any, **_options: Any) -> Any:
    return value
