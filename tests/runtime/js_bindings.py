"""Fakes of Cloudflare's bindings as the `workers` SDK presents them to Python.

Each reproduces a documented shape (shared/cloudflare-python-workers.md), not our adapters'
expectations: D1 results as `JsDict`s with BLOBs as lists of ints and D1's error messages,
R2 objects with item and attribute access and list pages whose objects stay raw JsProxies, R2
multipart uploads with R2's part rules and etags, DO storage cursors, and the SDK's refusal of
tuples and bytearrays.
"""

from __future__ import annotations

import asyncio
import hashlib
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pyodide.ffi import JsException, JsUint8Array, jsnull


class JsDict(dict[str, Any]):
    """The SDK's `JsDict`: a dict that also allows attribute access (workers/rpc.py)."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


def _sdk_argument(value: Any) -> Any:
    """`python_to_rpc`: tuple and bytearray are refused, None becomes JS null."""
    if isinstance(value, (tuple, bytearray)):
        raise TypeError(f"{type(value)} cannot be sent over RPC.")
    return jsnull if value is None else value


def _from_js_number(value: Any) -> Any:
    # JS numbers reach Python as int when they are safe integers, else float.
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 2**53:
        return float(value)
    return value


# --- D1 -------------------------------------------------------------------------------------


class FakeD1Binding:
    """`env.DB`, wrapped: prepare() is sync, the rest async; results converted to JsDict."""

    def __init__(self) -> None:
        self.connection = sqlite3.connect(":memory:", isolation_level=None)

    def prepare(self, sql: str) -> FakeD1Statement:
        return FakeD1Statement(self, sql, [])

    async def batch(self, statements: list[FakeD1Statement]) -> list[JsDict]:
        if not isinstance(statements, list):
            raise TypeError("batch() expects an Array of statements")
        self.connection.execute("SAVEPOINT b")
        try:
            results = [statement.execute() for statement in statements]
        except JsException:
            self.connection.execute("ROLLBACK TO b")
            self.connection.execute("RELEASE b")
            raise
        self.connection.execute("RELEASE b")
        return results


class FakeD1Statement:
    def __init__(self, database: FakeD1Binding, sql: str, params: list[Any]) -> None:
        self.database = database
        self.sql = sql
        self.params = params

    def bind(self, *params: Any) -> FakeD1Statement:
        return FakeD1Statement(self.database, self.sql, [_sdk_argument(p) for p in params])

    def execute(self) -> JsDict:
        columns, rows, cursor = self._query()
        return JsDict(
            success=True,
            meta=JsDict(
                served_by="miniflare.db",
                duration=0.1,
                changes=max(cursor.rowcount, 0),
                last_row_id=cursor.lastrowid or 0,
                changed_db=cursor.rowcount > 0,
                size_after=8192,
                rows_read=len(rows),
                rows_written=max(cursor.rowcount, 0),
            ),
            results=[JsDict(zip(columns, row, strict=True)) for row in rows],
        )

    async def all(self) -> JsDict:
        return self.execute()

    async def run(self) -> JsDict:
        return self.execute()

    async def raw(self, columnNames: bool = False) -> list[list[Any]]:
        columns, rows, _ = self._query()
        return [list(columns), *rows] if columnNames else rows

    def _query(self) -> tuple[list[str], list[list[Any]], sqlite3.Cursor]:
        values = []
        for value in self.params:
            if isinstance(value, int) and abs(value) >= 2**53 - 1:
                raise JsException("D1_TYPE_ERROR: Type 'bigint' not supported for value")
            values.append(None if value is jsnull else value)
        try:
            cursor = self.database.connection.execute(self.sql, values)
            columns = [c[0] for c in cursor.description or ()]
            rows = [[_d1_value(v) for v in row] for row in cursor.fetchall()]
        except sqlite3.Error as exc:
            kind = (
                "SQLITE_CONSTRAINT" if isinstance(exc, sqlite3.IntegrityError) else "SQLITE_ERROR"
            )
            raise JsException(f"D1_ERROR: {exc}: {kind}") from exc
        return columns, rows, cursor


def _d1_value(value: Any) -> Any:
    if isinstance(value, bytes):
        return list(value)  # D1 hands a BLOB over as Array.from(bytes)
    return _from_js_number(value)


# --- R2 -------------------------------------------------------------------------------------


class JsDate:
    def __init__(self, ms: float) -> None:
        self._ms = ms

    def getTime(self) -> float:
        return self._ms


class RawJsObject:
    """A plain JS object left unconverted (nested inside a converted list page)."""

    def __init__(self, **fields: Any) -> None:
        self.__dict__.update(fields)

    def to_py(self) -> dict[str, Any]:
        return dict(self.__dict__)


class RawR2Object:
    """An R2Object nested in a list page: attributes only, Date and metadata unconverted."""

    def __init__(self, stored: dict[str, Any]) -> None:
        self.key = stored["key"]
        self.size = len(stored["data"])
        self.etag = stored["etag"]
        self.httpEtag = f'"{stored["etag"]}"'
        self.uploaded = JsDate(stored["uploaded_ms"])
        self.httpMetadata = RawJsObject(**stored["http"])
        self.customMetadata = RawJsObject(**stored["custom"])


class FakeUint8Array:
    """A JS Uint8Array as a JsProxy: `length`, `subarray` (a view, no copy) and `to_bytes`.

    Every `to_bytes()` is a copy into Python, so it is recorded in `reads` (its length).
    """

    def __init__(self, data: memoryview, reads: list[int]) -> None:
        self._data = data
        self._reads = reads
        self.length = len(data)

    def subarray(self, start: int, end: int) -> FakeUint8Array:
        return FakeUint8Array(self._data[start:end], self._reads)

    def to_bytes(self) -> bytes:
        self._reads.append(len(self._data))
        return bytes(self._data)


class FakeReadableStream:
    """A JS ReadableStream of Uint8Array chunks (Pyodide makes it async-iterable); read once."""

    def __init__(self, data: bytes, *, chunk_bytes: int, reads: list[int]) -> None:
        self._data = memoryview(data)
        self._chunk_bytes = chunk_bytes
        self.reads = reads
        self.locked = False

    async def __aiter__(self) -> AsyncIterator[FakeUint8Array]:
        if self.locked:
            raise JsException("TypeError: This ReadableStream is currently locked to a reader.")
        self.locked = True
        for start in range(0, len(self._data), self._chunk_bytes):
            yield FakeUint8Array(self._data[start : start + self._chunk_bytes], self.reads)


class WrappedR2Object:
    """An R2Object / R2ObjectBody behind `_BindingWrapper`: item and attribute access.

    `body` is the raw ReadableStream: the SDK passes ReadableStream through unwrapped
    (`_JS_PASSTHROUGH_TYPES` in workers/utils.py), ready for `Response(body)`.
    """

    def __init__(
        self,
        stored: dict[str, Any],
        *,
        body: bytes | None,
        range_: dict[str, int] | None,
        chunk_bytes: int = 64 * 1024,
        reads: list[int] | None = None,
    ) -> None:
        self.key = stored["key"]
        self.size = len(stored["data"])
        self.etag = stored["etag"]
        self.httpEtag = f'"{stored["etag"]}"'
        # The SDK converts a Date with datetime.fromtimestamp(): no time zone.
        self.uploaded = datetime.fromtimestamp(stored["uploaded_ms"] / 1000, tz=UTC).replace(
            tzinfo=None
        )
        self.httpMetadata = JsDict(stored["http"])
        self.customMetadata = JsDict(stored["custom"])
        self.range = JsDict(range_) if range_ else None
        if body is not None:
            self.body = FakeReadableStream(
                body, chunk_bytes=chunk_bytes, reads=reads if reads is not None else []
            )
            self._data = body

    def __getitem__(self, name: str) -> Any:
        return getattr(self, name)

    async def arrayBuffer(self) -> memoryview:
        if self.body.locked:
            raise JsException("TypeError: Body has already been used.")
        self.body.reads.append(len(self._data))
        return memoryview(self._data)


class FakeR2Binding:
    """`env.AUDIO`, wrapped. Bodies stream in chunks of `chunk_bytes` (R2 picks the size; a
    large one shows that the adapter splits it); `reads` lists each copy of body bytes into Python.
    """

    def __init__(self, *, chunk_bytes: int = 64 * 1024) -> None:
        self.objects: dict[str, dict[str, Any]] = {}
        self.calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []
        self.chunk_bytes = chunk_bytes
        self.reads: list[int] = []
        # Multipart uploads in progress, by upload id: their part data by part number.
        self.uploads: dict[str, dict[int, bytes]] = {}

    async def put(self, key: str, value: Any, **options: Any) -> WrappedR2Object:
        self.calls.append(("put", (key,), options))
        data = value.encode() if isinstance(value, str) else bytes(_sdk_argument(value))
        return self._store(key, data, etag=hashlib.md5(data).hexdigest(), options=options)

    async def createMultipartUpload(self, key: str, **options: Any) -> FakeR2MultipartUpload:
        self.calls.append(("createMultipartUpload", (key,), options))
        upload_id = f"upload-{len(self.calls)}"
        self.uploads[upload_id] = {}
        return FakeR2MultipartUpload(self, key=key, upload_id=upload_id, options=options)

    def _store(
        self, key: str, data: bytes, *, etag: str, options: dict[str, Any]
    ) -> WrappedR2Object:
        self.objects[key] = {
            "key": key,
            "data": data,
            "etag": etag,
            "uploaded_ms": 1_800_000_000_000,
            "http": dict(options.get("httpMetadata", {})),
            "custom": dict(options.get("customMetadata", {})),
        }
        return WrappedR2Object(self.objects[key], body=None, range_=None)

    async def get(self, key: str, **options: Any) -> WrappedR2Object | None:
        self.calls.append(("get", (key,), options))
        stored = self.objects.get(key)
        if stored is None:
            return None
        only_if = options.get("onlyIf") or {}
        if (
            "etagDoesNotMatch" in only_if
            and only_if["etagDoesNotMatch"].strip('"') == stored["etag"]
        ):
            return WrappedR2Object(stored, body=None, range_=None)
        data: bytes = stored["data"]
        requested = options.get("range")
        if requested is None:
            return self._body(stored, data, range_=None)
        if "suffix" in requested:
            offset = max(len(data) - requested["suffix"], 0)
        else:
            offset = requested.get("offset", 0)
        if offset >= len(data):
            raise JsException("get: The requested range is not satisfiable (10039)")
        length = requested.get("length", len(data) - offset)
        return self._body(
            stored, data[offset : offset + length], range_={"offset": offset, "length": length}
        )

    def _body(
        self, stored: dict[str, Any], data: bytes, *, range_: dict[str, int] | None
    ) -> WrappedR2Object:
        return WrappedR2Object(
            stored, body=data, range_=range_, chunk_bytes=self.chunk_bytes, reads=self.reads
        )

    async def head(self, key: str) -> WrappedR2Object | None:
        stored = self.objects.get(key)
        return None if stored is None else WrappedR2Object(stored, body=None, range_=None)

    async def delete(self, keys: str | list[str]) -> None:
        for key in [keys] if isinstance(keys, str) else keys:
            self.objects.pop(key, None)

    async def list(self, **options: Any) -> JsDict:
        self.calls.append(("list", (), options))
        prefix = options.get("prefix", "")
        keys = sorted(
            k for k in self.objects if k.startswith(prefix) and k > options.get("cursor", "")
        )
        limit = options.get("limit", 1000)
        page = keys[:limit]
        result = JsDict(
            objects=[RawR2Object(self.objects[k]) for k in page],
            truncated=len(keys) > limit,
            delimitedPrefixes=[],
        )
        if len(keys) > limit:
            result["cursor"] = page[-1]
        return result


class FakeR2MultipartUpload:
    """A wrapped R2MultipartUpload with R2's documented rules (r2/objects/multipart-objects).

    Parts are 5 MiB to 5 GiB, all but the last the same size and the last no larger, part
    numbers 1..10,000; `complete` checks sizes and etags and joins the parts in part-number
    order, its etag the MD5 of the parts' binary MD5s plus `-<parts>`. A part must arrive as an
    ArrayBuffer or `bytes` (which the SDK copies into a Uint8Array): the SDK's iterable check
    walks a memoryview or a Uint8Array item by item, so those are refused here.
    """

    def __init__(
        self, binding: FakeR2Binding, *, key: str, upload_id: str, options: dict[str, Any]
    ) -> None:
        self.key = key
        self.uploadId = upload_id
        self._binding = binding
        self._options = options

    def __getitem__(self, name: str) -> Any:
        return getattr(self, name)

    async def uploadPart(self, partNumber: int, value: Any) -> JsDict:
        self._binding.calls.append(("uploadPart", (self.key, partNumber), {"size": len(value)}))
        if isinstance(value, (memoryview, JsUint8Array)):
            # The SDK wrapper checks each item of an iterable: 13 s for 5 MiB under Pyodide.
            raise TypeError(f"{type(value).__name__} reached the SDK wrapper; pass an ArrayBuffer.")
        data = value.encode() if isinstance(value, str) else bytes(_sdk_argument(value))
        parts = self._parts()
        if not 1 <= partNumber <= 10_000:
            raise JsException("uploadPart: Part number must be between 1 and 10000. (10020)")
        if len(data) > 5 * 1024**3:
            raise JsException("uploadPart: Your proposed upload exceeds the maximum allowed size")
        parts[partNumber] = data
        return JsDict(partNumber=partNumber, etag=hashlib.md5(data).hexdigest())

    async def complete(self, uploadedParts: list[dict[str, Any]]) -> WrappedR2Object:
        self._binding.calls.append(("complete", (self.key,), {"parts": len(uploadedParts)}))
        parts = self._parts()
        numbers = sorted(int(part["partNumber"]) for part in uploadedParts)
        for part in uploadedParts:
            data = parts.get(int(part["partNumber"]))
            if data is None or hashlib.md5(data).hexdigest() != part["etag"]:
                raise JsException(
                    "complete: One or more of the specified parts could not be found. (10025)"
                )
        sizes = [len(parts[number]) for number in numbers]
        if sizes[:-1] and (
            min(sizes[:-1]) < 5 * 1024 * 1024 or len(set(sizes[:-1])) > 1 or sizes[-1] > sizes[0]
        ):
            raise JsException(
                "complete: Your proposed upload is smaller than the minimum allowed object"
                " size. (10011)"
            )
        digests = b"".join(hashlib.md5(parts[number]).digest() for number in numbers)
        etag = f"{hashlib.md5(digests).hexdigest()}-{len(numbers)}"
        data = b"".join(parts[number] for number in numbers)
        del self._binding.uploads[self.uploadId]
        return self._binding._store(self.key, data, etag=etag, options=self._options)

    async def abort(self) -> None:
        self._binding.calls.append(("abort", (self.key,), {}))
        self._binding.uploads.pop(self.uploadId, None)

    def _parts(self) -> dict[int, bytes]:
        parts = self._binding.uploads.get(self.uploadId)
        if parts is None:
            raise JsException("The specified multipart upload does not exist. (10024)")
        return parts


# --- Durable Objects -----------------------------------------------------------------------


class FakeDurableObjectId:
    def __init__(self, hex_id: str) -> None:
        self._hex = hex_id

    def toString(self) -> str:
        return self._hex


class FakeSqlCursor:
    def __init__(self, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
        self._rows = [JsDict(zip(columns, row, strict=True)) for row in rows]

    def toArray(self) -> list[JsDict]:
        # Binary columns come back as ArrayBuffer, which the wrapper turns into memoryview.
        return [
            JsDict({k: memoryview(v) if isinstance(v, bytes) else v for k, v in row.items()})
            for row in self._rows
        ]


class FakeSqlStorage:
    def __init__(self) -> None:
        self.connection = sqlite3.connect(":memory:", isolation_level=None)

    def exec(self, query: str, *params: Any) -> FakeSqlCursor:
        try:
            cursor = self.connection.execute(query, [_sdk_argument(p) for p in params])
            return FakeSqlCursor([c[0] for c in cursor.description or ()], cursor.fetchall())
        except sqlite3.Error as exc:
            raise JsException(f"{exc}: SQLITE_ERROR") from exc


class FakeDurableObjectStorage:
    """`ctx.storage`, wrapped: `sql` is synchronous, the alarm methods are async (ms epochs)."""

    def __init__(self) -> None:
        self.sql = FakeSqlStorage()
        self.alarm_ms: float | None = None

    async def getAlarm(self) -> float | None:
        return self.alarm_ms

    async def setAlarm(self, at_ms: int) -> None:
        self.alarm_ms = at_ms

    async def deleteAlarm(self) -> None:
        self.alarm_ms = None

    async def deleteAll(self) -> None:
        """Every table and row, and (compatibility date 2026-02-24 on) the alarm."""
        connection = self.sql.connection
        names = connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        ).fetchall()
        for (name,) in names:
            connection.execute(f'DROP TABLE "{name}"')
        self.alarm_ms = None


class FakeDurableObjectContext:
    """`ctx`: the id, the wrapped storage, and the Hibernation API's raw socket methods.

    Accepted sockets belong to the context, not to the object instance, so they outlive an
    eviction (`FakeDurableObjectNamespace.hibernate`), as on Cloudflare.
    """

    def __init__(self, hex_id: str) -> None:
        self.id = FakeDurableObjectId(hex_id)
        self.storage = FakeDurableObjectStorage()
        self.accepted: list[Any] = []

    def acceptWebSocket(self, ws: Any, tags: Any = None) -> None:
        if ws in self.accepted:
            raise JsException("WebSocket already accepted.", name="TypeError")
        self.accepted.append(ws)

    def getWebSockets(self, tag: str | None = None) -> list[Any]:
        # A socket drops out once either side has sent its close frame.
        return [ws for ws in self.accepted if not ws.closing and ws.closed is None]


class FakeDurableObjectNamespace:
    """`env.USER_QUEUE`: ids by name, one host instance per id, RPC through `call`."""

    def __init__(self, host_class: type, env: Any) -> None:
        self._host_class = host_class
        self._env = env
        self.instances: dict[str, Any] = {}

    def idFromName(self, name: str) -> FakeDurableObjectId:
        return FakeDurableObjectId(hashlib.sha256(name.encode()).hexdigest())

    def idFromString(self, hex_id: str) -> FakeDurableObjectId:
        return FakeDurableObjectId(hex_id)

    def get(self, object_id: FakeDurableObjectId) -> FakeStub:
        hex_id = object_id.toString()
        if hex_id not in self.instances:
            self.instances[hex_id] = self._host_class(FakeDurableObjectContext(hex_id), self._env)
        return FakeStub(self.instances[hex_id])

    def hibernate(self, hex_id: str) -> None:
        """Evict the object: the next event builds a new instance (memory lost, sockets kept)."""
        self.instances[hex_id] = self._host_class(self.instances[hex_id].ctx, self._env)

    async def deliver(self, client: Any, message: Any) -> None:
        """A message the client end sent, handed to the object holding the other end."""
        client.send(message)
        await self._holder(client.peer).webSocketMessage(client.peer, message)

    async def disconnect(self, client: Any, code: int, reason: str) -> None:
        """The client closes: the object's `webSocketClose` runs with the client's frame."""
        client.close(code, reason)
        await self._holder(client.peer).webSocketClose(client.peer, code, reason, True)

    def _holder(self, server: Any) -> Any:
        (host,) = [host for host in self.instances.values() if server in host.ctx.accepted]
        return host


class FakeStub:
    def __init__(self, host: Any) -> None:
        self._host = host

    async def call(self, method: str, args: list[Any]) -> Any:
        for arg in args:
            _sdk_argument(arg)
        return JsDict(await self._host.call(method, args))

    async def fetch(self, request: Any) -> Any:
        # The SDK hands the object the same `workers.Request` the Worker forwarded.
        return await self._host.fetch(request)


class FakeEnv:
    """The wrapped `env`: bindings as attributes, vars as strings."""

    def __init__(self, **values: Any) -> None:
        self.__dict__.update(values)


# --- fetch ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scripted:
    """One answer from the far end: its headers after `headers_after` s, then each body piece
    after its own delay. Both the JS fake network and the local test server play it."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    pieces: tuple[tuple[float, bytes], ...] = ()
    headers_after: float = 0.0
    unreachable: bool = False  # the connection fails before any answer

    @property
    def body(self) -> bytes:
        return b"".join(piece for _, piece in self.pieces)


@dataclass(frozen=True)
class SentRequest:
    method: str
    url: str
    headers: dict[str, str]
    body: bytes | None


class _ScriptedReply:
    def __init__(self, script: Scripted) -> None:
        self.status = script.status
        self.headers = {**script.headers, "content-length": str(len(script.body))}
        self._pieces = script.pieces

    async def pieces(self) -> AsyncIterator[bytes]:
        for delay, piece in self._pieces:
            await asyncio.sleep(delay)
            yield piece


class FakeNetwork:
    """The far end of the fake `js.fetch`: records what arrived and plays `script`."""

    def __init__(self, script: Scripted) -> None:
        self.script = script
        self.requests: list[SentRequest] = []

    async def __call__(self, url: str, init: dict[str, Any]) -> _ScriptedReply:
        body = init.get("body")
        self.requests.append(
            SentRequest(
                method=str(init.get("method", "GET")),
                url=url,
                headers={str(k).lower(): str(v) for k, v in init.get("headers", {}).items()},
                body=None if body is None else bytes(body),
            )
        )
        if self.script.unreachable:
            raise JsException("Network connection lost.", name="TypeError")
        await asyncio.sleep(self.script.headers_after)
        return _ScriptedReply(self.script)


# --- Workers AI -----------------------------------------------------------------------------


class FakeAiBinding:
    """The wrapped `AI` binding: `run(model, inputs)` with the SDK's conversions around the
    documented JSON-mode call. The answer object comes back as a `JsDict`; a failure is the JS
    error workerd throws, which reaches Python as `JsException`."""

    def __init__(self, answer: Any = None, *, error: str | None = None) -> None:
        self.answer = answer
        self.error = error
        self.calls: list[tuple[str, Any]] = []

    async def run(self, model: str, inputs: Any) -> Any:
        _refuse_tuples(inputs)
        self.calls.append((model, inputs))
        if self.error is not None:
            raise JsException(f"Error: {self.error}")
        if isinstance(self.answer, dict):
            return JsDict(response=JsDict(self.answer))
        return self.answer


def _refuse_tuples(value: Any) -> None:
    """`python_to_rpc` converts nested values too, and refuses a tuple at any depth."""
    _sdk_argument(value)
    children = (
        value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    )
    for child in children:
        _refuse_tuples(child)
