"""Extend and variations over HTTP against the real local server (the composer renders)."""

from __future__ import annotations

import io
import wave
from typing import Any

import httpx
import numpy as np
import pytest
from numpy.typing import NDArray

from tests.api.test_generations_http import api, api_key_of, ledger_is_consistent, wait_for
from tests.conftest import LiveServer
from tests.generation.test_request_rules import BAD_REQUESTS
from tests.visitors import Visitor, signed_in

ORIGINAL = {"prompt": "house music for a beach bar", "duration_seconds": 20, "seed": 11}
SAMPLE_RATE = 44100
# The arrangement writes a track's ending over about its last bar, up to this long.
ENDING_SECONDS = 4


@pytest.fixture
def server(shared_live_server: LiveServer) -> LiveServer:
    return shared_live_server


def _finished_track(client: httpx.Client, body: dict[str, Any]) -> dict[str, Any]:
    created = client.post("/api/v1/generations", json=body)
    assert created.status_code == 201, created.text
    job = wait_for(client, created.json()["id"], seconds=60)
    assert job["status"] == "succeeded", job
    track: dict[str, Any] = client.get(f"/api/v1/tracks/{job['track_id']}").json()
    return track


def _samples(client: httpx.Client, track: dict[str, Any]) -> NDArray[np.float64]:
    audio = client.get(track["audio_url"])
    assert audio.status_code == 200
    with wave.open(io.BytesIO(audio.content)) as reader:
        frames = reader.readframes(reader.getnframes())
        channels = reader.getnchannels()
    return np.frombuffer(frames, "<i2").reshape(-1, channels).astype(np.float64)


def _debits(client: httpx.Client) -> list[int]:
    ledger = client.get("/api/v1/credits").json()["ledger"]
    return [-entry["amount"] for entry in ledger if entry["kind"] == "debit"]


def test_extend_continues_the_track_and_charges_the_added_seconds(server: LiveServer) -> None:
    key = api_key_of(signed_in(server.url, server.state_dir, "extend@example.com"))
    with api(server, key) as client:
        original = _finished_track(client, ORIGINAL)
        headers = {"Idempotency-Key": "extend-1"}

        accepted = client.post(
            f"/api/v1/tracks/{original['id']}/extend", json={"seconds": 15}, headers=headers
        )
        again = client.post(
            f"/api/v1/tracks/{original['id']}/extend", json={"seconds": 15}, headers=headers
        )

        assert (accepted.status_code, again.status_code) == (202, 200), accepted.text
        job = accepted.json()
        assert again.json()["id"] == job["id"]
        assert accepted.headers["location"] == f"/api/v1/generations/{job['id']}"
        assert job["cost"] == 2  # 15 s added: ceil(15 / 10), whatever the track's length
        assert job["request"]["extends_seconds"] == 20
        assert job["request"]["duration_seconds"] == 35
        assert job["request"]["source_track_id"] == original["id"]
        assert _debits(client) == [2, 2]  # the original, then the extension once
        finished = wait_for(client, job["id"], seconds=60)
        assert finished["status"] == "succeeded", finished
        extended = client.get(f"/api/v1/tracks/{finished['track_id']}").json()
        first, longer = _samples(client, original), _samples(client, extended)
        plan, longer_plan = original["plan"], extended["plan"]

    assert extended["id"] != original["id"]
    assert abs(len(longer) / SAMPLE_RATE - 35) < 0.01
    assert longer_plan["source"] == {"track_id": original["id"], "kind": "extension"}
    for name in ("genre", "bpm", "key", "seed", "progression"):
        assert longer_plan[name] == plan[name], name
    # Every section of the original but its ending is kept, bar for bar.
    kept = [section for section in plan["sections"] if section["name"] != "outro"]
    assert longer_plan["sections"][: len(kept)] == kept
    # The same music up to the join, short of the original's ending (its last seconds ring
    # out a final chord); the mix is mastered as a whole, so compare loosely.
    join = round(longer_plan["sections"][len(kept)]["start_seconds"] * SAMPLE_RATE)
    head = slice(0, min(join, len(first)) - ENDING_SECONDS * SAMPLE_RATE)
    correlation = np.corrcoef(first[head].ravel(), longer[head].ravel())[0, 1]
    assert correlation > 0.95
    # No click at the join: no step larger than the original's own largest.
    own_largest = np.abs(np.diff(first, axis=0)).max()
    around_join = longer[join - SAMPLE_RATE // 10 : join + SAMPLE_RATE // 10]
    assert np.abs(np.diff(around_join, axis=0)).max() <= own_largest


def test_variation_is_the_same_plan_with_a_new_seed_charged_as_a_track(
    server: LiveServer,
) -> None:
    key = api_key_of(signed_in(server.url, server.state_dir, "vary@example.com"))
    with api(server, key) as client:
        original = _finished_track(client, ORIGINAL)

        accepted = client.post(
            f"/api/v1/tracks/{original['id']}/variations", headers={"Idempotency-Key": "v-1"}
        )

        assert accepted.status_code == 202, accepted.text
        job = accepted.json()
        assert job["cost"] == 2  # a new 20 s track
        assert job["request"]["seed"] != original["plan"]["seed"]
        assert job["request"]["source_track_id"] == original["id"]
        assert job["request"]["extends_seconds"] is None
        finished = wait_for(client, job["id"], seconds=60)
        variation = client.get(f"/api/v1/tracks/{finished['track_id']}").json()

    for name in ("genre", "bpm", "key"):
        assert variation["plan"][name] == original["plan"][name], name
    assert variation["plan"]["source"] == {"track_id": original["id"], "kind": "variation"}
    assert variation["duration_seconds"] == original["duration_seconds"]


@pytest.mark.parametrize(
    ("case", "body", "code"),
    [
        (1, {"seconds": 5}, "extend_length_out_of_range"),
        (2, {"seconds": 121}, "extend_length_out_of_range"),
        (3, {"seconds": "long"}, "invalid_seconds"),
        (4, {"minutes": 1}, "invalid_seconds"),  # the one field, misspelt
    ],
)
def test_extend_by_a_wrong_length_is_refused_and_charges_nothing(
    server: LiveServer, case: int, body: dict[str, Any], code: str
) -> None:
    key = api_key_of(signed_in(server.url, server.state_dir, f"extend-bad-{case}@example.com"))
    with api(server, key) as client:
        original = _finished_track(client, {**ORIGINAL, "duration_seconds": 5})

        refused = client.post(f"/api/v1/tracks/{original['id']}/extend", json=body)

        assert refused.status_code == 422
        assert refused.json()["error"] == code and refused.json()["message"]
        assert _debits(client) == [1]


def test_extend_past_the_longest_track_is_refused(server: LiveServer) -> None:
    key = api_key_of(signed_in(server.url, server.state_dir, "extend-long@example.com"))
    with api(server, key) as client:
        original = _finished_track(client, {**ORIGINAL, "duration_seconds": 290})

        refused = client.post(f"/api/v1/tracks/{original['id']}/extend", json={"seconds": 15})

        assert refused.status_code == 422
        assert refused.json()["error"] == "extended_too_long"
        assert "305" in refused.json()["message"]
        assert _debits(client) == [29]


def test_another_users_track_cannot_be_extended_or_varied(server: LiveServer) -> None:
    owner = api_key_of(signed_in(server.url, server.state_dir, "derive-owner@example.com"))
    other = api_key_of(signed_in(server.url, server.state_dir, "derive-other@example.com"))
    with api(server, owner) as client:
        track = _finished_track(client, {**ORIGINAL, "duration_seconds": 5})
    with api(server, other) as client:
        extend = client.post(f"/api/v1/tracks/{track['id']}/extend", json={"seconds": 15})
        vary = client.post(f"/api/v1/tracks/{track['id']}/variations")

        assert (extend.status_code, vary.status_code) == (404, 404)
        assert _debits(client) == []
    assert ledger_is_consistent(server.state_dir)


def test_every_bad_request_gets_the_code_the_model_gives(server: LiveServer) -> None:
    key = api_key_of(signed_in(server.url, server.state_dir, "one-model@example.com"))
    with api(server, key) as client:
        answers = [client.post("/api/v1/generations", json=body) for body, _, _ in BAD_REQUESTS]

        got = [(answer.status_code, answer.json()["error"]) for answer in answers]
        assert got == [(422, code) for _, code, _ in BAD_REQUESTS]
        assert [answer.json().get("field") for answer in answers] == [
            field for _, _, field in BAD_REQUESTS
        ]
        assert _debits(client) == []


def test_library_form_extends_and_the_track_page_names_its_source(server: LiveServer) -> None:
    # The studio's finished job links to the track's extend and variation forms.
    visitor = signed_in(server.url, server.state_dir, "extend-form@example.com")
    with api(server, api_key_of(visitor)) as client:
        original = _finished_track(client, ORIGINAL)
        studio = visitor.get("/studio")
        assert f'href="/tracks/{original["id"]}#derive-{original["id"]}"' in studio.text
        library = visitor.get("/tracks")
        assert f'action="/tracks/{original["id"]}/extend"' in library.text
        assert "15 s (2 credits)" in library.text

        submitted = _post_form(visitor, f"/tracks/{original['id']}/extend", {"seconds": "30"})

        assert submitted.status_code == 303, submitted.text
        job_id = submitted.headers["location"].removeprefix("/studio?job=")
        job = wait_for(client, job_id, seconds=60)
        assert (job["status"], job["cost"]) == ("succeeded", 3)
        page = visitor.get(f"/tracks/{job['track_id']}")
        assert "Extended from" in page.text
        assert f'href="/tracks/{original["id"]}"' in page.text


def _post_form(visitor: Visitor, path: str, data: dict[str, str]) -> httpx.Response:
    return visitor.post(path, {**data, "request_token": path}, csrf_from="/tracks")


def test_pricing_publishes_the_extension_and_variation_rules(server: LiveServer) -> None:
    pricing = httpx.get(f"{server.url}/api/v1/pricing").json()

    assert pricing["extend_formula"] == "ceil(added_seconds / 10) x (2 with lyrics, else 1)"
    assert pricing["variation_formula"] == pricing["formula"]
    page = httpx.get(f"{server.url}/pricing")
    assert "Extending a track costs what its added seconds would cost" in page.text
