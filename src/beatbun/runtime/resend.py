"""The production mailer: Resend's transactional email API over HTTPS (resend.com/docs).

`POST https://api.resend.com/emails` with `Authorization: Bearer <MAIL_API_KEY>` and a JSON body
`{"from", "to": [...], "subject", "text", "html", "headers": {...}}`; success is 200 with
`{"id": ...}`, failure a 4xx/5xx with `{"statusCode", "name", "message"}`. An `Idempotency-Key`
header (up to 256 characters) makes Resend answer a repeat of the request within 24 hours with
the first one's id instead of sending again. Past the team's rate (documented as 5 requests per
second by default; `MAIL_RATE_PER_SECOND` keeps us at 2) Resend answers 429
`rate_limit_exceeded` with `retry-after` in seconds; past the daily or monthly email quota it
answers 429 `daily_quota_exceeded` or `monthly_quota_exceeded` (resend.com/docs, "Usage Limits"). Resend refuses requests without a
`User-Agent` (403, error 1010); the fetch port always sends ours.
"""

from __future__ import annotations

import json

from beatbun.runtime.base import (
    Fetcher,
    FetchError,
    FetchResponse,
    MailError,
    MailMessage,
    MailRateLimited,
)

RESEND_URL = "https://api.resend.com/emails"
TIMEOUT_SECONDS = 10.0
# Resend's limit on an idempotency key's length.
MAX_KEY_LENGTH = 256
# When a 429 carries no usable `retry-after`.
DEFAULT_RETRY_AFTER = 1.0
# The error names of the 429s for a used-up sending quota.
QUOTAS = {"daily_quota_exceeded": "daily", "monthly_quota_exceeded": "monthly"}


class ResendMailer:
    def __init__(
        self, fetcher: Fetcher, *, api_key: str, sender: str, url: str = RESEND_URL
    ) -> None:
        self._fetcher = fetcher
        self._api_key = api_key
        self._sender = sender
        self._url = url

    async def send(self, message: MailMessage) -> str:
        """Hand the message to Resend and return its id; raises `MailError` unless accepted."""
        if not self._api_key:
            raise MailError("MAIL_API_KEY is not set, so no mail can be sent.")
        if len(message.key) > MAX_KEY_LENGTH:
            raise ValueError(f"An idempotency key has at most {MAX_KEY_LENGTH} characters.")
        payload: dict[str, object] = {
            "from": self._sender,
            "to": [message.to],
            "subject": message.subject,
            "text": message.text,
        }
        if message.html:
            payload["html"] = message.html
        if message.headers:
            payload["headers"] = dict(message.headers)
        headers = {
            "Authorization": f"Bearer {self._api_key}",
            "Content-Type": "application/json",
        }
        if message.key:
            headers["Idempotency-Key"] = message.key
        try:
            response = await self._fetcher.fetch(
                "POST",
                self._url,
                headers=headers,
                body=json.dumps(payload).encode(),
                timeout_seconds=TIMEOUT_SECONDS,
            )
        except FetchError as exc:
            raise MailError(f"Resend could not be reached: {exc.message}") from exc
        if response.status == 429:
            raise MailRateLimited(
                f"Resend refused the message: {_reason(response)}.",
                retry_after=_retry_after(response),
                quota=QUOTAS.get(_error_name(response), ""),
            )
        if response.status != 200:
            raise MailError(f"Resend refused the message: {_reason(response)}.")
        return _email_id(response)


def _email_id(response: FetchResponse) -> str:
    try:
        body = json.loads(response.body)
    except ValueError as exc:
        raise MailError("Resend accepted the message but its answer was not JSON.") from exc
    email_id = body.get("id") if isinstance(body, dict) else None
    if not isinstance(email_id, str) or not email_id:
        raise MailError("Resend accepted the message but named no id for it.")
    return email_id


def _retry_after(response: FetchResponse) -> float:
    try:
        seconds = float(response.headers.get("retry-after", ""))
    except ValueError:
        return DEFAULT_RETRY_AFTER
    return seconds if seconds > 0 else DEFAULT_RETRY_AFTER


def _error_name(response: FetchResponse) -> str:
    try:
        body = json.loads(response.body)
    except ValueError:
        return ""
    name = body.get("name", "") if isinstance(body, dict) else ""
    return name if isinstance(name, str) else ""


def _reason(response: FetchResponse) -> str:
    try:
        body = json.loads(response.body)
    except ValueError:
        return f"HTTP {response.status}"
    name = body.get("name", "error") if isinstance(body, dict) else "error"
    detail = body.get("message", "") if isinstance(body, dict) else ""
    return f"HTTP {response.status} {name} {detail}".strip()
