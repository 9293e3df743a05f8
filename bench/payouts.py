"""Payout costs: valuing 100k items, building the tree for 1M accounts, gas per claim and epoch.

    python bench/payouts.py [--accounts 1000000] [--items 100000] [--gas-only]

Each line prints a ratio against a baseline measured in the same run:

- valuation: exact KNN-Shapley of `items` int8 passages (d = 384, bench/valuation.py's data)
  against 1,000 labeled validation points plus the integer split of a pool by those values,
  against that benchmark's per-validation-point loop, timed on 5 points and scaled;
- tree: our StandardMerkleTree over `accounts` (address, cumulative) leaves, against
  OpenZeppelin's own `@openzeppelin/merkle-tree` (Node.js) building the same tree (and the roots
  must match);
- gas: `Distributor.claim` with a depth-20 proof from that tree, posted as one poster's tree of
  the shared distributor (first claim of an account that never held the token, and a repeat
  claim after the next epoch), and `post_epoch`, against a plain ERC-20 `transfer` to a fresh
  account on the same chain.

`--gas-only` skips the valuation and OpenZeppelin's tree (the gas lines still use a tree of
`accounts` leaves, so the proof depth is the same).
"""

import argparse
import importlib.util
import json
import os
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table
from web3 import Web3

from aigora.chain import Chain
from aigora.chain.deploy import deploy_distributor
from aigora.core.merkle import StandardMerkleTree
from aigora.payouts import allocate, payout_tree, value_weights
from aigora.value import knn_shapley

ROOT = Path(__file__).parents[1]
VALID, K = 1000, 10


def _valuation_bench():
    """bench/valuation.py, for its data set and its per-point loop (the same baseline)."""
    spec = importlib.util.spec_from_file_location(
        "valuation_bench", ROOT / "bench" / "valuation.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def bench_valuation(items: int) -> tuple[float, float, int]:
    valuation = _valuation_bench()
    train, yt, valid, yv = valuation.dataset(items, VALID)
    start = time.perf_counter()
    values = knn_shapley(train, yt, valid, yv, K)
    parts = allocate(10**24, value_weights(values))
    ours = time.perf_counter() - start
    _, seconds = valuation.naive_values(train, yt, valid[:5], yv[:5], K)
    return ours, seconds * VALID / 5, sum(parts)


def _accounts(n: int) -> list[tuple[str, int]]:
    rng = np.random.default_rng(1)
    raw = rng.integers(0, 256, size=(n, 20), dtype=np.uint8)
    amounts = rng.integers(1, 10**12, size=n)
    return [("0x" + row.tobytes().hex(), int(a)) for row, a in zip(raw, amounts, strict=True)]


def bench_tree(values: list[tuple[str, int]]) -> tuple[float, float, StandardMerkleTree]:
    start = time.perf_counter()
    tree = payout_tree(dict(values))
    ours = time.perf_counter() - start
    script = (
        "const {StandardMerkleTree}=require('@openzeppelin/merkle-tree');"
        "const v=JSON.parse(require('fs').readFileSync(0,'utf8'));"
        "const t0=process.hrtime.bigint();"
        "const t=StandardMerkleTree.of(v,['address','uint256']);"
        "const s=Number(process.hrtime.bigint()-t0)/1e9;"
        "process.stdout.write(JSON.stringify({root:t.root,seconds:s}));"
    )
    payload = json.dumps([[a, str(x)] for a, x in sorted(values)])
    done = subprocess.run(
        ["node", "-e", script], input=payload, capture_output=True, text=True, cwd=ROOT, check=True
    )
    theirs = json.loads(done.stdout)
    if theirs["root"] != tree.root_hex:
        raise SystemExit(f"roots differ: ours {tree.root_hex}, OpenZeppelin {theirs['root']}")
    return ours, float(theirs["seconds"]), tree


def bench_gas(tree: StandardMerkleTree) -> dict[str, int]:
    with tempfile.TemporaryDirectory() as tmp:
        chain = Chain.embedded(Path(tmp))
        try:
            owner, relayer = chain.dev_signers()[:2]
            token, _ = chain.deploy(owner, "Token", "Bench", "BNC")
            chain.transact(owner, token.functions.mint(owner.address, 10**30))
            distributor, _ = deploy_distributor(chain, owner, token.address)
            total = sum(int(v[1]) for _, v in tree)
            chain.transact(owner, token.functions.approve(distributor.address, 2 * total))
            posted = chain.transact(
                owner, distributor.functions.post_epoch(1, tree.root, total)
            ).gas_used
            index, (account, amount) = next(iter(tree))
            proof = tree.get_proof(index)
            first = chain.transact(
                relayer, distributor.functions.claim(owner.address, account, int(amount), proof)
            ).gas_used
            second_tree = StandardMerkleTree.of(
                [(a, int(v) + (7 if i == index else 0)) for i, (a, v) in tree], tree.leaf_encoding
            )
            chain.transact(owner, distributor.functions.post_epoch(2, second_tree.root, total + 7))
            repeat = chain.transact(
                relayer,
                distributor.functions.claim(
                    owner.address, account, int(amount) + 7, second_tree.get_proof(index)
                ),
            ).gas_used
            fresh = Web3.to_checksum_address("0x" + os.urandom(20).hex())
            transfer = chain.transact(owner, token.functions.transfer(fresh, 1)).gas_used
            depth = len(proof)
        finally:
            chain.close()
    return {
        "post_epoch": posted,
        "claim_first": first,
        "claim_repeat": repeat,
        "transfer": transfer,
        "depth": depth,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=1_000_000)
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--gas-only", action="store_true", help="only the gas lines")
    args = parser.parse_args()
    console = Console(width=120)
    table = Table("measure", "ours", "baseline", "ratio")
    if args.gas_only:
        tree = payout_tree(dict(_accounts(args.accounts)))
    else:
        ours, loop, paid = bench_valuation(args.items)
        table.add_row(
            f"value {args.items:,} items x {VALID:,} points, split a pool",
            f"{ours:.2f} s",
            f"{loop:.1f} s (per-point loop)",
            f"{loop / ours:.1f}x faster",
        )
        assert paid == 10**24
        built, oz, tree = bench_tree(_accounts(args.accounts))
        table.add_row(
            f"build the tree for {args.accounts:,} accounts",
            f"{built:.1f} s",
            f"{oz:.1f} s (OpenZeppelin, Node.js)",
            f"{oz / built:.2f}x",
        )
    gas = bench_gas(tree)
    for label, key in (
        (f"claim, first (proof depth {gas['depth']})", "claim_first"),
        (f"claim, repeat (proof depth {gas['depth']})", "claim_repeat"),
        ("post_epoch (pulls the funds)", "post_epoch"),
    ):
        table.add_row(
            label,
            f"{gas[key]:,} gas",
            f"{gas['transfer']:,} gas (ERC-20 transfer)",
            f"{gas[key] / gas['transfer']:.2f}x",
        )
    console.print(table)


if __name__ == "__main__":
    main()
