"""The production mailer: Resend's transactional email API over HTTPS (resend.com/docs).

`POST https://api.resend.com/emails` with `Authorization: Bearer <MAIL_API_KEY>` and a JSON body
`{"from", "to": [...], "subject", "text"}`; success is 200 with `{"id": ...}`, failure a 4xx/5xx
with `{"statusCode", "name", "message"}`. Resend refuses requests without a `User-Agent` (403,
error 1010); the fetch port always sends ours.
"""

from __future__ import annotations

import json

from beatbun.runtime.base import Fetcher, FetchError, FetchResponse, MailError, MailMessage

RESEND_URL = "https://api.resend.com/emails"
TIMEOUT_SECONDS = 10.0


class ResendMailer:
    def __init__(self, fetcher: Fetcher, *, api_key: str, sender: str) -> None:
        self._fetcher = fetcher
        self._api_key = api_key
        self._sender = sender

    async def send(self, message: MailMessage) -> None:
        """Hand the message to Resend; raises `MailError` unless Resend accepted it."""
        if not self._api_key:
            raise MailError("MAIL_API_KEY is not set, so no mail can be sent.")
        payload = {
            "from": self._sender,
            "to": [message.to],
            "subject": message.subject,
            "text": message.text,
        }
        headers = {
            "Authorization": f"Bearer {self._api_key}",
            "Content-Type": "application/json",
        }
        try:
            response = await self._fetcher.fetch(
                "POST",
                RESEND_URL,
                headers=headers,
                body=json.dumps(payload).encode(),
                timeout_seconds=TIMEOUT_SECONDS,
            )
        except FetchError as exc:
            raise MailError(f"Resend could not be reached: {exc.message}") from exc
        if response.status != 200:
            raise MailError(f"Resend refused the message: {_reason(response)}.")


def _reason(response: FetchResponse) -> str:
    try:
        body = json.loads(response.body)
    except ValueError:
        return f"HTTP {response.status}"
    name = body.get("name", "error") if isinstance(body, dict) else "error"
    detail = body.get("message", "") if isinstance(body, dict) else ""
    return f"HTTP {response.status} {name} {detail}".strip()
