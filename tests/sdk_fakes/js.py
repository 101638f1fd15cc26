"""`js` as the adapters use it: `crypto.subtle`, `Object`, `fetch`, `AbortSignal`, `WebSocketPair`.

PBKDF2 is computed with hashlib, and workerd's refusal above 100,000 iterations is reproduced
(limit-enforcer.h), so the adapter is tested against the documented behaviour. AES-GCM really
encrypts (with `cryptography`, imported only when called) and, as WebCrypto does, appends the
tag to the ciphertext and reports a tag that does not verify as an `OperationError`.

`fetch(url, init)` answers from `network` (a test installs one, see tests/runtime/js_bindings.py)
with the Fetch standard's shapes: `init` a plain object (`to_js(..., dict_converter=
Object.fromEntries)`), the promise resolving once the headers arrive, `Headers.entries()` giving
lower-case `[name, value]` pairs, `async for` over `body` giving its pieces. A signal from
`AbortSignal.timeout(ms)` rejects whichever of the two is pending with a `TimeoutError`
DOMException, the body read included ("abort fetch" errors the body stream).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from pyodide.ffi import JsException, JsPlainObject, jsnull


class _Buffer:
    def __init__(self, data: bytes) -> None:
        self._data = data

    def to_bytes(self) -> bytes:
        return self._data


class _Subtle:
    async def importKey(
        self, fmt: str, key: Any, algorithm: str, extractable: bool, usages: Any
    ) -> dict[str, Any]:
        if algorithm == "AES-GCM":
            if fmt != "raw" or extractable or not set(usages) <= {"encrypt", "decrypt"}:
                raise JsException("importKey: unsupported arguments", name="NotSupportedError")
            if len(bytes(key)) not in (16, 24, 32):
                raise JsException("importKey: invalid AES key length", name="DataError")
            return {"aes": bytes(key), "usages": list(usages)}
        if fmt != "raw" or algorithm != "PBKDF2" or extractable or list(usages) != ["deriveBits"]:
            raise JsException("importKey: unsupported arguments", name="NotSupportedError")
        return {"raw": bytes(key)}

    async def encrypt(self, params: dict[str, Any], key: dict[str, Any], data: Any) -> _Buffer:
        aes = _aes_gcm(params, key, "encrypt")
        return _Buffer(aes.encrypt(bytes(params["iv"]), bytes(data), _aad(params)))

    async def decrypt(self, params: dict[str, Any], key: dict[str, Any], data: Any) -> _Buffer:
        from cryptography.exceptions import InvalidTag

        aes = _aes_gcm(params, key, "decrypt")
        try:
            return _Buffer(aes.decrypt(bytes(params["iv"]), bytes(data), _aad(params)))
        except InvalidTag:
            raise JsException("Decryption failed.", name="OperationError") from None

    async def deriveBits(self, params: dict[str, Any], key: dict[str, Any], bits: int) -> _Buffer:
        if params.get("name") != "PBKDF2" or params.get("hash") != "SHA-256":
            raise JsException("deriveBits: unsupported algorithm", name="NotSupportedError")
        if params["iterations"] > 100_000:
            raise JsException(
                "Pbkdf2 failed: iteration counts above 100000 are not supported",
                name="DOMNotSupportedError",
            )
        derived = hashlib.pbkdf2_hmac(
            "sha256", key["raw"], bytes(params["salt"]), params["iterations"], bits // 8
        )
        return _Buffer(derived)


def _aes_gcm(params: dict[str, Any], key: dict[str, Any], usage: str) -> Any:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    if params.get("name") != "AES-GCM" or params.get("tagLength", 128) != 128:
        raise JsException(f"{usage}: unsupported algorithm", name="NotSupportedError")
    if "aes" not in key or usage not in key["usages"]:
        raise JsException(f"{usage}: key does not allow it", name="InvalidAccessError")
    return AESGCM(key["aes"])


def _aad(params: dict[str, Any]) -> bytes | None:
    data = params.get("additionalData")
    return None if data is None else bytes(data)


class _Crypto:
    subtle = _Subtle()


class Object:
    @staticmethod
    def fromEntries(entries: Any) -> dict[str, Any]:
        return dict(entries)

    @staticmethod
    def values(value: Any) -> list[Any]:
        if isinstance(value, _WebSocketPair):
            return [value.client, value.server]  # its keys are "0" and "1", in that order
        return list(dict(value).values())


crypto = _Crypto()


# --- fetch ----------------------------------------------------------------------------------


class _TimeoutSignal:
    def __init__(self, ms: int) -> None:
        self.aborted = asyncio.Event()
        self.timeout_ms = ms
        asyncio.get_running_loop().call_later(ms / 1000, self.aborted.set)


class AbortSignal:
    @staticmethod
    def timeout(ms: int) -> _TimeoutSignal:
        # WebIDL `[EnforceRange] unsigned long long`: a negative or non-finite value throws.
        if not isinstance(ms, int) or ms < 0:
            raise JsException(f"AbortSignal.timeout: {ms!r} is out of range", name="TypeError")
        return _TimeoutSignal(ms)


async def _unless_aborted(signal: _TimeoutSignal | None, step: Awaitable[Any]) -> Any:
    if signal is None:
        return await step
    work = asyncio.ensure_future(step)
    aborted = asyncio.ensure_future(signal.aborted.wait())
    await asyncio.wait({work, aborted}, return_when=asyncio.FIRST_COMPLETED)
    if work.done():
        aborted.cancel()
        return work.result()
    work.cancel()
    raise JsException("The operation was aborted due to timeout", name="TimeoutError")


class Headers:
    def __init__(self, pairs: dict[str, str]) -> None:
        self._pairs = {name.lower(): value for name, value in pairs.items()}

    def entries(self) -> Any:
        return iter([[name, value] for name, value in sorted(self._pairs.items())])


class _ReadableStream:
    """A body stream: `async for` gives its Uint8Array chunks, as Pyodide iterates it."""

    def __init__(self, pieces: AsyncIterator[bytes], signal: _TimeoutSignal | None) -> None:
        self._pieces = pieces
        self._signal = signal

    def __aiter__(self) -> _ReadableStream:
        return self

    async def __anext__(self) -> _Buffer:
        return _Buffer(await _unless_aborted(self._signal, self._pieces.__anext__()))


class Response:
    """What `fetch` resolves to: the headers have arrived, the body is still on its way.

    `body` is a ReadableStream, or `null` when the answer has none (a 204).
    """

    def __init__(self, reply: Any, signal: _TimeoutSignal | None) -> None:
        self.status = reply.status
        self.headers = Headers(reply.headers)
        self.body: Any = jsnull if reply.status == 204 else _ReadableStream(reply.pieces(), signal)


# A test installs the far end here: it takes (url, init) and returns a reply whose awaiting
# takes as long as its headers do, with `status`, `headers` and `pieces() -> AsyncIterator[bytes]`.
network: Callable[[str, dict[str, Any]], Awaitable[Any]] | None = None


async def fetch(url: str, init: Any) -> Response:
    if network is None:
        raise JsException("fetch: no network in this test", name="TypeError")
    if not isinstance(init, dict) or not isinstance(init.get("headers", {}), dict):
        raise JsException("fetch: init must be a plain object", name="TypeError")
    signal = init.get("signal")
    reply = await _unless_aborted(signal, network(url, init))
    return Response(reply, signal)


# --- WebSockets (workerd's WebSocketPair and the Hibernation API's socket methods) ----------

# Close codes that only report what happened and are never sent (RFC 6455 §7.4.1).
_RESERVED_CLOSE_CODES = frozenset({1004, 1005, 1006, 1015})
# workerd keeps at most 2,048 bytes of serialized attachment per socket.
MAX_ATTACHMENT_BYTES = 2048


class ClonedObject:
    """A structured clone handed back to Python: a JsProxy of a plain object (`to_py()`)."""

    def __init__(self, fields: dict[str, Any]) -> None:
        self._fields = fields

    def to_py(self) -> dict[str, Any]:
        return dict(self._fields)


class WebSocket:
    """One end of a pair. `received` holds what the other end sent; `closed` the close frame
    this end received (code, reason). A Python dict given to `serializeAttachment` without
    `to_js(..., dict_converter=Object.fromEntries)` is a PyProxy, which structured clone refuses.
    """

    def __init__(self) -> None:
        self.peer: WebSocket | None = None
        self.received: list[str] = []
        self.closed: tuple[int, str] | None = None
        self.closing = False
        self._attachment: dict[str, Any] | int | str | None = None

    def send(self, message: Any) -> None:
        if self.closing or self.closed is not None:
            raise JsException("Can't call WebSocket send() after close().", name="TypeError")
        if not isinstance(message, str):
            raise JsException("send() takes a string or an ArrayBuffer here", name="TypeError")
        assert self.peer is not None
        self.peer.received.append(message)

    def close(self, code: int = 1000, reason: str = "") -> None:
        if not 1000 <= code < 5000 or code in _RESERVED_CLOSE_CODES:
            raise JsException(f"Invalid WebSocket close code: {code}.", name="InvalidAccessError")
        if self.closing:
            raise JsException("WebSocket already closed.", name="TypeError")
        self.closing = True
        assert self.peer is not None
        self.peer.closed = (code, reason)

    def serializeAttachment(self, value: Any) -> None:
        if isinstance(value, dict) and not isinstance(value, JsPlainObject):
            raise JsException("PyProxy could not be cloned.", name="DataCloneError")
        if len(json.dumps(value)) > MAX_ATTACHMENT_BYTES:
            raise JsException("Attachment is too large.", name="RangeError")
        self._attachment = dict(value) if isinstance(value, dict) else value

    def deserializeAttachment(self) -> Any:
        if self._attachment is None:
            return jsnull
        if isinstance(self._attachment, dict):
            return ClonedObject(dict(self._attachment))
        return self._attachment


class _WebSocketPair:
    def __init__(self) -> None:
        self.client = WebSocket()
        self.server = WebSocket()
        self.client.peer = self.server
        self.server.peer = self.client


class WebSocketPair:
    @staticmethod
    def new() -> _WebSocketPair:
        return _WebSocketPair()
