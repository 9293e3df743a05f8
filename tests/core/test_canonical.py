import json
import math
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aigora.core.canonical import canonical_hash, canonical_json
from aigora.core.errors import EncodingError
from aigora.core.hashing import keccak


def test_keys_are_sorted_at_every_level_whatever_the_insertion_order() -> None:
    a = {"b": 1, "a": {"z": None, "y": [True, False]}}
    b = {"a": {"y": [True, False], "z": None}, "b": 1}
    assert canonical_json(a) == canonical_json(b) == b'{"a":{"y":[true,false],"z":null},"b":1}'


def test_rfc8785_sorting_example() -> None:
    # RFC 8785 section 3.2.3: members sorted by UTF-16 code units, so the emoji (a surrogate
    # pair starting 0xD83D) sorts before U+FB33 although its code point is larger.
    obj = {
        "\u20ac": "Euro Sign",
        "\r": "Carriage Return",
        "\ufb33": "Hebrew Letter Dalet With Dagesh",
        "1": "One",
        "\U0001f600": "Emoji: Grinning Face",
        "\u0080": "Control",
        "\u00f6": "Latin Small Letter O With Diaeresis",
    }
    keys = list(json.loads(canonical_json(obj)))
    assert keys == ["\r", "1", "\u0080", "\u00f6", "\u20ac", "\U0001f600", "\ufb33"]


def test_rfc8785_main_example() -> None:
    # RFC 8785 section 3.2.2: the input as parsed, and its canonical form byte for byte.
    parsed = json.loads(
        '{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],'
        ' "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",'
        ' "literals": [null, true, false]}'
    )
    expected = (
        '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],'
        '"string":"\u20ac$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
    ).encode()
    assert canonical_json(parsed) == expected


def test_unicode_is_raw_utf8_and_controls_are_escaped() -> None:
    assert canonical_json("é€😀") == '"é€😀"'.encode()
    assert canonical_json('\x00\x1f\t"\\') == b'"\\u0000\\u001f\\t\\"\\\\"'


# RFC 8785 appendix B: IEEE 754 bit patterns and their canonical text.
RFC8785_NUMBERS = [
    ("0000000000000000", "0"),
    ("8000000000000000", "0"),
    ("0000000000000001", "5e-324"),
    ("8000000000000001", "-5e-324"),
    ("7fefffffffffffff", "1.7976931348623157e+308"),
    ("ffefffffffffffff", "-1.7976931348623157e+308"),
    ("4340000000000000", "9007199254740992"),
    ("c340000000000000", "-9007199254740992"),
    ("4430000000000000", "295147905179352830000"),
    ("44b52d02c7e14af5", "9.999999999999997e+22"),
    ("44b52d02c7e14af6", "1e+23"),
    ("44b52d02c7e14af7", "1.0000000000000001e+23"),
    ("444b1ae4d6e2ef4e", "999999999999999700000"),
    ("444b1ae4d6e2ef4f", "999999999999999900000"),
    ("444b1ae4d6e2ef50", "1e+21"),
    ("3eb0c6f7a0b5ed8c", "9.999999999999997e-7"),
    ("3eb0c6f7a0b5ed8d", "0.000001"),
    ("41b3de4355555553", "333333333.3333332"),
    ("41b3de4355555554", "333333333.33333325"),
    ("41b3de4355555555", "333333333.3333333"),
    ("41b3de4355555556", "333333333.3333334"),
    ("41b3de4355555557", "333333333.33333343"),
    ("becbf647612f3696", "-0.0000033333333333333333"),
    ("43143ff3c1cb0959", "1424953923781206.2"),
]


@pytest.mark.parametrize(("bits", "text"), RFC8785_NUMBERS)
def test_rfc8785_number_serialization(bits: str, text: str) -> None:
    (number,) = struct.unpack(">d", bytes.fromhex(bits))
    assert canonical_json(number) == text.encode()


@pytest.mark.parametrize("bits", ["7fffffffffffffff", "7ff0000000000000", "fff0000000000000"])
def test_non_finite_floats_are_refused(bits: str) -> None:
    (number,) = struct.unpack(">d", bytes.fromhex(bits))
    assert not math.isfinite(number)
    with pytest.raises(EncodingError, match="only finite numbers"):
        canonical_json({"x": [number]})


def test_integers_beyond_double_precision_are_refused() -> None:
    assert canonical_json(2**53 - 1) == b"9007199254740991"
    with pytest.raises(EncodingError, match="decimal strings"):
        canonical_json({"amount": 10**18})


@pytest.mark.parametrize("bad", [{1: "int key"}, b"bytes", {"set": {1}}, "\ud800"])
def test_values_json_does_not_have_are_refused(bad: object) -> None:
    with pytest.raises(EncodingError, match="canonical JSON"):
        canonical_json(bad)


def test_hash_is_keccak_of_canonical_bytes() -> None:
    obj = {"b": [1, 2.5, "x"], "a": None}
    assert canonical_hash(obj) == keccak(b'{"a":null,"b":[1,2.5,"x"]}')
    assert canonical_hash({"a": None, "b": [1, 2.5, "x"]}) == canonical_hash(obj)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=150, deadline=None)
@given(json_values)
def test_canonical_form_parses_back_to_the_value_and_is_a_fixed_point(value: object) -> None:
    encoded = canonical_json(value)
    parsed = json.loads(
        encoded, parse_int=float
    )  # JSON numbers are doubles, as RFC 8785 reads them
    assert parsed == value
    assert canonical_json(parsed) == encoded
