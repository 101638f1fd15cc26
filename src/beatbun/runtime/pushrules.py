"""The live progress channel's wire rules, shared by the Worker's Durable Object and the local server.

A browser opens a WebSocket at `PROGRESS_PATH` and sends one message, `{"after": N}`: the last
event number it has seen (0 for none); any further message closes the socket. It then receives, one JSON object per message, every
event numbered above N in order, and after that each new event as the queue records it. A
client that reconnects sends its last number again, so nothing is lost and nothing repeats.
The server-sent events fallback carries the same objects in its `data:` lines.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from beatbun.runtime.base import MAX_SAFE_INTEGER

PROGRESS_PATH = "/studio/live"
# A resume message is tiny; anything longer is not one (a socket message may be 32 MiB).
MAX_CLIENT_MESSAGE_CHARS = 100
# RFC 6455 §7.4.1: 1008 is "policy violation", sent when a message breaks the protocol.
CLOSE_INVALID_MESSAGE = 1008
# Private-use code (RFC 6455 §7.4.2): the account's sessions changed (a logout, a password
# change), so every socket is closed and each client must pass the handshake again.
CLOSE_SESSIONS_CHANGED = 4001
SESSIONS_CHANGED_REASON = "Sessions changed; connect again."
# Sockets one queue object holds at once (a person's open tabs): every event goes to each, so
# a handshake past this is refused with 429 and this body until one of them closes.
MAX_SOCKETS = 32
TOO_MANY_SOCKETS = {
    "error": "too_many_sockets",
    "message": "Too many live progress connections are open. Close one and try again.",
}
# How a secure or plain WebSocket URL's scheme maps to the origin browsers send (RFC 6454 §4).
_ORIGIN_SCHEMES = {"ws": "http", "wss": "https", "http": "http", "https": "https"}
# The close frame's reason (at most 123 bytes), for whoever writes a client; pages never show it.
INVALID_MESSAGE_REASON = 'Send {"after": N}, N being the last event number you saw (0 for none).'


def parse_resume(message: str | None) -> int | None:
    """The event number a client's message resumes after, or None when it is not a resume.

    A binary message, malformed JSON, or a number that is missing, negative, not whole or
    above `MAX_SAFE_INTEGER` (no event number is; SQLite and JS would refuse it) is not one;
    the server then closes with `CLOSE_INVALID_MESSAGE`.
    """
    if message is None or len(message) > MAX_CLIENT_MESSAGE_CHARS:
        return None
    try:
        decoded = json.loads(message)
    except ValueError:
        return None
    after = decoded.get("after") if isinstance(decoded, dict) else None
    if not isinstance(after, int) or isinstance(after, bool) or not 0 <= after <= MAX_SAFE_INTEGER:
        return None
    return after


def encode_resume(after: int) -> str:
    """The message a client sends to resume after event `after`."""
    return json.dumps({"after": after}, separators=(",", ":"))


def unseen(events: Sequence[Mapping[str, Any]], after: int) -> list[Mapping[str, Any]]:
    """The events numbered above `after`, oldest first: what a client resuming there gets."""
    return sorted((event for event in events if int(event["seq"]) > after), key=_seq)


def _seq(event: Mapping[str, Any]) -> int:
    return int(event["seq"])


def encode_event(event: Mapping[str, Any]) -> str:
    """One event as the browser receives it.

    A failure keeps its code but not the stored message, which is written for API callers (it
    may name the provider or its limits); the page explains the code in the reader's language.
    """
    public = dict(event)
    error = public.get("error")
    if isinstance(error, Mapping):
        public["error"] = {"code": error.get("code")}
    return json.dumps(public, separators=(",", ":"))


def origin_of(url: str) -> str:
    """The origin a browser on this site sends, for the URL a request arrived at (ws or http)."""
    parts = urlsplit(url)
    scheme = _ORIGIN_SCHEMES.get(parts.scheme.lower(), parts.scheme.lower())
    return f"{scheme}://{parts.netloc.lower()}"


def is_same_origin(origin: str | None, *, url: str) -> bool:
    """Whether a WebSocket handshake's `Origin` is this site's own.

    Browsers always send `Origin` with a WebSocket handshake (RFC 6455 §4.1) and WebSockets are
    exempt from the same-origin policy, so a missing or foreign one is refused: cookies go
    along with a cross-site handshake (cross-site WebSocket hijacking).
    """
    return origin is not None and origin.lower() == origin_of(url)
