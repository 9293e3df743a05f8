"""The dev chains' markets: the constant-product pool, the ERC-4626 vault and the hostile vault.

The pool is checked against `PoolModel`, a reference written from Uniswap V2's formulas (not from
the contract): every operation of a random sequence moves exactly the amounts the model says, or
reverts with the reason the model gives, and the value of a share never falls. Sequences run on
titanoboa (`BoaChain`, many examples); the front-running attack, the vaults and the deployment
run end to end on the embedded chain and on anvil.
"""

from dataclasses import dataclass, field
from math import isqrt

import pytest
from eth_utils import function_abi_to_4byte_selector
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from web3.contract import Contract

from aigora.chain import (
    DEV_STABLE_SYMBOL,
    POOL_FEE_BPS,
    POOL_LIQUIDITY,
    Chain,
    attach_foundation,
    compile_contract,
    contract_constants,
    deploy_foundation,
    deploy_markets,
)
from aigora.chain.client import TxSigner
from aigora.core.errors import ContractRevert
from tests.agent.boa_chain import BoaChain

UNIT = 10**18
BPS = 10_000
POOL = contract_constants("Pool")
MINIMUM_LIQUIDITY = POOL["MINIMUM_LIQUIDITY"]
HELD = 10**30  # each actor's holding of both tokens in the sequence tests: never the limit


def amount_out(amount_in: int, reserve_in: int, reserve_out: int, fee_bps: int = POOL_FEE_BPS):
    """Uniswap V2's getAmountOut with the fee in basis points, rounded down."""
    if reserve_in == 0 or reserve_out == 0:
        return 0
    after_fee = amount_in * (BPS - fee_bps)
    return reserve_out * after_fee // (reserve_in * BPS + after_fee)


def ceil_div(a: int, b: int) -> int:
    return -(-a // b)


@dataclass
class PoolModel:
    """What the pool should hold and pay: each method returns the amounts moved, or the reason
    the pool must refuse (a str), changing nothing then."""

    reserve0: int = 0
    reserve1: int = 0
    total: int = 0
    shares: dict[str, int] = field(default_factory=dict)

    def swap(self, zero_for_one: bool, amount_in: int) -> int | str:
        r_in, r_out = (
            (self.reserve0, self.reserve1) if zero_for_one else (self.reserve1, self.reserve0)
        )
        out = amount_out(amount_in, r_in, r_out)
        if out == 0:
            return "output is zero"
        if zero_for_one:
            self.reserve0, self.reserve1 = r_in + amount_in, r_out - out
        else:
            self.reserve1, self.reserve0 = r_in + amount_in, r_out - out
        return out

    def add(self, who: str, amount0: int, amount1: int) -> tuple[int, int, int] | str:
        if self.total == 0:
            root = isqrt(amount0 * amount1)
            if root <= MINIMUM_LIQUIDITY:
                return "first deposit too small"
            minted, used0, used1, total = root - MINIMUM_LIQUIDITY, amount0, amount1, root
        else:
            minted = min(
                amount0 * self.total // self.reserve0, amount1 * self.total // self.reserve1
            )
            if minted == 0:
                return "deposit too small for a share"
            used0 = ceil_div(minted * self.reserve0, self.total)
            used1 = ceil_div(minted * self.reserve1, self.total)
            total = self.total + minted
        self.total = total
        self.shares[who] = self.shares.get(who, 0) + minted
        self.reserve0 += used0
        self.reserve1 += used1
        return minted, used0, used1

    def remove(self, who: str, shares: int) -> tuple[int, int] | str:
        if shares == 0:
            return "zero amount"
        out0, out1 = shares * self.reserve0 // self.total, shares * self.reserve1 // self.total
        self.shares[who] -= shares
        self.total -= shares
        self.reserve0 -= out0
        self.reserve1 -= out1
        return out0, out1


# ---- setups -------------------------------------------------------------------------------------


@dataclass
class Market:
    chain: Chain | BoaChain
    token0: Contract
    token1: Contract
    pool: Contract
    owner: TxSigner

    def balances(self, who: str) -> tuple[int, int]:
        return tuple(
            self.chain.call(t.functions.balanceOf(who)) for t in (self.token0, self.token1)
        )

    def reserves(self) -> tuple[int, int]:
        return tuple(self.chain.call(self.pool.functions.reserves()))

    def fund(self, who: TxSigner, amount: int) -> None:
        """Mint `amount` of both tokens to `who` and let the pool pull all of it."""
        for t in (self.token0, self.token1):
            self.chain.transact(self.owner, t.functions.mint(who.address, amount))
            self.chain.transact(who, t.functions.approve(self.pool.address, 2**256 - 1))

    def swap(self, who: TxSigner, zero_for_one: bool, amount: int, min_out: int = 0, to=None):
        token_in, token_out = (
            (self.token0, self.token1) if zero_for_one else (self.token1, self.token0)
        )
        fn = self.pool.functions.swap_exact_in(
            token_in.address, token_out.address, amount, min_out, to or who.address
        )
        return self.chain.transact(who, fn)


def empty_market(chain: Chain | BoaChain) -> Market:
    owner = chain.dev_signers()[0]
    token0, _ = chain.deploy(owner, "Token", "Zero", "ZERO")
    token1, _ = chain.deploy(owner, "Token", "One", "ONE")
    pool, _ = chain.deploy(owner, "Pool", token0.address, token1.address, POOL_FEE_BPS)
    return Market(chain, token0, token1, pool, owner)


def dev_market(chain: Chain | BoaChain) -> Market:
    """The markets as a dev chain gets them (`deploy_markets`), beside a dev token."""
    owner = chain.dev_signers()[0]
    token, _ = chain.deploy(owner, "Token", "Dev", "DEV")
    markets, _ = deploy_markets(chain, owner, token)
    return Market(chain, token, markets.stable, markets.pool, owner)


# ---- the pool against its reference -------------------------------------------------------------

ACTORS = 3
AMOUNT = st.one_of(st.integers(1, 10**6), st.integers(1, 10**24))
OPERATION = st.one_of(
    st.tuples(st.just("swap"), st.integers(0, ACTORS - 1), st.booleans(), AMOUNT),
    st.tuples(st.just("add"), st.integers(0, ACTORS - 1), AMOUNT, AMOUNT),
    st.tuples(st.just("remove"), st.integers(0, ACTORS - 1), st.integers(0, BPS)),
)


def _step(m: Market, model: PoolModel, actor: TxSigner, kind: str, args: tuple):
    """The pool call for one operation, and what the model says it must do."""
    if kind == "swap":
        zero_for_one, amount = args
        ends = (m.token0, m.token1) if zero_for_one else (m.token1, m.token0)
        call = m.pool.functions.swap_exact_in(
            ends[0].address, ends[1].address, amount, 0, actor.address
        )
        out = model.swap(zero_for_one, amount)
        if isinstance(out, str):
            return call, out
        return call, (-amount, out) if zero_for_one else (out, -amount)
    if kind == "add":
        call = m.pool.functions.add_liquidity(*args, 0)
        added = model.add(actor.address, *args)
        if isinstance(added, str):
            return call, added
        _minted, used0, used1 = added
        assert used0 <= args[0]
        assert used1 <= args[1]
        return call, (-used0, -used1)
    shares = model.shares.get(actor.address, 0) * args[0] // BPS
    return m.pool.functions.remove_liquidity(shares, 0, 0), model.remove(actor.address, shares)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.tuples(st.just("add"), st.just(0), st.integers(10**4, 10**24), st.integers(10**4, 10**24)),
    st.lists(OPERATION, min_size=1, max_size=12),
)
def test_pool_follows_the_reference_and_never_loses_value(seed, operations):
    """Each operation moves exactly the model's amounts or reverts with its reason; no swap pays
    a whole reserve or lowers k; no liquidity operation lowers a reserve per share; nothing
    lowers k per share squared; reserves are always what the pool holds."""
    m = empty_market(BoaChain())
    actors = m.chain.dev_signers()[1 : 1 + ACTORS]
    for actor in actors:
        m.fund(actor, HELD)
    model = PoolModel()
    for kind, index, *args in [seed, *operations]:
        actor = actors[index]
        before, reserves, total = m.balances(actor.address), m.reserves(), model.total
        call, expected = _step(m, model, actor, kind, tuple(args))
        event(f"{kind}: {expected}" if isinstance(expected, str) else kind)
        if isinstance(expected, str):
            with pytest.raises(ContractRevert, match=expected):
                m.chain.transact(actor, call)
            assert m.balances(actor.address) == before
            assert m.reserves() == reserves
            continue
        m.chain.transact(actor, call)
        after = m.balances(actor.address)
        assert (after[0] - before[0], after[1] - before[1]) == expected
        assert m.reserves() == (model.reserve0, model.reserve1)
        assert m.balances(m.pool.address) == m.reserves()
        assert m.chain.call(m.pool.functions.total_shares()) == model.total
        assert m.chain.call(m.pool.functions.shares(actor.address)) == model.shares.get(
            actor.address, 0
        )
        if kind == "swap":
            paid_from = reserves[1] if expected[1] > 0 else reserves[0]
            assert max(expected) < paid_from  # never a whole reserve
            assert model.reserve0 * model.reserve1 >= reserves[0] * reserves[1]  # k
        elif total:  # neither reserve per share fell
            assert model.reserve0 * total >= reserves[0] * model.total
            assert model.reserve1 * total >= reserves[1] * model.total
        if total:  # k / total**2, cross-multiplied
            was, now = reserves[0] * reserves[1], model.reserve0 * model.reserve1
            assert now * total * total >= was * model.total * model.total


@settings(max_examples=60, deadline=None)
@given(
    reserve_in=st.integers(MINIMUM_LIQUIDITY + 1, 10**30),
    reserve_out=st.integers(MINIMUM_LIQUIDITY + 1, 10**30),
    amount_in=st.integers(1, 10**36),
)
def test_quote_is_the_reference_formula_and_below_the_reserve(reserve_in, reserve_out, amount_in):
    """`quote` (the same code as the swap) is the reference for any reserves and input, even one
    that dwarfs the pool, and never reaches the output reserve."""
    chain = BoaChain()
    m = empty_market(chain)
    m.fund(m.owner, 10**31)
    chain.transact(m.owner, m.pool.functions.add_liquidity(reserve_in, reserve_out, 0))
    quoted = chain.call(m.pool.functions.quote(m.token0.address, m.token1.address, amount_in))
    assert quoted == amount_out(amount_in, reserve_in, reserve_out)
    assert quoted < reserve_out


def test_first_deposit_locks_the_minimum_and_the_pool_never_empties():
    m = empty_market(BoaChain())
    alice = m.chain.dev_signers()[1]
    m.fund(alice, 10 * UNIT)
    m.chain.transact(alice, m.pool.functions.add_liquidity(4 * UNIT, UNIT, 0))
    minted = isqrt(4 * UNIT * UNIT) - MINIMUM_LIQUIDITY
    assert m.chain.call(m.pool.functions.shares(alice.address)) == minted
    assert m.chain.call(m.pool.functions.total_shares()) == minted + MINIMUM_LIQUIDITY
    m.chain.transact(alice, m.pool.functions.remove_liquidity(minted, 0, 0))
    left = m.reserves()
    assert left == (ceil_div(4 * UNIT * MINIMUM_LIQUIDITY, 2 * UNIT), MINIMUM_LIQUIDITY // 2)
    assert m.balances(alice.address) == (10 * UNIT - left[0], 10 * UNIT - left[1])
    with pytest.raises(ContractRevert, match="not enough shares"):
        m.chain.transact(alice, m.pool.functions.remove_liquidity(1, 0, 0))


def test_a_later_deposit_takes_only_the_pools_ratio():
    m = dev_market(BoaChain())
    bob = m.chain.dev_signers()[2]
    m.fund(bob, 1_000 * UNIT)
    total = m.chain.call(m.pool.functions.total_shares())
    m.chain.transact(bob, m.pool.functions.add_liquidity(300 * UNIT, 100 * UNIT, 0))
    minted = 100 * UNIT * total // POOL_LIQUIDITY
    assert m.chain.call(m.pool.functions.shares(bob.address)) == minted
    used = ceil_div(minted * POOL_LIQUIDITY, total)
    assert m.balances(bob.address) == (1_000 * UNIT - used, 1_000 * UNIT - used)


# ---- front-running ------------------------------------------------------------------------------

VICTIM_IN = 1_000 * UNIT
ATTACKER_IN = 5_000 * UNIT


@pytest.fixture
def market(chain: Chain) -> Market:
    return dev_market(chain)


def test_a_tight_min_out_makes_a_sandwiched_swap_revert_and_the_attacker_pays_fees(market):
    m = market
    victim, attacker = m.chain.dev_signers()[1:3]
    m.fund(victim, VICTIM_IN)
    m.fund(attacker, ATTACKER_IN)
    quoted = m.chain.call(m.pool.functions.quote(m.token0.address, m.token1.address, VICTIM_IN))
    assert quoted == amount_out(VICTIM_IN, POOL_LIQUIDITY, POOL_LIQUIDITY)
    min_out = quoted * 995 // 1000  # 0.5% slippage allowed

    m.swap(attacker, True, ATTACKER_IN)  # front-run: the same direction, first
    with pytest.raises(ContractRevert, match="output below the minimum"):
        m.swap(victim, True, VICTIM_IN, min_out)
    assert m.balances(victim.address) == (VICTIM_IN, VICTIM_IN)

    bought = m.balances(attacker.address)[1] - ATTACKER_IN
    m.swap(attacker, False, bought)  # back-run: sells what it bought, into nothing
    assert m.balances(attacker.address)[0] < ATTACKER_IN  # two fees and rounding, no profit


def test_a_loose_min_out_loses_the_victim_exactly_what_the_attacker_gains_less_fees(market):
    m = market
    victim, attacker = m.chain.dev_signers()[1:3]
    m.fund(victim, VICTIM_IN)
    m.fund(attacker, ATTACKER_IN)
    r = POOL_LIQUIDITY
    quoted = amount_out(VICTIM_IN, r, r)

    bought = amount_out(ATTACKER_IN, r, r)
    m.swap(attacker, True, ATTACKER_IN)
    r0, r1 = r + ATTACKER_IN, r - bought
    got = amount_out(VICTIM_IN, r0, r1)
    m.swap(victim, True, VICTIM_IN, min_out=0)
    assert m.balances(victim.address) == (0, VICTIM_IN + got)
    assert got < quoted
    r0, r1 = r0 + VICTIM_IN, r1 - got
    sold_for = amount_out(bought, r1, r0)
    m.swap(attacker, False, bought)
    assert m.balances(attacker.address) == (sold_for, ATTACKER_IN)
    profit = sold_for - ATTACKER_IN
    assert profit > 0
    assert profit < quoted - got  # the victim's loss pays the attacker and the pool's fees
    assert m.reserves() == (r0 - sold_for, r1 + bought)


# ---- refusals -----------------------------------------------------------------------------------


def test_bad_swaps_are_refused_with_reasons():
    m = dev_market(BoaChain())
    alice = m.chain.dev_signers()[1]
    m.fund(alice, 10 * UNIT)
    stranger, _ = m.chain.deploy(m.owner, "Token", "Stranger", "STR")
    a, b, pool = m.token0.address, m.token1.address, m.pool.functions
    refused = [
        (pool.swap_exact_in(stranger.address, b, UNIT, 0, alice.address), "not this pool's tokens"),
        (pool.swap_exact_in(a, stranger.address, UNIT, 0, alice.address), "not this pool's tokens"),
        (pool.swap_exact_in(a, a, UNIT, 0, alice.address), "not this pool's tokens"),
        (pool.swap_exact_in(a, b, 0, 0, alice.address), "zero amount"),
        (pool.swap_exact_in(a, b, UNIT, 0, m.pool.address), "recipient is the pool"),
        (pool.swap_exact_in(a, b, UNIT, 0, "0x" + "00" * 20), "recipient is the zero address"),
        (pool.swap_exact_in(a, b, 1, 0, alice.address), "output is zero"),
        (pool.swap_exact_in(a, b, UNIT, UNIT, alice.address), "output below the minimum"),
        (pool.swap_exact_in(a, b, 11 * UNIT, 0, alice.address), "insufficient balance"),
        (pool.add_liquidity(0, UNIT, 0), "zero amount"),
        (pool.add_liquidity(UNIT, UNIT, 2 * UNIT), "shares below the minimum"),
        (pool.remove_liquidity(0, 0, 0), "zero amount"),
        (pool.remove_liquidity(1, 0, 0), "not enough shares"),
    ]
    for call, reason in refused:
        with pytest.raises(ContractRevert, match=reason):
            m.chain.transact(alice, call)
    with pytest.raises(ContractRevert, match="not this pool's tokens"):
        m.chain.call(pool.quote(stranger.address, b, UNIT))
    bob = m.chain.dev_signers()[2]
    m.chain.transact(m.owner, m.token0.functions.mint(bob.address, UNIT))
    with pytest.raises(ContractRevert, match="insufficient allowance"):
        m.swap(bob, True, UNIT)
    assert m.balances(alice.address) == (10 * UNIT, 10 * UNIT)
    assert m.reserves() == (POOL_LIQUIDITY, POOL_LIQUIDITY)


def test_withdrawal_minimums_and_first_deposit_floor():
    m = dev_market(BoaChain())
    owner, pool = m.owner, m.pool.functions
    shares = m.chain.call(pool.shares(owner.address))
    with pytest.raises(ContractRevert, match="output below the minimum"):
        m.chain.transact(owner, pool.remove_liquidity(shares, POOL_LIQUIDITY, 0))
    fresh = empty_market(m.chain)
    fresh.fund(owner, 10 * UNIT)
    with pytest.raises(ContractRevert, match="first deposit too small"):
        m.chain.transact(owner, fresh.pool.functions.add_liquidity(MINIMUM_LIQUIDITY, 1, 0))
    m.chain.transact(owner, fresh.pool.functions.add_liquidity(4 * UNIT, UNIT, 0))
    with pytest.raises(ContractRevert, match="deposit too small for a share"):
        m.chain.transact(owner, fresh.pool.functions.add_liquidity(1, 1, 0))  # half a share


@pytest.mark.parametrize(
    ("same", "fee", "reason"),
    [(True, 30, "the two tokens are the same"), (False, POOL["MAX_FEE_BPS"] + 1, "fee above 10%")],
)
def test_bad_pools_are_not_deployed(same, fee, reason):
    chain = BoaChain()
    owner = chain.dev_signers()[0]
    a, _ = chain.deploy(owner, "Token", "A", "A")
    b, _ = chain.deploy(owner, "Token", "B", "B")
    with pytest.raises(ContractRevert, match=reason):
        chain.deploy(owner, "Pool", a.address, a.address if same else b.address, fee)


# ---- the vault ----------------------------------------------------------------------------------


@dataclass
class VaultSetup:
    chain: Chain
    token: Contract
    vault: Contract
    owner: TxSigner
    alice: TxSigner
    bob: TxSigner

    def assets(self, who: str) -> int:
        return self.chain.call(self.token.functions.balanceOf(who))

    def shares(self, who: str) -> int:
        return self.chain.call(self.vault.functions.balanceOf(who))


@pytest.fixture
def vs(chain: Chain) -> VaultSetup:
    owner, alice, bob = chain.dev_signers()[:3]
    deployment = deploy_foundation(chain, owner)
    markets, _ = deploy_markets(chain, owner, deployment.token)
    token = deployment.token
    chain.transact(owner, token.functions.mint(alice.address, 100 * UNIT))
    chain.transact(alice, token.functions.approve(markets.vault.address, 100 * UNIT))
    return VaultSetup(chain, token, markets.vault, owner, alice, bob)


def test_vault_deposit_withdraw_redeem_move_real_balances(vs):
    chain, vault = vs.chain, vs.vault.functions
    assert chain.call(vault.asset()) == vs.token.address
    chain.transact(vs.alice, vault.deposit(40 * UNIT, vs.bob.address))  # shares to the receiver
    assert vs.assets(vs.alice.address) == 60 * UNIT
    assert vs.assets(vs.vault.address) == 40 * UNIT == chain.call(vault.totalAssets())
    assert (vs.shares(vs.alice.address), vs.shares(vs.bob.address)) == (0, 40 * UNIT)

    with pytest.raises(ContractRevert, match="insufficient allowance"):
        chain.transact(vs.alice, vault.withdraw(UNIT, vs.alice.address, vs.bob.address))
    chain.transact(vs.bob, vault.withdraw(10 * UNIT, vs.alice.address, vs.bob.address))
    assert vs.assets(vs.alice.address) == 70 * UNIT
    assert vs.shares(vs.bob.address) == 30 * UNIT
    chain.transact(vs.bob, vault.redeem(30 * UNIT, vs.bob.address, vs.bob.address))
    assert (vs.assets(vs.bob.address), vs.shares(vs.bob.address)) == (30 * UNIT, 0)
    assert chain.call(vault.totalAssets()) == 0 == chain.call(vault.totalSupply())


def test_a_donation_raises_what_every_share_redeems_for(vs):
    chain, vault = vs.chain, vs.vault.functions
    chain.transact(vs.alice, vault.deposit(50 * UNIT, vs.alice.address))
    shares = vs.shares(vs.alice.address)
    chain.transact(vs.owner, vs.token.functions.mint(vs.vault.address, 25 * UNIT))  # the yield
    # snekmate's virtual share and asset: assets = shares * (total + 1) // (supply + 1)
    expected = shares * (75 * UNIT + 1) // (shares + 1)
    assert chain.call(vault.previewRedeem(shares)) == expected
    assert expected > 50 * UNIT
    chain.transact(vs.alice, vault.redeem(shares, vs.alice.address, vs.alice.address))
    assert vs.assets(vs.alice.address) == 50 * UNIT + expected


# ---- the hostile vault --------------------------------------------------------------------------

ERC4626_FUNCTIONS = (
    "asset",
    "totalAssets",
    "convertToShares",
    "convertToAssets",
    "maxDeposit",
    "maxMint",
    "maxWithdraw",
    "maxRedeem",
    "previewDeposit",
    "previewMint",
    "previewWithdraw",
    "previewRedeem",
    "deposit",
    "mint",
    "withdraw",
    "redeem",
    "balanceOf",
)


def test_the_hostile_vault_answers_to_every_erc4626_call():
    def selectors(name: str) -> dict[str, bytes]:
        abi = compile_contract(name).abi
        return {
            e["name"]: function_abi_to_4byte_selector(e) for e in abi if e["type"] == "function"
        }

    honest, hostile = selectors("Vault"), selectors("HostileVault")
    assert {n: hostile[n] for n in ERC4626_FUNCTIONS} == {n: honest[n] for n in ERC4626_FUNCTIONS}


@pytest.fixture
def hostile(vs: VaultSetup) -> Contract:
    contract, _ = vs.chain.deploy(vs.owner, "HostileVault", vs.token.address)
    return contract


def test_the_hostile_vault_keeps_deposits_and_pays_nothing_back(vs, hostile):
    chain, h = vs.chain, hostile.functions
    chain.transact(vs.alice, vs.token.functions.approve(hostile.address, 10 * UNIT))
    assert chain.call(h.deposit(10 * UNIT, vs.alice.address), sender=vs.alice.address) == 0
    chain.transact(vs.alice, h.deposit(10 * UNIT, vs.alice.address))
    assert vs.assets(vs.alice.address) == 90 * UNIT
    assert vs.assets(hostile.address) == 10 * UNIT
    assert chain.call(h.balanceOf(vs.alice.address)) == 0  # no shares
    chain.transact(vs.alice, h.withdraw(10 * UNIT, vs.alice.address, vs.alice.address))
    chain.transact(vs.alice, h.redeem(10 * UNIT, vs.alice.address, vs.alice.address))
    assert vs.assets(vs.alice.address) == 90 * UNIT  # says it paid; paid nothing
    chain.transact(vs.owner, h.set_payback(2_500))
    chain.transact(vs.alice, h.withdraw(8 * UNIT, vs.alice.address, vs.alice.address))
    assert vs.assets(vs.alice.address) == 92 * UNIT  # a quarter of what it owes


def test_the_hostile_vault_pulls_more_than_the_deposit_where_allowed(vs, hostile):
    chain, h = vs.chain, hostile.functions
    chain.transact(vs.owner, h.set_extra_pull(5 * UNIT))
    chain.transact(vs.alice, vs.token.functions.approve(hostile.address, 10 * UNIT))
    chain.transact(vs.alice, h.deposit(10 * UNIT, vs.alice.address))  # the allowance is used up
    assert (vs.assets(hostile.address), chain.call(h.extra_pulled())) == (10 * UNIT, 0)
    chain.transact(vs.alice, vs.token.functions.approve(hostile.address, 50 * UNIT))
    chain.transact(vs.alice, h.deposit(10 * UNIT, vs.alice.address))  # a standing allowance
    assert (vs.assets(hostile.address), chain.call(h.extra_pulled())) == (25 * UNIT, 5 * UNIT)


def test_the_hostile_vault_calls_back_inside_a_deposit(vs, hostile):
    """The reentry hook runs inside the deposit and never fails it; the lead's wallet tests aim
    it at the wallet's `execute`."""
    chain, h = vs.chain, hostile.functions
    chain.transact(vs.alice, vs.token.functions.approve(hostile.address, 2 * UNIT))
    refused = vs.vault.functions.deposit(UNIT, vs.alice.address)._encode_transaction_data()
    chain.transact(vs.owner, h.set_reentry(vs.vault.address, bytes.fromhex(refused[2:])))
    chain.transact(vs.alice, h.deposit(UNIT, vs.alice.address))
    assert chain.call(h.reentry_succeeded()) is False  # the vault had no allowance from it
    assert vs.assets(hostile.address) == UNIT
    answered = vs.vault.functions.totalAssets()._encode_transaction_data()
    chain.transact(vs.owner, h.set_reentry(vs.vault.address, bytes.fromhex(answered[2:])))
    chain.transact(vs.alice, h.deposit(UNIT, vs.alice.address))
    assert chain.call(h.reentry_succeeded()) is True


# ---- the dev deployment -------------------------------------------------------------------------


def test_deploy_markets_seeds_the_pool_and_attach_finds_everything(chain: Chain):
    owner = chain.dev_signers()[0]
    deployment = deploy_foundation(chain, owner)
    markets, transactions = deploy_markets(chain, owner, deployment.token)
    assert set(transactions) == {"Stable", "Pool", "Vault"}
    pool = markets.pool.functions
    assert chain.call(pool.token0()) == deployment.token.address
    assert chain.call(pool.token1()) == markets.stable.address
    assert chain.call(pool.fee_bps()) == POOL_FEE_BPS
    assert chain.call(pool.reserves()) == [POOL_LIQUIDITY, POOL_LIQUIDITY]
    assert chain.call(pool.shares(owner.address)) == POOL_LIQUIDITY - MINIMUM_LIQUIDITY
    assert chain.call(markets.stable.functions.symbol()) == DEV_STABLE_SYMBOL
    assert chain.call(markets.vault.functions.asset()) == deployment.token.address
    with_markets = attach_foundation(chain, {**deployment.addresses(), **markets.addresses()})
    assert with_markets.markets is not None
    assert with_markets.markets.addresses() == markets.addresses()
    assert attach_foundation(chain, deployment.addresses()).markets is None
