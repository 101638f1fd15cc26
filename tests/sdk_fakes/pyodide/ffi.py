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


class JsArrayBuffer(bytes):
    """A JS ArrayBuffer, as `Uint8Array.buffer` gives it."""


class JsUint8Array(bytes):
    """What `to_js` makes of a memoryview: a JS Uint8Array holding a copy of its bytes."""

    @property
    def buffer(self) -> JsArrayBuffer:
        return JsArrayBuffer(self)


class JsPlainObject(dict[str, Any]):
    """A dict `to_js(..., dict_converter=Object.fromEntries)` made into a plain JS object.

    A dict passed to JS without that conversion stays a PyProxy, which JS APIs that clone their
    argument (structured clone, e.g. `serializeAttachment`) refuse.
    """


def to_js(value: Any, **options: Any) -> Any:
    # Pyodide copies a buffer into a TypedArray; a memoryview shows that conversion happened.
    if isinstance(value, memoryview):
        return JsUint8Array(value)
    if isinstance(value, dict) and "dict_converter" in options:
        return JsPlainObject(value)
    return value
