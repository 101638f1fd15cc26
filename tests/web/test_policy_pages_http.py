"""The policy pages with their version history, and the policy-change banner, over real HTTP."""

from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path

import httpx

from beatbun.billing.plans import LICENCES
from beatbun.policies.versions import DOCUMENTS, HISTORY, PATHS, current, latest_significant
from tests.conftest import LiveServer
from tests.visitors import Visitor, signed_in

BANNER = "data-policy-banner"
PRIVACY = latest_significant("privacy")
TERMS = latest_significant("terms")


def _email() -> str:
    return f"{uuid.uuid4().hex[:12]}@example.com"


def _db(state_dir: Path) -> sqlite3.Connection:
    db = sqlite3.connect(state_dir / "d1" / "DB.sqlite")
    db.row_factory = sqlite3.Row
    return db


def _joined_before_the_changes(server: LiveServer) -> tuple[Visitor, str]:
    """A signed-in account whose creation is moved to before every significant change."""
    address = _email()
    visitor = signed_in(server.url, server.state_dir, address)
    assert PRIVACY is not None and TERMS is not None
    earliest = min(PRIVACY.effective_at, TERMS.effective_at)
    with _db(server.state_dir) as db:
        db.execute(
            "UPDATE accounts SET created_at = ? WHERE email = ?", (int(earliest) - 86400, address)
        )
        (account_id,) = db.execute("SELECT id FROM accounts WHERE email = ?", (address,)).fetchone()
    return visitor, str(account_id)


def _acknowledged(server: LiveServer, account_id: str) -> set[str]:
    with _db(server.state_dir) as db:
        rows = db.execute(
            "SELECT document, version FROM policy_notices"
            " WHERE account_id = ? AND acknowledged_at IS NOT NULL",
            (account_id,),
        ).fetchall()
    return {f"{row['document']}:{row['version']}" for row in rows}


def test_terms_page_states_its_version_licences_and_history(
    shared_live_server: LiveServer,
) -> None:
    response = httpx.get(shared_live_server.url + "/terms")

    assert response.status_code == 200
    page = response.text
    terms = current("terms")
    assert f"Version {terms.version}, effective {terms.effective}" in page
    for licence in LICENCES.values():
        assert licence.name in page
    assert 'id="history"' in page and "Version history" in page
    assert '<a href="/terms">Terms of service</a>' in page  # the footer link


def test_each_policy_page_lists_every_version(shared_live_server: LiveServer) -> None:
    for document in DOCUMENTS:
        page = httpx.get(shared_live_server.url + PATHS[document]).text
        history = page[page.index('id="history"') :]
        for entry in HISTORY[document]:
            assert f'data-version="{entry.version}"' in history, (document, entry.version)


def test_signup_page_links_the_terms_and_the_privacy_policy(
    shared_live_server: LiveServer,
) -> None:
    page = httpx.get(shared_live_server.url + "/signup").text
    assert 'you accept our <a href="/terms">terms of service</a>' in page
    assert '<a href="/privacy">privacy policy</a>' in page


def test_new_account_sees_no_banner(shared_live_server: LiveServer) -> None:
    visitor = signed_in(shared_live_server.url, shared_live_server.state_dir, _email())
    assert BANNER not in visitor.get("/studio").text


def test_older_account_sees_the_banner_on_every_page_until_acknowledged(
    shared_live_server: LiveServer,
) -> None:
    visitor, account_id = _joined_before_the_changes(shared_live_server)
    assert PRIVACY is not None and TERMS is not None
    for path in ("/studio", "/tracks", "/account", "/privacy"):
        page = visitor.get(path).text
        assert BANNER in page, path
        assert f'name="notice" value="terms:{TERMS.version}"' in page
        assert f'name="notice" value="privacy:{PRIVACY.version}"' in page

    answer = visitor.post(
        "/policies/acknowledge",
        {"notice": f"terms:{TERMS.version}", "next": "/tracks"},
        csrf_from="/studio",
    )

    assert answer.status_code == 303 and answer.headers["location"] == "/tracks"
    page = visitor.get("/tracks").text
    assert f'name="notice" value="terms:{TERMS.version}"' not in page
    assert f'name="notice" value="privacy:{PRIVACY.version}"' in page
    visitor.post(
        "/policies/acknowledge", {"notice": f"privacy:{PRIVACY.version}"}, csrf_from="/studio"
    )
    assert BANNER not in visitor.get("/studio").text
    assert _acknowledged(shared_live_server, account_id) == {
        f"terms:{TERMS.version}",
        f"privacy:{PRIVACY.version}",
    }


def test_acknowledging_an_unknown_version_is_refused(shared_live_server: LiveServer) -> None:
    visitor, account_id = _joined_before_the_changes(shared_live_server)

    answer = visitor.post(
        "/policies/acknowledge", {"notice": "terms:0.1", "next": "/studio"}, csrf_from="/studio"
    )

    assert answer.status_code == 422
    assert "There is no policy change terms:0.1 to acknowledge." in answer.text
    assert _acknowledged(shared_live_server, account_id) == set()


def test_acknowledging_nothing_is_refused(shared_live_server: LiveServer) -> None:
    visitor, account_id = _joined_before_the_changes(shared_live_server)

    answer = visitor.post("/policies/acknowledge", {"next": "/studio"}, csrf_from="/studio")

    assert answer.status_code == 422
    assert "Choose which policy change you read." in answer.text
    assert _acknowledged(shared_live_server, account_id) == set()


def test_acknowledging_without_the_csrf_token_is_refused(shared_live_server: LiveServer) -> None:
    visitor, account_id = _joined_before_the_changes(shared_live_server)
    assert TERMS is not None

    answer = visitor.post(
        "/policies/acknowledge", {"notice": f"terms:{TERMS.version}", "csrf_token": "forged"}
    )

    assert answer.status_code == 403
    assert _acknowledged(shared_live_server, account_id) == set()


def test_the_next_page_must_be_on_this_site(shared_live_server: LiveServer) -> None:
    visitor, _ = _joined_before_the_changes(shared_live_server)
    assert TERMS is not None

    answer = visitor.post(
        "/policies/acknowledge",
        {"notice": f"terms:{TERMS.version}", "next": "https://evil.example/"},
        csrf_from="/studio",
    )

    assert answer.status_code == 303 and answer.headers["location"] == "/"
