"""Governance costs: gas of proposing a policy, a relayed vote and executing the winner, and
the time a node takes to re-snapshot 100,000 passages when a policy change removes 1% of them.

    python bench/governance.py [--passages 100000]

Measured with real transactions on the embedded py-evm chain (`aigora.chain.Chain`), whose
receipts count what a sender pays (21,000 base, calldata, cold access, refunds):

- propose: a 1 KB canonical-JSON policy document with a new standing table, relayed (the
  proposer's EIP-712 signature and its standing proof checked, the document logged);
- vote: a relayed ballot with a depth-7 standing proof (a table of 128 voters), the first one
  of a proposal (its tally slot goes from zero) and a later one;
- execute: the passed proposal put in force (an enactment appended).

Each line prints a ratio against a plain `transfer` of the dev token to a fresh account on the
same chain in the same run.

Re-snapshot: a store of `--passages` anchored manifests (rows written directly: publishing is
not what is measured) and the snapshot that admits them all (random int8 embeddings: nothing
is embedded, on either side). The policy change admits only the licence 99% of them carry (a
policy document cannot list 1,000 removed CIDs within 32 KiB; a licence rule is how a community
removes that many). Measured: `build_snapshot` under the new rule from the previous snapshot
(the candidates query, the rule per item, the kept rows, the new Merkle tree and root) and the
file written; the baseline, in the same run, is building the previous snapshot's tree from the
same embeddings (what any snapshot of that size costs without embedding anything).
"""

import argparse
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from eth_account import Account
from eth_account.signers.local import LocalAccount
from rich.console import Console
from rich.table import Table
from web3 import Web3

from aigora.chain import Chain, read_proposal
from aigora.core.canonical import canonical_json
from aigora.core.hashing import keccak
from aigora.governance import (
    SUPPORT,
    governor_domain,
    sign_ballot,
    sign_propose,
    standing_tree,
)

VOTERS = 128  # a full tree of depth 7
DOCUMENT_BYTES = 1024
VOTING_PERIOD_S, TIMELOCK_S = 3 * 24 * 3600, 24 * 3600
QUORUM_BPS, THRESHOLD_BPS = 2000, 50
POWER = 10**17


def _key(label: str) -> LocalAccount:
    return Account.from_key(keccak(label.encode()))


def policy_document(size: int, revision: int) -> bytes:
    """A canonical-JSON policy document of exactly `size` bytes."""
    skeleton = {"policy": "bench", "revision": revision, "notes": ""}
    padding = size - len(canonical_json(skeleton))
    return canonical_json({**skeleton, "notes": "x" * padding})


def gas_figures() -> dict[str, int]:
    """Gas of propose, the first and a later relayed vote, execute, and the baseline transfer."""
    voters = [_key(f"bench voter {i}") for i in range(VOTERS)]
    standing = {v.address: POWER + i for i, v in enumerate(voters)}
    genesis_tree = standing_tree(standing)
    next_tree = standing_tree({**standing, voters[0].address: 2 * POWER})
    with Chain.embedded() as chain:
        owner, relayer = chain.dev_signers()[:2]
        token, _ = chain.deploy(owner, "Token", "Aigora Dev Token", "AIGD")
        chain.transact(owner, token.functions.mint(owner.address, 10**24))
        fresh = Web3.to_checksum_address(keccak(b"bench fresh account")[:20])
        transfer = chain.transact(owner, token.functions.transfer(fresh, 1)).gas_used
        governor, _ = chain.deploy(
            owner,
            "Governor",
            policy_document(DOCUMENT_BYTES, 0),
            genesis_tree.root,
            sum(standing.values()),
            VOTING_PERIOD_S,
            TIMELOCK_S,
            QUORUM_BPS,
            THRESHOLD_BPS,
        )
        domain = governor_domain(chain.chain_id, governor.address)
        document = policy_document(DOCUMENT_BYTES, 1)
        proposer = voters[0]
        next_total = sum(v for _, (_, v) in next_tree)
        signature = sign_propose(
            proposer,
            domain,
            proposer=proposer.address,
            policy_hash=keccak(document),
            standing_root=next_tree.root,
            standing_total=next_total,
            base_policy=chain.call(governor.functions.policy_hash()),
            nonce=0,
        )
        propose = chain.transact(
            relayer,
            governor.functions.propose(
                document,
                next_tree.root,
                next_total,
                proposer.address,
                standing[proposer.address],
                genesis_tree.get_proof([proposer.address, standing[proposer.address]]),
                signature,
            ),
        ).gas_used

        def vote(voter: LocalAccount) -> Any:
            power = standing[voter.address]
            record = read_proposal(chain, governor, 1)
            ballot = sign_ballot(
                voter,
                domain,
                proposal_id=1,
                support=SUPPORT["for"],
                voter=voter.address,
                policy_hash=record.policy_hash,
                standing_root=record.standing_root,
                standing_total=record.standing_total,
            )
            proof = genesis_tree.get_proof([voter.address, power])
            fn = governor.functions.vote(1, voter.address, SUPPORT["for"], power, proof, ballot)
            return chain.transact(relayer, fn), len(proof)

        first, depth = vote(voters[1])
        later = [vote(v)[0] for v in voters[2:40]]  # 30% of the power: past the quorum
        chain.advance_time(VOTING_PERIOD_S + TIMELOCK_S)
        execute = chain.transact(relayer, governor.functions.execute(1)).gas_used
    return {
        "propose": propose,
        "vote_first": first.gas_used,
        "vote": later[-1].gas_used,
        "execute": execute,
        "transfer": transfer,
        "depth": depth,
        "document_bytes": len(document),
    }


def _store(directory: Path, passages: int) -> tuple[Any, Any, list[str]]:
    """A migrated SQLite store with `passages` anchored manifests, 1% under another licence."""
    from aigora.core.cid import cid_of
    from aigora.store import BlobStore, ContentItem, make_engine, migrate, sqlite_url
    from aigora.store.models import Anchor

    engine = make_engine(sqlite_url(directory / "bench.sqlite"))
    migrate(engine)
    now = datetime.now(UTC)
    cids = [cid_of(b"passage %d" % i) for i in range(passages)]
    with engine.begin() as connection:
        connection.execute(
            Anchor.__table__.insert(),
            [
                {
                    "id": 1,
                    "chain_id": 1,
                    "kind": "content",
                    "root": "0x" + "11" * 32,
                    "batch_id": 1,
                    "tx_hash": "0x" + "22" * 32,
                    "block_number": 1,
                    "item_count": passages,
                    "anchored_by": "0x" + "33" * 20,
                    "anchored_at": now,
                }
            ],
        )
        connection.execute(
            ContentItem.__table__.insert(),
            [
                {
                    "cid": cid,
                    "author": "0x" + "44" * 20,
                    "media_type": "text/plain",
                    "license": "proprietary" if i % 100 == 0 else "CC-BY-4.0",
                    "url": "",
                    "url_hash": None,
                    "created_at": 1,
                    "size": 10,
                    "digest": f"0x{i:064x}",
                    "signature": "0x" + "00" * 65,
                    "received_at": now,
                    "anchor_id": 1,
                }
                for i, cid in enumerate(cids)
            ],
        )
    return engine, BlobStore(directory / "blobs"), cids


def resnapshot_figures(passages: int = 100_000) -> dict[str, float]:
    """Seconds to re-snapshot after a licence rule drops 1%, and to build the same-size tree."""
    from aigora.index import AdmissionPolicy, Snapshot, SnapshotBasis, build_snapshot
    from aigora.store import session_scope

    rng = np.random.default_rng(7)
    with tempfile.TemporaryDirectory() as tmp:
        engine, blobs, cids = _store(Path(tmp), passages)
        embeddings = rng.integers(-128, 128, size=(passages, 384), dtype=np.int8)
        model_root = keccak(b"bench model")
        start = time.perf_counter()
        previous = Snapshot.of(model_root, dict(zip(cids, embeddings, strict=True)))
        previous.root  # noqa: B018  (the tree: what the baseline measures)
        baseline = time.perf_counter() - start
        rule = AdmissionPolicy(licenses=("CC-BY-4.0",), anchored_only=True, through_batch=1)
        basis = SnapshotBasis(policy_hash=keccak(b"policy 2"), through_batch=1)
        start = time.perf_counter()
        with session_scope(engine) as session:
            built = build_snapshot(
                session, blobs, None, model_root, rule, previous, scores={}, basis=basis
            )
        built.snapshot.root  # noqa: B018
        built.snapshot.save(Path(tmp) / "next.npz")
        resnapshot = time.perf_counter() - start
        engine.dispose()
    return {
        "passages": passages,
        "removed": built.removed,
        "embedded": built.embedded,
        "resnapshot_s": resnapshot,
        "baseline_s": baseline,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=100_000)
    args = parser.parse_args()
    gas = gas_figures()
    console = Console(width=120)
    table = Table("measure", "ours", "baseline", "ratio")
    for label, key in (
        (f"propose ({gas['document_bytes']:,} B document, relayed)", "propose"),
        (f"vote, first of a proposal (relayed, proof depth {gas['depth']})", "vote_first"),
        (f"vote, later (relayed, proof depth {gas['depth']})", "vote"),
        ("execute (enact the passed policy)", "execute"),
    ):
        table.add_row(
            label,
            f"{gas[key]:,} gas",
            f"{gas['transfer']:,} gas (ERC-20 transfer)",
            f"{gas[key] / gas['transfer']:.2f}x",
        )
    console.print(table)
    snap = resnapshot_figures(args.passages)
    table = Table("measure", "ours", "baseline", "ratio")
    table.add_row(
        f"re-snapshot {snap['passages']:,} passages, policy removes {snap['removed']:,} "
        f"(embedded {snap['embedded']})",
        f"{snap['resnapshot_s']:.2f} s",
        f"{snap['baseline_s']:.2f} s (the same-size tree from scratch)",
        f"{snap['resnapshot_s'] / snap['baseline_s']:.2f}x",
    )
    console.print(table)


if __name__ == "__main__":
    main()
