"""Red team: a planner controlled entirely by an attacker cannot move money outside the policy.

Hypothesis plays the attacker holding everything except the owner's key: the agent key itself,
arbitrary typed intents through the executor, raw `execute` calldata (self-calls, policy-changing
calls, token tricks, unlimited approvals, lookalike addresses, reentry through an allowlisted
hostile contract, swaps through an allowlisted router naming any recipient and output token,
malformed swap calldata), direct calls on the wallet and the token, and the clock. One deployment
serves every example of a test; each example starts with the owner setting a fresh policy.
The attack runs over the same compiled contracts and the real `Executor` twice: 500 examples on
titanoboa (`BoaChain`: py-evm without the client, about ten times faster), and 100 more, drawn
differently, end to end on the embedded chain through `Chain` (signing, simulation, mining, logs).
Each end-to-end example is replayed on a titanoboa twin of that world, which must agree with the
chain action by action (accepted, or refused with the same reason) and on every amount: that is
what lets the 500 stand in for examples on the chain.
After every example we check, from the chain's own logs:
  - what left the wallet is at most the worst case computed from the policy;
  - every token transfer out of the wallet went to an allowlisted address, or was pulled by an
    allowlisted spender within approvals the policy counted;
  - every execution respected the per-transaction, per-period and total caps and the expiry;
  - every swap output left the router for the wallet or an allowlisted address, and no output
    token left the wallet;
  - owner, agent and policy epoch are unchanged by the attacker.
"""

import os
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from eth_abi import encode
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aigora.agent.agent import Executor, MemoryApprovals
from aigora.agent.intents import Call, approve_call, selector_of, transfer_call
from aigora.agent.policy import (
    APPROVE,
    INCREASE_ALLOWANCE,
    MAX_UINT256,
    TRANSFER,
    TRANSFER_FROM,
    AllowedCall,
    Policy,
    worst_case_loss,
)
from aigora.agent.swaps import SWAP_EXACT_IN, SWAP_EXACT_TOKENS_FOR_TOKENS
from aigora.agent.wallet import execute, set_policy
from aigora.chain import Chain
from aigora.core.errors import ContractRevert

from .boa_chain import BoaChain

UNIT = 10**18
DAY = 86_400
# on titanoboa, and end to end on the embedded chain (drawn differently): 600 examples in all
N_EXAMPLES = int(os.environ.get("AIGORA_RED_TEAM_EXAMPLES", "500"))
N_CHAIN_EXAMPLES = int(os.environ.get("AIGORA_RED_TEAM_CHAIN_EXAMPLES", "100"))


@dataclass
class World:
    chain: Chain | BoaChain
    s: object  # WalletSetup
    lookalike: str
    timestamp_of: Callable[[int], int]  # block number -> its timestamp
    router: object  # TestRouter, the DEX double
    out: object  # the token the policy lets a swap buy
    addresses: list[str] = field(default_factory=list)
    stats: dict[str, int] = field(default_factory=lambda: defaultdict(int))


def _world(chain: Chain | BoaChain, setup_builder, timestamp_of: Callable[[int], int]) -> World:
    s = setup_builder(chain)
    # A day ahead of the wall clock, the embedded chain stamps every block its parent's time plus
    # one second, as `BoaChain` does: runs, and the two backends, then see the same clock.
    chain.advance_time(DAY)
    alice = s.alice.address
    lookalike = "0x" + alice[2:-1] + ("0" if alice[-1] != "0" else "1")
    out, _ = chain.deploy(s.owner, "Token", "Out", "OUT")
    router, _ = chain.deploy(s.owner, "TestRouter")
    chain.transact(s.owner, router.functions.set_rate(s.token.address, out.address, 2 * UNIT))
    w = World(chain, s, chain.w3.to_checksum_address(lookalike), timestamp_of, router, out)
    w.addresses = [
        s.alice.address,
        s.bob.address,
        s.mallory.address,
        s.wallet.address,
        s.token.address,
        s.spender.address,
        s.owner.address,
        s.agent.address,
        w.lookalike,
        "0x" + "00" * 20,
        router.address,
        out.address,
    ]
    return w


def _boa_world(setup_builder) -> World:
    chain = BoaChain()
    return _world(chain, setup_builder, chain.timestamp_of)


@pytest.fixture(scope="module")
def boa_world(setup_builder):
    w = _boa_world(setup_builder)
    yield w
    print(f"\nred team on titanoboa: {dict(w.stats)}")


@pytest.fixture(scope="module")
def twin_world(setup_builder):
    """The titanoboa twin of `chain_world`: same deployment, then the same examples in order."""
    return _boa_world(setup_builder)


@pytest.fixture(scope="module")
def chain_world(setup_builder):
    with Chain.embedded() as chain:
        w = _world(chain, setup_builder, lambda n: chain.w3.eth.get_block(n)["timestamp"])
        yield w
    print(f"\nred team on the embedded chain: {dict(w.stats)}")


amounts = st.one_of(
    st.sampled_from(
        [0, 1, UNIT, 5 * UNIT, 5 * UNIT + 1, 10 * UNIT, 25 * UNIT, 10**30, MAX_UINT256]
    ),
    st.integers(0, 30 * UNIT),
)
policies = st.fixed_dictionaries(
    {
        "per_tx": st.integers(1, 6),
        "period_mult": st.integers(1, 4),
        "budget_mult": st.integers(1, 5),
        "period_s": st.sampled_from([3600, DAY]),
        "lifetime": st.sampled_from([DAY, 3 * DAY, 10 * DAY]),
        "hostile_calls": st.booleans(),
    }
)
action = st.tuples(
    st.sampled_from(
        [
            "transfer",
            "approve",
            "transfer_from",
            "increase",
            "self_call",
            "owner_direct",
            "stake",
            "pull",
            "reenter",
            "raw",
            "intent",
            "time",
            "spender_pull",
            "token_direct",
            "drain",
            "swap",
        ]
    ),
    st.integers(0, 11),  # target / counterparty index
    st.integers(0, 11),
    amounts,
    st.binary(max_size=80),
)


def _data(w: World, kind: str, i: int, j: int, amount: int, blob: bytes) -> tuple[str, bytes]:
    s, a = w.s, w.addresses
    token, wallet, spender = s.token.address, s.wallet.address, s.spender.address
    targets = [token, token, token, wallet, spender, a[i], token]
    target = targets[j % len(targets)] if kind == "raw" else token
    if kind == "transfer":
        return target, TRANSFER + encode(["address", "uint256"], [a[i], amount])
    if kind == "approve":
        return target, APPROVE + encode(["address", "uint256"], [a[i], amount])
    if kind == "transfer_from":
        return target, TRANSFER_FROM + encode(
            ["address", "address", "uint256"], [wallet, a[i], amount]
        )
    if kind == "increase":
        return target, INCREASE_ALLOWANCE + encode(["address", "uint256"], [a[i], amount])
    if kind == "self_call":
        fns = [
            s.wallet.functions.set_agent(a[i]),
            s.wallet.functions.set_owner(a[i]),
            s.wallet.functions.withdraw(a[i], amount % (2**255)),
            s.wallet.functions.revoke(),
            s.wallet.functions.set_policy(
                MAX_UINT256,
                MAX_UINT256,
                1,
                MAX_UINT256,
                2**64,
                True,
                [a[i]],
                [a[j]],
                [b"\xa9\x05\x9c\xbb"],
                [a[i]],
                [(MAX_UINT256, MAX_UINT256, 0)],
                [a[i]],
                [1],
            ),
        ]
        return wallet, bytes.fromhex(fns[j % len(fns)]._encode_transaction_data()[2:])
    if kind == "swap":
        outs = [w.out.address, w.out.address, token, a[j]]
        token_out = outs[j % len(outs)]
        recipient = wallet if i % 3 == 0 else a[i]
        amount_in = amount % (10 * UNIT)
        if j % 2:
            data = SWAP_EXACT_TOKENS_FOR_TOKENS + encode(
                ["uint256", "uint256", "address[]", "address", "uint256"],
                [amount_in, 1, [token, token_out], recipient, 2**40],
            )
        else:
            data = SWAP_EXACT_IN + encode(
                ["address", "address", "uint256", "uint256", "address"],
                [token, token_out, amount_in, 1, recipient],
            )
        if blob[:1] and blob[0] % 4 == 0:  # a byte more or less than the function's layout
            data = data[:-1] if blob[0] % 8 else data + b"\x00"
        return w.router.address, data
    if kind == "stake":
        return spender, selector_of("stake(uint256)") + encode(["uint256"], [amount])
    if kind == "pull":
        return spender, selector_of("pull(address,address,uint256)") + encode(
            ["address", "address", "uint256"], [wallet, a[i], amount]
        )
    if kind == "reenter":
        inner = s.wallet.functions.execute(
            token, TRANSFER + encode(["address", "uint256"], [a[i], amount])
        )
        if j % 2:
            inner = s.wallet.functions.withdraw(a[i], amount % (2**255))
        payload = bytes.fromhex(inner._encode_transaction_data()[2:])
        return spender, selector_of("reenter(address,bytes)") + encode(
            ["address", "bytes"], [wallet, payload[:512]]
        )
    return a[i] if j % 2 else target, blob


def _intent(w: World, i: int, j: int, amount: int, blob: bytes) -> dict:
    a = w.addresses
    kinds = ["pay", "tip", "stake", "swap", "call", "approve"]
    kind = kinds[j % len(kinds)]
    return {
        "pay": {"kind": "pay", "to": a[i], "amount": str(amount)},
        "tip": {"kind": "tip", "to": a[i], "amount": str(amount), "cid": blob.hex()[:20]},
        "stake": {"kind": "stake", "vault": a[i], "amount": str(amount)},
        "swap": {
            "kind": "swap",
            "router": a[i],
            "token_out": a[j],
            "amount_in": str(amount),
            "min_out": str(amount // 2),
        },
        "call": {"kind": "call", "target": a[i], "data": "0x" + blob.hex()},
        "approve": {"kind": "pay", "to": a[i], "amount": str(amount), "spender": a[j]},
    }[kind]


def _attempt(stats: dict[str, int], fn, *args) -> str:
    """One attacker transaction: "accepted", or "refused: <the contract's reason>"."""
    stats["attacker_actions"] += 1
    try:
        fn(*args)
    except ContractRevert as exc:
        stats["refused_by_contract"] += 1
        return f"refused: {exc.reason}"
    stats["accepted"] += 1
    return "accepted"


def _red_team(max_examples: int):
    """The attacker's strategies and settings, shared by both tests (each draws its own)."""
    return lambda test: settings(
        max_examples=max_examples,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
        ],
    )(given(params=policies, actions=st.lists(action, min_size=1, max_size=20))(test))


@_red_team(N_EXAMPLES)
def test_attacker_never_moves_money_outside_the_policy(boa_world, params, actions):
    _attack_and_check(boa_world, params, actions)


@_red_team(N_CHAIN_EXAMPLES)
def test_attacker_never_moves_money_outside_the_policy_end_to_end(
    chain_world, twin_world, params, actions
):
    on_chain = _attack_and_check(chain_world, params, actions)
    assert _attack_and_check(twin_world, params, actions) == on_chain


def _attack_and_check(w: World, params: dict, actions: list) -> list[str]:
    """Run one example and check the invariants; returns what happened, action by action, and
    the amounts (no addresses, which differ between backends)."""
    s, chain, stats = w.s, w.chain, w.stats
    journal: list[str] = []
    wallet = s.wallet.address
    # ---- owner: a fresh policy; leftover allowance from earlier examples pulled back home ----
    held = s.balance(wallet)
    if held < 1_000 * UNIT:  # the owner tops the wallet up between examples
        chain.transact(s.owner, s.token.functions.mint(wallet, 1_000 * UNIT - held))
    leftover = chain.call(s.token.functions.allowance(wallet, s.spender.address))
    if leftover:
        chain.transact(s.mallory, s.spender.functions.pull(wallet, s.owner.address, leftover))
    if chain.call(s.token.functions.allowance(wallet, w.router.address)):
        chain.transact(s.owner, s.wallet.functions.clear_approval(w.router.address))
    reserve = chain.call(w.out.functions.balanceOf(w.router.address))
    if reserve < 1_000 * UNIT:  # and the router's reserve of the output token
        chain.transact(s.owner, w.out.functions.mint(w.router.address, 1_000 * UNIT - reserve))
    per_tx = params["per_tx"] * UNIT
    calls = [AllowedCall(target=s.spender.address, selector=selector_of("stake(uint256)"))]
    if params["hostile_calls"]:  # the owner allowlisted a hostile contract's every function
        calls += [
            AllowedCall(target=s.spender.address, selector=selector_of(sig))
            for sig in ("pull(address,address,uint256)", "reenter(address,bytes)")
        ]
    calls += [
        AllowedCall(target=w.router.address, selector=SWAP_EXACT_IN),
        AllowedCall(target=w.router.address, selector=SWAP_EXACT_TOKENS_FOR_TOKENS),
    ]
    now = chain.now()
    policy = Policy(
        token=s.token.address,
        per_tx_cap=per_tx,
        period_cap=per_tx * params["period_mult"],
        period_s=params["period_s"],
        budget=per_tx * params["period_mult"] * params["budget_mult"],
        expiry=now + params["lifetime"],
        recipients=(s.alice.address, s.bob.address),
        spenders=(s.spender.address, w.router.address),
        calls=tuple(calls),
        tokens_out=(w.out.address,),
    )
    set_policy(chain, s.owner, s.wallet, policy)
    start = chain.call(s.wallet.functions.period_start())
    epoch = chain.call(s.wallet.functions.epoch())
    first_block = chain.block_number() + 1
    before = s.balance(wallet)
    executor = Executor(chain, s.wallet, s.agent, policy, MemoryApprovals())

    # ---- attacker ----
    for kind, i, j, amount, blob in actions:
        if kind == "time":
            chain.advance_time([1, 1800, 3600, DAY, 2 * DAY][i % 5])
            continue
        if kind == "intent":
            stats["attacker_actions"] += 1
            outcome = executor.handle(_intent(w, i, j, amount, blob))
            stats[f"intent_{outcome.status}"] += 1
            journal.append(f"intent {outcome.status}, {len(outcome.tx_hashes)} transaction(s)")
            continue
        if kind == "drain":  # greedy: take the most the policy allows until refused
            for _ in range(40):
                try:
                    stats["attacker_actions"] += 1
                    if i % 2:
                        execute(
                            chain,
                            s.agent,
                            s.wallet,
                            approve_call(s.token.address, s.spender.address, policy.per_tx_cap),
                        )
                        chain.transact(
                            s.mallory,
                            s.spender.functions.pull(wallet, s.mallory.address, policy.per_tx_cap),
                        )
                    else:
                        execute(
                            chain,
                            s.agent,
                            s.wallet,
                            transfer_call(s.token.address, w.addresses[j % 2], policy.per_tx_cap),
                        )
                    stats["accepted"] += 1
                    journal.append("drain accepted")
                except ContractRevert as exc:
                    stats["refused_by_contract"] += 1
                    journal.append(f"drain refused: {exc.reason}")
                    break
            continue
        if kind == "owner_direct":
            fns = [
                s.wallet.functions.set_agent(w.addresses[i]),
                s.wallet.functions.revoke(),
                s.wallet.functions.withdraw(w.addresses[i], amount % (2**255)),
                s.wallet.functions.set_owner(w.addresses[i]),
                s.wallet.functions.set_policy(*policy.set_policy_args()),
            ]
            journal.append(_attempt(stats, chain.transact, s.agent, fns[j % len(fns)]))
            continue
        if kind == "swap":  # approve the router, then swap with what the attacker chose
            approve = approve_call(s.token.address, w.router.address, amount % (10 * UNIT))
            journal.append(_attempt(stats, execute, chain, s.agent, s.wallet, approve))
            swap = Call(*_data(w, kind, i, j, amount, blob))
            journal.append(_attempt(stats, execute, chain, s.agent, s.wallet, swap))
            continue
        if kind == "spender_pull":
            pull = s.spender.functions.pull(wallet, w.addresses[i], amount)
            journal.append(_attempt(stats, chain.transact, s.mallory, pull))
            continue
        if kind == "token_direct":
            steal = s.token.functions.transferFrom(wallet, w.addresses[i], amount)
            journal.append(_attempt(stats, chain.transact, s.agent, steal))
            continue
        target, data = _data(w, kind, i, j, amount, blob)
        if len(data) > 1024:
            data = data[:1024]
        journal.append(_attempt(stats, execute, chain, s.agent, s.wallet, Call(target, data)))

    # ---- invariants, from the chain's own records ----
    stats["examples"] += 1
    assert chain.call(s.wallet.functions.owner()) == s.owner.address
    assert chain.call(s.wallet.functions.agent()) == s.agent.address
    assert chain.call(s.wallet.functions.epoch()) == epoch
    lost = before - s.balance(wallet)
    bound = worst_case_loss(policy, start)
    assert 0 <= lost <= bound
    stats["max_loss_per_mille_of_bound"] = max(
        stats["max_loss_per_mille_of_bound"], lost * 1000 // bound
    )
    stats["examples_losing_the_whole_bound"] += lost == bound

    allow = set(policy.allowlist())
    executed = chain.events(s.wallet.events.Executed, first_block)
    per_period: dict[int, int] = defaultdict(int)
    spent = 0
    approved = 0
    for log in executed:
        amount = log.args.amount
        ts = w.timestamp_of(log.blockNumber)
        assert ts < policy.expiry
        assert amount <= policy.per_tx_cap
        if log.args.target == s.token.address:
            assert log.args.counterparty in allow
            if log.args.selector == APPROVE:
                approved += amount
        per_period[(ts - start) // policy.period_s] += amount
        spent += amount
    assert all(v <= policy.period_cap for v in per_period.values())
    assert spent <= policy.budget
    outside = 0
    pulled_elsewhere = 0
    for log in chain.events(s.token.events.Transfer, first_block):
        if log.args.sender != wallet:
            continue
        stats["transfers_out"] += 1
        if log.args.receiver not in allow:
            pulled_elsewhere += log.args.value
    if pulled_elsewhere > approved:
        outside += 1
    stats["transfers_outside_policy"] += outside
    assert outside == 0
    assert lost <= spent
    bought = 0
    for log in chain.events(w.out.events.Transfer, first_block):
        assert log.args.sender != wallet  # swap outputs never leave the wallet for the agent
        if log.args.sender == w.router.address:
            stats["swap_outputs"] += 1
            assert log.args.receiver == wallet or log.args.receiver in allow
            bought += log.args.value if log.args.receiver == wallet else 0
    journal.append(f"lost {lost}, spent {spent}, approved {approved}, elsewhere {pulled_elsewhere}")
    journal.append(f"bought {bought}")
    return journal
