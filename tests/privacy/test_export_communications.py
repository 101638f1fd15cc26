"""The export holds the account's communications: its emails with their kind and fate, its
consent to news and offers as proof, policy notices, sign-in devices and support requests with
their whole conversation; nobody else's, and never an operator's identity."""

from __future__ import annotations

import json
from typing import Any

import httpx
import jsonschema  # type: ignore[import-untyped]

from beatbun.privacy.exportschema import SCHEMA_PATH
from beatbun_local.runtime import LocalRuntime
from tests.factories import create_verified_account
from tests.privacy.communications import (
    ANSWER,
    CONSENT_AGENT,
    CONSENT_IP,
    DEVICE,
    FORMER_ADDRESS,
    QUESTION,
    Communications,
    fill_communications,
)
from tests.privacy.exporting import confirmed_session, download, ready_export


async def _exported(
    runtime: LocalRuntime, client: httpx.AsyncClient
) -> tuple[dict[str, Any], str, Communications, str]:
    """data.json (checked against the published schema), summary.html, what the account's
    communications are, and the id of the operator who answered it."""
    account = await create_verified_account(runtime)
    operator = await create_verified_account(runtime, email="operator@example.com")
    other = await create_verified_account(runtime, email="other@example.com")
    await fill_communications(runtime, account_id=other.id, email=other.email)
    mine = await fill_communications(
        runtime, account_id=account.id, email=account.email, operator_id=operator.id
    )
    session = await confirmed_session(runtime, account)
    archive = await download(
        runtime, account, session, await ready_export(runtime, account, session)
    )
    data = json.loads(archive.read("data.json"))
    schema = (await client.get(SCHEMA_PATH)).json()
    jsonschema.Draft202012Validator(schema).validate(data)
    return data, archive.read("summary.html").decode(), mine, operator.id


async def test_export_holds_the_accounts_communications_and_validates(
    runtime: LocalRuntime, client: httpx.AsyncClient
) -> None:
    data, _, mine, operator_id = await _exported(runtime, client)

    assert data["version"] == 2
    assert data["account"]["marketing_opt_in_at"] is not None
    consents = data["marketing_consents"]
    assert [(c["action"], c["source"]) for c in consents] == [
        ("requested", "email_settings"),
        ("confirmed", "confirmation_link"),
        ("withdrawn", "one_click"),
        ("requested", "email_settings"),
        ("confirmed", "confirmation_link"),
    ]
    assert consents[1]["ip"] == CONSENT_IP and consents[1]["user_agent"] == CONSENT_AGENT
    assert consents[2]["campaign_id"] == mine.campaign_id
    assert {c["email"] for c in consents} == {"person@example.com"}
    (notice,) = data["policy_notices"]
    assert (notice["document"], notice["version"]) == ("privacy", "2026-11")
    assert notice["notified_at"] < notice["acknowledged_at"]
    assert [device["device"] for device in data["sign_in_devices"]] == [DEVICE]
    (ticket,) = data["support_tickets"]
    assert (ticket["number"], ticket["category"], ticket["status"]) == (
        mine.number,
        "privacy",
        "answered",
    )
    assert ticket["due_at"] is not None
    assert [(m["author"], m["body"]) for m in ticket["messages"]] == [
        ("customer", QUESTION),
        ("operator", ANSWER),
    ]
    # The operator who answered is not named; nor is anything of the other account.
    everything = json.dumps(data)
    assert operator_id not in everything and mine.ticket_id not in everything
    assert "other@example.com" not in everything


async def test_export_lists_each_email_of_the_account_with_its_kind_and_fate(
    runtime: LocalRuntime, client: httpx.AsyncClient
) -> None:
    data, _, _, _ = await _exported(runtime, client)

    emails = {email["subject"]: email for email in data["emails"]}
    expected = {
        "Your email address changed": ("email_changed", "sent"),
        "New genres this autumn": ("marketing", "bounced"),
        "Last week's news": ("marketing", "withheld"),
        "Credits running low": ("credits_low", "failed"),
        "Your track will be deleted in 3 days": ("track_expiring_3d", "queued"),
    }
    assert {
        subject: (emails[subject]["kind"], emails[subject]["status"]) for subject in expected
    } == expected
    # Besides these, only the sign-up's verification link and the export's own confirmation:
    # nothing of the other account.
    assert set(emails) - set(expected) == {
        "Confirm your email address for Beat Bun",
        "We are preparing your Beat Bun data export",
    }
    # Mail of the account to an address it no longer has is the account's too.
    assert emails["Your email address changed"]["recipient"] == FORMER_ADDRESS
    assert emails["New genres this autumn"]["bounced_at"] is not None


async def test_export_summary_shows_the_communications_escaped(
    runtime: LocalRuntime, client: httpx.AsyncClient
) -> None:
    _, summary, mine, _ = await _exported(runtime, client)

    assert f"Request {mine.number}: Which data do you hold?" in summary
    assert "My track &lt;b&gt;stops&lt;/b&gt; halfway.\nCan you look?" in summary
    assert "<b>stops</b>" not in summary
    assert ANSWER in summary
    assert DEVICE in summary
    assert CONSENT_IP in summary
    assert "track_expiring_3d" in summary
