"""Swaps through a PolicyWallet: outputs stay reachable by the owner, and the agent cannot name the
recipient or buy a token the policy does not list. Each attack runs end to end against the compiled
wallet and a real router contract (`TestRouter.vy`, the DEX double) on the embedded chain and on
anvil, or on titanoboa where the test needs ether forced into the wallet or many examples."""

from dataclasses import dataclass

import pytest
from eth_abi import encode
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from web3.contract import Contract

from aigora.agent.agent import Executor, MemoryApprovals
from aigora.agent.check import check_call
from aigora.agent.intents import Call, Swap, approve_call, transfer_call
from aigora.agent.policy import AllowedCall, Policy
from aigora.agent.swaps import SWAP_EXACT_IN, SWAP_EXACT_TOKENS_FOR_TOKENS, UNDECODED_SWAPS
from aigora.agent.wallet import execute, read_state, set_policy
from aigora.core.errors import ContractRevert

from .boa_chain import BoaChain

UNIT = 10**18
ETHER = 10**18
RATE = 2 * UNIT  # the router pays 2 output units per input unit
WALLET_REASONS = (
    "malformed swap call",
    "swap input is not the policy token",
    "swap output token not in the policy",
    "swap recipient is the router",
    "swap recipient not in the policy",
)


@dataclass
class SwapSetup:
    s: object  # WalletSetup
    router: Contract
    out: Contract  # the token the policy lets a swap buy
    other: Contract  # a token it does not
    policy: Policy

    def holdings(self, who: str) -> tuple[int, int, int]:
        """`who`'s policy token, allowed output token and other token."""
        c = self.s.chain
        return tuple(
            c.call(t.functions.balanceOf(who)) for t in (self.s.token, self.out, self.other)
        )


def add_router(s) -> SwapSetup:
    """A router with reserves of two tokens, and a policy allowing swaps into one of them."""
    chain = s.chain
    out, _ = chain.deploy(s.owner, "Token", "Out", "OUT")
    other, _ = chain.deploy(s.owner, "Token", "Other", "OTH")
    router, _ = chain.deploy(s.owner, "TestRouter")
    for t in (out, other):
        chain.transact(s.owner, t.functions.mint(router.address, 1_000 * UNIT))
        chain.transact(s.owner, router.functions.set_rate(s.token.address, t.address, RATE))
    chain.transact(s.owner, router.functions.set_rate(out.address, other.address, UNIT))
    chain.transact(s.owner, router.functions.set_rate(other.address, out.address, UNIT))
    policy = s.policy_with(
        spenders=(*s.policy.spenders, router.address),
        calls=(
            *s.policy.calls,
            AllowedCall(target=router.address, selector=SWAP_EXACT_IN, label="swap"),
            AllowedCall(target=router.address, selector=SWAP_EXACT_TOKENS_FOR_TOKENS),
        ),
        tokens_out=(out.address,),
    )
    set_policy(chain, s.owner, s.wallet, policy)
    return SwapSetup(s, router, out, other, policy)


@pytest.fixture
def sw(setup) -> SwapSetup:
    return add_router(setup)


@pytest.fixture
def boa_sw(setup_builder) -> SwapSetup:
    return add_router(setup_builder(BoaChain()))


def exact_in(sw: SwapSetup, token_out: str, amount: int, recipient: str, token_in=None) -> bytes:
    args = [token_in or sw.s.token.address, token_out, amount, 1, recipient]
    return SWAP_EXACT_IN + encode(["address", "address", "uint256", "uint256", "address"], args)


def v2(sw: SwapSetup, path: list[str], amount: int, recipient: str) -> bytes:
    deadline = sw.s.chain.now() + 3600
    return SWAP_EXACT_TOKENS_FOR_TOKENS + encode(
        ["uint256", "uint256", "address[]", "address", "uint256"],
        [amount, 1, path, recipient, deadline],
    )


def approve_router(sw: SwapSetup, amount: int) -> None:
    execute(
        sw.s.chain,
        sw.s.agent,
        sw.s.wallet,
        approve_call(sw.s.token.address, sw.router.address, amount),
    )


def refused(sw: SwapSetup, data: bytes, reason: str, watched: tuple[str, ...]) -> None:
    """The stolen agent key sends `data` to the router; the wallet refuses it with `reason`, and
    nobody's holdings (wallet, router, attacker, ...) move."""
    s = sw.s
    before = [sw.holdings(w) for w in watched]
    with pytest.raises(ContractRevert) as info:
        execute(s.chain, s.agent, s.wallet, Call(sw.router.address, data))
    assert reason in info.value.reason
    assert [sw.holdings(w) for w in watched] == before


# ---- the owner gets every swap output back ----------------------------------------------------


def test_allowed_swap_lands_in_the_wallet_and_only_the_owner_takes_it_out(sw):
    s = sw.s
    executor = Executor(s.chain, s.wallet, s.agent, sw.policy, MemoryApprovals())
    # the router quotes 6 for 3: asking at least 5 is under its price less 1%, and waits
    cheap = Swap(
        router=sw.router.address, token_out=sw.out.address, amount_in=3 * UNIT, min_out=5 * UNIT
    )
    outcome = executor.handle(cheap.model_dump())
    assert outcome.status == "pending"
    assert "under the router's price less 1% (5.94 tokens)" in outcome.reason
    fair = cheap.model_copy(update={"min_out": 6 * UNIT * 99 // 100})
    outcome = executor.handle(fair.model_dump())
    assert outcome.status == "sent", outcome.reason
    assert sw.holdings(s.wallet.address) == (1_000 * UNIT - 3 * UNIT, 6 * UNIT, 0)
    assert s.chain.call(s.wallet.functions.spent_total()) == 3 * UNIT  # the approval counted

    # the agent cannot move the output: no policy can allow a call on another token
    for call in (
        transfer_call(sw.out.address, s.alice.address, UNIT),
        approve_call(sw.out.address, s.agent.address, UNIT),
    ):
        with pytest.raises(ContractRevert, match="call not in the policy"):
            execute(s.chain, s.agent, s.wallet, call)
    for signer in (s.agent, s.mallory):
        for fn in (
            s.wallet.functions.withdraw_token(sw.out.address, signer.address, UNIT),
            s.wallet.functions.withdraw_ether(signer.address, 0),
        ):
            with pytest.raises(ContractRevert, match="only the owner"):
                s.chain.transact(signer, fn)
    self_call = s.wallet.functions.withdraw_token(sw.out.address, s.agent.address, UNIT)
    data = bytes.fromhex(self_call._encode_transaction_data()[2:])
    with pytest.raises(ContractRevert, match="wallet itself"):
        execute(s.chain, s.agent, s.wallet, Call(s.wallet.address, data))
    assert sw.holdings(s.agent.address) == sw.holdings(s.mallory.address) == (0, 0, 0)

    result = s.chain.transact(
        s.owner, s.wallet.functions.withdraw_token(sw.out.address, s.owner.address, 6 * UNIT)
    )
    (log,) = s.chain.events_in(result, s.wallet.events.Withdrawn)
    assert (log.args.token, log.args.receiver, log.args.amount) == (
        sw.out.address,
        s.owner.address,
        6 * UNIT,
    )
    assert sw.holdings(s.wallet.address)[1] == 0
    assert sw.holdings(s.owner.address)[1] == 6 * UNIT


def test_a_uniswap_v2_swap_over_a_path_lands_in_the_wallet(sw):
    s = sw.s
    approve_router(sw, 2 * UNIT)
    path = [s.token.address, sw.other.address, sw.out.address]  # the middle token may be any
    execute(
        s.chain,
        s.agent,
        s.wallet,
        Call(sw.router.address, v2(sw, path, 2 * UNIT, s.wallet.address)),
    )
    assert sw.holdings(s.wallet.address) == (998 * UNIT, 4 * UNIT, 0)
    s.chain.transact(
        s.owner, s.wallet.functions.withdraw_token(sw.out.address, s.bob.address, 4 * UNIT)
    )
    assert sw.holdings(s.bob.address) == (0, 4 * UNIT, 0)


def test_owner_withdraws_ether_forced_into_the_wallet(boa_sw):
    s = boa_sw.s
    s.chain.set_balance(s.wallet.address, 3 * ETHER)
    for signer in (s.agent, s.mallory):
        with pytest.raises(ContractRevert, match="only the owner"):
            s.chain.transact(signer, s.wallet.functions.withdraw_ether(signer.address, ETHER))
    s.chain.transact(s.owner, s.wallet.functions.withdraw_ether(s.alice.address, 2 * ETHER))
    assert s.chain.balance(s.wallet.address) == ETHER
    assert s.chain.balance(s.alice.address) == 2 * ETHER
    with pytest.raises(ContractRevert):  # more than it holds
        s.chain.transact(s.owner, s.wallet.functions.withdraw_ether(s.alice.address, 2 * ETHER))
    assert s.chain.balance(s.wallet.address) == ETHER
    with pytest.raises(ContractRevert):  # an address without code is no token to withdraw
        s.chain.transact(
            s.owner, s.wallet.functions.withdraw_token(s.alice.address, s.owner.address, 1)
        )


# ---- a stolen agent key cannot name the recipient ----------------------------------------------


def test_stolen_agent_key_naming_its_own_recipient_is_refused(sw):
    s = sw.s
    approve_router(sw, 4 * UNIT)  # what the attacker may legitimately do; counted against the caps
    lookalike = s.chain.w3.to_checksum_address(
        "0x" + s.alice.address[2:-1] + ("0" if s.alice.address[-1] != "0" else "1")
    )
    watched = (s.wallet.address, sw.router.address, s.agent.address, s.mallory.address, lookalike)
    wallet_before = sw.holdings(s.wallet.address)
    for thief in (s.agent.address, s.mallory.address, lookalike, s.owner.address):
        refused(
            sw,
            exact_in(sw, sw.out.address, 4 * UNIT, thief),
            "swap recipient not in the policy",
            watched,
        )
        path = [s.token.address, sw.out.address]
        refused(sw, v2(sw, path, 4 * UNIT, thief), "swap recipient not in the policy", watched)
    refused(
        sw,
        exact_in(sw, sw.out.address, UNIT, sw.router.address),
        "swap recipient is the router",
        watched,
    )
    # the approval it left is useless to the attacker: the router pulls only from its caller
    with pytest.raises(ContractRevert):
        s.chain.transact(
            s.agent,
            sw.router.functions.swap_exact_in(
                s.token.address, sw.out.address, UNIT, 1, s.agent.address
            ),
        )
    assert sw.holdings(s.wallet.address) == wallet_before
    assert sw.holdings(s.agent.address) == sw.holdings(s.mallory.address) == (0, 0, 0)
    assert sw.holdings(lookalike) == (0, 0, 0)


def test_swap_into_a_token_the_policy_does_not_list_is_refused(sw):
    s = sw.s
    approve_router(sw, 4 * UNIT)
    wallet = s.wallet.address
    watched = (wallet, sw.router.address, s.agent.address)
    no_out = "swap output token not in the policy"
    refused(sw, exact_in(sw, sw.other.address, UNIT, wallet), no_out, watched)
    refused(sw, v2(sw, [s.token.address, sw.other.address], UNIT, wallet), no_out, watched)
    # the listed token in the middle of the path does not make the last one allowed
    refused(
        sw,
        v2(sw, [s.token.address, sw.out.address, sw.other.address], UNIT, wallet),
        no_out,
        watched,
    )
    refused(sw, exact_in(sw, s.token.address, UNIT, wallet), no_out, watched)
    # nor may a swap spend anything but the policy token
    refused(
        sw,
        exact_in(sw, sw.out.address, UNIT, wallet, token_in=sw.other.address),
        "swap input is not the policy token",
        watched,
    )


def test_a_swap_whose_recipient_cannot_be_read_is_refused(sw):
    s = sw.s
    approve_router(sw, 4 * UNIT)
    wallet, agent = s.wallet.address, s.agent.address
    watched = (wallet, sw.router.address, agent)
    good = exact_in(sw, sw.out.address, UNIT, wallet)
    # an agent address with a high bit set: a decoder that masks would read the agent
    dirty = good[:132] + b"\x01" + bytes(11) + bytes.fromhex(agent[2:])
    path = [s.token.address, sw.out.address]
    good_v2 = v2(sw, path, UNIT, wallet)
    # a second path placed after the canonical one, pointed to by the head: a decoder that
    # follows the offset reads [token, other], one that assumes the canonical layout [token, out]
    decoy = encode(["address[]"], [[s.token.address, sw.other.address]])[32:]
    elsewhere = good_v2[:68] + (len(good_v2) - 4).to_bytes(32, "big") + good_v2[100:] + decoy
    malformed = [
        good[:-1],
        good + b"\x00",
        dirty,
        good_v2 + bytes(32),
        elsewhere,
        good_v2[:164] + (2**64).to_bytes(32, "big") + good_v2[196:],  # a path longer than calldata
        good_v2[:164] + (1).to_bytes(32, "big") + good_v2[196:228],  # a path of one token
        SWAP_EXACT_IN,
        SWAP_EXACT_TOKENS_FOR_TOKENS + bytes(32 * 5),
    ]
    for data in malformed:
        refused(sw, data, "malformed swap call", watched)


# ---- the policy cannot open a hole the wallet cannot check --------------------------------------


def test_set_policy_refuses_router_functions_the_wallet_cannot_read(sw):
    s = sw.s
    router = sw.router.address
    base = list(sw.policy.set_policy_args())

    def with_calls(pairs, tokens_out=None):
        args = list(base)
        args[7], args[8] = [t for t, _ in pairs], [sel for _, sel in pairs]
        if tokens_out is not None:
            args[9] = tokens_out
        return s.wallet.functions.set_policy(*args)

    cases = [
        ([(router, UNDECODED_SWAPS[1])], None, "recipient the wallet cannot read"),
        ([(s.spender.address, UNDECODED_SWAPS[5])], None, "recipient the wallet cannot read"),
        (
            [
                (router, SWAP_EXACT_IN),
                (router, bytes.fromhex("e8e33700")),
            ],  # addLiquidity(..., to, deadline)
            None,
            "a router is called only through swaps",
        ),
        ([(router, SWAP_EXACT_IN)], [s.token.address], "not a token a swap may buy"),
        ([(router, SWAP_EXACT_IN)], [s.wallet.address], "not a token a swap may buy"),
    ]
    for pairs, tokens_out, reason in cases:
        with pytest.raises(ContractRevert, match=reason):
            s.chain.transact(s.owner, with_calls(pairs, tokens_out))
    assert s.chain.call(s.wallet.functions.is_token_out(sw.out.address))
    # a new policy forgets the old output tokens
    set_policy(s.chain, s.owner, s.wallet, s.policy)
    assert not s.chain.call(s.wallet.functions.is_token_out(sw.out.address))


# ---- the agent refuses early, with the same rules ----------------------------------------------


def test_the_executor_refuses_a_bad_swap_before_sending_anything(sw):
    s = sw.s
    approvals = MemoryApprovals()
    executor = Executor(s.chain, s.wallet, s.agent, sw.policy, approvals)
    outcome = executor.handle(
        Swap(
            router=sw.router.address, token_out=sw.other.address, amount_in=UNIT, min_out=1
        ).model_dump()
    )
    assert outcome.status == "pending"
    assert outcome.tx_hashes == ()
    assert "not a token the policy lets a swap buy" in outcome.reason
    allowance = s.token.functions.allowance(s.wallet.address, sw.router.address)
    assert s.chain.call(allowance) == 0  # not even the approval went out
    state = read_state(s.chain, s.wallet)
    for recipient, reason in (
        (s.agent.address, "may pay only the wallet or an allowed recipient"),
        (sw.router.address, "may not pay the router"),
    ):
        verdict = check_call(
            sw.policy, state, Call(sw.router.address, exact_in(sw, sw.out.address, UNIT, recipient))
        )
        assert not verdict.allowed
        assert reason in verdict.explain()
    verdict = check_call(sw.policy, state, Call(sw.router.address, SWAP_EXACT_IN + bytes(100)))
    assert "cannot read its recipient" in verdict.explain()


# Weighted toward calls that pass every rule but one, so each rule is exercised alone.
_parts = st.fixed_dictionaries(
    {
        "v2": st.booleans(),
        "token_in": st.sampled_from([0, 0, 0, 0, 1, 2, 3]),
        "middle": st.lists(st.integers(0, 4), max_size=2),
        "token_out": st.sampled_from([1, 1, 1, 1, 0, 2, 3, 4]),
        "recipient": st.integers(0, 6),
        "mutation": st.sampled_from(
            ["none"] * 6 + ["trim", "extend", "dirty", "offset", "length", "dirty_token"]
        ),
        "amount": st.integers(0, 3 * UNIT),
    }
)


@pytest.fixture(scope="module")
def boa_world(setup_builder) -> SwapSetup:
    sw = add_router(setup_builder(BoaChain()))
    approve_router(sw, 5 * UNIT)
    return sw


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(parts=_parts)
def test_the_off_chain_check_and_the_contract_agree_on_every_swap(boa_world, parts):
    """Random swap calldata: the Python check allows it exactly when the wallet lets it through
    to the router, and calls it unreadable exactly when the wallet does."""
    sw = boa_world
    s = sw.s
    tokens = [s.token.address, sw.out.address, sw.other.address, s.wallet.address, s.agent.address]
    people = [
        s.wallet.address,
        s.alice.address,
        s.bob.address,
        s.agent.address,
        s.mallory.address,
        sw.router.address,
        s.spender.address,
    ]
    token_in, token_out = tokens[parts["token_in"]], tokens[parts["token_out"]]
    recipient = people[parts["recipient"]]
    if parts["v2"]:
        path = [token_in, *(tokens[i] for i in parts["middle"]), token_out]
        data = v2(sw, path, parts["amount"], recipient)
    else:
        data = exact_in(sw, token_out, parts["amount"], recipient, token_in=token_in)
    match parts["mutation"]:
        case "trim":
            data = data[:-1]
        case "extend":
            data = data + bytes(32)
        case "dirty":
            at = 100 if parts["v2"] else 132
            data = data[:at] + b"\x80" + data[at + 1 :]
        case "dirty_token":  # the high bits of the output token's word
            at = len(data) - 32 if parts["v2"] else 36
            data = data[:at] + b"\x01" + data[at + 1 :]
        case "offset":
            data = (
                data[:68] + (192).to_bytes(32, "big") + data[100:]
                if parts["v2"]
                else data[:4] + data[36:]
            )
        case "length":
            data = (
                data[:164] + (3).to_bytes(32, "big") + data[196:]
                if parts["v2"]
                else data + b"\x00" * 4
            )
    call = Call(sw.router.address, data)
    verdict = check_call(sw.policy, read_state(s.chain, s.wallet), call)
    try:
        s.chain.call(s.wallet.functions.execute(call.target, call.data), sender=s.agent.address)
        wallet_refused = ""
    except ContractRevert as exc:
        wallet_refused = exc.reason if exc.reason in WALLET_REASONS else ""
    assert verdict.allowed == (not wallet_refused), (parts, verdict.explain(), wallet_refused)
    unreadable = "cannot read its recipient" in verdict.explain()
    assert unreadable == (wallet_refused == "malformed swap call")
