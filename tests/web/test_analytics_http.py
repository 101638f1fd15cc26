"""Analytics over HTTP: consent gates collection, and only operators see the charts."""

from __future__ import annotations

import re
import sqlite3
import uuid

import httpx

from tests.conftest import LiveServer
from tests.visitors import Visitor, signed_in


def _event(visitor: Visitor, **body: object) -> httpx.Response:
    headers = {"x-csrf-token": visitor.csrf("/"), "Origin": visitor.base_url}
    return visitor._send("POST", "/analytics/events", json=body, headers=headers)


def _make_operator(server: LiveServer, address: str) -> None:
    with sqlite3.connect(server.state_dir / "d1" / "DB.sqlite") as db:
        db.execute("UPDATE accounts SET is_admin = 1 WHERE email = ?", (address,))


def test_event_without_performance_consent_is_refused(shared_live_server: LiveServer) -> None:
    visitor = Visitor(shared_live_server.url)
    visitor.post("/consent", {"choice": "reject_all", "next": "/"}, csrf_from="/")
    response = _event(visitor, kind="page_view", label="/")
    assert response.status_code == 403 and "Performance measurement is not allowed" in response.text


def test_event_with_performance_consent_is_counted_without_an_ip(
    shared_live_server: LiveServer,
) -> None:
    visitor = Visitor(shared_live_server.url)
    visitor.post("/consent", {"choice": "accept_all", "next": "/"}, csrf_from="/")
    assert _event(visitor, kind="page_view", label="/lo-fi").status_code == 204
    with sqlite3.connect(shared_live_server.state_dir / "d1" / "DB.sqlite") as db:
        rows = db.execute("SELECT * FROM analytics_counts WHERE label = '/lo-fi'").fetchall()
        tables = [
            name
            for (name,) in db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'analytics_%'"
            )
        ]
        stored = [repr(row) for table in tables for row in db.execute(f"SELECT * FROM {table}")]
    assert len(rows) == 1 and len(tables) >= 3
    assert not [row for row in stored if "127.0.0.1" in row]


def test_page_view_of_the_parents_link_is_counted_without_its_token(
    shared_live_server: LiveServer,
) -> None:
    visitor = Visitor(shared_live_server.url)
    visitor.post("/consent", {"choice": "accept_all", "next": "/"}, csrf_from="/")
    token = uuid.uuid4().hex
    assert _event(visitor, kind="page_view", label=f"/parent/{token}").status_code == 204
    with sqlite3.connect(shared_live_server.state_dir / "d1" / "DB.sqlite") as db:
        labels = [label for (label,) in db.execute("SELECT label FROM analytics_counts")]
    assert "/parent/" in labels and not [label for label in labels if token in label]


def test_analytics_page_is_not_found_for_visitors_and_members(
    shared_live_server: LiveServer,
) -> None:
    server = shared_live_server
    assert httpx.get(server.url + "/admin/analytics").status_code == 404
    member = signed_in(server.url, server.state_dir, f"{uuid.uuid4().hex[:12]}@example.com")
    assert member.get("/admin/analytics").status_code == 404


def test_analytics_page_shows_operators_the_charts(shared_live_server: LiveServer) -> None:
    server, address = shared_live_server, f"{uuid.uuid4().hex[:12]}@example.com"
    operator = signed_in(server.url, server.state_dir, address)
    _make_operator(server, address)
    operator.post("/consent", {"choice": "accept_all", "next": "/"}, csrf_from="/")
    operator.get("/")  # the performance cookie arrives with the next page
    assert _event(operator, kind="page_view", label="/pricing").status_code == 204
    page = operator.get("/admin/analytics")
    # Page views and visitors, then the studio's and the player's six measurement charts.
    assert page.status_code == 200 and page.text.count('<svg class="chart"') == 8
    assert re.search(r'data-chart="page-views">.*?<td>[1-9]', page.text, re.S)
