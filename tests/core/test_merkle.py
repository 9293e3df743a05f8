import copy
import json
from collections.abc import Callable
from typing import Any

import eth_abi
import pytest
from eth_utils import to_checksum_address
from hypothesis import given, settings
from hypothesis import strategies as st

from aigora.core.errors import EncodingError, MerkleError
from aigora.core.hashing import keccak
from aigora.core.merkle import (
    StandardMerkleTree,
    hash_pair,
    leaf_hash,
    process_proof,
    verify_proof,
)

UINT256_MAX = 2**256 - 1

addresses = st.binary(min_size=20, max_size=20).map(to_checksum_address)
uint256s = st.one_of(st.integers(0, 2**64), st.integers(0, UINT256_MAX))

# leaf encoding -> (strategy for one value, a change that always makes a different value)
ENCODINGS: dict[tuple[str, ...], tuple[st.SearchStrategy[list[Any]], Callable[[Any], Any]]] = {
    ("address", "uint256"): (
        st.tuples(addresses, uint256s).map(list),
        lambda v: (v[0], (v[1] + 1) % (UINT256_MAX + 1)),
    ),
    ("bytes32",): (
        st.binary(min_size=32, max_size=32).map(lambda b: [b]),
        lambda v: (bytes([v[0][0] ^ 1]) + v[0][1:],),
    ),
    ("string", "uint256"): (
        st.tuples(st.text(max_size=12), uint256s).map(list),
        lambda v: (v[0] + "x", v[1]),
    ),
    ("uint8", "bool", "bytes", "int256[]"): (
        st.tuples(
            st.integers(0, 255),
            st.booleans(),
            st.binary(max_size=40),
            st.lists(st.integers(-(2**255), 2**255 - 1), max_size=3),
        ).map(list),
        lambda v: (v[0], not v[1], v[2], v[3]),
    ),
}


@st.composite
def trees(draw: st.DrawFn, min_size: int = 1) -> tuple[tuple[str, ...], list[Any]]:
    encoding = draw(st.sampled_from(sorted(ENCODINGS)))
    values = draw(st.lists(ENCODINGS[encoding][0], min_size=min_size, max_size=24))
    return encoding, values


SETTINGS = settings(max_examples=60, deadline=None)


@SETTINGS
@given(trees())
def test_every_value_has_a_proof_that_verifies(case: tuple[tuple[str, ...], list[Any]]) -> None:
    encoding, values = case
    tree = StandardMerkleTree.of(values, encoding)
    assert len(tree) == len(values)
    for i, value in tree:
        proof = tree.get_proof(i)
        assert all(isinstance(node, bytes) and len(node) == 32 for node in proof)
        assert tree.verify(i, proof)
        assert tree.verify(value, proof)
        assert verify_proof(tree.root, encoding, value, proof)
        assert verify_proof(tree.root_hex, encoding, values[i], ["0x" + p.hex() for p in proof])
        assert process_proof(leaf_hash(encoding, value), proof) == tree.root
        assert verify_proof(tree.root, encoding, value, tree.get_proof(value))


@SETTINGS
@given(trees(), st.data())
def test_a_proof_does_not_verify_a_modified_value(
    case: tuple[tuple[str, ...], list[Any]], data: st.DataObject
) -> None:
    encoding, values = case
    tree = StandardMerkleTree.of(values, encoding)
    i = data.draw(st.integers(0, len(values) - 1))
    changed = ENCODINGS[encoding][1](tree.at(i))
    assert not verify_proof(tree.root, encoding, changed, tree.get_proof(i))


@SETTINGS
@given(trees(min_size=2), st.data())
def test_a_tampered_proof_does_not_verify(
    case: tuple[tuple[str, ...], list[Any]], data: st.DataObject
) -> None:
    encoding, values = case
    tree = StandardMerkleTree.of(values, encoding)
    i = data.draw(st.integers(0, len(values) - 1))
    proof = tree.get_proof(i)
    k = data.draw(st.integers(0, len(proof) - 1))
    bit = data.draw(st.integers(0, 255))
    flipped = int.from_bytes(proof[k], "big") ^ (1 << bit)
    tampered = [*proof[:k], flipped.to_bytes(32, "big"), *proof[k + 1 :]]
    assert not tree.verify(i, tampered)
    assert not tree.verify(i, proof[:-1])
    assert not tree.verify(i, [*proof, proof[0]])


@SETTINGS
@given(trees(), st.randoms(use_true_random=False))
def test_root_and_layout_do_not_depend_on_input_order(
    case: tuple[tuple[str, ...], list[Any]], rnd: Any
) -> None:
    encoding, values = case
    shuffled = list(values)
    rnd.shuffle(shuffled)
    a = StandardMerkleTree.of(values, encoding)
    b = StandardMerkleTree.of(shuffled, encoding)
    assert a.root == b.root
    assert a.dump()["tree"] == b.dump()["tree"]


@SETTINGS
@given(trees())
def test_dump_load_round_trip_through_json(case: tuple[tuple[str, ...], list[Any]]) -> None:
    encoding, values = case
    tree = StandardMerkleTree.of(values, encoding)
    dumped = tree.dump()
    loaded = StandardMerkleTree.load(json.loads(json.dumps(dumped)))
    assert loaded.dump() == dumped
    assert loaded.root == tree.root
    assert list(loaded) == list(tree)
    assert [loaded.get_proof(i) for i in range(len(values))] == [
        tree.get_proof(i) for i in range(len(values))
    ]


@SETTINGS
@given(trees())
def test_tree_layout_matches_openzeppelin(case: tuple[tuple[str, ...], list[Any]]) -> None:
    encoding, values = case
    dumped = StandardMerkleTree.of(values, encoding).dump()
    tree = [bytes.fromhex(node[2:]) for node in dumped["tree"]]
    n = len(values)
    assert len(tree) == 2 * n - 1
    leaves = [leaf_hash(encoding, v) for v in values]
    assert tree[n - 1 :] == sorted(leaves, reverse=True)  # leaves stored last, reversed
    for i in range(n - 1):
        assert tree[i] == hash_pair(tree[2 * i + 1], tree[2 * i + 2])
    for i, entry in enumerate(dumped["values"]):
        assert tree[entry["treeIndex"]] == leaves[i]


def test_openzeppelin_readme_example() -> None:
    # The example in @openzeppelin/merkle-tree's README, with its published root.
    values = [
        ["0x1111111111111111111111111111111111111111", "5000000000000000000"],
        ["0x2222222222222222222222222222222222222222", "2500000000000000000"],
    ]
    tree = StandardMerkleTree.of(values, ["address", "uint256"])
    assert tree.root_hex == "0xd4dee0beab2d53f2cc83e567171bd2820e49898130a22622b10ead383e90bd77"
    assert tree.dump() == {
        "format": "standard-v1",
        "leafEncoding": ["address", "uint256"],
        "tree": [
            "0xd4dee0beab2d53f2cc83e567171bd2820e49898130a22622b10ead383e90bd77",
            "0xeb02c421cfa48976e66dfb29120745909ea3a0f843456c263cf8f1253483e283",
            "0xb92c48e9d7abe27fd8dfd6b5dfdbfb1c9a463f80c712b66f3a5180a090cccafc",
        ],
        "values": [
            {"value": values[0], "treeIndex": 1},
            {"value": values[1], "treeIndex": 2},
        ],
    }


def test_leaf_is_double_keccak_of_abi_encoding() -> None:
    account, amount = "0x" + "ab" * 20, 10**18
    encoded = bytes(12) + bytes.fromhex("ab" * 20) + amount.to_bytes(32, "big")
    assert encoded == eth_abi.encode(["address", "uint256"], [account, amount])
    assert leaf_hash(["address", "uint256"], [account, amount]) == keccak(keccak(encoded))


def test_single_leaf_tree_has_the_leaf_as_root_and_an_empty_proof() -> None:
    tree = StandardMerkleTree.of([[b"\x07" * 32]], ["bytes32"])
    assert tree.root == leaf_hash(["bytes32"], [b"\x07" * 32])
    assert tree.get_proof(0) == []
    assert tree.verify(0, [])


def test_empty_value_list_is_refused() -> None:
    with pytest.raises(MerkleError, match="at least one value"):
        StandardMerkleTree.of([], ["uint256"])


def test_duplicate_values_are_proven() -> None:
    values = [["a", 1], ["b", 2], ["a", 1]]
    tree = StandardMerkleTree.of(values, ["string", "uint256"])
    for i in range(3):
        assert tree.verify(i, tree.get_proof(i))
    assert tree.verify(["a", 1], tree.get_proof(["a", 1]))


def test_lookup_errors_are_clear() -> None:
    tree = StandardMerkleTree.of([[1], [2]], ["uint256"])
    with pytest.raises(MerkleError, match="not in the Merkle tree"):
        tree.get_proof([3])
    for index in (2, -1):
        with pytest.raises(MerkleError, match="out of range"):
            tree.get_proof(index)


def test_equivalent_spellings_give_the_same_leaf() -> None:
    address = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
    same = [
        [address, 16, "0x" + "01" * 4],
        [address.lower(), "16", bytes([1] * 4)],
        [bytes.fromhex(address[2:]), "0x10", "0x01010101"],
    ]
    hashes = {leaf_hash(["address", "uint256", "bytes4"], value) for value in same}
    assert len(hashes) == 1
    tree = StandardMerkleTree.of(same[:1], ["address", "uint256", "bytes4"])
    assert tree.at(0) == (address, 16, b"\x01" * 4)
    assert tree.dump()["values"][0]["value"] == [address, "16", "0x01010101"]


@pytest.mark.parametrize(
    ("encoding", "value", "message"),
    [
        (["uint256"], [True], "uint256 needs an int"),
        (["uint256"], [-1], "out of range"),
        (["uint8"], [256], "out of range"),
        (["int8"], ["-129"], "out of range"),
        (["uint256"], [1.0], "uint256 needs an int"),
        (["uint256"], ["1e3"], "decimal or 0x-hex"),
        (["bytes32"], [b"\x01"], "exactly 32 bytes"),
        (["bytes32"], ["01" * 32], "0x-hex"),
        (["bytes"], ["0x123"], "0x-hex"),
        (["address"], ["0x5aaeb6053F3E94C9b9A09f33669435E7Ef1BeAed"], "checksum"),
        (["address"], ["0x1234"], "40 hex digits"),
        (["bool"], [1], "True or False"),
        (["string"], [b"text"], "needs a str"),
        (["string"], ["\ud800"], "not valid Unicode"),
        (["uint256[2]"], [[1]], "needs 2 items"),
        (["uint256", "uint256"], [1], "needs 2 items"),
        (["uint256"], "1", "must be a list"),
    ],
)
def test_values_that_do_not_fit_are_refused(encoding: list[str], value: Any, message: str) -> None:
    with pytest.raises(EncodingError, match=message):
        leaf_hash(encoding, value)


@pytest.mark.parametrize("encoding", [["uint257"], ["fixed128x18"], ["function"], ["foo"], "uint"])
def test_unsupported_encodings_are_refused(encoding: Any) -> None:
    with pytest.raises(EncodingError):
        StandardMerkleTree.of([[1]], encoding)


def test_bare_int_types_mean_256_bits() -> None:
    assert leaf_hash(["uint", "int"], [5, -5]) == leaf_hash(["uint256", "int256"], [5, -5])


def test_hash_pair_is_commutative_and_checks_lengths() -> None:
    a, b = keccak(b"a"), keccak(b"b")
    assert hash_pair(a, b) == hash_pair(b, a) == keccak(min(a, b) + max(a, b))
    with pytest.raises(MerkleError, match="32 bytes"):
        hash_pair(a, b"\x00" * 31)
    with pytest.raises(MerkleError, match="32 bytes"):
        process_proof(a, ["0x1234"])


def _good_dump() -> dict[str, Any]:
    return StandardMerkleTree.of([[i] for i in range(5)], ["uint256"]).dump()


def _set(path: tuple[Any, ...], new: Any) -> Callable[[dict[str, Any]], None]:
    def apply(dump: dict[str, Any]) -> None:
        target: Any = dump
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = new

    return apply


@pytest.mark.parametrize(
    ("tamper", "message"),
    [
        (_set(("format",), "simple-v1"), "unknown Merkle tree format"),
        (_set(("leafEncoding",), ["string"]), "does not hash to the leaf"),
        (_set(("leafEncoding",), "uint256"), "invalid leafEncoding"),
        (_set(("tree", 0), "0x" + "00" * 32), "node 0 is not the hash"),
        (_set(("tree", 1), "0x" + "00" * 31), "32 bytes"),
        (_set(("values", 0, "value"), ["7"]), "does not hash to the leaf"),
        (_set(("values", 0, "value"), ["x"]), "decimal or 0x-hex"),
        (_set(("values", 0, "treeIndex"), 0), "not a leaf"),
        (_set(("values", 0, "treeIndex"), True), "not a leaf"),
        (lambda d: d["values"].pop(), "nodes"),
        (lambda d: d["values"].__setitem__(1, d["values"][0]), "does not hash|same leaf"),
        (lambda d: d.pop("tree"), "non-empty 'tree'"),
    ],
)
def test_load_refuses_inconsistent_dumps(
    tamper: Callable[[dict[str, Any]], Any], message: str
) -> None:
    dump = copy.deepcopy(_good_dump())
    StandardMerkleTree.load(copy.deepcopy(dump))
    tamper(dump)
    with pytest.raises(MerkleError, match=message):
        StandardMerkleTree.load(dump)


def test_load_refuses_two_values_claiming_one_leaf() -> None:
    dump = StandardMerkleTree.of([[1], [1]], ["uint256"]).dump()
    dump["values"][1]["treeIndex"] = dump["values"][0]["treeIndex"]
    with pytest.raises(MerkleError, match="same leaf"):
        StandardMerkleTree.load(dump)


def test_repr_names_root_and_size() -> None:
    tree = StandardMerkleTree.of([[1], [2]], ["uint256"])
    assert repr(tree) == (
        f"StandardMerkleTree(root={tree.root_hex}, values=2, leaf_encoding=['uint256'])"
    )
    assert tree.leaf_encoding == ("uint256",)
