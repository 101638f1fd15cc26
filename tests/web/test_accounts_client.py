"""What the account pages record about the client of a request."""

from __future__ import annotations

from starlette.requests import Request

from beatbun.accounts.models import MAX_USER_AGENT
from beatbun.web.forms import client_of


def test_client_user_agent_is_cut_to_the_stored_length() -> None:
    agent = "A" * (MAX_USER_AGENT + 50)
    request = Request(
        {
            "type": "http",
            "headers": [(b"user-agent", agent.encode())],
            "client": ("192.0.2.10", 1234),
        }
    )
    client = client_of(request)
    assert client.user_agent == agent[:MAX_USER_AGENT] and client.ip == "192.0.2.10"
