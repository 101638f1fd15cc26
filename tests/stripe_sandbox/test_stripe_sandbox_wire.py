"""The wire format and the pure helpers under the sandbox's routes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import stripe
from stripe.params.checkout import SessionCreateParams

from beatbun_local.stripe_sandbox.objects import add_month, strip_legacy
from beatbun_local.stripe_sandbox.webhooks import signature_header
from beatbun_local.stripe_sandbox.wire import StripeError, check_known_params, decode_form


@pytest.mark.parametrize(
    ("pairs", "decoded"),
    [
        ([("email", "a@b.c")], {"email": "a@b.c"}),
        (
            [("line_items[0][price]", "price_x"), ("line_items[0][quantity]", "1")],
            {"line_items": [{"price": "price_x", "quantity": "1"}]},
        ),
        # The SDK indexes lists (expand[0]); curl users write expand[].
        ([("expand[0]", "a"), ("expand[1]", "b")], {"expand": ["a", "b"]}),
        ([("expand[]", "a"), ("expand[]", "b")], {"expand": ["a", "b"]}),
        # Metadata keys stay keys even when they look like indexes.
        ([("metadata[0]", "zero")], {"metadata": {"0": "zero"}}),
        (
            [("subscription_data[metadata][account_id]", "acc_1")],
            {"subscription_data": {"metadata": {"account_id": "acc_1"}}},
        ),
    ],
)
def test_decode_form_nests_bracketed_keys(
    pairs: list[tuple[str, str]], decoded: dict[str, Any]
) -> None:
    assert decode_form(pairs) == decoded


def test_check_known_params_refuses_a_nested_typo() -> None:
    params = decode_form([("line_items[0][prise]", "price_x")])

    with pytest.raises(StripeError) as raised:
        check_known_params(params, SessionCreateParams)

    assert raised.value.code == "parameter_unknown"
    assert raised.value.param == "line_items[0][prise]"


def test_check_known_params_accepts_free_form_metadata() -> None:
    params = decode_form([("metadata[anything]", "x"), ("payment_intent_data[metadata][k]", "v")])

    check_known_params(params, SessionCreateParams)


def test_signature_header_verifies_with_the_official_sdk() -> None:
    payload = (
        '{"id": "evt_1", "object": "event", "type": "customer.created", "data": {"object": {}}}'
    )
    header = signature_header(
        payload, secret="whsec_abc", timestamp=int(datetime.now(UTC).timestamp())
    )

    event = stripe.Webhook.construct_event(payload, header, "whsec_abc")

    assert event.id == "evt_1"


@pytest.mark.parametrize(
    ("start", "anchor", "expected"),
    [
        ("2026-01-15", "2026-01-15", "2026-02-15"),
        # Months without the anchor's day end on their last day, then come back to it.
        ("2026-01-31", "2026-01-31", "2026-02-28"),
        ("2026-02-28", "2026-01-31", "2026-03-31"),
        ("2026-12-10", "2026-12-10", "2027-01-10"),
    ],
)
def test_add_month_keeps_the_anchor_day(start: str, anchor: str, expected: str) -> None:
    def epoch(day: str) -> int:
        return int(datetime.fromisoformat(day).replace(tzinfo=UTC).timestamp())

    assert add_month(epoch(start), anchor=epoch(anchor)) == epoch(expected)


def test_strip_legacy_drops_pre_basil_fields_everywhere() -> None:
    invoice = {
        "object": "invoice",
        "id": "in_1",
        "subscription": "sub_1",
        "paid": True,
        "parent": {},
    }
    event = {"object": "event", "data": {"object": invoice, "previous_attributes": {"paid": False}}}

    stripped = strip_legacy(event)

    assert stripped["data"]["object"] == {"object": "invoice", "id": "in_1", "parent": {}}
    assert stripped["data"]["previous_attributes"] == {}
