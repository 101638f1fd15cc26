"""The production mailer: Resend's transactional email API over HTTPS (resend.com/docs).

`POST https://api.resend.com/emails` with `Authorization: Bearer <MAIL_API_KEY>` and a JSON body
`{"from", "to": [...], "subject", "text"}`; success is 200 with `{"id": ...}`, failure a 4xx/5xx
with `{"statusCode", "name", "message"}`. httpx runs on Workers (Pyodide ships its fork).
"""

from __future__ import annotations

import httpx

from beatbun.runtime.base import MailError, MailMessage

RESEND_URL = "https://api.resend.com/emails"
TIMEOUT_SECONDS = 10.0


class ResendMailer:
    def __init__(
        self, *, api_key: str, sender: str, client: httpx.AsyncClient | None = None
    ) -> None:
        self._api_key = api_key
        self._sender = sender
        self._client = client

    async def send(self, message: MailMessage) -> None:
        """Hand the message to Resend; raises `MailError` unless Resend accepted it."""
        if not self._api_key:
            raise MailError("MAIL_API_KEY is not set, so no mail can be sent.")
        if self._client is not None:
            await self._post(self._client, message)
            return
        async with httpx.AsyncClient(timeout=TIMEOUT_SECONDS) as client:
            await self._post(client, message)

    async def _post(self, client: httpx.AsyncClient, message: MailMessage) -> None:
        payload = {
            "from": self._sender,
            "to": [message.to],
            "subject": message.subject,
            "text": message.text,
        }
        headers = {"Authorization": f"Bearer {self._api_key}"}
        try:
            response = await client.post(RESEND_URL, json=payload, headers=headers)
        except httpx.HTTPError as exc:
            raise MailError(f"Resend could not be reached: {type(exc).__name__}.") from exc
        if response.status_code != 200:
            raise MailError(f"Resend refused the message: {_reason(response)}.")


def _reason(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return f"HTTP {response.status_code}"
    name = body.get("name", "error") if isinstance(body, dict) else "error"
    detail = body.get("message", "") if isinstance(body, dict) else ""
    return f"HTTP {response.status_code} {name} {detail}".strip()
