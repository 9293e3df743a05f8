"""Proofs made by the npm package @openzeppelin/merkle-tree verify in the registry contract."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from aigora.core.merkle import StandardMerkleTree

OZ_SCRIPT = Path(__file__).resolve().parents[1] / "core" / "oz_merkle.mjs"
ENCODING = ["address", "uint256"]
VALUES = [[f"0x{(i * 7919):040x}", str(10**18 * i + 3)] for i in range(1, 14)]


def openzeppelin_tree() -> dict:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node.js is required for the OpenZeppelin cross-check")
    ours = StandardMerkleTree.of(VALUES, ENCODING)
    case = {
        "leafEncoding": ENCODING,
        "values": VALUES,
        "root": ours.root_hex,
        "proofs": [[p.hex() for p in ours.get_proof(i)] for i in range(len(VALUES))],
    }
    completed = subprocess.run(
        [node, str(OZ_SCRIPT)],
        input=json.dumps({"cases": [case]}),
        capture_output=True,
        text=True,
        cwd=OZ_SCRIPT.parents[2],
        check=False,
    )
    if completed.returncode != 0:
        pytest.fail(f"OpenZeppelin helper failed (run `npm install`): {completed.stderr}")
    return json.loads(completed.stdout)["results"][0]


def test_openzeppelin_proofs_verify_on_chain(setup):
    result = openzeppelin_tree()
    dump, proofs = result["dump"], result["proofs"]
    root = bytes.fromhex(dump["tree"][0][2:])
    setup.chain.transact(setup.bob, setup.registry.functions.anchor(0, root, len(VALUES)))
    verify = setup.registry.functions.verify_inclusion
    for entry, proof in zip(dump["values"], proofs, strict=True):
        leaf = bytes.fromhex(dump["tree"][entry["treeIndex"]][2:])
        assert setup.chain.call(verify(1, leaf, [bytes.fromhex(p[2:]) for p in proof]))
    # A leaf from the tree with another's proof does not verify.
    first_leaf = bytes.fromhex(dump["tree"][dump["values"][0]["treeIndex"]][2:])
    wrong = [bytes.fromhex(p[2:]) for p in proofs[1]]
    assert not setup.chain.call(verify(1, first_leaf, wrong))
