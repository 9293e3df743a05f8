"""Guarded agents: how many legitimate in-policy tasks the offline agent completes, and the gas a
policy check adds to a token transfer.

    python bench/agent.py [--tasks 60]

Tasks are owner requests in words (and "rated helpful" events) generated from fixed templates with a
fixed seed, every one inside the policy: allowlisted recipients, amounts under the caps, a budget
that covers them all, one simulated day per ten tasks. Some phrasings are outside what the rule
planner understands; those count as not completed. Everything runs on the embedded py-evm chain.
"""

import argparse
import json
import random

from aigora.agent.agent import Executor, MemoryApprovals
from aigora.agent.intents import selector_of, transfer_call
from aigora.agent.planner import run_planner
from aigora.agent.policy import DAY, AllowedCall, Policy
from aigora.agent.wallet import deploy_wallet, execute
from aigora.chain import Chain

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
    args = parser.parse_args()
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
            for proposed in run_planner(batch, tip_amount=UNIT):
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
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
