"""The rule planner's grammar: the common phrasings it reads exactly, and the near misses it
refuses rather than guesses at (pure, no chain)."""

import pytest

from aigora.agent import parse_intent
from aigora.agent.planner import plan

UNIT = 10**18
A = "0x" + "a1" * 20
B = "0x" + "b2" * 20
VAULT = "0x" + "33" * 20
POOL = "0x" + "44" * 20
DUSD = "0x" + "55" * 20


def one(task):
    planned = plan([task], tip_amount=UNIT)
    assert len(planned) == 1, task
    return parse_intent(planned[0])  # every output is a valid typed intent


@pytest.mark.parametrize(
    ("task", "amount"),
    [
        (f"pay 2 to {A}", 2 * UNIT),
        (f"Pay 2.5 tokens to {A}", 5 * UNIT // 2),
        (f"send 1 token to {A}", UNIT),
        (f"transfer 0.25 to {A}", UNIT // 4),
        (f"give 3 tokens to {A}", 3 * UNIT),
        (f"give {A} 2", 2 * UNIT),
        (f"send {A} 2 tokens", 2 * UNIT),
        (f"please give {A} 2 tokens", 2 * UNIT),
        (f"kindly pay {A} 4", 4 * UNIT),
        (f"could you send 2 tokens to {A}?", 2 * UNIT),
        (f"can you please transfer 2 to {A}.", 2 * UNIT),
        (f"send 2   tokens\nto {A}, please", 2 * UNIT),
        (f"pay {A} 2 for the translation, thanks", 2 * UNIT),
        (f"{A} should get 2 tokens for the review", 2 * UNIT),
        (f"{A} should receive 1.5", 3 * UNIT // 2),
    ],
)
def test_payments_in_many_phrasings(task, amount):
    intent = one(task)
    assert (intent.kind, intent.to.lower(), intent.amount) == ("pay", A, amount)


def test_a_reason_becomes_the_memo_or_the_cid():
    assert one(f"{A} should get 2 tokens for the review").memo == "the review"
    assert one(f"tip {A} 2 for bafyanswer12").cid == "bafyanswer12"
    assert one(f"please tip 0.5 tokens to {A} for bafyx.").cid == "bafyx"
    assert one(f"tip {A} 1 tokens").cid == ""


def test_stake_unstake_and_swap_phrasings():
    for task in (
        f"stake 2 in {VAULT}",
        f"stake 2 tokens into {VAULT}",
        f"stake 2 in the vault {VAULT}",
        f"please deposit 2 tokens into the vault {VAULT}",
    ):
        intent = one(task)
        assert (intent.kind, intent.vault.lower(), intent.amount) == (
            "stake",
            VAULT,
            2 * UNIT,
        )
    for task in (
        f"unstake 1.5 from {VAULT}",
        f"withdraw 1.5 tokens from the vault {VAULT}",
        f"please unstake 1.5 from the vault {VAULT}",
    ):
        intent = one(task)
        assert (intent.kind, intent.vault.lower(), intent.amount) == (
            "unstake",
            VAULT,
            3 * UNIT // 2,
        )
    for task in (
        f"swap 3 via {POOL} for at least 2.9 of {DUSD}",
        f"swap 3 tokens for at least 2.9 of {DUSD} via {POOL}",
        f"please swap 3 via {POOL} for at least 2.9 of {DUSD}",
    ):
        intent = one(task)
        assert (intent.router.lower(), intent.token_out.lower()) == (POOL, DUSD)
        assert (intent.amount_in, intent.min_out) == (3 * UNIT, 29 * UNIT // 10)


@pytest.mark.parametrize(
    "task",
    [
        # no verb, or one the grammar does not have
        f"2 tokens to {A}",
        f"move 2 tokens over to {A}",
        f"I owe {A} 2 tokens, settle it",
        # two payments, or an address in the reason: whose is it?
        f"pay 2 to {A} and 3 to {B}",
        f"pay 2 to {A} for {B}",
        f"give {A} 2 tokens for the review and 3 more",
        # repetition or a condition in the reason
        f"pay 2 to {A} for 3 days",
        f"pay 2 to {A} for the fix if it works",
        f"send {A} 2 tokens for each answer",
        f"pay 2 to {A} for the fix that didn't work",
        # negations and requests about something else
        f"don't pay 2 to {A}",
        f"please don't pay 2 to {A}",
        f"pay 2 to {A}, please don't",
        f"could you not send 2 tokens to {A}?",
        # a vault or a token without its address
        "stake 2 in the vault",
        f"swap 3 for at least 2.9 DUSD via {POOL}",
        f"swap 3 into {DUSD} via {POOL}, at least 2.9 back",
        # amounts that are not plain decimals
        f"pay -2 to {A}",
        f"pay 2e18 to {A}",
        f"pay 1,000 to {A}",
        "please",
        "",
    ],
)
def test_near_misses_are_refused_not_guessed(task):
    assert plan([task], tip_amount=UNIT) == []
