"""Cross-check against `@openzeppelin/merkle-tree` itself, run in node.

Python builds trees and proofs from seeded random values; one node process builds the same trees
with the npm package (tests/core/oz_merkle.mjs) and checks our proofs with its
`StandardMerkleTree.verify`. Nothing is skipped: without node or node_modules the tests fail and
say what to install.
"""

import json
import random
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from eth_utils import to_checksum_address

from aigora.core.merkle import StandardMerkleTree, verify_proof

ROOT = Path(__file__).resolve().parents[2]
HELPER = Path(__file__).with_name("oz_merkle.mjs")
PACKAGE = ROOT / "node_modules" / "@openzeppelin" / "merkle-tree" / "package.json"

Gen = Callable[[random.Random], Any]


def _uint(bits: int) -> Gen:
    def gen(rnd: random.Random) -> str:
        edge = rnd.random()
        if edge < 0.1:
            return str(rnd.choice([0, 1, 2**bits - 1]))
        return str(rnd.getrandbits(rnd.choice([w for w in (8, 64, bits) if w <= bits])))

    return gen


def _int(bits: int) -> Gen:
    def gen(rnd: random.Random) -> str:
        return str(rnd.randint(-(2 ** (bits - 1)), 2 ** (bits - 1) - 1))

    return gen


def _address(rnd: random.Random) -> str:
    return to_checksum_address(rnd.randbytes(20))


def _bytes(size: int | None) -> Gen:
    def gen(rnd: random.Random) -> str:
        return "0x" + rnd.randbytes(size if size else rnd.randint(0, 70)).hex()

    return gen


def _string(rnd: random.Random) -> str:
    alphabet = 'abcXYZ 019_-\u00e9\u20ac\u4e2d\U0001f600\n"\\'
    return "".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 20)))


def _array(item: Gen, size: int | None = None) -> Gen:
    def gen(rnd: random.Random) -> list[Any]:
        return [item(rnd) for _ in range(size if size else rnd.randint(0, 3))]

    return gen


ENCODINGS: dict[str, tuple[list[str], list[Gen]]] = {
    "payout": (["address", "uint256"], [_address, _uint(256)]),
    "bytes32": (["bytes32"], [_bytes(32)]),
    "string": (["string", "uint256"], [_string, _uint(256)]),
    "mixed": (
        ["uint8", "int64", "bool", "bytes", "bytes4"],
        [_uint(8), _int(64), lambda rnd: rnd.random() < 0.5, _bytes(None), _bytes(4)],
    ),
    "arrays": (
        ["address[]", "uint96[2]", "string[]"],
        [_array(_address), _array(_uint(96), 2), _array(_string)],
    ),
}
SIZES = [1, 2, 3, 4, 5, 8, 13, 33]


def _cases() -> dict[str, dict[str, Any]]:
    rnd = random.Random(8785)
    cases = {}
    for label, (encoding, gens) in ENCODINGS.items():
        for size in SIZES:
            values = [[gen(rnd) for gen in gens] for _ in range(size)]
            if size > 4:
                values[3] = values[1]  # a duplicate value
            cases[f"{label}-{size}"] = {"leafEncoding": encoding, "values": values}
    return cases


CASES = _cases()


@pytest.fixture(scope="module")
def node() -> str:
    """The node executable, with @openzeppelin/merkle-tree installed; fails (never skips) if not."""
    executable = shutil.which("node")
    if executable is None:
        pytest.fail(
            "node is not on PATH; install Node.js (18 or later) to run the Merkle cross-check"
        )
    if not PACKAGE.is_file():
        pytest.fail(f"{PACKAGE.parent} is missing; run `npm install` in {ROOT} first")
    return executable


@pytest.fixture(scope="module")
def openzeppelin(node: str) -> dict[str, dict[str, Any]]:
    """OpenZeppelin's results for every case, from one node run."""
    request = []
    for case in CASES.values():
        tree = StandardMerkleTree.of(case["values"], case["leafEncoding"])
        proofs = [["0x" + p.hex() for p in tree.get_proof(i)] for i in range(len(tree))]
        request.append({**case, "root": tree.root_hex, "proofs": proofs})
    completed = subprocess.run(
        [node, str(HELPER)],
        input=json.dumps({"cases": request}),
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        check=False,
    )
    assert completed.returncode == 0, f"oz_merkle.mjs failed:\n{completed.stderr}"
    results = json.loads(completed.stdout)["results"]
    return dict(zip(CASES, results, strict=True))


@pytest.mark.parametrize("name", list(CASES))
def test_same_tree_as_openzeppelin(name: str, openzeppelin: dict[str, dict[str, Any]]) -> None:
    case, theirs = CASES[name], openzeppelin[name]
    ours = StandardMerkleTree.of(case["values"], case["leafEncoding"])
    # The whole dump: root, node layout, treeIndex of every value, value spelling.
    assert ours.dump() == theirs["dump"]
    assert theirs["loadedRoot"] == ours.root_hex
    assert StandardMerkleTree.load(theirs["dump"]).dump() == theirs["dump"]


@pytest.mark.parametrize("name", list(CASES))
def test_their_proofs_verify_here_and_ours_there(
    name: str, openzeppelin: dict[str, dict[str, Any]]
) -> None:
    case, theirs = CASES[name], openzeppelin[name]
    ours = StandardMerkleTree.of(case["values"], case["leafEncoding"])
    for i, value in enumerate(case["values"]):
        their_proof = theirs["proofs"][i]
        assert verify_proof(theirs["dump"]["tree"][0], case["leafEncoding"], value, their_proof)
        assert [bytes.fromhex(p[2:]) for p in their_proof] == ours.get_proof(i)
    assert theirs["verifiesOurs"] == [True] * len(case["values"])


def test_other_spellings_written_by_openzeppelin_load_here(node: str) -> None:
    # A dump made in JavaScript from lowercase addresses and hex or numeric amounts: the npm
    # package keeps values as given; we accept those spellings and rebuild the same tree.
    values = [["0x" + "ab" * 20, "0x10"], ["0x" + "cd" * 20, 17], ["0x" + "ef" * 20, "18"]]
    script = (
        "const { StandardMerkleTree } = require('@openzeppelin/merkle-tree');"
        f"const t = StandardMerkleTree.of({json.dumps(values)}, ['address', 'uint256']);"
        "process.stdout.write(JSON.stringify(t.dump()));"
    )
    completed = subprocess.run(
        [node, "-e", script], capture_output=True, text=True, timeout=60, cwd=ROOT, check=False
    )
    assert completed.returncode == 0, completed.stderr
    dump = json.loads(completed.stdout)
    assert dump["values"][0]["value"] == values[0]  # kept as given
    loaded = StandardMerkleTree.load(dump)
    assert loaded.root_hex == dump["tree"][0]
    assert loaded.root == StandardMerkleTree.of(values, ["address", "uint256"]).root
    assert loaded.at(0) == (to_checksum_address("0x" + "ab" * 20), 16)
