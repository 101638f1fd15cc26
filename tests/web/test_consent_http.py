"""Consent over HTTP against the real local server: records, cookies, GPC, sync, display choices."""

from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path

import httpx

from beatbun.consent.registry import ITEMS, find_item
from beatbun.consent.service import POLICY_VERSION
from beatbun.policies.versions import current
from tests.conftest import LiveServer
from tests.visitors import Visitor, signed_in

BANNER = "data-consent-banner"


def _email() -> str:
    return f"{uuid.uuid4().hex[:12]}@example.com"


def choose(
    visitor: Visitor, choice: str, *, headers: dict[str, str] | None = None, **fields: str
) -> httpx.Response:
    """Submit the banner (or, with source='preferences', the preference center)."""
    data = {"choice": choice, "source": "banner", "next": "/", **fields}
    return visitor.post("/consent", data, csrf_from="/", headers=headers or {})


def set_cookies(response: httpx.Response) -> dict[str, str]:
    """Name -> the whole Set-Cookie header, for every cookie this response sets or expires."""
    return {h.split("=", 1)[0]: h for h in response.headers.get_list("set-cookie")}


def records(state_dir: Path) -> list[sqlite3.Row]:
    with sqlite3.connect(state_dir / "d1" / "DB.sqlite") as db:
        db.row_factory = sqlite3.Row
        return db.execute("SELECT * FROM consent_records ORDER BY recorded_at").fetchall()


def records_of(state_dir: Path, subject: str) -> list[sqlite3.Row]:
    return [row for row in records(state_dir) if row["subject"] == subject]


def test_first_visit_shows_the_banner_and_sets_only_necessary_cookies(
    shared_live_server: LiveServer,
) -> None:
    response = httpx.get(shared_live_server.url + "/")
    assert response.status_code == 200 and BANNER in response.text
    for name in set_cookies(response):
        item = find_item(name, kind="cookie")
        assert item is not None and item.category == "necessary", name


def test_banner_offers_three_equal_buttons_and_nothing_pre_ticked(
    shared_live_server: LiveServer,
) -> None:
    text = httpx.get(shared_live_server.url + "/").text
    banner = text[text.index(BANNER) : text.index("</section>", text.index(BANNER))]
    for label in ("Accept all", "Reject all", "Customize"):
        assert 'class="button"' in banner.split(label)[0].rsplit("<", 1)[1]
    assert banner.count('class="button"') == 3
    assert "checked" not in banner


def test_reject_all_records_the_choice_and_sets_no_optional_cookie(
    shared_live_server: LiveServer,
) -> None:
    visitor = Visitor(shared_live_server.url)
    response = choose(visitor, "reject_all")
    assert response.status_code == 303 and response.headers["location"] == "/"
    cookie = set_cookies(response)["__Host-consent"]
    assert {"Secure", "HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=15811200"} <= set(
        cookie.split("; ")
    )
    assert set(visitor.cookies) <= {"__Host-csrf", "__Host-consent"}
    (row,) = records_of(shared_live_server.state_dir, visitor.cookies["__Host-consent"])
    assert (row["performance"], row["functionality"], row["marketing"]) == (0, 0, 0)
    assert row["policy_version"] == POLICY_VERSION and row["source"] == "banner"
    assert BANNER not in visitor.get("/").text


def test_accept_all_records_every_category_and_sets_the_performance_cookie(
    shared_live_server: LiveServer,
) -> None:
    visitor = Visitor(shared_live_server.url)
    response = choose(visitor, "accept_all")
    assert "__Host-perf" in set_cookies(response)
    (row,) = records_of(shared_live_server.state_dir, visitor.cookies["__Host-consent"])
    assert (row["performance"], row["functionality"], row["marketing"]) == (1, 1, 1)
    assert row["source"] == "banner"


def test_preference_center_choice_is_recorded_with_its_source(
    shared_live_server: LiveServer,
) -> None:
    visitor = Visitor(shared_live_server.url)
    choose(visitor, "custom", source="preferences", functionality="on")
    (row,) = records_of(shared_live_server.state_dir, visitor.cookies["__Host-consent"])
    assert (row["performance"], row["functionality"], row["marketing"]) == (0, 1, 0)
    assert row["source"] == "preferences"
    page = visitor.get("/privacy/choices")
    assert (
        'id="category-functionality" name="functionality" value="on"\n          checked'
        in page.text
    )
    assert "Preference center" in page.text  # the history lists the choice and its source


def test_withdrawal_expires_optional_cookies_on_the_same_response(
    shared_live_server: LiveServer,
) -> None:
    visitor = Visitor(shared_live_server.url)
    choose(visitor, "accept_all")
    visitor.post("/preferences/display", {"theme": "dark", "language": "en"}, csrf_from="/")
    assert {"__Host-perf", "__Host-prefs"} <= set(visitor.cookies)
    response = choose(visitor, "reject_all", source="preferences")
    expired = set_cookies(response)
    assert "Max-Age=0" in expired["__Host-perf"] and "Max-Age=0" in expired["__Host-prefs"]
    # The theme survives, but only for this browser session.
    assert "Max-Age" not in expired["__Host-prefs-session"]
    assert set(visitor.cookies) == {"__Host-csrf", "__Host-consent", "__Host-prefs-session"}
    assert 'data-theme="dark"' in visitor.get("/").text


def test_a_cookie_the_registry_does_not_list_lives_only_with_marketing_allowed(
    shared_live_server: LiveServer,
) -> None:
    visitor = Visitor(shared_live_server.url)
    choose(visitor, "accept_all")
    visitor.cookies["_partner_id"] = "abc"  # what a marketing tag might leave behind
    assert "_partner_id" not in set_cookies(visitor.get("/"))
    response = choose(visitor, "reject_all", source="preferences")
    assert "Max-Age=0" in set_cookies(response)["_partner_id"]
    assert "_partner_id" not in visitor.cookies


def test_display_choice_without_functionality_lasts_the_browser_session(
    shared_live_server: LiveServer,
) -> None:
    visitor = Visitor(shared_live_server.url)
    response = visitor.post(
        "/preferences/display",
        {"theme": "light", "language": "fr", "next": "/login"},
        csrf_from="/",
    )
    assert response.headers["location"] == "/login"
    cookie = set_cookies(response)["__Host-prefs-session"]
    assert "Max-Age" not in cookie and cookie.startswith("__Host-prefs-session=light.fr;")
    page = visitor.get("/login")
    assert '<html lang="fr" data-theme="light">' in page.text and "Se connecter" in page.text


def test_display_choice_with_functionality_is_kept_for_a_year(
    shared_live_server: LiveServer,
) -> None:
    visitor = Visitor(shared_live_server.url)
    choose(visitor, "custom", source="preferences", functionality="on")
    response = visitor.post(
        "/preferences/display", {"theme": "dark", "language": "de"}, csrf_from="/"
    )
    assert "Max-Age=31536000" in set_cookies(response)["__Host-prefs"]


def test_consent_redirect_refuses_another_host(shared_live_server: LiveServer) -> None:
    visitor = Visitor(shared_live_server.url)
    assert choose(visitor, "reject_all", next="//evil.example/").headers["location"] == "/"


def test_gpc_request_defaults_marketing_off_even_after_accept_all(
    shared_live_server: LiveServer,
) -> None:
    visitor = Visitor(shared_live_server.url)
    gpc = {"Sec-GPC": "1"}
    assert "Global Privacy Control" in visitor.get("/", headers=gpc).text
    choose(visitor, "accept_all", headers=gpc)
    (row,) = records_of(shared_live_server.state_dir, visitor.cookies["__Host-consent"])
    assert (row["performance"], row["functionality"], row["marketing"]) == (1, 1, 0)
    assert "Opt-out request honored" in visitor.get("/privacy/choices", headers=gpc).text


def test_gpc_signal_overrides_an_earlier_marketing_opt_in_and_records_it(
    shared_live_server: LiveServer,
) -> None:
    visitor = Visitor(shared_live_server.url)
    choose(visitor, "accept_all")
    page = visitor.get("/privacy/choices", headers={"Sec-GPC": "1"})
    assert "Opt-out request honored" in page.text
    rows = records_of(shared_live_server.state_dir, visitor.cookies["__Host-consent"])
    assert [(r["source"], r["marketing"]) for r in rows] == [("banner", 1), ("gpc", 0)]


def test_gpc_opt_in_from_the_preference_center_is_respected(
    shared_live_server: LiveServer,
) -> None:
    visitor = Visitor(shared_live_server.url)
    gpc = {"Sec-GPC": "1"}
    choose(visitor, "custom", source="preferences", marketing="on", headers=gpc)
    page = visitor.get("/privacy/choices", headers=gpc)
    assert "although your browser sends an opt-out request" in page.text
    (row,) = records_of(shared_live_server.state_dir, visitor.cookies["__Host-consent"])
    assert row["marketing"] == 1 and row["gpc_override"] == 1


def test_well_known_gpc_resource_is_served(shared_live_server: LiveServer) -> None:
    response = httpx.get(shared_live_server.url + "/.well-known/gpc.json")
    assert response.status_code == 200 and response.json()["gpc"] is True


def test_logged_in_choice_is_adopted_by_a_new_device_without_banner(
    shared_live_server: LiveServer,
) -> None:
    server, address = shared_live_server, _email()
    laptop = signed_in(server.url, server.state_dir, address)
    choose(laptop, "custom", source="preferences", performance="on")
    phone = Visitor(server.url, user_agent="Phone/1.0")
    assert BANNER in phone.get("/").text
    phone.post("/login", {"email": address, "password": "correct horse battery staple"})
    page = phone.get("/")
    assert BANNER not in page.text and "__Host-perf" in phone.cookies
    assert "__Host-prefs" not in phone.cookies


def test_change_on_one_device_applies_to_the_other_on_its_next_request(
    shared_live_server: LiveServer,
) -> None:
    server, address = shared_live_server, _email()
    laptop = signed_in(server.url, server.state_dir, address)
    choose(laptop, "accept_all")
    phone = Visitor(server.url, user_agent="Phone/1.0")
    phone.post("/login", {"email": address, "password": "correct horse battery staple"})
    assert "__Host-perf" in set_cookies(phone.get("/"))
    choose(laptop, "reject_all", source="preferences")
    assert "Max-Age=0" in set_cookies(phone.get("/"))["__Host-perf"]


def test_device_choice_made_before_login_is_kept_for_the_account(
    shared_live_server: LiveServer,
) -> None:
    server, address = shared_live_server, _email()
    visitor = signed_in(server.url, server.state_dir, address)
    visitor.post("/logout")
    choose(visitor, "custom", source="preferences", functionality="on")
    visitor.post("/login", {"email": address, "password": "correct horse battery staple"})
    assert BANNER not in visitor.get("/account").text
    synced = [r for r in records(server.state_dir) if r["source"] == "sync"]
    assert any(r["functionality"] == 1 and r["subject"].startswith("account:") for r in synced)


def test_consent_history_lists_each_choice(shared_live_server: LiveServer) -> None:
    visitor = Visitor(shared_live_server.url)
    choose(visitor, "accept_all")
    choose(visitor, "reject_all", source="preferences")
    page = visitor.get("/privacy/choices").text
    history = page[page.index("Your consent history") :]
    assert history.count("<tr><td>") == 2 and "Banner" in history and "Preference center" in history


def test_cookie_policy_lists_every_registry_item(shared_live_server: LiveServer) -> None:
    page = httpx.get(shared_live_server.url + "/cookies").text
    assert f"Version {POLICY_VERSION}" in page
    for item in ITEMS:
        assert f'data-registry-item="{item.name}" data-category="{item.category}"' in page


def test_privacy_policy_states_its_version_and_the_free_tier_retention(
    shared_live_server: LiveServer,
) -> None:
    page = httpx.get(shared_live_server.url + "/privacy").text
    privacy = current("privacy")
    assert f"Version {privacy.version}, effective {privacy.effective}" in page
    assert "deleted 14 days after it is created" in page
    assert BANNER in page and "<main" in page  # the banner sits beside the text, never over it
