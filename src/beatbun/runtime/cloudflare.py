"""Adapters over Cloudflare's bindings, as the `workers` SDK hands them to Python.

Written from shared/cloudflare-python-workers.md (§0.2 wrapped bindings, §3 D1, §4 R2, §5
Durable Objects, §6 and §12 outbound HTTP). The SDK already converts results to Python (plain
objects to `JsDict`, arrays to lists, `null` to None, binary to memoryview); what is left here
is D1's BLOBs arriving as lists of ints, R2 objects nested in list pages arriving unconverted,
and JS errors, which must never escape this module.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from pyodide.ffi import JsException, jsnull, to_js

from beatbun.errors import BlobStoreError, CoordinatorError, RuntimeFailure, SealedDataError
from beatbun.runtime.actors import Actor, push_events, unwrap_reply
from beatbun.runtime.base import (
    MAX_KEYS_PER_CALL,
    MAX_READ_BYTES,
    BlobListing,
    BlobObject,
    BlobStream,
    ByteRange,
    Conditions,
    FetchError,
    FetchResponse,
    FetchStream,
    FetchTimeout,
    HttpMetadata,
    QueryMeta,
    QueryResult,
    Row,
    Runtime,
    SqlValue,
    UploadedPart,
)
from beatbun.runtime.blobrules import (
    check_completion,
    check_delete_keys,
    check_key,
    check_list_limit,
    check_part,
    custom_metadata_of,
)
from beatbun.runtime.cipherrules import check_aes_gcm
from beatbun.runtime.clock import SystemClock
from beatbun.runtime.d1rules import check_params, check_sql, error_from_message, first_of
from beatbun.runtime.fetchrules import check_timeout, read_whole, request_headers
from beatbun.runtime.kdfrules import check_pbkdf2
from beatbun.runtime.resend import ResendMailer
from beatbun.settings import ENV_VARS, Settings


def runtime_from_env(env: Any) -> Runtime:
    """Build the runtime from a Worker's (wrapped) `env`; cheap, so done per request."""
    # Bindings are looked up separately; only the vars and secrets Settings reads are copied.
    values = {name: str(getattr(env, name)) for name in ENV_VARS if hasattr(env, name)}
    settings = Settings.from_env(values)
    fetcher = JsFetcher()
    return Runtime(
        settings=settings,
        db=D1Database(env.DB),
        blobs=R2BlobStore(env.AUDIO),
        user_queues=DurableObjectNamespace(env.USER_QUEUE),
        clock=SystemClock(),
        kdf=WebCryptoKeyDerivation(),
        mailer=ResendMailer(fetcher, api_key=settings.mail_api_key, sender=settings.mail_from),
        cipher=WebCryptoCipher(),
        fetcher=fetcher,
        text_model=WorkersAI(env.AI) if hasattr(env, "AI") else None,
    )


class WorkersAI:
    """The `AI` binding (Workers AI) as the SDK wraps it: `run(model, inputs)` (§0.2).

    The SDK turns the inputs into a plain JS object and the answer back into a `JsDict`; a
    tuple anywhere in the inputs would be refused, so they travel as plain JSON values.
    """

    def __init__(self, binding: Any) -> None:
        self._binding = binding

    async def run(self, model: str, inputs: Mapping[str, Any]) -> Mapping[str, Any]:
        try:
            answer = await self._binding.run(model, json.loads(json.dumps(inputs)))
        except JsException as exc:
            raise RuntimeFailure(f"Workers AI failed: {exc}", code="text_model_error") from exc
        if not isinstance(answer, Mapping):
            raise RuntimeFailure(
                f"Workers AI answered {type(answer).__name__}, not an object.",
                code="text_model_error",
            )
        return dict(answer)


class JsFetcher:
    """Outbound HTTP by the runtime's own `fetch` (§6, §12), not Pyodide's httpx.

    httpx there drops `User-Agent` and its connect timeout covers the wait for the response
    headers; `fetch` sends every header we set, and `AbortSignal.timeout` aborts the whole call:
    an abort after the headers errors the body stream, so reading it fails as well.
    """

    async def fetch(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
        timeout_seconds: float,
    ) -> FetchResponse:
        return await read_whole(
            self.stream(method, url, headers=headers, body=body, timeout_seconds=timeout_seconds)
        )

    @contextlib.asynccontextmanager
    async def stream(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
        timeout_seconds: float,
    ) -> AsyncIterator[FetchStream]:
        check_timeout(timeout_seconds)
        # `js` exists only inside the Worker.
        from js import AbortSignal, Object, fetch
        from pyodide.ffi import to_js

        init: dict[str, Any] = {
            "method": method,
            "headers": request_headers(headers),
            "signal": AbortSignal.timeout(max(1, round(timeout_seconds * 1000))),
        }
        if body is not None:
            init["body"] = body  # to_js makes it a Uint8Array
        call = f"{method} {urlsplit(url).hostname}"
        try:
            response = await fetch(url, to_js(init, dict_converter=Object.fromEntries))
        except JsException as exc:
            raise _fetch_failure(exc, call, timeout_seconds) from exc
        yield FetchStream(
            status=int(response.status),
            headers={str(k): str(v) for k, v in response.headers.entries()},
            chunks=_fetched_chunks(response.body, call, timeout_seconds),
        )


def _fetch_failure(exc: JsException, call: str, timeout_seconds: float) -> FetchError:
    # AbortSignal.timeout rejects with a DOMException named TimeoutError.
    if exc.name in ("TimeoutError", "AbortError"):
        return FetchTimeout(f"{call} took longer than {timeout_seconds:g} s.")
    return FetchError(f"{call} failed: {exc.name}.")


async def _fetched_chunks(body: Any, call: str, timeout_seconds: float) -> AsyncIterator[bytes]:
    # A ReadableStream iterates as Uint8Array chunks (§1.3); a body-less answer (a 204) has
    # `body` null, which is jsnull rather than None (§0.4). The call's AbortSignal also errors
    # the body, so a deadline that passes mid-body surfaces where the chunks are read.
    if body is None or body is jsnull:
        return
    try:
        async for chunk in body:
            yield bytes(chunk.to_bytes())
    except JsException as exc:
        raise _fetch_failure(exc, call, timeout_seconds) from exc


class WebCryptoKeyDerivation:
    """PBKDF2 by `crypto.subtle` (§8): native speed, where hashlib would burn Wasm CPU time."""

    async def pbkdf2_sha256(
        self, password: bytes, salt: bytes, *, iterations: int, length: int
    ) -> bytes:
        check_pbkdf2(iterations=iterations, length=length)
        # `js` exists only inside the Worker, and crypto must not be touched at import time.
        from js import Object, crypto
        from pyodide.ffi import to_js

        try:
            key = await crypto.subtle.importKey(
                "raw", to_js(password), "PBKDF2", False, to_js(["deriveBits"])
            )
            params = to_js(
                {"name": "PBKDF2", "hash": "SHA-256", "salt": salt, "iterations": iterations},
                dict_converter=Object.fromEntries,
            )
            bits = await crypto.subtle.deriveBits(params, key, length * 8)
        except JsException as exc:
            raise RuntimeFailure(f"WebCrypto PBKDF2 failed: {exc}", code="kdf_error") from exc
        return bytes(bits.to_bytes())


class WebCryptoCipher:
    """AES-256-GCM by `crypto.subtle` (§8): the tag is appended to the ciphertext, as locally."""

    async def seal(
        self, key: bytes, nonce: bytes, plaintext: bytes, *, associated_data: bytes = b""
    ) -> bytes:
        check_aes_gcm(key=key, nonce=nonce)
        try:
            return await self._run("encrypt", key, nonce, plaintext, associated_data)
        except JsException as exc:
            raise RuntimeFailure(f"WebCrypto AES-GCM failed: {exc}", code="cipher_error") from exc

    async def open(
        self, key: bytes, nonce: bytes, sealed: bytes, *, associated_data: bytes = b""
    ) -> bytes:
        check_aes_gcm(key=key, nonce=nonce, sealed=sealed)
        try:
            return await self._run("decrypt", key, nonce, sealed, associated_data)
        except JsException as exc:
            # WebCrypto reports a tag that does not verify as an OperationError.
            raise SealedDataError(
                f"WebCrypto AES-GCM decrypt failed: {exc}", code="sealed_data_error"
            ) from exc

    async def _run(
        self, operation: str, key: bytes, nonce: bytes, data: bytes, associated_data: bytes
    ) -> bytes:
        # `js` exists only inside the Worker, and crypto must not be touched at import time.
        from js import Object, crypto
        from pyodide.ffi import to_js

        crypto_key = await crypto.subtle.importKey(
            "raw", to_js(key), "AES-GCM", False, to_js([operation])
        )
        params = to_js(
            {"name": "AES-GCM", "iv": nonce, "additionalData": associated_data, "tagLength": 128},
            dict_converter=Object.fromEntries,
        )
        result = await getattr(crypto.subtle, operation)(params, crypto_key, to_js(data))
        return bytes(result.to_bytes())


class D1Database:
    def __init__(self, binding: Any) -> None:
        self._binding = binding

    def prepare(self, sql: str) -> D1Statement:
        check_sql(sql)
        return D1Statement(self._binding.prepare(sql))

    async def batch(self, statements: Sequence[Any]) -> list[QueryResult]:
        # A plain list: the SDK unwraps each statement; to_js() here would break the batch (§0.3).
        try:
            results = await self._binding.batch([statement.js for statement in statements])
        except JsException as exc:
            raise error_from_message(str(exc)) from exc
        return [_query_result(result) for result in results]


class D1Statement:
    def __init__(self, js_statement: Any) -> None:
        self.js = js_statement

    def bind(self, *params: SqlValue | bool) -> D1Statement:
        return D1Statement(self.js.bind(*check_params(params)))

    async def all(self) -> QueryResult:
        return _query_result(await self._call("all"))

    async def run(self) -> QueryResult:
        return _query_result(await self._call("run"))

    async def first(self, column: str | None = None) -> Any:
        return first_of(_query_result(await self._call("all")).results, column)

    async def raw(self, *, column_names: bool = False) -> list[list[SqlValue]]:
        rows = await self._call("raw", columnNames=column_names)
        return [[_sql_value(value) for value in row] for row in rows]

    async def _call(self, method: str, **options: Any) -> Any:
        try:
            return await getattr(self.js, method)(**options)
        except JsException as exc:
            raise error_from_message(str(exc)) from exc


def _query_result(result: Mapping[str, Any]) -> QueryResult:
    meta = result.get("meta") or {}
    return QueryResult(
        results=[_row(row) for row in result.get("results") or []],
        meta=QueryMeta(
            changes=int(meta.get("changes") or 0),
            last_row_id=int(meta.get("last_row_id") or 0),
            duration_ms=float(meta.get("duration") or 0),
        ),
    )


def _row(row: Mapping[str, Any]) -> Row:
    return {name: _sql_value(value) for name, value in row.items()}


def _sql_value(value: Any) -> SqlValue:
    # D1 returns a BLOB as a JS array of byte values (docs: d1/worker-api "Type conversion").
    if isinstance(value, list):
        return bytes(value)
    if isinstance(value, memoryview):
        return bytes(value)
    return value  # type: ignore[no-any-return]


class R2BlobStore:
    def __init__(self, binding: Any) -> None:
        self._binding = binding

    async def put(
        self,
        key: str,
        data: bytes | str,
        *,
        http_metadata: HttpMetadata | None = None,
        custom_metadata: Mapping[str, str] | None = None,
    ) -> BlobObject:
        check_key(key)
        options = {
            "httpMetadata": _http_metadata_to_js(http_metadata or HttpMetadata()),
            "customMetadata": custom_metadata_of(custom_metadata),
        }
        written = await self._call("put", key, data, **options)
        return _blob_object(written)

    async def create_multipart_upload(
        self,
        key: str,
        *,
        http_metadata: HttpMetadata | None = None,
        custom_metadata: Mapping[str, str] | None = None,
    ) -> R2MultipartUpload:
        check_key(key)
        upload = await self._call(
            "createMultipartUpload",
            key,
            httpMetadata=_http_metadata_to_js(http_metadata or HttpMetadata()),
            customMetadata=custom_metadata_of(custom_metadata),
        )
        return R2MultipartUpload(upload)

    async def get(
        self, key: str, *, range: ByteRange | None = None, only_if: Conditions | None = None
    ) -> BlobObject | None:
        check_key(key)
        options: dict[str, Any] = {}
        if range is not None:
            options["range"] = _range_to_js(range)
        if only_if is not None:
            options["onlyIf"] = _conditions_to_js(only_if)
        found = await self._call("get", key, **options)
        if found is None:
            return None
        # A failed precondition returns an R2Object, which has no body (§4.1).
        if not hasattr(found, "body"):
            return _blob_object(found)
        body = bytes(await found.arrayBuffer())
        return _blob_object(found, body=body)

    async def stream(self, key: str, *, range: ByteRange | None = None) -> BlobStream | None:
        """The R2ObjectBody's `body` (a JS ReadableStream, which the SDK passes through unwrapped).

        Only the object's metadata and a handle on the stream cross into Python here; the bytes
        cross only if `chunks` is read, a piece of at most MAX_READ_BYTES at a time.
        """
        check_key(key)
        options = {"range": _range_to_js(range)} if range is not None else {}
        found = await self._call("get", key, **options)
        if found is None:
            return None
        described = _blob_object(found)
        requested = _plain(_field(found, "range"))
        if range is not None and requested:
            described = dataclasses.replace(
                described,
                range=ByteRange(offset=requested.get("offset"), length=requested.get("length")),
            )
        native = _field(found, "body")
        return BlobStream(object=described, chunks=_js_chunks(native, key=key), native=native)

    async def head(self, key: str) -> BlobObject | None:
        check_key(key)
        found = await self._call("head", key)
        return None if found is None else _blob_object(found)

    async def delete(self, keys: str | Sequence[str]) -> None:
        many = check_delete_keys(keys)
        await self._call("delete", many[0] if isinstance(keys, str) else many)

    async def list(
        self,
        *,
        prefix: str = "",
        cursor: str | None = None,
        limit: int = MAX_KEYS_PER_CALL,
        delimiter: str | None = None,
    ) -> BlobListing:
        check_list_limit(limit)
        options: dict[str, Any] = {
            "prefix": prefix,
            "limit": limit,
            "include": ["httpMetadata", "customMetadata"],
        }
        if cursor is not None:
            options["cursor"] = cursor
        if delimiter is not None:
            options["delimiter"] = delimiter
        page = await self._call("list", **options)
        truncated = bool(page.get("truncated"))
        return BlobListing(
            objects=[_blob_object(item) for item in page.get("objects") or []],
            truncated=truncated,
            cursor=page.get("cursor") if truncated else None,
            delimited_prefixes=list(page.get("delimitedPrefixes") or []),
        )

    async def _call(self, method: str, *args: Any, **options: Any) -> Any:
        return await _r2_call(self._binding, method, *args, **options)


class R2MultipartUpload:
    """The wrapped R2MultipartUpload (§4.1), holding the size of each part it uploaded.

    A part goes to R2 as the ArrayBuffer of `to_js(memoryview)`, one copy into JS memory: the
    SDK wrapper checks every item of anything iterable, so a memoryview or a Uint8Array would be
    walked byte by byte (13 s for 5 MiB under Pyodide, tests/pyodide), and a bytearray is refused.
    """

    def __init__(self, upload: Any) -> None:
        self._upload = upload
        self._parts: dict[int, tuple[str, int]] = {}
        self._finished = False

    @property
    def key(self) -> str:
        return str(_field(self._upload, "key"))

    @property
    def upload_id(self) -> str:
        return str(_field(self._upload, "uploadId"))

    async def upload_part(self, part_number: int, data: bytes | memoryview) -> UploadedPart:
        view = memoryview(data).cast("B")
        check_part(part_number, view.nbytes)
        self._check_open()
        uploaded = await _r2_call(self._upload, "uploadPart", part_number, to_js(view).buffer)
        etag = str(_field(uploaded, "etag"))
        self._parts[part_number] = (etag, view.nbytes)
        return UploadedPart(part_number=part_number, etag=etag)

    async def complete(self, parts: Sequence[UploadedPart]) -> BlobObject:
        self._check_open()
        numbers = check_completion(parts, self._parts)
        etags = {part.part_number: part.etag for part in parts}
        written = await _r2_call(
            self._upload,
            "complete",
            [{"partNumber": number, "etag": etags[number]} for number in numbers],
        )
        self._finished = True
        return _blob_object(written)

    async def abort(self) -> None:
        if not self._finished:
            self._finished = True
            await _r2_call(self._upload, "abort")

    def _check_open(self) -> None:
        if self._finished:
            raise BlobStoreError(
                f"Multipart upload {self.upload_id!r} does not exist (completed or aborted).",
                code="no_such_upload",
            )


async def _r2_call(target: Any, method: str, *args: Any, **options: Any) -> Any:
    try:
        return await getattr(target, method)(*args, **options)
    except JsException as exc:
        message = str(exc)
        code = "range_not_satisfiable" if "range" in message.lower() else "blob_store_error"
        raise BlobStoreError(f"R2 {method} failed: {message}", code=code) from exc


async def _js_chunks(stream: Any, *, key: str) -> AsyncIterator[bytes]:
    # A ReadableStream iterates as Uint8Array chunks whose size R2 picks; `subarray` is a view
    # in JS, so only MAX_READ_BYTES at a time is copied into Wasm memory by `to_bytes()`.
    try:
        async for chunk in stream:
            for start in range(0, int(chunk.length), MAX_READ_BYTES):
                yield chunk.subarray(start, start + MAX_READ_BYTES).to_bytes()
    except JsException as exc:
        raise BlobStoreError(f"R2 read of {key!r} failed: {exc}") from exc


def _blob_object(found: Any, *, body: bytes | None = None) -> BlobObject:
    http = _plain(_field(found, "httpMetadata"))
    requested = _plain(_field(found, "range"))
    return BlobObject(
        key=str(_field(found, "key")),
        size=int(_field(found, "size")),
        etag=str(_field(found, "etag")),
        uploaded=_datetime(_field(found, "uploaded")),
        http_metadata=HttpMetadata(
            content_type=http.get("contentType"),
            content_disposition=http.get("contentDisposition"),
            cache_control=http.get("cacheControl"),
        ),
        custom_metadata={
            str(k): str(v) for k, v in _plain(_field(found, "customMetadata")).items()
        },
        body=body,
        range=ByteRange(offset=requested.get("offset"), length=requested.get("length"))
        if body is not None and requested
        else None,
    )


def _field(found: Any, name: str) -> Any:
    # Wrapped results allow item access; objects nested in a list page are raw JsProxies.
    if isinstance(found, Mapping):
        return found.get(name)
    return getattr(found, name, None)


def _plain(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if isinstance(value, Mapping):
        return dict(value)
    converted: dict[str, Any] = value.to_py()
    return converted


def _datetime(value: Any) -> datetime:
    if isinstance(value, datetime):
        # The SDK builds it with fromtimestamp() and no zone; Workers run in UTC.
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromtimestamp(float(value.getTime()) / 1000, tz=UTC)


def _http_metadata_to_js(http: HttpMetadata) -> dict[str, str]:
    names = {
        "contentType": http.content_type,
        "contentDisposition": http.content_disposition,
        "cacheControl": http.cache_control,
    }
    return {name: value for name, value in names.items() if value is not None}


def _range_to_js(requested: ByteRange) -> dict[str, int]:
    if requested.suffix is not None:
        return {"suffix": requested.suffix}
    js_range = {"offset": requested.offset or 0}
    if requested.length is not None:
        js_range["length"] = requested.length
    return js_range


def _conditions_to_js(conditions: Conditions) -> dict[str, Any]:
    names = {
        "etagMatches": conditions.etag_matches,
        "etagDoesNotMatch": conditions.etag_does_not_match,
        "uploadedBefore": conditions.uploaded_before,
        "uploadedAfter": conditions.uploaded_after,
    }
    return {name: value for name, value in names.items() if value is not None}


class DurableObjectNamespace:
    def __init__(self, binding: Any) -> None:
        self._binding = binding

    def id_from_name(self, name: str) -> str:
        return str(self._binding.idFromName(name).toString())

    def get(self, actor_id: str) -> DurableObjectStub:
        return DurableObjectStub(self._binding.get(self._binding.idFromString(actor_id)))


class DurableObjectStub:
    def __init__(self, stub: Any) -> None:
        self._stub = stub

    async def call(self, method: str, *args: Any) -> Any:
        # Every actor host in entry.py exposes one RPC method, `call(method, args)`.
        try:
            reply = await self._stub.call(method, list(args))
        except JsException as exc:
            raise CoordinatorError(f"Durable Object call '{method}' failed: {exc}") from exc
        return unwrap_reply(reply)

    async def forward(self, request: Any) -> Any:
        """Hand a request to the object's `fetch` (§5.1): how a WebSocket handshake reaches it."""
        try:
            return await self._stub.fetch(request)
        except JsException as exc:
            raise CoordinatorError(f"Durable Object fetch failed: {exc}") from exc


def accept_socket(ctx: Any) -> Any:
    """Accept a WebSocket with the Hibernation API (§5.3, §12); returns the client's end.

    The object may then be evicted while the socket stays open: an idle socket costs nothing,
    and each message or push wakes it again (`webSocketMessage`, the queue's own changes).
    """
    # `js` exists only inside the Worker.
    from js import Object, WebSocketPair

    client, server = Object.values(WebSocketPair.new())
    ctx.acceptWebSocket(server)
    return client


class HibernatedSocketHost:
    """The WebSockets a Durable Object accepted, as its actor's `SocketHost`."""

    def __init__(self, ctx: Any, actor: Actor) -> None:
        self._ctx = ctx
        self._actor = actor

    def push(self) -> None:
        for socket in hibernated_sockets(self._ctx):
            push_events(self._actor, socket)

    def close_all(self, code: int, reason: str) -> None:
        for socket in hibernated_sockets(self._ctx):
            socket.close(code, reason)


def hibernated_sockets(ctx: Any) -> list[HibernatedSocket]:
    """Every WebSocket the object accepted that is still open, whether or not it hibernated."""
    return [HibernatedSocket(ws) for ws in ctx.getWebSockets()]


def message_text(message: Any) -> str | None:
    """A `webSocketMessage` payload as text; a binary one (an ArrayBuffer) is None."""
    return message if isinstance(message, str) else None


def finish_socket(ws: Any, code: int, reason: str) -> None:
    """Answer a client's close frame (§5.3) with its own code where that may be sent.

    1005, 1006 and 1015 only report what happened and are never sent (RFC 6455 §7.4.1).
    """
    sendable = code if 1000 <= code < 5000 and code not in (1005, 1006, 1015) else 1000
    # The runtime may have completed the closing handshake already.
    with contextlib.suppress(JsException):
        ws.close(sendable, reason)


class HibernatedSocket:
    """A WebSocket accepted by `accept_socket`, as `PushSocket`.

    The cursor lives in the socket's attachment (`serializeAttachment`, at most 2 KiB, kept
    through hibernation), because the object's memory is lost when it hibernates.
    """

    def __init__(self, ws: Any) -> None:
        self._ws = ws

    def send(self, text: str) -> None:
        # A socket closed since it was listed drops the message; its client resumes from there.
        with contextlib.suppress(JsException):
            self._ws.send(text)

    def cursor(self) -> int | None:
        attachment = self._ws.deserializeAttachment()
        if attachment is None or attachment is jsnull:
            return None
        return int(_plain(attachment)["after"])

    def set_cursor(self, seq: int) -> None:
        from js import Object
        from pyodide.ffi import to_js

        self._ws.serializeAttachment(to_js({"after": seq}, dict_converter=Object.fromEntries))

    def close(self, code: int, reason: str) -> None:
        self._ws.close(code, reason)


class DurableObjectStorage:
    """`ctx.storage` of a SQLite-backed Durable Object: the SQL API and the alarm."""

    def __init__(self, storage: Any) -> None:
        self._storage = storage

    def sql(self, query: str, *params: SqlValue) -> list[Row]:
        try:
            cursor = self._storage.sql.exec(query, *check_params(params))
            rows = cursor.toArray()
        except JsException as exc:
            raise error_from_message(str(exc)) from exc
        return [_row(row) for row in rows]

    async def get_alarm(self) -> float | None:
        at_ms = await self._storage.getAlarm()
        return None if at_ms is None else float(at_ms) / 1000

    async def set_alarm(self, at: float) -> None:
        await self._storage.setAlarm(int(at * 1000))

    async def delete_alarm(self) -> None:
        await self._storage.deleteAlarm()

    async def delete_all(self) -> None:
        # From compatibility date 2026-02-24 on, deleteAll() deletes the alarm too.
        try:
            await self._storage.deleteAll()
        except JsException as exc:
            raise CoordinatorError(f"Durable Object storage could not be deleted: {exc}") from exc
