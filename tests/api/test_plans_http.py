"""`POST /api/v1/plans` over HTTP against the real local server: the plan, free of charge."""

from __future__ import annotations

import pytest

from tests.api.test_generations_http import _set_balance, api, api_key_of
from tests.conftest import LiveServer
from tests.visitors import signed_in


@pytest.fixture
def server(shared_live_server: LiveServer) -> LiveServer:
    return shared_live_server


def _account_id(server: LiveServer, key: str) -> str:
    with api(server, key) as client:
        return str(client.get("/api/v1/me").json()["id"])


def test_plan_preview_answers_the_plan_and_charges_nothing(server: LiveServer) -> None:
    visitor = signed_in(server.url, server.state_dir, "plans-free@example.com")
    key = api_key_of(visitor, scopes=("read",))
    _set_balance(server.state_dir, _account_id(server, key), 0)
    body = {"prompt": "sad piano ballad about rain", "duration_seconds": 60, "seed": 4}
    with api(server, key) as client:
        response = client.post("/api/v1/plans", json=body)
        again = client.post("/api/v1/plans", json=body)
        credits = client.get("/api/v1/credits").json()
        jobs = client.get("/api/v1/generations").json()
    assert response.status_code == 200
    plan = response.json()
    assert (plan["genre"], plan["genre_label"], plan["mood"]) == ("piano", "Solo piano", "sad")
    assert plan["key"].endswith("minor") and plan["duration_seconds"] == 60
    assert plan["understood"] == [
        "sad -> mood sad",
        "piano -> instrument piano",
        "ballad -> genre piano",
    ]
    assert (plan["unknown"], plan["genre_rule"], plan["cost"]) == (["rain"], None, 6)
    assert plan["sections"][0]["start_seconds"] == 0 and plan["instruments"]["lead"]
    assert again.json() == plan  # the same request and seed, the same plan
    assert credits["balance"] == 0
    assert [entry for entry in credits["ledger"] if entry["kind"] == "debit"] == []
    assert jobs["data"] == []


# Prompt -> genre, the rule that chose it (None: the prompt named it), tempo (None: any).
RULES = [
    ("drum and bass 174", "dnb", None, 174),
    ("ruhiges Klavier, 70 bpm", "piano", "instrument:piano", 70),
    ("piano calme en ré mineur", "piano", "instrument:piano", None),
    ("something at 128 bpm", "techno", "tempo:128", 128),
    ("a nice tune", "pop", "default", None),
]


def test_plan_preview_says_how_the_genre_was_chosen(server: LiveServer) -> None:
    visitor = signed_in(server.url, server.state_dir, "plans-rules@example.com")
    with api(server, api_key_of(visitor)) as client:
        plans = [
            client.post("/api/v1/plans", json={"prompt": prompt, "seed": 1}).json()
            for prompt, *_ in RULES
        ]
    for (_, genre, rule, bpm), plan in zip(RULES, plans, strict=True):
        assert (plan["genre"], plan["genre_rule"]) == (genre, rule)
        assert bpm is None or plan["bpm"] == bpm


def test_plan_preview_refuses_bad_input_like_submitting(server: LiveServer) -> None:
    visitor = signed_in(server.url, server.state_dir, "plans-bad@example.com")
    with api(server, api_key_of(visitor)) as client:
        long = client.post("/api/v1/plans", json={"prompt": "x" * 2001})
        slow = client.post("/api/v1/plans", json={"prompt": "pop", "bpm": 20})
        junk = client.post("/api/v1/plans", content=b"not json")
    assert (long.status_code, long.json()["error"]) == (422, "prompt_too_long")
    assert (slow.status_code, slow.json()["error"], slow.json()["field"]) == (
        422,
        "bpm_out_of_range",
        "bpm",
    )
    assert (junk.status_code, junk.json()["error"]) == (422, "invalid_json")


def test_plan_preview_needs_an_api_key(server: LiveServer) -> None:
    with api(server, "bbk_not-a-key") as client:
        response = client.post("/api/v1/plans", json={"prompt": "pop"})
    assert response.status_code == 401
