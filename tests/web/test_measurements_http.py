"""The studio's and player's measurements over HTTP: consent, the catalogue, bounds, storage,
and the operators' charts drawn from what is stored."""

from __future__ import annotations

import hashlib
import re
import sqlite3
import uuid
from datetime import UTC, datetime

import httpx
import pytest

from beatbun.analytics.measurements import MAX_BATCH, bucket_of
from tests.conftest import LiveServer
from tests.visitors import Visitor, signed_in


def _measure(visitor: Visitor, *items: dict[str, object]) -> httpx.Response:
    headers = {
        "x-csrf-token": visitor.csrf("/"),
        "Origin": visitor.base_url,
        "Accept": "application/json",
    }
    body = {"measurements": list(items)}
    return visitor._send("POST", "/analytics/measurements", json=body, headers=headers)


def _consenting(server: LiveServer) -> Visitor:
    visitor = Visitor(server.url)
    visitor.post("/consent", {"choice": "accept_all", "next": "/"}, csrf_from="/")
    visitor.get("/")  # the performance cookie arrives with the next page
    assert "__Host-perf" in visitor.cookies
    return visitor


def _rows(server: LiveServer, sql: str, *params: object) -> list[tuple[object, ...]]:
    with sqlite3.connect(server.state_dir / "d1" / "DB.sqlite") as db:
        return db.execute(sql, params).fetchall()


def _stored(server: LiveServer) -> int:
    return int(_rows(server, "SELECT COALESCE(SUM(events), 0) FROM analytics_measurements")[0][0])


def test_measurements_without_performance_consent_are_refused_and_not_stored(
    shared_live_server: LiveServer,
) -> None:
    visitor = Visitor(shared_live_server.url)
    visitor.post("/consent", {"choice": "reject_all", "next": "/"}, csrf_from="/")
    before = _stored(shared_live_server)
    response = _measure(visitor, {"name": "prompt_dwell_ms", "value": 4000})
    assert response.status_code == 403 and response.json()["error"] == "consent_required"
    assert _stored(shared_live_server) == before


def test_unknown_measurement_refuses_the_whole_batch(shared_live_server: LiveServer) -> None:
    visitor = _consenting(shared_live_server)
    before = _stored(shared_live_server)
    response = _measure(
        visitor,
        {"name": "prompt_dwell_ms", "value": 4000},
        {"name": "mouse_moves", "value": 1},
    )
    assert response.status_code == 422
    assert response.json()["error"] == "unknown_measurement"
    assert "mouse_moves" in response.json()["message"]
    assert _stored(shared_live_server) == before


@pytest.mark.parametrize(
    ("item", "code"),
    [
        ({"name": "prompt_dwell_ms", "value": -1}, "measurement_out_of_range"),
        # A prompt box left open for more than half an hour is not writing time.
        ({"name": "prompt_dwell_ms", "value": 1_800_001}, "measurement_out_of_range"),
        ({"name": "player_start_ms", "value": -5}, "measurement_out_of_range"),
        ({"name": "download_bytes", "value": 2_000_000_000}, "measurement_out_of_range"),
        # A click counts once, whatever the page says.
        ({"name": "genre_tag_click", "value": 3, "label": "lofi"}, "measurement_out_of_range"),
        # JSON's true is not a number of milliseconds.
        ({"name": "player_stall_ms", "value": True}, "measurement_out_of_range"),
        (
            {"name": "genre_tag_click", "value": 1, "label": "my secret"},
            "invalid_measurement_label",
        ),
        # Labels are tokens, never text someone typed.
        (
            {"name": "download_ms", "value": 900, "label": "Hello there"},
            "invalid_measurement_label",
        ),
        (
            {"name": "player_start_ms", "value": 90, "label": "/tracks/abc"},
            "invalid_measurement_label",
        ),
        ({"name": "prompt_dwell_ms", "value": 90, "label": "first"}, "invalid_measurement_label"),
    ],
)
def test_measurement_outside_the_catalogue_is_refused(
    shared_live_server: LiveServer, item: dict[str, object], code: str
) -> None:
    response = _measure(_consenting(shared_live_server), item)
    assert response.status_code == 422 and response.json()["error"] == code


def test_batch_above_the_limit_is_refused(shared_live_server: LiveServer) -> None:
    items = [{"name": "player_start_ms", "value": 100}] * (MAX_BATCH + 1)
    response = _measure(_consenting(shared_live_server), *items)
    assert response.status_code == 422 and response.json()["error"] == "too_many_measurements"


def test_measurements_are_stored_as_daily_bucket_counts_under_the_days_pseudonym(
    shared_live_server: LiveServer,
) -> None:
    server = shared_live_server
    visitor = _consenting(server)
    visitor_id = visitor.cookies["__Host-perf"]
    response = _measure(
        visitor,
        {"name": "genre_tag_click", "value": 1, "label": "jazz"},
        {"name": "genre_tag_click", "value": 1, "label": "jazz"},
        {"name": "download_ms", "value": 1500, "label": "1_10mb"},
        {"name": "download_bytes", "value": 5_300_000, "label": "1_10mb"},
        # As the player and the studio send them: a resumed start, a prompt never focused.
        {"name": "player_start_ms", "value": 0, "label": "resume"},
        {"name": "prompt_dwell_ms", "value": 0},
    )
    assert response.status_code == 204
    day = datetime.now(UTC).strftime("%Y-%m-%d")
    rows = _rows(
        server,
        "SELECT name, label, bucket, events, total FROM analytics_measurements"
        " WHERE day = ? AND label IN ('jazz', '1_10mb') ORDER BY name",
        day,
    )
    assert ("genre_tag_click", "jazz", bucket_of(1), 2, 2.0) in rows
    assert ("download_ms", "1_10mb", bucket_of(1500), 1, 1500.0) in rows
    assert ("download_bytes", "1_10mb", bucket_of(5_300_000), 1, 5_300_000.0) in rows
    # Counted as a visitor exactly as a page view is: today's salt, hashed with the cookie.
    ((salt,),) = _rows(server, "SELECT salt FROM analytics_salts WHERE day = ?", day)
    pseudonym = hashlib.sha256(f"{salt}:{visitor_id}".encode()).hexdigest()
    assert _rows(
        server, "SELECT 1 FROM analytics_visitors WHERE day = ? AND pseudonym = ?", day, pseudonym
    )
    kept = repr(_rows(server, "SELECT * FROM analytics_measurements"))
    assert visitor_id not in kept and pseudonym not in kept and "127.0.0.1" not in kept


def test_operator_charts_show_figures_from_the_stored_rows(live_server: LiveServer) -> None:
    # A server of its own: the figures are of exactly the rows this test stores.
    server, address = live_server, f"{uuid.uuid4().hex[:12]}@example.com"
    operator = signed_in(server.url, server.state_dir, address)
    day = datetime.now(UTC).strftime("%Y-%m-%d")
    with sqlite3.connect(server.state_dir / "d1" / "DB.sqlite") as db:
        db.execute("UPDATE accounts SET is_admin = 1 WHERE email = ?", (address,))
        # Ten player starts: five around 200 ms, four around 500 ms, one of 3 s.
        db.executemany(
            "INSERT INTO analytics_measurements (day, name, label, bucket, events, total)"
            " VALUES (?, 'player_start_ms', '', ?, ?, ?)",
            [
                (day, bucket_of(200), 5, 1000.0),
                (day, bucket_of(500), 4, 2000.0),
                (day, bucket_of(3000), 1, 3000.0),
            ],
        )
        db.execute(
            "INSERT INTO analytics_measurements (day, name, label, bucket, events, total)"
            " VALUES (?, 'genre_tag_click', 'cinematic', ?, 7, 7.0)",
            (day, bucket_of(1)),
        )
    page = operator.get("/admin/analytics")
    assert page.status_code == 200
    start = _section(page.text, "player-start")
    assert _figures(start) == {
        "Measurements": "10",
        "Median": "200 ms",
        "90th percentile": "500 ms",
    }
    # The distribution's bars: five under 250 ms, four under 1 s, one under 5 s.
    assert '<rect x="' in start and "&lt;0.25 s: 5" in start and "&lt;5 s: 1" in start
    genres = _section(page.text, "genres")
    assert "Orchestral / cinematic: 7" in genres
    assert page.text.count('<svg class="chart"') == 8


def _section(page: str, key: str) -> str:
    found = re.search(rf'<section[^>]+aria-labelledby="chart-{key}">(.*?)</section>', page, re.S)
    assert found, key
    return found.group(1)


def _figures(section: str) -> dict[str, str]:
    return dict(re.findall(r"<dt>([^<]+)</dt><dd>([^<]+)</dd>", section))
