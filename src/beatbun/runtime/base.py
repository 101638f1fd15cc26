"""The interfaces application code uses instead of Cloudflare's JS objects or sqlite3.

Each has a Cloudflare adapter (`runtime/cloudflare.py`) and a local one (`local/beatbun_local/`);
both return the same shapes and raise the same `beatbun.errors` classes, so a service tested
locally behaves the same on Workers.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from beatbun.errors import RuntimeFailure
from beatbun.settings import Settings

# D1's documented limits (developers.cloudflare.com/d1/platform/limits), enforced by both adapters.
MAX_BOUND_PARAMETERS = 100
MAX_STATEMENT_BYTES = 100_000
# Pyodide 0.28 sends an int as a JS number only up to 2**53 - 2 in magnitude; from 2**53 - 1 on
# it sends a BigInt, which D1 refuses (measured in tests/pyodide, d1.unsafe_integers_...).
MAX_BINDABLE_INTEGER = 2**53 - 2
MAX_SAFE_INTEGER = 2**53 - 1
# R2 accepts at most 1000 keys per delete and returns at most 1000 objects per list page.
MAX_KEYS_PER_CALL = 1000
# workerd's WebCrypto refuses PBKDF2 above this (limit-enforcer.h DEFAULT_MAX_PBKDF2_ITERATIONS).
MAX_PBKDF2_ITERATIONS = 100_000
# AES-256-GCM as both cipher adapters use it: a 32-byte key, a 96-bit nonce (NIST SP 800-38D
# §8.2, WebCrypto's recommended IV) and the full 128-bit tag appended to the ciphertext.
AES_KEY_BYTES = 32
AES_GCM_NONCE_BYTES = 12
AES_GCM_TAG_BYTES = 16
# The most bytes one read of a blob stream brings into Python: a 50 MB track never sits in a
# Worker's 128 MB isolate at once.
MAX_READ_BYTES = 1024 * 1024
# R2 multipart uploads (developers.cloudflare.com/r2/objects/multipart-objects): parts of 5 MiB
# to 5 GiB, every part but the last the same size and the last no larger; part numbers 1..10,000.
MIN_PART_BYTES = 5 * 1024 * 1024
MAX_PART_BYTES = 5 * 1024**3
MAX_PARTS = 10_000

SqlValue = None | int | float | str | bytes
Row = dict[str, SqlValue]


@dataclass(frozen=True)
class QueryMeta:
    changes: int = 0
    last_row_id: int = 0
    duration_ms: float = 0.0


@dataclass(frozen=True)
class QueryResult:
    """D1's `D1Result`: rows as dicts (BLOBs as `bytes`, booleans as 0/1) plus metadata."""

    results: list[Row]
    meta: QueryMeta


class Statement(Protocol):
    """A prepared statement; `bind` returns a new statement and never mutates this one."""

    def bind(self, *params: SqlValue | bool) -> Statement: ...

    async def all(self) -> QueryResult: ...

    async def run(self) -> QueryResult: ...

    async def first(self, column: str | None = None) -> Any: ...

    async def raw(self, *, column_names: bool = False) -> list[list[SqlValue]]: ...


class Database(Protocol):
    """D1: auto-committed statements; `batch` is the only transaction (all or nothing)."""

    def prepare(self, sql: str) -> Statement: ...

    async def batch(self, statements: Sequence[Statement]) -> list[QueryResult]: ...


@dataclass(frozen=True)
class ByteRange:
    """A byte range as R2 takes it: `offset` + `length`, or only the last `suffix` bytes."""

    offset: int | None = None
    length: int | None = None
    suffix: int | None = None


@dataclass(frozen=True)
class Conditions:
    """R2's `onlyIf`: every given condition must hold or `get` returns the object without body."""

    etag_matches: str | None = None
    etag_does_not_match: str | None = None
    uploaded_before: datetime | None = None
    uploaded_after: datetime | None = None


@dataclass(frozen=True)
class HttpMetadata:
    content_type: str | None = None
    content_disposition: str | None = None
    cache_control: str | None = None


@dataclass(frozen=True)
class BlobObject:
    """R2Object / R2ObjectBody: `body` is None for `head` and for a failed precondition."""

    key: str
    size: int
    etag: str
    uploaded: datetime
    http_metadata: HttpMetadata = field(default_factory=HttpMetadata)
    custom_metadata: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    range: ByteRange | None = None

    @property
    def http_etag(self) -> str:
        return f'"{self.etag}"'


@dataclass(frozen=True)
class BlobStream:
    """An object opened for reading, its bytes not yet read; consume `chunks` or `native`, once.

    `object` carries the metadata and the resolved `range` (its `body` is None). `chunks` yields
    the bytes in pieces of at most `MAX_READ_BYTES`. `native` is the R2 body as a JS
    ReadableStream on Workers, for a JS Response to take without Python reading it; None locally.
    """

    object: BlobObject
    chunks: AsyncIterator[bytes]
    native: Any = None


@dataclass(frozen=True)
class BlobListing:
    objects: list[BlobObject]
    truncated: bool
    cursor: str | None
    delimited_prefixes: list[str]


@dataclass(frozen=True)
class UploadedPart:
    """R2UploadedPart: what `MultipartUpload.complete` takes for each part."""

    part_number: int
    etag: str


class MultipartUpload(Protocol):
    """R2MultipartUpload: parts are kept apart, and nothing is stored under `key` until `complete`.

    An upload that is never completed is aborted by R2 after 7 days; call `abort` rather than
    leave it. `upload_part` and `complete` raise BlobStoreError (code `no_such_upload`) once
    the upload is completed or aborted.
    """

    @property
    def key(self) -> str: ...

    @property
    def upload_id(self) -> str: ...

    async def upload_part(self, part_number: int, data: bytes | memoryview) -> UploadedPart:
        """Store part `part_number` (1..MAX_PARTS), replacing an earlier part of that number.

        `data` is read before this returns, so the caller may reuse its buffer. Raises
        ValueError for a part number outside 1..MAX_PARTS or a part above MAX_PART_BYTES.
        """
        ...

    async def complete(self, parts: Sequence[UploadedPart]) -> BlobObject:
        """Join `parts`, in part-number order, into the object under `key`.

        Raises BlobStoreError (code `invalid_parts`) when a part is missing or its etag differs,
        and (code `invalid_part_size`) unless every part but the last is the same size, at least
        MIN_PART_BYTES, and the last no larger; the parts are then kept for a new `complete`.
        """
        ...

    async def abort(self) -> None:
        """Drop every part; what `key` held before is left as it was."""
        ...


class BlobStore(Protocol):
    """R2: flat keys, whole-object or multipart writes, ranged and conditional reads."""

    async def put(
        self,
        key: str,
        data: bytes | str,
        *,
        http_metadata: HttpMetadata | None = None,
        custom_metadata: Mapping[str, str] | None = None,
    ) -> BlobObject: ...

    async def create_multipart_upload(
        self,
        key: str,
        *,
        http_metadata: HttpMetadata | None = None,
        custom_metadata: Mapping[str, str] | None = None,
    ) -> MultipartUpload:
        """Start writing `key` in parts; the metadata is the finished object's."""
        ...

    async def get(
        self, key: str, *, range: ByteRange | None = None, only_if: Conditions | None = None
    ) -> BlobObject | None: ...

    async def stream(self, key: str, *, range: ByteRange | None = None) -> BlobStream | None:
        """Open `key` (or its `range`) for reading in bounded pieces; None if it is missing."""
        ...

    async def head(self, key: str) -> BlobObject | None: ...

    async def delete(self, keys: str | Sequence[str]) -> None: ...

    async def list(
        self,
        *,
        prefix: str = "",
        cursor: str | None = None,
        limit: int = MAX_KEYS_PER_CALL,
        delimiter: str | None = None,
    ) -> BlobListing: ...


class ActorStorage(Protocol):
    """A Durable Object's own SQLite database and its single alarm."""

    def sql(self, query: str, *params: SqlValue) -> list[Row]: ...

    async def get_alarm(self) -> float | None:
        """The pending alarm as epoch seconds, or None."""
        ...

    async def set_alarm(self, at: float) -> None: ...

    async def delete_alarm(self) -> None: ...

    async def delete_all(self) -> None:
        """Delete everything the object stores: its tables, their rows and its alarm."""
        ...


class ActorStub(Protocol):
    """A handle on the one live instance of an actor; calls to it are serialized."""

    async def call(self, method: str, *args: Any) -> Any: ...


class ActorNamespace(Protocol):
    """A Durable Object binding: names map to ids, ids to one instance each."""

    def id_from_name(self, name: str) -> str: ...

    def get(self, actor_id: str) -> ActorStub: ...


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the epoch, UTC."""
        ...


class KeyDerivation(Protocol):
    """PBKDF2-HMAC-SHA256: WebCrypto on Workers, hashlib locally, byte-identical results."""

    async def pbkdf2_sha256(
        self, password: bytes, salt: bytes, *, iterations: int, length: int
    ) -> bytes:
        """Derive `length` bytes; raises ValueError above `MAX_PBKDF2_ITERATIONS` on both sides."""
        ...


class Cipher(Protocol):
    """AES-256-GCM: WebCrypto on Workers, `cryptography` locally, byte-identical results.

    The caller picks the nonce (a fresh random one per message), so both sides can be compared.
    """

    async def seal(
        self, key: bytes, nonce: bytes, plaintext: bytes, *, associated_data: bytes = b""
    ) -> bytes:
        """The ciphertext with its 16-byte tag appended; ValueError for a bad key or nonce size."""
        ...

    async def open(
        self, key: bytes, nonce: bytes, sealed: bytes, *, associated_data: bytes = b""
    ) -> bytes:
        """The plaintext; raises `SealedDataError` when the tag does not verify."""
        ...


@dataclass(frozen=True)
class MailMessage:
    """One email: plain text always, an HTML alternative and extra headers when it has them.

    `key` is the idempotency key handed to the provider, so a resend after a crash between
    sending and recording is delivered once (empty: none).
    """

    to: str
    subject: str
    text: str
    html: str = ""
    headers: tuple[tuple[str, str], ...] = ()
    key: str = ""


class MailError(RuntimeFailure):
    """The mail service refused or failed to take a message."""

    default_code = "mail_error"


class MailRateLimited(MailError):
    """The mail service refused a message for the rate of sending (HTTP 429): wait and resend.

    `retry_after` is how many seconds it asked to wait; `quota` is "daily" or "monthly" when
    the account's sending quota is used up (waiting seconds does not help), else "".
    """

    default_code = "mail_rate_limited"

    def __init__(self, message: str, *, retry_after: float, quota: str = "") -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.quota = quota


class Mailer(Protocol):
    """Transactional email; raises `MailError` when the message was not accepted.

    `send` returns the provider's id of the message (what its delivery webhooks name). A
    message with a `key` the provider already took is not delivered again: the same id comes
    back. Raises `MailRateLimited` when told to slow down.
    """

    async def send(self, message: MailMessage) -> str: ...


@runtime_checkable
class Outbox(Protocol):
    """A mailer that keeps what it sent where a developer can read it (local only)."""

    def messages(self) -> list[MailMessage]:
        """Newest first."""
        ...


@dataclass(frozen=True)
class FetchResponse:
    """A whole HTTP answer: `headers` keyed by lower-case name, `body` read to the end."""

    status: int
    headers: Mapping[str, str]
    body: bytes


@dataclass(frozen=True)
class FetchStream:
    """An HTTP answer whose body is still arriving: `chunks` yields it in pieces, once."""

    status: int
    headers: Mapping[str, str]
    chunks: AsyncIterator[bytes]


class FetchError(RuntimeFailure):
    """An outbound HTTP call got no answer: refused, reset, or not a valid HTTP response."""

    default_code = "fetch_error"


class FetchTimeout(FetchError):
    """An outbound HTTP call (connect, headers and body together) outlasted its deadline."""

    default_code = "fetch_timeout"


class Fetcher(Protocol):
    """Outbound HTTP: `js.fetch` on Workers, httpx locally.

    Both send `User-Agent: beatbun/<version>` and bound the whole call (connect, response
    headers and body) by `timeout_seconds`. Any status is an answer; raises `FetchTimeout`
    past the deadline and `FetchError` when no answer arrived.
    """

    async def fetch(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
        timeout_seconds: float,
    ) -> FetchResponse: ...

    def stream(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
        timeout_seconds: float,
    ) -> AbstractAsyncContextManager[FetchStream]:
        """`fetch` for large bodies: read `chunks` inside the block, within the same deadline.

        `FetchTimeout` and `FetchError` may also arise from reading `chunks`; they leave the
        block as themselves.
        """
        ...


class TextModel(Protocol):
    """A hosted text model: Workers AI's `env.AI.run(model, inputs)` on Workers, none locally.

    `inputs` and the answer are Workers AI's documented JSON shapes (developers.cloudflare.com/
    workers-ai/features/json-mode): `{"messages": [...], "response_format": {...}}` in,
    `{"response": ...}` out. Raises `RuntimeFailure` when the model call fails.
    """

    async def run(self, model: str, inputs: Mapping[str, Any]) -> Mapping[str, Any]: ...


@dataclass
class Runtime:
    """Everything a request handler may touch, bundled for dependency injection."""

    settings: Settings
    db: Database
    blobs: BlobStore
    user_queues: ActorNamespace
    clock: Clock
    kdf: KeyDerivation
    mailer: Mailer
    cipher: Cipher
    fetcher: Fetcher
    # Present only where the operator bound Workers AI (`[ai]` in wrangler.toml).
    text_model: TextModel | None = field(default=None, kw_only=True)


RuntimeFactory = Callable[[Any], Runtime]
