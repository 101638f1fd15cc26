"""A stand-in for Resend's `POST /emails`, served over real HTTP, as its documentation describes it.

resend.com/docs/api-reference/emails/send-email: a JSON body with `from`, `to` (a string or up
to 50 in a list), `subject`, `text` and/or `html`, `headers` (an object of strings); 200 with
`{"id"}`. Errors are `{"statusCode", "name", "message"}`: 401 `missing_api_key`, 403 without a
User-Agent (Cloudflare's error 1010), 422 `validation_error`. `Idempotency-Key` (up to 256
characters): the same key with the same body within 24 hours answers the first id and sends
nothing; with another body, 409 `invalid_idempotent_request`. Past the rate (`limit` requests a
second), 429 `rate_limit_exceeded` with `ratelimit-limit`, `ratelimit-remaining`,
`ratelimit-reset` and `retry-after` headers (resend.com/changelog/api-rate-limit). With `quota`
("daily" or "monthly") the sending quota is used up: 429 `daily_quota_exceeded` or
`monthly_quota_exceeded` (resend.com/docs/api-reference/rate-limit, "Email Quotas").
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

API_KEY = "re_test_key"


class FakeResend:
    def __init__(self, *, limit: int = 2) -> None:
        self.limit = limit
        self.quota: str | None = None
        self.delivered: list[dict[str, Any]] = []
        self.requests: list[dict[str, str]] = []
        self.refused_for_rate = 0
        self._keys: dict[str, tuple[bytes, str]] = {}
        self._window = (0, 0)  # (second, requests in it)
        self.app = Starlette(routes=[Route("/emails", self.send, methods=["POST"])])

    async def send(self, request: Request) -> JSONResponse:
        self.requests.append(dict(request.headers))
        second = int(time.time())
        window, used = self._window
        used = used + 1 if window == second else 1
        self._window = (second, used)
        if self.quota is not None:
            self.refused_for_rate += 1
            return _error(
                429,
                f"{self.quota}_quota_exceeded",
                f"You have reached your {self.quota} email sending quota.",
            )
        if used > self.limit:
            self.refused_for_rate += 1
            return _error(
                429,
                "rate_limit_exceeded",
                f"Too many requests. You can only make {self.limit} requests per second.",
                headers={
                    "ratelimit-limit": str(self.limit),
                    "ratelimit-remaining": "0",
                    "ratelimit-reset": "1",
                    "retry-after": "1",
                },
            )
        if not request.headers.get("user-agent"):
            return _error(403, "error_1010", "Access denied")
        if request.headers.get("authorization") != f"Bearer {API_KEY}":
            return _error(401, "missing_api_key", "Missing API key in the authorization header.")
        raw = await request.body()
        try:
            body = json.loads(raw)
        except ValueError:
            return _error(422, "validation_error", "Invalid JSON.")
        problem = _invalid(body)
        if problem:
            return _error(422, "validation_error", problem)
        key = request.headers.get("idempotency-key")
        if key is not None:
            if len(key) > 256:
                return _error(422, "validation_error", "Idempotency key too long.")
            if key in self._keys:
                first_body, first_id = self._keys[key]
                if first_body != raw:
                    return _error(
                        409,
                        "invalid_idempotent_request",
                        "Same idempotency key used with a different request payload.",
                    )
                return JSONResponse({"id": first_id}, headers=self._rate_headers(used))
        email_id = str(uuid.uuid4())
        if key is not None:
            self._keys[key] = (raw, email_id)
        self.delivered.append({"id": email_id, **body})
        return JSONResponse({"id": email_id}, headers=self._rate_headers(used))

    def _rate_headers(self, used: int) -> dict[str, str]:
        return {
            "ratelimit-limit": str(self.limit),
            "ratelimit-remaining": str(max(self.limit - used, 0)),
            "ratelimit-reset": "1",
        }


def _invalid(body: object) -> str:
    if not isinstance(body, dict):
        return "The body must be an object."
    for name in ("from", "to", "subject"):
        if not body.get(name):
            return f"Missing `{name}` field."
    to = body["to"]
    if not isinstance(to, str) and not (isinstance(to, list) and 0 < len(to) <= 50):
        return "`to` must be an address or a list of up to 50."
    if "text" not in body and "html" not in body:
        return "Missing `html` or `text` field."
    headers = body.get("headers", {})
    if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
        return "`headers` must be an object of strings."
    return ""


def _error(
    status: int, name: str, message: str, *, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(
        {"statusCode": status, "name": name, "message": message},
        status_code=status,
        headers=headers,
    )
