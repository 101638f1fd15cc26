from __future__ import annotations

import httpx

from tests.conftest import LiveServer


def test_live_server_serves_health_landing_and_assets(live_server: LiveServer) -> None:
    with httpx.Client(base_url=live_server.url) as http:
        health = http.get("/healthz")
        assert health.status_code == 200
        assert health.json()["bindings"] == {"DB": True, "AUDIO": True, "USER_QUEUE": True}
        landing = http.get("/")
        assert landing.status_code == 200 and "text/html" in landing.headers["content-type"]
        assert "server" not in landing.headers
        css = http.get("/static/css/app.css")
        assert css.status_code == 200 and "text/css" in css.headers["content-type"]


def test_live_server_unknown_page_is_404_page(live_server: LiveServer) -> None:
    response = httpx.get(live_server.url + "/no/such/page")
    assert response.status_code == 404
    assert "Nothing is at /no/such/page." in response.text


def test_live_server_unknown_api_route_is_json_404(live_server: LiveServer) -> None:
    response = httpx.get(live_server.url + "/api/v1/nothing")
    assert response.status_code == 404
    assert response.json() == {"error": "not_found", "message": "Nothing is at /api/v1/nothing."}
