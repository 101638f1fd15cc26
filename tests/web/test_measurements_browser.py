"""Measurements in Chromium: sent only with performance consent, never otherwise."""

from __future__ import annotations

import sqlite3

import pytest
from playwright.sync_api import Page

from beatbun.analytics.measurements import bucket_of
from tests.conftest import LiveServer

pytestmark = pytest.mark.browser

DISPATCH = """(items) => {
  for (const detail of items) {
    document.dispatchEvent(new CustomEvent("beatbun:measure", { detail }));
  }
}"""
ITEMS = [
    {"name": "player_start_ms", "value": 321, "label": "first"},
    {"name": "genre_tag_click", "value": 1, "label": "jazz"},
]


def _rows(server: LiveServer, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(server.state_dir / "d1" / "DB.sqlite") as db:
        return db.execute(sql).fetchall()


def test_dispatched_measurements_reach_the_server_with_performance_consent(
    live_server: LiveServer, page: Page
) -> None:
    page.goto(live_server.url + "/")
    # The page view shows analytics.js is running, so its listener is in place.
    with page.expect_request("**/analytics/events"):
        page.get_by_role("button", name="Accept all").click()
    with page.expect_response("**/analytics/measurements") as sent:
        page.evaluate(DISPATCH, ITEMS)
    assert sent.value.status == 204
    assert sent.value.request.post_data_json == {"measurements": ITEMS}
    rows = _rows(
        live_server, "SELECT name, label, bucket, events, total FROM analytics_measurements"
    )
    assert sorted(rows) == [
        ("genre_tag_click", "jazz", bucket_of(1), 1, 1.0),
        ("player_start_ms", "first", bucket_of(321), 1, 321.0),
    ]


def test_nothing_is_sent_or_stored_after_rejecting_performance(
    live_server: LiveServer, page: Page
) -> None:
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(live_server.url + "/")
    page.get_by_role("button", name="Reject all").click()
    page.wait_for_load_state()
    page.evaluate(DISPATCH, ITEMS)
    # Longer than a batch waits, then leave the page: a queued batch would go now.
    page.wait_for_timeout(2500)
    page.goto(live_server.url + "/pricing")
    page.evaluate(DISPATCH, ITEMS)
    page.goto(live_server.url + "/")
    page.wait_for_timeout(500)
    assert [url for url in requested if "analytics" in url] == []
    stored = page.evaluate(
        "JSON.stringify([Object.keys(localStorage), Object.keys(sessionStorage)])"
    )
    assert "measure" not in stored and "analytics" not in stored
    assert _rows(live_server, "SELECT COUNT(*) FROM analytics_measurements") == [(0,)]
    assert _rows(live_server, "SELECT COUNT(*) FROM analytics_visitors") == [(0,)]
