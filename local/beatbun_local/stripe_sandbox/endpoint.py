"""What every `/v1` route shares: auth, parameters, idempotency, `expand`, errors, lists."""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import operator
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from beatbun_local.stripe_sandbox.checkout import line_items_of
from beatbun_local.stripe_sandbox.objects import list_object
from beatbun_local.stripe_sandbox.sandbox import Sandbox, sandbox_of
from beatbun_local.stripe_sandbox.store import CURRENT_REQUEST, RequestInfo, Store
from beatbun_local.stripe_sandbox.types import Params, StripeObject
from beatbun_local.stripe_sandbox.wire import (
    StripeError,
    check_known_params,
    decode_form,
    optional_int,
    optional_str,
)

Handler = Callable[[Sandbox, Params, dict[str, str]], StripeObject]
Endpoint = Callable[[Request], Awaitable[Response]]

NO_KEY = (
    "You did not provide an API key. You need to provide your API key in the Authorization "
    "header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See "
    "https://stripe.com/docs/api#authentication for details, or we can help at "
    "https://support.stripe.com/."
)
# Id prefix → kind, for `expand`; longest prefixes first.
KINDS_BY_PREFIX = (
    ("cs_test_", "checkout.session"),
    ("cus_", "customer"),
    ("sub_", "subscription"),
    ("in_", "invoice"),
    ("ch_", "charge"),
    ("pi_", "payment_intent"),
    ("re_", "refund"),
    ("price_", "price"),
    ("prod_", "product"),
    ("evt_", "event"),
)
MAX_LIMIT = 100


def endpoint(handler: Handler, *, schema: type) -> Endpoint:
    """A Starlette endpoint running `handler(sandbox, params, path_params)` as Stripe would."""

    async def run(request: Request) -> Response:
        sandbox = sandbox_of(request)
        request_id = sandbox.store.new_id("req", length=14)
        key = request.headers.get("Idempotency-Key") if request.method == "POST" else None
        try:
            _authenticate(request)
            params = await _params(request)
            check_known_params(params, schema)
        except StripeError as exc:
            return stripe_json(exc.body(), status=exc.status, request_id=request_id)
        fingerprint = _fingerprint(request, params)
        replay = _replay(sandbox, key, fingerprint, request_id) if key else None
        if replay is not None:
            return replay
        token = CURRENT_REQUEST.set(RequestInfo(request_id, key))
        try:
            result = handler(sandbox, params, dict(request.path_params))
            body = expand(sandbox.store, copy.deepcopy(result), params.get("expand") or [])
            response = stripe_json(sandbox.render(body), request_id=request_id)
        except StripeError as exc:
            response = stripe_json(exc.body(), status=exc.status, request_id=request_id)
        finally:
            CURRENT_REQUEST.reset(token)
        if key:
            # Stripe saves the first result of a request that ran, failed or not, for its key.
            sandbox.idempotent_responses[key] = (
                fingerprint,
                response.status_code,
                bytes(response.body),
            )
        sandbox.persist()
        return response

    return run


def stripe_json(body: Any, *, status: int = 200, request_id: str | None = None) -> Response:
    headers = {"Request-Id": request_id} if request_id else {}
    return Response(
        json.dumps(body, indent=2),
        status_code=status,
        headers=headers,
        media_type="application/json",
    )


async def _params(request: Request) -> Params:
    if request.method == "POST":
        form = await request.form()
        return decode_form((key, str(value)) for key, value in form.multi_items())
    return decode_form(request.query_params.multi_items())


def _authenticate(request: Request) -> None:
    scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
    if not credentials:
        raise StripeError(NO_KEY, status=401)
    key = credentials.strip()
    if scheme.lower() == "basic":
        # curl -u sk_test_...: sends the key as the user name of Basic auth.
        try:
            key = base64.b64decode(key).decode(errors="replace").partition(":")[0]
        except ValueError:
            raise StripeError(NO_KEY, status=401) from None
    if not key.startswith(("sk_test_", "rk_test_")):
        raise StripeError(f"Invalid API Key provided: {key[:8]}{'*' * 4}{key[-4:]}", status=401)


def _fingerprint(request: Request, params: Params) -> str:
    text = json.dumps([request.method, request.url.path, params], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def _replay(sandbox: Sandbox, key: str, fingerprint: str, request_id: str) -> Response | None:
    saved = sandbox.idempotent_responses.get(key)
    if saved is None:
        return None
    saved_fingerprint, status, body = saved
    if saved_fingerprint != fingerprint:
        error = StripeError(
            "Keys for idempotent requests can only be used with the same parameters they were "
            f"first used with. Try using a key other than '{key}' if you meant to execute a "
            "different request.",
            error_type="idempotency_error",
        )
        return stripe_json(error.body(), status=error.status, request_id=request_id)
    return Response(
        body,
        status_code=status,
        media_type="application/json",
        headers={"Request-Id": request_id, "Idempotent-Replayed": "true"},
    )


def expand(store: Store, obj: StripeObject, paths: Any) -> StripeObject:
    """Replace ids on `obj` with the objects they name, for each dotted path in `paths`."""
    if not isinstance(paths, list):
        raise StripeError("Invalid array", param="expand")
    for path in paths:
        _expand(store, obj, str(path).split("."), full=str(path))
    return obj


def _expand(store: Store, obj: StripeObject, path: list[str], *, full: str) -> None:
    field, rest = path[0], path[1:]
    included = _includable(store, obj, field)
    if included is not None:
        obj[field] = included
    elif field not in obj:
        raise StripeError(f"This property cannot be expanded ({full}).", param="expand")
    value = obj[field]
    if isinstance(value, str):
        kind = next((kind for prefix, kind in KINDS_BY_PREFIX if value.startswith(prefix)), None)
        if kind is None:
            raise StripeError(f"This property cannot be expanded ({full}).", param="expand")
        value = obj[field] = copy.deepcopy(store.get(kind, value))
    if not rest:
        return
    for item in value if isinstance(value, list) else [value]:
        if isinstance(item, dict):
            _expand(store, item, rest, full=full)


def _includable(store: Store, obj: StripeObject, field: str) -> StripeObject | None:
    """Fields Stripe leaves out unless expanded: a session's line items, an invoice's payments."""
    kind = obj.get("object")
    if kind == "checkout.session" and field == "line_items":
        return line_items_of(store, obj)
    if kind == "invoice" and field == "payments":
        payments = [p for p in store.all("invoice_payment") if p["invoice"] == obj["id"]]
        return list_object(payments, url=f"/v1/invoices/{obj['id']}/payments")
    if kind == "charge" and field == "refunds":
        refunds = [r for r in reversed(store.all("refund")) if r["charge"] == obj["id"]]
        return list_object(refunds, url=f"/v1/charges/{obj['id']}/refunds")
    return None


COMPARISONS: dict[str, Callable[[int, int], bool]] = {
    "gt": operator.gt,
    "gte": operator.ge,
    "lt": operator.lt,
    "lte": operator.le,
    "eq": operator.eq,
}


def _created_within(items: list[StripeObject], created: Any) -> list[StripeObject]:
    if created is None:
        return items
    bounds = created if isinstance(created, dict) else {"eq": created}
    for name, value in bounds.items():
        moment = optional_int({"created": value}, "created", path=f"created[{name}]")
        if moment is None:
            continue
        compare = COMPARISONS[name]
        items = [item for item in items if compare(item["created"], moment)]
    return items


def paginate(items: list[StripeObject], params: Params, *, url: str) -> StripeObject:
    """A list object over `items` (newest first) honouring `limit`, `starting_after`,
    `ending_before` and `created` (an epoch, or `created[gt|gte|lt|lte]`)."""
    items = _created_within(items, params.get("created"))
    limit = optional_int(params, "limit") or 10
    if not 1 <= limit <= MAX_LIMIT:
        raise StripeError(
            f"This value must be between 1 and {MAX_LIMIT} (it currently is {limit}).",
            param="limit",
        )
    ids = [item["id"] for item in items]
    after = optional_str(params, "starting_after")
    before = optional_str(params, "ending_before")
    if after is not None:
        if after not in ids:
            raise StripeError(
                f"No such object: '{after}'", code="resource_missing", param="starting_after"
            )
        rest = items[ids.index(after) + 1 :]
        return list_object(rest[:limit], url=url, has_more=len(rest) > limit)
    if before is not None:
        if before not in ids:
            raise StripeError(
                f"No such object: '{before}'", code="resource_missing", param="ending_before"
            )
        earlier = items[: ids.index(before)]
        return list_object(earlier[-limit:], url=url, has_more=len(earlier) > limit)
    return list_object(items[:limit], url=url, has_more=len(items) > limit)
