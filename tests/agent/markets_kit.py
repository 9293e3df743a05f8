"""Markets for the agent tests: the dev chain's pool, second token and ERC-4626 vault as
`deploy_markets` ships them, a `HostileVault` over the policy token, the vault calldata the
wallet reads, and a policy that puts the pool in a swap limit and each vault in an exposure limit
of its own."""

from dataclasses import dataclass

from eth_abi import encode
from web3.contract import Contract

from aigora.agent.policy import AllowedCall, Limit, Policy
from aigora.agent.swaps import SWAP_EXACT_IN
from aigora.agent.vaults import DEPOSIT, REDEEM, WITHDRAW
from aigora.chain import deploy_markets

UNIT = 10**18
WEEK = 7 * 86_400


def vault_calls(vault: str) -> list[AllowedCall]:
    """The ERC-4626 calls a policy allows on `vault`: deposit, withdraw and redeem."""
    return [
        AllowedCall(target=vault, selector=DEPOSIT, label="deposit"),
        AllowedCall(target=vault, selector=WITHDRAW, label="withdraw"),
        AllowedCall(target=vault, selector=REDEEM, label="redeem"),
    ]


def deposit_data(assets: int, receiver: str) -> bytes:
    return DEPOSIT + encode(["uint256", "address"], [assets, receiver])


def withdraw_data(amount: int, receiver: str, owner: str, *, redeem: bool = False) -> bytes:
    """`withdraw(assets, receiver, owner)`, or `redeem(shares, receiver, owner)`."""
    selector = REDEEM if redeem else WITHDRAW
    return selector + encode(["uint256", "address", "address"], [amount, receiver, owner])


def swap_data(token_in: str, token_out: str, amount_in: int, recipient: str) -> bytes:
    return SWAP_EXACT_IN + encode(
        ["address", "address", "uint256", "uint256", "address"],
        [token_in, token_out, amount_in, 1, recipient],
    )


def sized_to_limit(policy: Policy, counterparty: str, amount: int, k: int) -> int:
    """`amount` (below 60 units), or one sized to `counterparty`'s limit by `k`: its
    per-transaction cap, a wei more, its whole cap, or about half the per-transaction cap (what
    fills a limit in steps)."""
    i = policy.limit_index(counterparty)
    lim = policy.limits[i - 1] if i else None
    per_tx = lim.per_tx_cap if lim else policy.per_tx_cap
    cap = lim.cap if lim else policy.period_cap
    return [amount % (60 * UNIT), per_tx, per_tx + 1, cap, per_tx // 2 + 1][k % 5]


@dataclass
class MarketsSetup:
    s: object  # WalletSetup
    stable: Contract
    pool: Contract
    vault: Contract  # the dev chain's Vault
    hostile: Contract  # a HostileVault over the policy token

    def shares(self, who: str) -> int:
        return self.s.chain.call(self.vault.functions.balanceOf(who))

    def in_vault(self, who: str) -> int:
        """What `who`'s vault shares redeem for now."""
        shares = self.shares(who)
        return self.s.chain.call(self.vault.functions.convertToAssets(shares)) if shares else 0


def add_markets(s) -> MarketsSetup:
    """Deploy the dev chain's markets beside the setup's token, and a hostile vault."""
    markets, _ = deploy_markets(s.chain, s.owner, s.token)
    hostile, _ = s.chain.deploy(s.owner, "HostileVault", s.token.address)
    return MarketsSetup(s, markets.stable, markets.pool, markets.vault, hostile)


def markets_policy(
    m: MarketsSetup,
    *,
    swap: tuple[int, int, int] = (10 * UNIT, 10 * UNIT, WEEK),
    vault_cap: int = 100 * UNIT,
    hostile_cap: int | None = 20 * UNIT,
    **changes,
) -> Policy:
    """The setup's policy with the pool in a swap limit (per-transaction cap, cap, period), the
    vault in an exposure limit of `vault_cap`, and the hostile vault in one of `hostile_cap`
    (or, with None, in the default limit)."""
    s = m.s
    vaults = [m.vault.address, m.hostile.address]
    limits = [
        Limit(
            label="swaps",
            per_tx_cap=swap[0],
            cap=swap[1],
            period_s=swap[2],
            members=(m.pool.address,),
        ),
        Limit(label="vault", per_tx_cap=vault_cap, cap=vault_cap, members=(m.vault.address,)),
    ]
    if hostile_cap is not None:
        limits.append(
            Limit(label="hostile", per_tx_cap=hostile_cap, cap=hostile_cap, members=(vaults[1],))
        )
    fields = {
        "spenders": (*s.policy.spenders, m.pool.address, *vaults),
        "calls": (
            *s.policy.calls,
            AllowedCall(target=m.pool.address, selector=SWAP_EXACT_IN, label="swap"),
            *(c for v in vaults for c in vault_calls(v)),
        ),
        "tokens_out": (m.stable.address,),
        "limits": tuple(limits),
        "budget": 100 * UNIT,
    }
    return s.policy_with(**{**fields, **changes})
