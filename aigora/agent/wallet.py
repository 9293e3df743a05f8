"""The chain side of an agent: deploy a `PolicyWallet`, set its policy, read its state, execute."""

from web3.contract import Contract

from aigora.agent.check import LimitState, WalletState
from aigora.agent.intents import Call
from aigora.agent.policy import Policy
from aigora.chain.client import Chain, TxResult, TxSigner


def deploy_wallet(
    chain: Chain, owner: TxSigner, agent: str, policy: Policy, *, fund: int = 0
) -> tuple[Contract, list[TxResult]]:
    """Deploy a wallet owned by `owner` for `agent`, set `policy`, and move `fund` tokens in."""
    wallet, deployed = chain.deploy(owner, "PolicyWallet", agent, policy.token)
    results = [deployed, set_policy(chain, owner, wallet, policy)]
    if fund:
        token = chain.contract("Token", policy.token)
        results.append(chain.transact(owner, token.functions.transfer(wallet.address, fund)))
    return wallet, results


def set_policy(chain: Chain, owner: TxSigner, wallet: Contract, policy: Policy) -> TxResult:
    return chain.transact(owner, wallet.functions.set_policy(*policy.set_policy_args()))


def read_state(chain: Chain, wallet: Contract, policy: Policy | None = None) -> WalletState:
    """The wallet's counters and balance now, in one call for the counters; with `policy`, also
    what it holds in the vault the policy keeps a share in."""
    token_address = policy.token if policy is not None else chain.call(wallet.functions.token())
    token = chain.contract("Token", token_address)
    spent_total, expiry, count, limits = chain.call(wallet.functions.counters())
    counters = [_limit_state(raw) for raw in limits[:count]]
    in_vault = 0
    if policy is not None and policy.keep_in_vault is not None:
        vault = chain.contract("Vault", policy.keep_in_vault.vault)
        shares = chain.call(vault.functions.balanceOf(wallet.address))
        in_vault = chain.call(vault.functions.convertToAssets(shares)) if shares else 0
    return WalletState(
        address=wallet.address,
        now=chain.now(),
        spent_total=spent_total,
        period_start=counters[0].period_start,
        period_spent=counters[0].spent,
        balance=chain.call(token.functions.balanceOf(wallet.address)),
        revoked=expiry == 0,
        extra_limits=tuple(counters[1:]),
        in_vault=in_vault,
    )


def _limit_state(raw: tuple[int, int, int, int, int]) -> LimitState:
    """A limit's counters, decoded once from the contract's `Limit` struct."""
    _per_tx_cap, _cap, _period_s, period_start, spent = raw
    return LimitState(period_start=period_start, spent=spent)


def execute(chain: Chain, agent: TxSigner, wallet: Contract, call: Call) -> TxResult:
    return chain.transact(agent, wallet.functions.execute(call.target, call.data))
