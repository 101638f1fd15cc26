"""Stripe's wire format: bracketed form parameters in, `{"error": {...}}` bodies out.

Unknown parameters are refused with Stripe's own `parameter_unknown` error, checked against the
parameter TypedDicts the official `stripe` package ships, so a typo fails here as it would there.
"""

from __future__ import annotations

import re
import sys
import typing
from collections.abc import Iterable
from functools import cache
from typing import Any

from beatbun_local.stripe_sandbox.types import Params

KEY_PATTERN = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")
# Symbols Stripe puts in amounts inside its messages ("Refund amount (€30.00) is greater ...").
CURRENCY_SYMBOLS = {"eur": "€", "usd": "$", "gbp": "£"}


class StripeError(Exception):
    """Raised by any operation Stripe would refuse; renders as Stripe's error body."""

    def __init__(
        self,
        message: str,
        *,
        status: int = 400,
        code: str | None = None,
        param: str | None = None,
        error_type: str = "invalid_request_error",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.param = param
        self.error_type = error_type

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"message": self.message, "type": self.error_type}
        if self.code:
            error["code"] = self.code
            error["doc_url"] = f"https://stripe.com/docs/error-codes/{self.code.replace('_', '-')}"
        if self.param:
            error["param"] = self.param
        return {"error": error}


def missing(noun: str, object_id: str, *, param: str = "id", status: int = 404) -> StripeError:
    return StripeError(
        f"No such {noun}: '{object_id}'", status=status, code="resource_missing", param=param
    )


def decode_form(pairs: Iterable[tuple[str, str]]) -> Params:
    """Nest `a[b][0][c]=v` pairs into dicts; a dict whose keys are all indexes becomes a list.

    `expand[]=x` (curl style) and `expand[0]=x` (the SDK's style) decode alike. Metadata keeps
    its keys even when they look like indexes.
    """
    root: Params = {}
    for key, value in pairs:
        match = KEY_PATTERN.match(key)
        if match is None:
            root[key] = value
            continue
        parts = [match.group(1), *re.findall(r"\[([^\[\]]*)\]", match.group(2))]
        node = root
        for depth, part in enumerate(parts):
            name = str(len(node)) if part == "" else part
            if depth == len(parts) - 1:
                node[name] = value
            else:
                child = node.setdefault(name, {})
                if not isinstance(child, dict):
                    raise StripeError(f"Invalid hash: {key}", param=key)
                node = child
    return {key: _listify(value, parent=key) for key, value in root.items()}


def _listify(node: Any, *, parent: str | None) -> Any:
    if not isinstance(node, dict):
        return node
    converted = {key: _listify(value, parent=key) for key, value in node.items()}
    if parent != "metadata" and converted and all(key.isdigit() for key in converted):
        return [converted[key] for key in sorted(converted, key=int)]
    return converted


def check_known_params(params: Params, schema: type, *, prefix: str = "") -> None:
    """Refuse a parameter the official SDK's TypedDict `schema` does not declare."""
    fields = _schema_fields(schema)
    for name, value in params.items():
        path = f"{prefix}[{name}]" if prefix else name
        if name not in fields:
            raise StripeError(
                f"Received unknown parameter: {path}", code="parameter_unknown", param=path
            )
        nested = fields[name]
        if not nested:
            continue
        items = value if isinstance(value, list) else [value]
        for index, item in enumerate(items):
            if isinstance(item, dict):
                item_path = f"{path}[{index}]" if isinstance(value, list) else path
                _check_against_any(item, nested, prefix=item_path)


def _check_against_any(params: Params, schemas: tuple[type, ...], *, prefix: str) -> None:
    if len(schemas) == 1:
        check_known_params(params, schemas[0], prefix=prefix)
        return
    known = set().union(*(_schema_fields(schema) for schema in schemas))
    for name in params:
        if name not in known:
            path = f"{prefix}[{name}]"
            raise StripeError(
                f"Received unknown parameter: {path}", code="parameter_unknown", param=path
            )


@cache
def _schema_fields(schema: type) -> dict[str, tuple[type, ...]]:
    """Each field of a TypedDict, with the TypedDicts its value may hold (none: free-form)."""
    module_globals = vars(sys.modules[schema.__module__])
    return {
        name: tuple(_typed_dicts_in(annotation, module_globals))
        for name, annotation in schema.__annotations__.items()
    }


def _typed_dicts_in(annotation: Any, module_globals: dict[str, Any]) -> list[type]:
    if isinstance(annotation, typing.ForwardRef):
        annotation = annotation.__forward_arg__
    if isinstance(annotation, str):
        try:
            annotation = eval(annotation, module_globals)  # noqa: S307 - the SDK's own annotations
        except NameError:
            # Names the SDK imports only under TYPE_CHECKING are request options, never nested params.
            return []
    # Duck-typed: the SDK builds its params with typing_extensions' TypedDict, which
    # typing.is_typeddict does not recognise before Python 3.13.
    if isinstance(annotation, type) and hasattr(annotation, "__total__"):
        return [annotation]
    if typing.get_origin(annotation) is typing.Literal:
        return []
    found: list[type] = []
    for argument in typing.get_args(annotation):
        found.extend(_typed_dicts_in(argument, module_globals))
    return found


def optional_str(params: Params, name: str) -> str | None:
    value = params.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise StripeError(f"Invalid string: {name}", param=name)
    return value


def required_str(params: Params, name: str, *, path: str | None = None) -> str:
    path = path or name
    value = optional_str(params, name)
    if value is None:
        raise StripeError(f"Missing required param: {path}.", code="parameter_missing", param=path)
    if value == "":
        raise StripeError(
            f"You passed an empty string for '{path}'. We assume empty values are an attempt to "
            f"unset a parameter; however '{path}' cannot be unset. You should remove '{path}' "
            "from your request or supply a non-empty value.",
            code="parameter_invalid_empty",
            param=path,
        )
    return value


def optional_int(params: Params, name: str, *, path: str | None = None) -> int | None:
    value = optional_str(params, name)
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        raise StripeError(
            f"Invalid integer: {value}", code="parameter_invalid_integer", param=path or name
        ) from None


def optional_bool(params: Params, name: str) -> bool | None:
    value = optional_str(params, name)
    if value is None:
        return None
    if value not in ("true", "false"):
        raise StripeError(f"Invalid boolean: {value}", param=name)
    return value == "true"


def choice(params: Params, name: str, options: tuple[str, ...], *, default: str) -> str:
    value = optional_str(params, name)
    if value is None:
        return default
    if value not in options:
        allowed = ", ".join(options[:-1]) + f", or {options[-1]}"
        raise StripeError(f"Invalid {name}: must be one of {allowed}", param=name)
    return value


def metadata(
    params: Params, *, current: dict[str, str] | None = None, path: str = "metadata"
) -> dict[str, str]:
    """Merge `metadata[...]` into `current`; an empty value unsets its key, as in Stripe."""
    merged = dict(current or {})
    given = params.get("metadata")
    if given is None:
        return merged
    if given == "":
        return {}
    if not isinstance(given, dict):
        raise StripeError(f"Invalid hash: {path}", param=path)
    for key, value in given.items():
        if not isinstance(value, str):
            raise StripeError(f"Invalid string: {path}[{key}]", param=f"{path}[{key}]")
        if value == "":
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


def format_amount(amount: int, currency: str) -> str:
    symbol = CURRENCY_SYMBOLS.get(currency.lower(), currency.upper() + " ")
    sign = "-" if amount < 0 else ""
    return f"{sign}{symbol}{abs(amount) // 100}.{abs(amount) % 100:02d}"
