"""Limits beyond the default one, vault exposure and the vault share aim: pure, no chain.

The issue's mandate ("keep at least 80% in the vault, tip authors I rate helpful at most 5 a day,
never swap more than 10 a week") compiled against a dev chain's markets, then checked the way the
wallet and the agent's code check it. The same rules on the compiled contract are in
`test_markets_agent.py`.
"""

import pytest

from aigora.agent.check import LimitState, WalletState, check_intent, rebalance_intent
from aigora.agent.errors import PolicyError
from aigora.agent.intents import Stake, Swap, Tip, Unstake
from aigora.agent.mandate import compile_mandate
from aigora.agent.policy import DAY, KeepInVault, Limit, Policy, worst_case_loss

UNIT = 10**18
TOKEN = "0x" + "11" * 20
WALLET = "0x" + "22" * 20
VAULT = "0x" + "33" * 20
ROUTER = "0x" + "44" * 20
OUT = "0x" + "55" * 20
AUTHOR = "0x" + "a1" * 20
NOW = 1_800_000_000
MANDATE = (
    "keep at least 80% in the vault, tip authors I rate helpful at most 5 a day, "
    "never swap more than 10 a week"
)


def issue_policy() -> Policy:
    return compile_mandate(
        MANDATE,
        token=TOKEN,
        now=NOW,
        vault=VAULT,
        router=ROUTER,
        swap_tokens=(OUT,),
        holdings=100 * UNIT,
    ).policy


def state(**changes) -> WalletState:
    base = {
        "address": WALLET,
        "now": NOW,
        "spent_total": 0,
        "period_start": NOW,
        "period_spent": 0,
        "balance": 100 * UNIT,
    }
    return WalletState(**{**base, **changes})


def run(policy: Policy, s: WalletState, *intents) -> tuple[WalletState, list[str]]:
    """Apply `intents` in order as the checks allow; the reasons of those refused."""
    refused = []
    for intent in intents:
        verdict = check_intent(policy, s, intent)
        if verdict.allowed:
            assert verdict.state_after is not None
            s = verdict.state_after
        else:
            refused.append(verdict.explain())
    return s, refused


def swap(amount: int) -> Swap:
    return Swap(router=ROUTER, token_out=OUT, amount_in=amount, min_out=1)


def test_the_issue_mandate_compiles_to_three_limits_and_a_vault_aim():
    p = issue_policy()
    assert (p.per_tx_cap, p.period_cap, p.period_s) == (5 * UNIT, 5 * UNIT, DAY)
    assert p.open_recipients
    assert p.recipient_role == "helpful-authors"
    swaps, vault = p.limits
    assert (swaps.cap, swaps.period_s, swaps.members) == (10 * UNIT, 7 * DAY, (ROUTER,))
    assert (vault.cap, vault.period_s, vault.members) == (100 * UNIT, 0, (VAULT,))
    assert p.keep_in_vault == KeepInVault(vault=VAULT, share_bps=8000)
    assert p.tokens_out == (OUT,)
    # 30 days by default: 30 days of tips and 5 started weeks of swaps, plus what the vault holds
    assert p.budget == 30 * 5 * UNIT + 5 * 10 * UNIT
    assert worst_case_loss(p, NOW) == p.budget + 100 * UNIT
    words = p.describe(start=NOW)
    assert "at most 10 tokens per week" in words
    assert "at least 80%" in words
    assert "Worst case, the agent can spend 300 tokens" in words


def test_swaps_have_their_own_weekly_cap_and_do_not_use_the_tip_allowance():
    p = issue_policy()
    s, refused = run(p, state(), swap(6 * UNIT), swap(5 * UNIT))
    assert refused == ["5 tokens is over what is left this period (4 tokens)"]
    # the tips' daily cap is untouched by the swaps
    s, refused = run(p, s, Tip(to=AUTHOR, amount=5 * UNIT))
    assert refused == []
    s, refused = run(p, s, Tip(to=AUTHOR, amount=1))
    assert "left this period" in refused[0]
    # a day later tips are free again, swaps not until the week is over
    s, refused = run(p, replace_now(s, NOW + DAY), Tip(to=AUTHOR, amount=UNIT), swap(5 * UNIT))
    assert len(refused) == 1
    assert "(4 tokens)" in refused[0]
    s, refused = run(p, replace_now(s, NOW + 7 * DAY), swap(10 * UNIT))
    assert refused == []
    assert s.spent_total == 6 * UNIT + 5 * UNIT + UNIT + 10 * UNIT


def replace_now(s: WalletState, now: int) -> WalletState:
    from dataclasses import replace

    return replace(s, now=now)


def test_vault_exposure_is_bounded_and_freed_by_what_comes_back():
    p = issue_policy()
    s, refused = run(p, state(), Stake(vault=VAULT, amount=80 * UNIT))
    assert refused == []
    assert s.extra_limits[1] == LimitState(NOW, 80 * UNIT)
    assert (s.balance, s.in_vault, s.spent_total) == (20 * UNIT, 80 * UNIT, 0)
    _, refused = run(p, s, Stake(vault=VAULT, amount=20 * UNIT + 1))
    assert refused == [
        "20.000000000000000001 tokens is over the room left in the vault limit (20 tokens)"
    ]
    # taking out what keeps the vault at 80% of 100 frees that much exposure
    p_loose = p.model_copy(update={"keep_in_vault": KeepInVault(vault=VAULT, share_bps=5000)})
    s2, refused = run(p_loose, s, Unstake(vault=VAULT, amount=30 * UNIT))
    assert refused == []
    assert s2.extra_limits[1].spent == 50 * UNIT
    assert s2.balance == 50 * UNIT


def test_unstaking_below_the_kept_share_is_refused_and_rebalance_keeps_it_exact():
    p = issue_policy()
    # funded with 100, nothing staked yet: rebalance stakes 80
    first = rebalance_intent(p, state())
    assert first == Stake(vault=VAULT, amount=80 * UNIT)
    s, _ = run(p, state(), first)
    assert rebalance_intent(p, s) is None
    _, refused = run(p, s, Unstake(vault=VAULT, amount=1))
    assert "less than 80% in the vault" in refused[0]
    # tips spend the liquid part; the vault share rises; rebalance frees the excess for tips
    s, _ = run(p, s, Tip(to=AUTHOR, amount=5 * UNIT))
    assert rebalance_intent(p, s) == Unstake(vault=VAULT, amount=80 * UNIT - 76 * UNIT)


def test_limits_must_name_policy_addresses_once():
    base = issue_policy().model_dump()
    for limits, message in [
        ([{"per_tx_cap": 1, "cap": 1, "period_s": DAY, "members": [AUTHOR]}], "not a recipient"),
        (
            [
                {"per_tx_cap": 1, "cap": 1, "period_s": DAY, "members": [ROUTER]},
                {"per_tx_cap": 1, "cap": 1, "period_s": 0, "members": [ROUTER]},
            ],
            "in two limits",
        ),
        ([{"per_tx_cap": 2, "cap": 1, "period_s": DAY, "members": [ROUTER]}], "per-transaction"),
        ([{"per_tx_cap": 1, "cap": 1, "period_s": DAY, "members": []}], "at least one member"),
        ([{"per_tx_cap": 1, "cap": 1, "period_s": DAY, "members": [ROUTER]}] * 4, "at most 3"),
    ]:
        with pytest.raises(PolicyError, match=message):
            Policy.model_validate({**base, "limits": limits, "keep_in_vault": None})
    with pytest.raises(PolicyError, match="not a vault"):
        Policy.model_validate({**base, "keep_in_vault": {"vault": ROUTER, "share_bps": 10}})


def test_a_limit_in_the_contract_arguments_lists_members_by_limit():
    p = issue_policy()
    *_, specs, members, member_limits = p.set_policy_args()
    assert specs == [(10 * UNIT, 10 * UNIT, 7 * DAY), (100 * UNIT, 100 * UNIT, 0)]
    assert (members, member_limits) == ([ROUTER, VAULT], [1, 2])
    assert [p.limit_index(a) for a in (AUTHOR, ROUTER, VAULT)] == [0, 1, 2]
    assert isinstance(p.limits[0], Limit)
