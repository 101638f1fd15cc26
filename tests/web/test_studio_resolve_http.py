"""The studio's reading of a prompt, its published rules, its messages and its spending rule, over
HTTP against the real server."""

from __future__ import annotations

import json
import re

import httpx
import pytest
from markupsafe import escape

from beatbun.billing.pricing import price_in_credits
from beatbun.generation.provider import (
    DEFAULT_DURATION_SECONDS,
    MAX_BPM,
    MAX_DURATION_SECONDS,
    MIN_BPM,
    MIN_DURATION_SECONDS,
)
from beatbun.i18n import translate
from tests.api.test_generations_http import _set_balance, api, api_key_of
from tests.conftest import LiveServer
from tests.visitors import Visitor, log_in, sign_up, signed_in
from tests.web.test_studio_http import speaking, submit

JSON = {"Accept": "application/json"}


@pytest.fixture
def server(shared_live_server: LiveServer) -> LiveServer:
    return shared_live_server


def resolve(visitor: Visitor, **fields: str) -> httpx.Response:
    return visitor.post("/studio/resolve", fields, csrf_from="/studio", headers=JSON)


def rules_of(page: str) -> dict[str, object]:
    found = re.search(r'<script type="application/json" id="studio-rules">(.*?)</script>', page)
    assert found, page
    rules: dict[str, object] = json.loads(found.group(1))
    return rules


def test_resolve_a_known_genre_with_tempo_key_and_mood(server: LiveServer) -> None:
    visitor = signed_in(server.url, server.state_dir, "resolve-known@example.com")
    response = resolve(visitor, prompt="Chill lo-fi piano at 80 bpm in A minor")
    assert response.status_code == 200
    plan = response.json()
    assert (plan["genre"], plan["genre_label"], plan["bpm"]) == ("lofi", "Lo-fi", 80)
    assert (plan["key"], plan["mode"], plan["mood"]) == ("A", "minor", "chill")
    assert plan["duration_seconds"] == DEFAULT_DURATION_SECONDS
    assert plan["sources"]["genre"] == "text"
    assert (plan["genre_rule"], plan["unknown"], plan["notes"]) == (None, [], [])
    assert [(item["word"], item["kind"], item["label"]) for item in plan["understood"]] == [
        ("Chill", "mood", "Chill"),
        ("lo-fi", "genre", "Lo-fi"),
        ("piano", "instrument", "Piano"),
        ("80 bpm", "bpm", "80 BPM"),
        ("A minor", "key", "A minor"),
    ]


def test_resolve_a_prompt_naming_no_genre_says_what_chose_it_and_what_was_not_understood(
    server: LiveServer,
) -> None:
    visitor = signed_in(server.url, server.state_dir, "resolve-rule@example.com")
    plan = resolve(visitor, prompt="a calm tune for my grandmother", duration_seconds="60").json()
    assert (plan["genre"], plan["genre_rule"], plan["duration_seconds"]) == (
        "lofi",
        "mood:chill",
        60,
    )
    assert plan["unknown"] == ["grandmother"]
    assert plan["notes"] == [
        "No genre named; chose lo-fi to suit the mood: chill.",
        "Not understood: grandmother.",
    ]


def test_resolve_fields_win_over_the_prompt(server: LiveServer) -> None:
    visitor = signed_in(server.url, server.state_dir, "resolve-fields@example.com")
    plan = resolve(visitor, prompt="reggaeton at 95 bpm", bpm="120", key="D", mode="major").json()
    assert (plan["genre"], plan["bpm"], plan["key"], plan["mode"]) == (
        "reggaeton",
        120,
        "D",
        "major",
    )
    assert plan["sources"]["bpm"] == "field"


@pytest.mark.parametrize(
    ("language", "prompt", "genre", "label", "bpm", "note"),
    [
        (
            "de",
            "ruhiges Klavier, 70 bpm",
            "piano",
            "Solo-Klavier",
            70,
            "Kein Genre genannt; gewählt wurde Solo-Klavier, weil du Klavier wolltest.",
        ),
        (
            "fr",
            "quelque chose à 174 bpm",
            "dnb",
            "Drum and bass",
            174,
            "Aucun genre indiqué ; choix : drum and bass, pour un tempo de 174 BPM.",
        ),
    ],
)
def test_resolve_speaks_the_readers_language(
    server: LiveServer, language: str, prompt: str, genre: str, label: str, bpm: int, note: str
) -> None:
    visitor = speaking(
        language, signed_in(server.url, server.state_dir, f"resolve-{language}@example.com")
    )
    plan = resolve(visitor, prompt=prompt).json()
    assert (plan["genre"], plan["genre_label"], plan["bpm"]) == (genre, label, bpm)
    assert plan["notes"] == [note]


@pytest.mark.parametrize(
    ("fields", "code", "field"),
    [
        ({"prompt": ""}, "empty_prompt", "prompt"),  # a blank field counts as not given
        ({"prompt": "pop", "bpm": "20"}, "bpm_out_of_range", "bpm"),
        (
            {"prompt": "pop", "duration_seconds": "abc"},
            "invalid_duration_seconds",
            "duration_seconds",
        ),
        ({"prompt": "pop", "key": "H"}, "unknown_key", "key"),
    ],
)
def test_resolve_bad_input_is_a_422_with_a_stable_code(
    server: LiveServer, fields: dict[str, str], code: str, field: str
) -> None:
    visitor = signed_in(server.url, server.state_dir, f"resolve-bad-{code}@example.com")
    response = resolve(visitor, **fields)
    assert response.status_code == 422
    assert (response.json()["error"], response.json()["field"]) == (code, field)


def test_resolve_without_the_csrf_token_is_refused(server: LiveServer) -> None:
    visitor = signed_in(server.url, server.state_dir, "resolve-csrf@example.com")
    response = visitor.post("/studio/resolve", {"prompt": "pop", "csrf_token": ""}, headers=JSON)
    assert response.status_code == 403


def test_resolve_needs_a_login(server: LiveServer) -> None:
    assert httpx.post(f"{server.url}/studio/resolve", data={"prompt": "pop"}).status_code in (
        401,
        403,
    )


def test_published_rules_are_the_servers_limits_and_prices(server: LiveServer) -> None:
    visitor = signed_in(server.url, server.state_dir, "rules@example.com")
    rules = rules_of(visitor.get("/studio").text)
    low, high = int(MIN_DURATION_SECONDS), int(MAX_DURATION_SECONDS)
    assert (rules["duration_min"], rules["duration_max"]) == (low, high)
    assert (rules["bpm_min"], rules["bpm_max"]) == (MIN_BPM, MAX_BPM)
    assert rules["duration_default"] == DEFAULT_DURATION_SECONDS
    # The built-in composer makes instrumentals: no price with lyrics is offered.
    assert (rules["lyrics_allowed"], rules["lyrics_prices"]) == (False, None)
    assert rules["prices"] == [
        price_in_credits(duration_seconds=seconds, has_lyrics=False)
        for seconds in range(low, high + 1)
    ]


def test_the_length_label_comes_from_the_rules(server: LiveServer) -> None:
    visitor = signed_in(server.url, server.state_dir, "rules-label@example.com")
    page = visitor.get("/studio").text
    label = f"Length (seconds, {int(MIN_DURATION_SECONDS)} to {int(MAX_DURATION_SECONDS)})"
    assert label in page
    assert f'min="{int(MIN_DURATION_SECONDS)}" max="{int(MAX_DURATION_SECONDS)}"' in page


def test_form_post_puts_each_error_next_to_its_field(server: LiveServer) -> None:
    visitor = signed_in(server.url, server.state_dir, "next-to@example.com")
    response = submit(visitor, bpm="20")
    assert response.status_code == 422
    field = response.text.split('id="bpm"', 1)[1].split("<label", 1)[0]
    assert 'aria-invalid="true" aria-describedby="bpm-error" autofocus' in field
    assert "Tempo 20 BPM is outside 40..240" in field
    assert "data-form-message hidden" in response.text  # nothing beside the button


def test_form_post_puts_a_genre_error_in_the_genre_group(server: LiveServer) -> None:
    visitor = signed_in(server.url, server.state_dir, "genres-error@example.com")
    page = visitor.get("/studio")
    token = re.search(r'name="request_token" value="([0-9a-f]+)"', page.text)
    assert token
    form = {
        "prompt": "pop",
        "genres": ["pop", "rock", "house", "techno", "hiphop", "lofi", "jazz", "ambient", "rock"],
        "request_token": token.group(1),
        "csrf_token": visitor.csrf("/studio"),
    }
    response = visitor._send("POST", "/studio", data=form, headers={"Origin": server.url})
    assert response.status_code == 422
    group = response.text.split("<legend>Genre</legend>", 1)[1].split("</fieldset>", 1)[0]
    assert 'id="genres-error"' in group and "at most 8 of them" in group
    assert 'value="jazz" data-genre-tag checked' in group  # the choices are kept


def test_too_few_credits_is_the_same_error_for_the_page_its_script_and_the_api(
    server: LiveServer,
) -> None:
    visitor = signed_in(server.url, server.state_dir, "few-credits@example.com")
    key = api_key_of(visitor)
    _set_balance(server.state_dir, _account_id(server, key), 1)
    with api(server, key) as client:
        answer = client.post("/api/v1/generations", json={"prompt": "pop", "duration_seconds": 60})
    assert (answer.status_code, answer.json()["error"]) == (402, "insufficient_credits")

    script = submit(visitor, duration_seconds="60", headers=JSON)
    assert (script.status_code, script.json()["error"]) == (402, "insufficient_credits")

    page = submit(visitor, duration_seconds="60")
    assert page.status_code == 402
    beside = page.text.split("data-submit-area>", 1)[1].split("</section>", 1)[0]
    message = translate("en", "This track costs %(cost)s credits and your balance is %(balance)s.")
    assert 'data-error-code="insufficient_credits"' in beside
    assert str(escape(message % {"cost": 6, "balance": 1})) in beside
    assert 'href="/pricing"' in beside


def test_an_unverified_account_is_told_beside_the_button_by_page_and_script(
    server: LiveServer,
) -> None:
    visitor = Visitor(server.url)
    assert sign_up(visitor, "unverified-studio@example.com").status_code == 303
    assert log_in(visitor, "unverified-studio@example.com").status_code == 303
    script = submit(visitor, headers=JSON)
    assert (script.status_code, script.json()["error"]) == (403, "email_unverified")
    page = submit(visitor)
    assert page.status_code == 403
    beside = page.text.split("data-submit-area>", 1)[1].split("</section>", 1)[0]
    assert 'data-error-code="email_unverified"' in beside
    assert "Verify your email address before spending credits." in beside


def test_without_scripts_the_check_button_shows_the_reading_in_the_studio(
    server: LiveServer,
) -> None:
    visitor = signed_in(server.url, server.state_dir, "resolve-page@example.com")
    page = visitor.post(
        "/studio/resolve",
        {"prompt": "a tune at 95 bpm for grandma", "seed": "7"},
        csrf_from="/studio",
    )
    assert page.status_code == 200
    reading = page.text.split("data-resolved>", 1)[1].split("</div>", 1)[0]
    assert "Genre: Pop" in reading and "Tempo: 95 BPM" in reading
    assert "No genre named; chose pop to suit 95 BPM. Not understood: grandma." in reading
    assert "Understood: 95 bpm (95 BPM)" in reading
    assert ">a tune at 95 bpm for grandma</textarea>" in page.text  # what was typed is kept
    assert 'id="seed" name="seed" type="number" min="0" step="1" inputmode="numeric" value="7"' in (
        page.text
    )


def test_without_scripts_a_bad_value_to_check_is_shown_next_to_its_field(
    server: LiveServer,
) -> None:
    visitor = signed_in(server.url, server.state_dir, "resolve-page-bad@example.com")
    page = visitor.post("/studio/resolve", {"prompt": "pop", "bpm": "20"}, csrf_from="/studio")
    assert page.status_code == 422
    field = page.text.split('id="bpm"', 1)[1].split("<label", 1)[0]
    assert 'id="bpm-error"' in field and "Tempo 20 BPM is outside 40..240" in field


def _account_id(server: LiveServer, key: str) -> str:
    with api(server, key) as client:
        return str(client.get("/api/v1/me").json()["id"])
