"""Type aliases shared by the sandbox's modules."""

from __future__ import annotations

from typing import Any, TypeAlias

# A Stripe API object as it goes over the wire: the JSON dict, `object` naming its kind.
StripeObject: TypeAlias = dict[str, Any]
# Decoded request parameters: nested dicts and lists of strings, as the form encoding allows.
Params: TypeAlias = dict[str, Any]
