"""R2's rules for keys, metadata, ranges, preconditions and multipart uploads, shared by both
blob adapters."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence

from beatbun.errors import BlobStoreError
from beatbun.runtime.base import (
    MAX_KEYS_PER_CALL,
    MAX_PART_BYTES,
    MAX_PARTS,
    MIN_PART_BYTES,
    BlobObject,
    ByteRange,
    Conditions,
    UploadedPart,
)

MAX_KEY_BYTES = 1024  # developers.cloudflare.com/r2/reference/limits


def check_key(key: str) -> None:
    if not key or len(key.encode()) > MAX_KEY_BYTES:
        raise BlobStoreError(
            f"Object key must be 1 to {MAX_KEY_BYTES} bytes long, got {len(key.encode())}.",
            code="invalid_key",
        )


def check_delete_keys(keys: str | Sequence[str]) -> list[str]:
    """The keys of a `delete()` call as a list, after checking all of them before any is deleted.

    Raises ValueError past R2's 1000 keys per call, BlobStoreError for an invalid key.
    """
    many = [keys] if isinstance(keys, str) else list(keys)
    if len(many) > MAX_KEYS_PER_CALL:
        raise ValueError(f"delete() takes at most {MAX_KEYS_PER_CALL} keys, got {len(many)}.")
    for key in many:
        check_key(key)
    return many


def check_list_limit(limit: int) -> None:
    if not 1 <= limit <= MAX_KEYS_PER_CALL:
        raise ValueError(f"list() limit must be between 1 and {MAX_KEYS_PER_CALL}, got {limit}.")


def custom_metadata_of(metadata: Mapping[str, str] | None) -> dict[str, str]:
    """R2 custom metadata is string to string; anything else is a programming error."""
    result = dict(metadata or {})
    for name, value in result.items():
        if not isinstance(name, str) or not isinstance(value, str):
            raise TypeError(f"Custom metadata {name!r} must map a string to a string.")
    return result


def resolve_range(requested: ByteRange | None, size: int) -> tuple[int, int]:
    """Return (offset, length) within an object of `size` bytes.

    Raises BlobStoreError (code `range_not_satisfiable`) for a range that starts past the end.
    """
    if requested is None:
        return 0, size
    if requested.suffix is not None:
        length = min(requested.suffix, size)
        return size - length, length
    offset = requested.offset or 0
    if offset < 0 or (offset >= size and size > 0) or (requested.length or 0) < 0:
        raise BlobStoreError(
            f"Range starting at byte {offset} is outside an object of {size} bytes.",
            code="range_not_satisfiable",
        )
    available = size - offset
    length = available if requested.length is None else min(requested.length, available)
    return offset, length


def conditions_hold(found: BlobObject, conditions: Conditions) -> bool:
    """Evaluate R2's `onlyIf` against stored metadata."""
    checks = [
        conditions.etag_matches is None or _etag(conditions.etag_matches) == found.etag,
        conditions.etag_does_not_match is None
        or _etag(conditions.etag_does_not_match) != found.etag,
        conditions.uploaded_before is None or found.uploaded < conditions.uploaded_before,
        conditions.uploaded_after is None or found.uploaded > conditions.uploaded_after,
    ]
    return all(checks)


def _etag(value: str) -> str:
    # R2 accepts the bare etag or the quoted HTTP form.
    return value.strip().removeprefix("W/").strip('"')


def check_part(part_number: int, size: int) -> None:
    """Raise ValueError for a part number outside 1..MAX_PARTS or a part above MAX_PART_BYTES."""
    if not 1 <= part_number <= MAX_PARTS:
        raise ValueError(f"Part number must be between 1 and {MAX_PARTS}, got {part_number}.")
    if size > MAX_PART_BYTES:
        raise ValueError(f"A part holds at most {MAX_PART_BYTES} bytes, got {size}.")


def check_completion(
    parts: Sequence[UploadedPart], stored: Mapping[int, tuple[str, int]]
) -> list[int]:
    """The part numbers to join, in order, after checking `parts` against the `stored` ones.

    `stored` maps each uploaded part number to its (etag, size). Raises BlobStoreError with
    code `invalid_parts` (none given, a number repeated, a part not uploaded or with another
    etag) or `invalid_part_size` (a part but the last under MIN_PART_BYTES, parts but the last of
    different sizes, or a last part larger than the others).
    """
    numbers = sorted(part.part_number for part in parts)
    if not numbers or len(set(numbers)) != len(numbers):
        raise BlobStoreError(
            "A multipart upload completes with one or more distinct parts.", code="invalid_parts"
        )
    for part in parts:
        found = stored.get(part.part_number)
        if found is None or _etag(part.etag) != found[0]:
            raise BlobStoreError(
                f"Part {part.part_number} was not uploaded with etag {part.etag!r}.",
                code="invalid_parts",
            )
    sizes = [stored[number][1] for number in numbers]
    leading = sizes[:-1]
    if leading and (leading[0] < MIN_PART_BYTES or len(set(leading)) > 1 or sizes[-1] > leading[0]):
        raise BlobStoreError(
            f"Every part but the last must be the same size, at least {MIN_PART_BYTES} bytes,"
            f" and the last no larger; got sizes {sizes}.",
            code="invalid_part_size",
        )
    return numbers


def multipart_etag(part_etags: Sequence[str]) -> str:
    """R2's etag of a multipart object: the MD5 of the parts' binary MD5s, then `-<parts>`."""
    digests = b"".join(bytes.fromhex(etag) for etag in part_etags)
    return f"{hashlib.md5(digests, usedforsecurity=False).hexdigest()}-{len(part_etags)}"
