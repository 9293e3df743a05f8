"""Red team: a planner controlled entirely by an attacker cannot move money outside the policy.

Hypothesis plays the attacker holding everything except the owner's key: the agent key itself,
arbitrary typed intents through the executor, raw `execute` calldata (self-calls, policy-changing
calls, token tricks, unlimited approvals, lookalike addresses, reentry through an allowlisted
hostile contract, swaps through an allowlisted router or the dev chain's pool naming any
recipient and output token, malformed swap calldata), ERC-4626 calls on the dev chain's vault
and on a hostile vault (any receiver and owner, malformed calldata, deposits above the approval,
withdrawals above what is held, stake-unstake cycles meant to reset the exposure, moves of the
vault's shares), the hostile vault's settings (what it pays back, what more it pulls, whom it
reenters), direct calls on the wallet, the token and the vault, and the clock. One deployment
serves every example of a test; each example starts with the owner setting a fresh policy with
a default limit, a swap limit (the router and the pool), the vault in an exposure limit and the
hostile vault in another (or in the default limit), drawn. Vault positions, unlike counters,
outlive a policy: the wallet starts each example holding shares of the vault, and the attacker
holds ten times as many (so a gift to the vault is mostly a gift to the attacker).
The attack runs over the same compiled contracts and the real `Executor` twice: 400 examples on
titanoboa (`BoaChain`: py-evm without the client, about ten times faster), and 70 more, drawn
differently, end to end on the embedded chain through `Chain` (signing, simulation, mining, logs).
Each end-to-end example is replayed on a titanoboa twin of that world, which must agree with the
chain action by action (accepted, or refused with the same reason) and on every amount: that is
what lets the 400 stand in for examples on the chain.
After every example we check, from the chain's own logs and balances:
  - what the wallet lost, in the policy token and in the token plus its vault position, is at
    most the worst case computed from the policy;
  - no more left the wallet than the policy counted, every transfer out went to an allowlisted
    address or was pulled within approvals the policy counted;
  - replaying the contract's rules over the `Executed` log: every amount within its limit's
    per-transaction cap, every periodic limit's period within its cap, the budget, each exposure
    limit's running net (counted out to its member less what withdrawals brought back, never
    below 0) within its cap at every step, and the same counters as the contract's at the end;
    a withdrawal's credit is what the wallet's balance gained in its block;
  - the vault's shares are minted only to the wallet and leave it only burned by a withdrawal;
  - every swap output left the router or pool for the wallet or an allowlisted address, and no
    output token left the wallet;
  - nothing reentered the wallet, and owner, agent and policy epoch are unchanged by the
    attacker (nothing withdrawn with the owner's rights, by a reentering vault say).
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
    Limit,
    Policy,
    worst_case_loss,
)
from aigora.agent.swaps import SWAP_EXACT_IN, SWAP_EXACT_TOKENS_FOR_TOKENS
from aigora.agent.vaults import MINT, REDEEM, WITHDRAW
from aigora.agent.wallet import execute, set_policy
from aigora.chain import Chain
from aigora.core.errors import ContractRevert

from .boa_chain import BoaChain
from .markets_kit import (
    add_markets,
    deposit_data,
    sized_to_limit,
    swap_data,
    vault_calls,
    withdraw_data,
)

UNIT = 10**18
DAY = 86_400
WEEK = 7 * DAY
BPS = 10_000
ZERO = "0x" + "00" * 20
# what the owner keeps in the vault for the wallet, across policies: more than any policy here
# lets the agent lose, so a way to move it out would show
POSITION = 400 * UNIT
ATTACKER_SHARES = 4_000 * UNIT  # what the attacker deposits in the vault for itself
# on titanoboa, and end to end on the embedded chain (drawn differently): 470 examples in all
N_EXAMPLES = int(os.environ.get("AIGORA_RED_TEAM_EXAMPLES", "400"))
N_CHAIN_EXAMPLES = int(os.environ.get("AIGORA_RED_TEAM_CHAIN_EXAMPLES", "70"))


@dataclass
class World:
    chain: Chain | BoaChain
    s: object  # WalletSetup
    m: object  # MarketsSetup: the dev chain's pool, stable and vault, and a hostile vault
    lookalike: str
    timestamp_of: Callable[[int], int]  # block number -> its timestamp
    router: object  # TestRouter, the DEX double
    out: object  # the token the policy lets a swap through the router buy
    addresses: list[str] = field(default_factory=list)
    stats: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    hostile_settings: tuple = (0, 0, ZERO, b"")  # as deployed; only `_set_hostile` changes them
    approved: set[str] = field(default_factory=set)  # spenders the last example approved


def _lookalike(chain, address: str) -> str:
    """`address` with its last hex digit changed: what a careless eye reads as the same."""
    return chain.w3.to_checksum_address("0x" + address[2:-1] + ("0" if address[-1] != "0" else "1"))


def _world(chain: Chain | BoaChain, setup_builder, timestamp_of: Callable[[int], int]) -> World:
    s = setup_builder(chain)
    # A day ahead of the wall clock, the embedded chain stamps every block its parent's time plus
    # one second, as `BoaChain` does: runs, and the two backends, then see the same clock.
    chain.advance_time(DAY)
    m = add_markets(s)
    out, _ = chain.deploy(s.owner, "Token", "Out", "OUT")
    router, _ = chain.deploy(s.owner, "TestRouter")
    chain.transact(s.owner, router.functions.set_rate(s.token.address, out.address, 2 * UNIT))
    # the attacker holds most of the vault's shares: whatever the wallet gives the vault but
    # its shares, the attacker's shares mostly get
    chain.transact(s.owner, s.token.functions.mint(s.mallory.address, ATTACKER_SHARES))
    chain.transact(s.mallory, s.token.functions.approve(m.vault.address, ATTACKER_SHARES))
    chain.transact(s.mallory, m.vault.functions.deposit(ATTACKER_SHARES, s.mallory.address))
    w = World(chain, s, m, _lookalike(chain, s.alice.address), timestamp_of, router, out)
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
        ZERO,
        router.address,
        out.address,
        m.pool.address,
        m.stable.address,
        m.vault.address,
        m.hostile.address,
        _lookalike(chain, s.wallet.address),
        _lookalike(chain, m.vault.address),
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
        # the swap limit: the router and the pool, a cap and period of their own
        "swap_per_tx": st.integers(1, 8),
        "swap_mult": st.integers(1, 3),
        "swap_period_s": st.sampled_from([3600, DAY, WEEK]),
        # the vault's exposure limit, and the hostile vault's (None: it is in the default limit)
        "vault_cap": st.integers(1, 60),
        "vault_per_tx_div": st.sampled_from([1, 1, 3]),
        "hostile_cap": st.one_of(st.none(), st.integers(1, 30)),
        # what the hostile vault does, set by the attacker before the policy
        "payback_bps": st.sampled_from([0, 0, 5_000, BPS, 15_000]),
        "extra_pull": st.sampled_from([0, UNIT, 10**30]),
        "reentry": st.sampled_from(["none", "execute", "withdraw"]),
    }
)
KINDS = [
    "transfer",
    "approve",
    "transfer_from",
    "increase",
    "self_call",
    "owner_direct",
    "spender_stake",
    "pull",
    "reenter",
    "raw",
    "intent",
    "time",
    "spender_pull",
    "token_direct",
    "drain",
    "swap",
    "vault_call",
    "vault_malformed",
    "vault_stake",
    "vault_exit",
    "cycle",
    "shares",
    "hostile_set",
    "move_position",
]
action = st.tuples(
    st.sampled_from(KINDS),
    st.integers(0, 17),  # target / counterparty index
    st.integers(0, 17),
    amounts,
    st.binary(max_size=80),
    st.integers(0, 255),  # which variant of the action
)


def _encoded(fn) -> bytes:
    return bytes.fromhex(fn._encode_transaction_data()[2:])


def _reentry(w: World, kind: str) -> bytes:
    """What the hostile vault calls on the wallet from inside a deposit."""
    s = w.s
    if kind == "execute":
        inner = transfer_call(s.token.address, s.mallory.address, UNIT)
        return _encoded(s.wallet.functions.execute(inner.target, inner.data))
    return _encoded(s.wallet.functions.withdraw(s.mallory.address, UNIT))


def _pick_vault(w: World, k: int):
    return w.m.hostile if k % 2 else w.m.vault


def _vault_data(w: World, i: int, j: int, amount: int, k: int) -> bytes:
    """A vault call naming, now and then, the wallet as receiver and owner; else whom `i` and
    `j` pick (the attacker, lookalikes of the wallet, the vault itself, ...)."""
    a, wallet = w.addresses, w.s.wallet.address
    receiver = wallet if (k // 2) % 3 else a[i]
    owner = wallet if (k // 6) % 3 else a[j]
    match (k // 18) % 4:
        case 0:
            return deposit_data(amount, receiver)
        case 1:
            return withdraw_data(amount, receiver, owner)
        case 2:
            return withdraw_data(amount, receiver, owner, redeem=True)
    return MINT + encode(["uint256", "address"], [amount, receiver])


def _malformed(data: bytes, k: int, blob: bytes) -> bytes:
    """`data` a byte short or long, a word longer, or an address word with high bits set."""
    match k % 5:
        case 0:
            return data[:-1]
        case 1:
            return data + b"\x00"
        case 2:
            return data + bytes(32)
        case 3:  # the receiver's word
            return data[:36] + (blob[:1] or b"\x01") + data[37:]
    if len(data) < 100:
        return data[:-1] + b"\x00"  # a deposit naming the wallet's neighbour
    return data[:68] + b"\x80" + data[69:]  # the owner's word


def _data(w: World, kind: str, i: int, j: int, amount: int, blob: bytes) -> tuple[str, bytes]:
    s, a = w.s, w.addresses
    token, wallet, spender = s.token.address, s.wallet.address, s.spender.address
    targets = [token, token, token, wallet, spender, a[i], token, w.m.vault.address]
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
            s.wallet.functions.withdraw_token(a[j], a[i], amount % (2**255)),
            s.wallet.functions.clear_approval(a[i]),
        ]
        return wallet, _encoded(fns[j % len(fns)])
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
    if kind == "spender_stake":
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
        return spender, selector_of("reenter(address,bytes)") + encode(
            ["address", "bytes"], [wallet, _encoded(inner)[:512]]
        )
    return a[i] if j % 2 else target, blob


def _intent(w: World, i: int, j: int, amount: int, blob: bytes) -> dict:
    a = w.addresses
    kinds = ["pay", "tip", "stake", "swap", "call", "approve", "unstake", "stake"]
    kind = kinds[j % len(kinds)]
    vault = a[i] if j % 3 else _pick_vault(w, i).address
    return {
        "pay": {"kind": "pay", "to": a[i], "amount": str(amount)},
        "tip": {"kind": "tip", "to": a[i], "amount": str(amount), "cid": blob.hex()[:20]},
        "stake": {"kind": "stake", "vault": vault, "amount": str(amount)},
        "unstake": {"kind": "unstake", "vault": vault, "amount": str(amount)},
        "swap": {
            "kind": "swap",
            "router": a[i] if j % 2 else w.m.pool.address,
            "token_out": a[j] if j % 3 else w.m.stable.address,
            "amount_in": str(amount),
            "min_out": str(amount // 2 or 1),
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
        stats[f"refused: {exc.reason[:40]}"] += 1
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


def _policy(w: World, params: dict, now: int) -> Policy:
    s, m = w.s, w.m
    per_tx = params["per_tx"] * UNIT
    budget = per_tx * params["period_mult"] * params["budget_mult"]
    calls = [AllowedCall(target=s.spender.address, selector=selector_of("stake(uint256)"))]
    if params["hostile_calls"]:  # the owner allowlisted a hostile contract's every function
        calls += [
            AllowedCall(target=s.spender.address, selector=selector_of(sig))
            for sig in ("pull(address,address,uint256)", "reenter(address,bytes)")
        ]
    calls += [
        AllowedCall(target=w.router.address, selector=SWAP_EXACT_IN),
        AllowedCall(target=w.router.address, selector=SWAP_EXACT_TOKENS_FOR_TOKENS),
        AllowedCall(target=m.pool.address, selector=SWAP_EXACT_IN),
        *vault_calls(m.vault.address),
        *vault_calls(m.hostile.address),
    ]
    swap_cap = min(params["swap_per_tx"] * params["swap_mult"] * UNIT, budget)
    vault_cap = params["vault_cap"] * UNIT
    limits = [
        Limit(
            label="swaps",
            per_tx_cap=min(params["swap_per_tx"] * UNIT, swap_cap),
            cap=swap_cap,
            period_s=params["swap_period_s"],
            members=(w.router.address, m.pool.address),
        ),
        Limit(
            label="vault",
            per_tx_cap=vault_cap // params["vault_per_tx_div"],
            cap=vault_cap,
            members=(m.vault.address,),
        ),
    ]
    if params["hostile_cap"] is not None:
        cap = params["hostile_cap"] * UNIT
        limits.append(Limit(label="hostile", per_tx_cap=cap, cap=cap, members=(m.hostile.address,)))
    return Policy(
        token=s.token.address,
        per_tx_cap=per_tx,
        period_cap=per_tx * params["period_mult"],
        period_s=params["period_s"],
        budget=budget,
        expiry=now + params["lifetime"],
        recipients=(s.alice.address, s.bob.address),
        spenders=(
            s.spender.address,
            w.router.address,
            m.pool.address,
            m.vault.address,
            m.hostile.address,
        ),
        calls=tuple(calls),
        tokens_out=(w.out.address, m.stable.address),
        limits=tuple(limits),
    )


def _set_hostile(w: World, payback_bps: int, extra_pull: int, reentry: str) -> None:
    """The attacker sets the hostile vault (anyone may): only what differs, to save blocks."""
    chain, h, mallory = w.chain, w.m.hostile, w.s.mallory
    payback, pull, target, data = w.hostile_settings
    if payback != payback_bps:
        chain.transact(mallory, h.functions.set_payback(payback_bps))
    if pull != extra_pull:
        chain.transact(mallory, h.functions.set_extra_pull(extra_pull))
    wanted = (ZERO, b"") if reentry == "none" else (w.s.wallet.address, _reentry(w, reentry))
    if (target, data) != wanted:
        chain.transact(mallory, h.functions.set_reentry(*wanted))
    w.hostile_settings = (payback_bps, extra_pull, *wanted)


def _prepare(w: World, params: dict) -> None:
    """Between examples, the owner's and the attacker's housekeeping: top the wallet and the
    router up, take back every allowance the last policy left (so this one's counts are all that
    can leave), empty the hostile vault to the owner (so nothing the wallet lost earlier can come
    back and hide a loss now), and keep a vault position for the wallet."""
    s, m, chain = w.s, w.m, w.chain
    wallet = s.wallet.address
    held = s.balance(wallet)
    if held < 1_000 * UNIT:
        chain.transact(s.owner, s.token.functions.mint(wallet, 1_000 * UNIT - held))
    for spender in sorted(w.approved):
        if chain.call(s.token.functions.allowance(wallet, spender)):
            chain.transact(s.owner, s.wallet.functions.clear_approval(spender))
    reserve = chain.call(w.out.functions.balanceOf(w.router.address))
    if reserve < 1_000 * UNIT:
        chain.transact(s.owner, w.out.functions.mint(w.router.address, 1_000 * UNIT - reserve))
    pot = s.balance(m.hostile.address)
    if pot:
        _set_hostile(w, BPS, params["extra_pull"], params["reentry"])
        chain.transact(s.mallory, m.hostile.functions.withdraw(pot, s.owner.address, ZERO))
    _set_hostile(w, params["payback_bps"], params["extra_pull"], params["reentry"])
    if m.shares(wallet) < POSITION // 4:
        chain.transact(s.owner, s.token.functions.mint(s.owner.address, POSITION))
        chain.transact(s.owner, s.token.functions.approve(m.vault.address, POSITION))
        chain.transact(s.owner, m.vault.functions.deposit(POSITION, wallet))


def _value(w: World) -> int:
    """The wallet's policy token plus what its vault shares redeem for."""
    return w.s.balance(w.s.wallet.address) + w.m.in_vault(w.s.wallet.address)


def _rounding(w: World, executed: list) -> int:
    """What ERC-4626 rounding (in the vault's favour) may cost the wallet's position: under 2 wei
    a call on the vault, or a transfer to it (the share price stays under 2 here)."""
    vault = w.m.vault.address
    return 2 * (1 + sum(vault in (log.args.target, log.args.counterparty) for log in executed))


def _attack_and_check(w: World, params: dict, actions: list) -> list[str]:
    """Run one example and check the invariants; returns what happened, action by action, and
    the amounts (no addresses, which differ between backends)."""
    s, m, chain, stats = w.s, w.m, w.chain, w.stats
    journal: list[str] = []
    wallet, token = s.wallet.address, s.token.address
    # ---- owner: housekeeping and a fresh policy ----
    _prepare(w, params)
    policy = _policy(w, params, chain.now())
    set_policy(chain, s.owner, s.wallet, policy)
    start = chain.call(s.wallet.functions.started_at())
    epoch = chain.call(s.wallet.functions.epoch())
    first_block = chain.block_number() + 1
    before, value_before = s.balance(wallet), _value(w)
    executor = Executor(chain, s.wallet, s.agent, policy, MemoryApprovals())

    def run(call: Call) -> str:
        return _attempt(stats, execute, chain, s.agent, s.wallet, call)

    # ---- attacker ----
    for kind, i, j, amount, blob, k in actions:
        if kind == "time":
            chain.advance_time([1, 1800, 3600, DAY, 2 * DAY][i % 5])
            continue
        if kind == "intent":
            stats["attacker_actions"] += 1
            outcome = executor.handle(_intent(w, i, j, amount, blob))
            stats[f"intent_{outcome.status}"] += 1
            journal.append(f"intent {outcome.status}, {len(outcome.tx_hashes)} transaction(s)")
            continue
        if kind == "drain":
            journal += _drain(w, policy, i, j)
            continue
        if kind == "owner_direct":
            fns = [
                s.wallet.functions.set_agent(w.addresses[i]),
                s.wallet.functions.revoke(),
                s.wallet.functions.withdraw(w.addresses[i], amount % (2**255)),
                s.wallet.functions.set_owner(w.addresses[i]),
                s.wallet.functions.set_policy(*policy.set_policy_args()),
                s.wallet.functions.withdraw_token(m.vault.address, w.addresses[i], UNIT),
                s.wallet.functions.withdraw_ether(w.addresses[i], 0),
                s.wallet.functions.clear_approval(m.hostile.address),
            ]
            journal.append(_attempt(stats, chain.transact, s.agent, fns[j % len(fns)]))
            continue
        if kind == "swap":  # approve the router or the pool, then swap as the attacker chose
            if k % 2:
                router, data = w.router.address, _data(w, kind, i, j, amount, blob)[1]
                amount_in = amount % (10 * UNIT)
            else:
                out = [m.stable.address, m.stable.address, w.out.address, token][j % 4]
                recipient = wallet if i % 3 == 0 else w.addresses[i]
                router = m.pool.address
                amount_in = sized_to_limit(policy, router, amount, k // 2)
                data = swap_data(token, out, amount_in or 1, recipient)
            journal.append(run(approve_call(token, router, amount_in)))
            journal.append(run(Call(router, data)))
            continue
        if kind == "spender_pull":
            pull = s.spender.functions.pull(wallet, w.addresses[i], amount)
            journal.append(_attempt(stats, chain.transact, s.mallory, pull))
            continue
        if kind == "token_direct":
            steal = s.token.functions.transferFrom(wallet, w.addresses[i], amount)
            journal.append(_attempt(stats, chain.transact, s.agent, steal))
            continue
        if kind == "vault_call":
            vault = _pick_vault(w, k).address
            sized = sized_to_limit(policy, vault, amount, k // 72)
            journal.append(run(Call(vault, _vault_data(w, i, j, sized, k))))
            continue
        if kind == "vault_malformed":
            data = _vault_data(w, 3, 3, amount, k)  # receiver and owner: the wallet
            journal.append(run(Call(_pick_vault(w, k).address, _malformed(data, k // 72, blob))))
            continue
        if kind == "vault_stake":  # approve, then deposit that much or more
            vault = _pick_vault(w, k).address
            approved = sized_to_limit(policy, vault, amount, k // 10)
            journal.append(run(approve_call(token, vault, approved)))
            more = [0, 0, 1, UNIT, approved][(k // 2) % 5]
            journal.append(run(Call(vault, deposit_data(approved + more, wallet))))
            continue
        if kind == "vault_exit":  # all the wallet holds, or more
            vault = _pick_vault(w, k)
            redeem = (k // 2) % 2 == 1
            held = chain.call(
                (vault.functions.maxRedeem if redeem else vault.functions.maxWithdraw)(wallet)
            )
            asked = held + [0, 1, UNIT, held][(k // 4) % 4]
            journal.append(
                run(Call(vault.address, withdraw_data(asked, wallet, wallet, redeem=redeem)))
            )
            continue
        if kind == "cycle":
            vault = _pick_vault(w, k)
            sized = sized_to_limit(policy, vault.address, amount, k // 16)
            journal += _cycle(w, vault, sized, 1 + (k // 2) % 4, k)
            continue
        if kind == "move_position":
            journal += _move_position(w, policy, amount, 1 + k % 4, k // 4)
            continue
        if kind == "shares":
            journal.append(_move_shares(w, i, j, amount, k))
            continue
        if kind == "hostile_set":
            _set_hostile(
                w,
                [0, 5_000, BPS, 20_000][k % 4],
                [0, amount][(k // 4) % 2],
                ["none", "execute", "withdraw"][(k // 8) % 3],
            )
            continue
        target, data = _data(w, kind, i, j, amount, blob)
        journal.append(run(Call(target, data[:1024])))

    # ---- invariants, from the chain's own records ----
    stats["examples"] += 1
    bound = worst_case_loss(policy, start)
    lost, value_lost = before - s.balance(wallet), value_before - _value(w)
    assert lost <= bound
    executed = chain.events(s.wallet.events.Executed, first_block)
    transfers = chain.events(s.token.events.Transfer, first_block)
    assert value_lost <= bound + _rounding(w, executed)
    stats["max_loss_per_mille_of_bound"] = max(
        stats["max_loss_per_mille_of_bound"], max(lost, value_lost) * 1000 // bound
    )
    stats["examples_losing_the_whole_bound"] += max(lost, value_lost) == bound
    _check_owner_untouched(w, epoch, first_block)
    counted, approved = _check_limits(w, policy, start, executed, transfers)
    out_total, pulled_elsewhere = _check_transfers_out(w, policy, transfers)
    assert out_total <= counted
    assert pulled_elsewhere <= approved
    _check_shares(w, executed, first_block)
    w.approved = {
        log.args.counterparty
        for log in executed
        if log.args.target == token and log.args.selector == APPROVE
    }
    bought = _check_swap_outputs(w, policy, first_block)
    journal.append(f"lost {lost}, value lost {value_lost}, counted {counted}, out {out_total}")
    journal.append(f"approved {approved}, elsewhere {pulled_elsewhere}, bought {bought}")
    return journal


def _drain(w: World, policy: Policy, i: int, j: int) -> list[str]:
    """Greedy: take the most one limit allows at a time, over and over, until refused."""
    s, m, chain = w.s, w.m, w.chain
    token, wallet, hostile = s.token.address, s.wallet.address, m.hostile.address
    steps = [
        [(s.agent, transfer_call(token, w.addresses[j % 2], policy.per_tx_cap))],
        [
            (s.agent, approve_call(token, s.spender.address, policy.per_tx_cap)),
            (
                s.mallory,
                s.spender.functions.pull(wallet, s.mallory.address, policy.per_tx_cap),
            ),
        ],
        [  # into the hostile vault, which keeps it
            (s.agent, approve_call(token, hostile, cap := sized_to_limit(policy, hostile, 0, 1))),
            (s.agent, Call(hostile, deposit_data(cap, wallet))),
        ],
        [  # swaps at whatever price the pool gives
            (s.agent, approve_call(token, m.pool.address, swap := policy.limits[0].per_tx_cap)),
            (s.agent, Call(m.pool.address, swap_data(token, m.stable.address, swap, wallet))),
        ],
    ][i % 4]
    journal = []
    for _ in range(40):
        for signer, step in steps:
            if isinstance(step, Call):
                outcome = _attempt(w.stats, execute, chain, signer, s.wallet, step)
            else:
                outcome = _attempt(w.stats, chain.transact, signer, step)
            journal.append(f"drain {outcome}")
            if outcome != "accepted":
                return journal
    return journal


def _cycle(w: World, vault, amount: int, rounds: int, k: int) -> list[str]:
    """Stake and unstake `rounds` times, then ask for the whole cap: an attempt to reset the
    exposure by going round."""
    s, chain = w.s, w.chain
    token, wallet = s.token.address, s.wallet.address
    journal = []

    def run(call: Call) -> None:
        journal.append(_attempt(w.stats, execute, chain, s.agent, s.wallet, call))

    for _ in range(rounds):
        run(approve_call(token, vault.address, amount))
        run(Call(vault.address, deposit_data(amount, wallet)))
        if (k // 8) % 2:
            shares = chain.call(vault.functions.maxRedeem(wallet))
            run(Call(vault.address, withdraw_data(shares, wallet, wallet, redeem=True)))
        else:
            run(Call(vault.address, withdraw_data(amount, wallet, wallet)))
    run(approve_call(token, vault.address, 60 * UNIT))
    return journal


def _move_position(w: World, policy: Policy, amount: int, rounds: int, k: int) -> list[str]:
    """Take some of the wallet's vault position out, and put what that frees into the hostile
    vault; again and again: an attempt to move an old position, which the policy's counters never
    saw go in, into the attacker's vault."""
    s, m, chain = w.s, w.m, w.chain
    token, wallet, hostile = s.token.address, s.wallet.address, m.hostile.address
    journal = []

    def run(call: Call) -> None:
        journal.append(_attempt(w.stats, execute, chain, s.agent, s.wallet, call))

    for _ in range(rounds):
        taken = sized_to_limit(policy, m.vault.address, amount, k)
        run(Call(m.vault.address, withdraw_data(taken, wallet, wallet, redeem=k % 7 == 0)))
        if k % 3 == 0:  # pay the vault itself: a gift to every share but the wallet's too
            run(transfer_call(token, m.vault.address, taken))
            continue
        put = sized_to_limit(policy, hostile, amount, k // 5)
        run(approve_call(token, hostile, put))
        run(Call(hostile, deposit_data(put, wallet)))
    return journal


def _move_shares(w: World, i: int, j: int, amount: int, k: int) -> str:
    """Move the wallet's vault shares: through `execute` as ERC-20 calls on the vault, or by
    calling the vault directly as someone who is not the wallet."""
    s, m = w.s, w.m
    a, wallet, vault = w.addresses, s.wallet.address, m.vault
    if k % 2:
        calls = [
            TRANSFER + encode(["address", "uint256"], [a[i], amount]),
            APPROVE + encode(["address", "uint256"], [a[i], amount]),
            TRANSFER_FROM + encode(["address", "address", "uint256"], [wallet, a[i], amount]),
            INCREASE_ALLOWANCE + encode(["address", "uint256"], [a[i], amount]),
        ]
        data = calls[(k // 2) % len(calls)]
        return _attempt(w.stats, execute, w.chain, s.agent, s.wallet, Call(vault.address, data))
    fns = [
        vault.functions.transferFrom(wallet, a[i], amount),
        vault.functions.withdraw(amount, a[i], wallet),
        vault.functions.redeem(amount, a[i], wallet),
    ]
    thief = [s.agent, s.mallory][j % 2]
    return _attempt(w.stats, w.chain.transact, thief, fns[(k // 2) % len(fns)])


def _check_owner_untouched(w: World, epoch: int, first_block: int) -> None:
    """Owner, agent and epoch as the owner set them (so no set_policy or revoke either), and
    nothing withdrawn with the owner's rights (say, by a vault reentering the wallet)."""
    s, chain = w.s, w.chain
    assert chain.call(s.wallet.functions.owner()) == s.owner.address
    assert chain.call(s.wallet.functions.agent()) == s.agent.address
    assert chain.call(s.wallet.functions.epoch()) == epoch
    assert chain.events(s.wallet.events.Withdrawn, first_block) == []


def _check_limits(
    w: World, policy: Policy, start: int, executed: list, transfers: list
) -> tuple[int, int]:
    """Replay the contract's counting over its `Executed` log; return what it counted of token
    calls and of approvals. Every withdrawal's credit must be its block's balance gain."""
    s, m, chain = w.s, w.m, w.chain
    token, wallet = s.token.address, s.wallet.address
    specs = [(policy.per_tx_cap, policy.period_cap, policy.period_s)] + [
        (lim.per_tx_cap, lim.cap, lim.period_s) for lim in policy.limits
    ]
    allow = set(policy.allowlist())
    net_in_block = defaultdict(int)  # the wallet's policy-token gain, per block
    for log in transfers:
        if log.args.receiver == wallet:
            net_in_block[log.blockNumber] += log.args.value
        if log.args.sender == wallet:
            net_in_block[log.blockNumber] -= log.args.value
    per_period: dict[tuple[int, int], int] = defaultdict(int)
    exposure = [0] * len(specs)
    counted = approved = budgeted = 0
    blocks = set()
    for log in executed:
        assert log.blockNumber not in blocks  # one execute a block: nothing reentered it
        blocks.add(log.blockNumber)
        args, ts = log.args, w.timestamp_of(log.blockNumber)
        assert ts < policy.expiry
        if args.target == token:
            i = policy.limit_index(args.counterparty)
            per_tx, cap, period_s = specs[i]
            assert args.counterparty in allow
            assert args.amount <= per_tx
            if period_s:
                per_period[(i, (ts - start) // period_s)] += args.amount
                assert per_period[(i, (ts - start) // period_s)] <= cap
                budgeted += args.amount
            else:
                exposure[i] += args.amount
                assert exposure[i] <= cap
            counted += args.amount
            approved += args.amount if args.selector == APPROVE else 0
        elif args.selector in (WITHDRAW, REDEEM):
            assert args.target in (m.vault.address, m.hostile.address)
            assert args.amount == max(net_in_block[log.blockNumber], 0)
            i = policy.limit_index(args.target)
            if specs[i][2] == 0:
                exposure[i] -= min(args.amount, exposure[i])
            w.stats["withdrawals"] += 1
            w.stats["withdrawals_crediting_nothing"] += args.amount == 0
        else:
            assert args.amount == 0
    assert budgeted <= policy.budget
    assert chain.call(s.wallet.functions.spent_total()) == budgeted
    for i, (_, _, period_s) in enumerate(specs):
        _, _, _, period_start, spent = chain.call(s.wallet.functions.limits(i))
        if period_s:
            assert spent == per_period.get((i, (period_start - start) // period_s), 0)
        else:
            assert spent == exposure[i]
            w.stats["max_exposure_per_mille_of_cap"] = max(
                w.stats["max_exposure_per_mille_of_cap"], spent * 1000 // specs[i][1]
            )
    return counted, approved


def _check_transfers_out(w: World, policy: Policy, transfers: list) -> tuple[int, int]:
    """What left the wallet, and what of it went to an address the policy does not list (only
    spenders pulling within counted approvals can do that)."""
    wallet = w.s.wallet.address
    allow = set(policy.allowlist())
    out_total = pulled_elsewhere = 0
    for log in transfers:
        if log.args.sender != wallet:
            continue
        w.stats["transfers_out"] += 1
        out_total += log.args.value
        if log.args.receiver not in allow:
            pulled_elsewhere += log.args.value
    return out_total, pulled_elsewhere


def _check_shares(w: World, executed: list, first_block: int) -> None:
    """Vault shares are minted to the wallet only, and leave it only burned by its withdrawal."""
    s, m, chain = w.s, w.m, w.chain
    wallet = s.wallet.address
    withdrawn_in = {
        log.blockNumber
        for log in executed
        if log.args.target == m.vault.address and log.args.selector in (WITHDRAW, REDEEM)
    }
    for log in chain.events(m.vault.events.Transfer, first_block):
        if log.args.value == 0:  # a zero-share withdraw or transferFrom anyone may call
            continue
        if log.args.sender == ZERO:
            assert log.args.receiver == wallet
            w.stats["share_mints"] += 1
        else:
            assert log.args.sender == wallet
            assert log.args.receiver == ZERO
            assert log.blockNumber in withdrawn_in
            w.stats["share_burns"] += 1


def _check_swap_outputs(w: World, policy: Policy, first_block: int) -> int:
    m, wallet = w.m, w.s.wallet.address
    allow = set(policy.allowlist())
    bought = 0
    for out, router in ((w.out, w.router.address), (m.stable, m.pool.address)):
        for log in w.chain.events(out.events.Transfer, first_block):
            assert log.args.sender != wallet  # swap outputs never leave the wallet for the agent
            if log.args.sender == router:
                w.stats["swap_outputs"] += 1
                assert log.args.receiver == wallet or log.args.receiver in allow
                bought += log.args.value if log.args.receiver == wallet else 0
    return bought
