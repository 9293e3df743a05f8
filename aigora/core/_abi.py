"""ABI values: which types Aigora encodes, and each value's one canonical Python form.

Merkle leaves and EIP-712 messages both carry ABI-typed values, and both must refuse anything
ambiguous before hashing it: an `int` where a `bool` was meant, a short `bytes32`, a mis-typed
address checksum, text where bytes were meant. `normalize` accepts a few unambiguous spellings and
returns one form, so equal values always hash equally:

- `uintN`/`intN`: `int` (not `bool`), a decimal string, or a 0x-hex string -> `int`, range checked;
- `address`: 0x and 40 hex digits (mixed case must be a valid EIP-55 checksum) or 20 bytes ->
  checksummed `str`;
- `bytes`/`bytesN`: `bytes` or a 0x-hex string -> `bytes` (exactly N long for `bytesN`);
- `bool` -> `bool` only; `string` -> `str` that is valid Unicode;
- arrays and tuples -> `tuple`, with fixed array lengths checked.
"""

import re
from collections.abc import Sequence
from typing import Any

from eth_abi.exceptions import ABITypeError, ParseError
from eth_abi.grammar import ABIType, BasicType, TupleType, parse
from eth_utils import to_checksum_address

from aigora.core.errors import EncodingError

_BARE_INT = re.compile(r"\b(u?int)(?![0-9])")
_DECIMAL = re.compile(r"-?[0-9]+")
_HEX_INT = re.compile(r"0x[0-9a-fA-F]+")
HEX_BYTES = re.compile(r"0x(?:[0-9a-fA-F]{2})*")
"""0x followed by whole bytes of hex digits."""
_MAX_DIGITS = 100  # 2**256 has 78 decimal digits; longer strings cannot be in range
_HEX_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
_SUPPORTED_BASES = frozenset({"address", "bool", "string", "bytes", "uint", "int"})


def abi_type(type_str: Any) -> ABIType:
    """The parsed ABI type (bare `uint`/`int` mean 256 bits); EncodingError if unsupported."""
    if not isinstance(type_str, str):
        raise EncodingError(f"an ABI type must be a string, got {type_str!r}")
    try:
        parsed = parse(_BARE_INT.sub(r"\g<1>256", type_str))
        parsed.validate()
    except (ABITypeError, ParseError) as exc:
        raise EncodingError(f"not an ABI type: {type_str!r} ({exc})") from exc
    _check_supported(parsed, type_str)
    return parsed


def _check_supported(t: ABIType, type_str: str) -> None:
    if isinstance(t, TupleType):
        for component in t.components:
            _check_supported(component, type_str)
    elif isinstance(t, BasicType) and t.base not in _SUPPORTED_BASES:
        raise EncodingError(
            f"ABI type {type_str!r} is not supported; use address, bool, string, "
            "bytes, bytesN, uintN, intN, or arrays and tuples of these"
        )


def normalize(t: ABIType, value: Any) -> Any:
    """`value` in its canonical Python form for ABI type `t`; EncodingError if it has none."""
    if t.is_array:
        _require_sequence(t, value)
        dims = t.arrlist[-1] if t.arrlist else ()
        if dims and len(value) != dims[0]:
            raise EncodingError(f"{t.to_type_str()} needs {dims[0]} items, got {len(value)}")
        return tuple(normalize(t.item_type, item) for item in value)
    if isinstance(t, TupleType):
        _require_sequence(t, value)
        if len(value) != len(t.components):
            raise EncodingError(
                f"{t.to_type_str()} needs {len(t.components)} items, got {len(value)}"
            )
        return tuple(normalize(c, v) for c, v in zip(t.components, value, strict=True))
    assert isinstance(t, BasicType)
    base, sub = t.base, t.sub
    if base in ("uint", "int"):
        return _int(value, signed=base == "int", bits=sub, type_str=t.to_type_str())
    if base == "address":
        return checksum_address(value)
    if base == "bool":
        if not isinstance(value, bool):
            raise EncodingError(f"bool needs True or False, got {value!r}")
        return value
    if base == "string":
        if not isinstance(value, str):
            raise EncodingError(f"string needs a str, got {value!r}")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise EncodingError(f"string is not valid Unicode: {value!r}") from exc
        return value
    return _bytes(value, size=sub)


def _require_sequence(t: ABIType, value: Any) -> None:
    if isinstance(value, str | bytes | bytearray) or not isinstance(value, Sequence):
        raise EncodingError(f"{t.to_type_str()} needs a list, got {value!r}")


def _int(value: Any, *, signed: bool, bits: int, type_str: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise EncodingError(f"{type_str} needs an int or a decimal or 0x-hex string, got {value!r}")
    if isinstance(value, int):
        number = value
    elif _DECIMAL.fullmatch(value) and len(value) <= _MAX_DIGITS:
        number = int(value, 10)
    elif _HEX_INT.fullmatch(value) and len(value) <= _MAX_DIGITS:
        number = int(value, 16)
    else:
        raise EncodingError(f"{type_str} needs a decimal or 0x-hex string, got {value!r}")
    low, high = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)
    if not low <= number <= high:
        raise EncodingError(f"{number} is out of range for {type_str}")
    return number


def checksum_address(value: Any) -> str:
    """The EIP-55 form of an address given as 0x-hex (a mixed-case one must already be valid
    EIP-55, which catches typos) or as 20 bytes; EncodingError otherwise."""
    if isinstance(value, bytes | bytearray) and len(value) == 20:
        return to_checksum_address(bytes(value))
    if isinstance(value, str) and _HEX_ADDRESS.fullmatch(value):
        checksummed = to_checksum_address(value)
        body = value[2:]
        if body != body.lower() and body != body.upper() and value != checksummed:
            raise EncodingError(f"address has an invalid EIP-55 checksum: {value!r}")
        return checksummed
    raise EncodingError(f"address needs 0x and 40 hex digits or 20 bytes, got {value!r}")


def _bytes(value: Any, *, size: int | None) -> bytes:
    type_str = f"bytes{size}" if size else "bytes"
    if isinstance(value, bytes | bytearray):
        raw = bytes(value)
    elif isinstance(value, str) and HEX_BYTES.fullmatch(value):
        raw = bytes.fromhex(value[2:])
    else:
        raise EncodingError(f"{type_str} needs bytes or a 0x-hex string, got {value!r}")
    if size is not None and len(raw) != size:
        raise EncodingError(f"{type_str} needs exactly {size} bytes, got {len(raw)}")
    return raw


def to_json(value: Any) -> Any:
    """The JSON form of a normalized value: integers as decimal strings, bytes as lowercase 0x-hex,
    tuples as lists (the forms `@openzeppelin/merkle-tree` dumps hold)."""
    if isinstance(value, tuple):
        return [to_json(item) for item in value]
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value
