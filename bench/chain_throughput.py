"""Contract calls per second on the embedded py-evm chain versus anvil over JSON-RPC.

Both run the same workload through the same `Chain` client: ERC-20 transfers (each simulated,
signed, sent and mined) and view calls (`balanceOf`). The ratio embedded/anvil is printed per kind.

    python bench/chain_throughput.py [--transactions 200] [--views 500]
"""

import argparse
import time

from rich.console import Console
from rich.table import Table

from aigora.chain import Chain
from aigora.chain.anvil import Anvil
from aigora.chain.deploy import deploy_foundation


def measure(chain: Chain, transactions: int, views: int) -> tuple[float, float]:
    owner, alice = chain.dev_signers()[:2]
    token = deploy_foundation(chain, owner).token
    chain.transact(owner, token.functions.mint(owner.address, 10**24))
    start = time.perf_counter()
    for _ in range(transactions):
        chain.transact(owner, token.functions.transfer(alice.address, 1))
    tx_rate = transactions / (time.perf_counter() - start)
    start = time.perf_counter()
    for _ in range(views):
        chain.call(token.functions.balanceOf(alice.address))
    view_rate = views / (time.perf_counter() - start)
    assert chain.call(token.functions.balanceOf(alice.address)) == transactions
    return tx_rate, view_rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transactions", type=int, default=200)
    parser.add_argument("--views", type=int, default=500)
    args = parser.parse_args()

    with Chain.embedded() as chain:
        embedded = measure(chain, args.transactions, args.views)
    with Anvil() as url, Chain.connect(url) as chain:
        anvil = measure(chain, args.transactions, args.views)

    table = Table("workload", "embedded /s", "anvil /s", "embedded / anvil")
    for name, e, a in zip(("transactions", "view calls"), embedded, anvil, strict=True):
        table.add_row(name, f"{e:.1f}", f"{a:.1f}", f"{e / a:.2f}")
    Console().print(table)


if __name__ == "__main__":
    main()
