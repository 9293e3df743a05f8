"""Canonical JSON (RFC 8785, JCS) and its keccak256 hash.

Whenever JSON is hashed or signed off-chain, both sides must produce the same bytes for the same
value. RFC 8785 fixes member order (by UTF-16 code units), number formatting (the shortest
ECMAScript form), string escaping and whitespace, so the bytes depend only on the value, never on
the serializer or on dict insertion order.

Values are Python's JSON model: `None`, `bool`, `int`, `float`, `str`, `list`/`tuple`, and `dict`
with `str` keys. JSON numbers are IEEE doubles, so integers beyond ±(2**53 - 1) are refused rather
than silently rounded: encode amounts and other big integers as decimal strings.
"""

from typing import Any

import rfc8785

from aigora.core.errors import EncodingError
from aigora.core.hashing import keccak


def canonical_json(obj: Any) -> bytes:
    """The RFC 8785 canonical UTF-8 encoding of `obj`.

    Guarantees: equal values give equal bytes; the output parses back to an equal value. Raises
    `EncodingError` for NaN or infinite floats, integers outside ±(2**53 - 1), non-string keys,
    lone surrogates and types JSON does not have.
    """
    try:
        return rfc8785.dumps(obj)
    except rfc8785.FloatDomainError as exc:
        raise EncodingError(
            f"canonical JSON allows only finite numbers: {exc}; NaN and infinity have no JSON form"
        ) from exc
    except rfc8785.IntegerDomainError as exc:
        raise EncodingError(
            f"cannot encode as canonical JSON: {exc} (limit ±(2**53 - 1)); "
            "encode large integers such as amounts as decimal strings"
        ) from exc
    except rfc8785.CanonicalizationError as exc:
        raise EncodingError(f"cannot encode as canonical JSON: {exc}") from exc


def canonical_hash(obj: Any) -> bytes:
    """keccak256 of `canonical_json(obj)`: the 32-byte digest to sign or to anchor on-chain."""
    return keccak(canonical_json(obj))
