"""Guarded agents: how many legitimate in-policy tasks the offline agent completes, and the gas a
policy check adds to a token transfer and to a swap.

    python bench/agent.py [--tasks 60] [--before-wallet OLD.vy]

`--before-wallet` deploys a second PolicyWallet compiled from another source (for example
`git show 39000fd:aigora/chain/contracts/PolicyWallet.vy > /tmp/before.vy`) on the same chain and
runs the same swaps through it, so a change to the wallet's checks is measured in one run.

Tasks are owner requests in words (and "rated helpful" events) generated from fixed templates with a
fixed seed, every one inside the policy: allowlisted recipients, amounts under the caps, a budget
that covers them all, one simulated day per ten tasks. Some phrasings are outside what the rule
planner understands; those count as not completed. Everything runs on the embedded py-evm chain.
"""

import argparse
import json
import random
import shutil
import tempfile
from pathlib import Path

from aigora.agent.agent import Executor, MemoryApprovals
from aigora.agent.intents import Swap, build_calls, selector_of, transfer_call
from aigora.agent.planner import run_planner
from aigora.agent.policy import DAY, AllowedCall, Policy
from aigora.agent.swaps import SWAP_EXACT_IN
from aigora.agent.wallet import deploy_wallet, execute
from aigora.chain import Chain
from aigora.chain import compile as compile_module

UNIT = 10**18
TEMPLATES = [
    "pay {amount} tokens to {to}",
    "Pay {amount} to {to}",
    "send {amount} tokens to {to}",
    "transfer {amount} to {to}",
    "tip {to} {amount} for bafyanswer{i}",
    "tip {to} {amount} tokens",
    "stake {amount} in {pool}",
    "rated",
    "please give {to} {amount} tokens",  # not in the rule planner's grammar
    "{to} should get {amount} tokens for the review",  # nor this
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tasks", type=int, default=60)
    parser.add_argument("--before-wallet", type=Path, default=None)
    args = parser.parse_args()
    if args.before_wallet is not None:
        # the other source joins a temporary copy of the contracts under its own name
        contracts = Path(tempfile.mkdtemp()) / "contracts"
        shutil.copytree(compile_module.CONTRACTS_DIR, contracts)
        shutil.copy(args.before_wallet, contracts / "PolicyWalletBefore.vy")
        compile_module.CONTRACTS_DIR = contracts
    rng = random.Random(7)
    with Chain.embedded() as chain:
        owner, agent, *people = chain.dev_signers()[:9]
        token, _ = chain.deploy(owner, "Token", "Bench", "BNC")
        chain.transact(owner, token.functions.mint(owner.address, 10_000 * UNIT))
        pool, _ = chain.deploy(owner, "RedTeamSpender", token.address)
        recipients = tuple(p.address for p in people[:5])
        policy = Policy(
            token=token.address,
            per_tx_cap=5 * UNIT,
            period_cap=50 * UNIT,
            period_s=DAY,
            budget=1_000 * UNIT,
            expiry=chain.now() + 60 * DAY,
            recipients=recipients,
            spenders=(pool.address,),
            calls=(AllowedCall(target=pool.address, selector=selector_of("stake(uint256)")),),
        )
        wallet, _ = deploy_wallet(chain, owner, agent.address, policy, fund=1_000 * UNIT)

        tasks: list = []
        for i in range(args.tasks):
            template = TEMPLATES[i % len(TEMPLATES)]
            to = rng.choice(recipients)
            amount = rng.choice(["1", "2", "0.5", "3", "4.25", "5"])
            if template == "rated":
                tasks.append(
                    {"event": "rated", "rating": "helpful", "author": to, "cid": f"bafy{i}"}
                )
            else:
                tasks.append(template.format(amount=amount, to=to, pool=pool.address, i=i))
        approvals = MemoryApprovals()
        executor = Executor(chain, wallet, agent, policy, approvals)
        sent = 0
        for day in range(0, len(tasks), 10):
            batch = tasks[day : day + 10]
            for planned in run_planner(batch, tip_amount=UNIT):
                for proposed in planned.intents:
                    sent += executor.handle(proposed).status == "sent"
            chain.advance_time(DAY)

        # gas: the same transfer plain from an EOA and through the wallet, to a recipient who
        # already holds tokens (warm balance slot) and to a fresh one (zero to non-zero)
        fresh_plain, fresh_wallet = people[5].address, people[6].address
        chain.transact(owner, token.functions.transfer(agent.address, UNIT))
        plain_warm = chain.transact(owner, token.functions.transfer(recipients[0], UNIT)).gas_used
        guarded_warm = execute(
            chain, agent, wallet, transfer_call(token.address, recipients[0], UNIT)
        ).gas_used
        plain_fresh = chain.transact(owner, token.functions.transfer(fresh_plain, UNIT)).gas_used
        open_policy = policy.model_copy(update={"recipients": (*recipients, fresh_wallet)})
        chain.transact(owner, wallet.functions.set_policy(*open_policy.set_policy_args()))
        guarded_fresh = execute(
            chain, agent, wallet, transfer_call(token.address, fresh_wallet, UNIT)
        ).gas_used

        swap_gas = {
            "gas_swap_plain_from_an_eoa": _plain_swap_gas(
                chain, owner, token, chain.dev_signers()[9]
            )
        }
        swap_gas |= _swap_gas(chain, owner, agent, token, "PolicyWallet", "")
        if args.before_wallet is not None:
            swap_gas |= _swap_gas(chain, owner, agent, token, "PolicyWalletBefore", "_before")

    result = {
        "tasks": len(tasks),
        "completed": sent,
        "fraction": round(sent / len(tasks), 3),
        "pending_approvals": len(approvals.items),
        "gas_plain_transfer_existing_holder": plain_warm,
        "gas_policy_transfer_existing_holder": guarded_warm,
        "gas_plain_transfer_new_holder": plain_fresh,
        "gas_policy_transfer_new_holder": guarded_fresh,
        "overhead_existing_holder": guarded_warm - plain_warm,
        "overhead_new_holder": guarded_fresh - plain_fresh,
        **swap_gas,
    }
    print(json.dumps(result, indent=2))


def _router(chain: Chain, owner, token) -> tuple:
    """A fixed-rate router (the DEX double) with reserves of a fresh output token."""
    out, _ = chain.deploy(owner, "Token", "Out", "OUT")
    router, _ = chain.deploy(owner, "TestRouter")
    chain.transact(owner, out.functions.mint(router.address, 10_000 * UNIT))
    chain.transact(owner, router.functions.set_rate(token.address, out.address, 2 * UNIT))
    return router, out


def _plain_swap_gas(chain: Chain, owner, token, trader) -> int:
    """The same second swap (output balance already non-zero) from an EOA, without a wallet."""
    router, out = _router(chain, owner, token)
    chain.transact(owner, token.functions.transfer(trader.address, 10 * UNIT))
    chain.transact(trader, token.functions.approve(router.address, 10 * UNIT))
    swap = router.functions.swap_exact_in(token.address, out.address, UNIT, 1, trader.address)
    chain.transact(trader, swap)
    return chain.transact(trader, swap).gas_used


def _swap_gas(chain: Chain, owner, agent, token, wallet_name: str, suffix: str) -> dict[str, int]:
    """Gas of `execute` for the approve and the swap of a Swap intent, through `wallet_name`:
    the first swap (the wallet's output balance goes from zero) and the second."""
    router, out = _router(chain, owner, token)
    policy = Policy(
        token=token.address,
        per_tx_cap=5 * UNIT,
        period_cap=50 * UNIT,
        period_s=DAY,
        budget=1_000 * UNIT,
        expiry=chain.now() + 60 * DAY,
        spenders=(router.address,),
        calls=(AllowedCall(target=router.address, selector=SWAP_EXACT_IN),),
        tokens_out=(out.address,),
    )
    wallet, _ = chain.deploy(owner, wallet_name, agent.address, token.address)
    policy_args = policy.set_policy_args()
    n_inputs = len(wallet.functions.set_policy.abi["inputs"])  # the old wallet lists no outputs
    chain.transact(owner, wallet.functions.set_policy(*policy_args[:n_inputs]))
    chain.transact(owner, token.functions.transfer(wallet.address, 100 * UNIT))
    intent = Swap(router=router.address, token_out=out.address, amount_in=UNIT, min_out=1)
    gas: dict[str, int] = {}
    for label in ("first", "second"):
        approve, swap = build_calls(intent, policy, wallet.address)
        gas[f"gas_execute_approve_{label}{suffix}"] = execute(
            chain, agent, wallet, approve
        ).gas_used
        gas[f"gas_execute_swap_{label}{suffix}"] = execute(chain, agent, wallet, swap).gas_used
    assert chain.call(out.functions.balanceOf(wallet.address)) == 4 * UNIT
    return gas


if __name__ == "__main__":
    main()
