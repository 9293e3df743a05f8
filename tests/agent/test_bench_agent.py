"""`bench/agent.py`'s claims checked: every generated request is inside the policy (the whole
sequence, day by day, by `check_intent`), the rules never plan something other than what was
asked, and the bench's model path counts what a model planned (an oracle double here; the
bench's reported numbers never use a double)."""

import json
from dataclasses import replace
from typing import Any

from aigora.agent import Swap, WalletState, check_intent, parse_intent
from aigora.agent.check import check_swap_price
from aigora.agent.planner import plan
from aigora.chain import POOL_FEE_BPS, POOL_LIQUIDITY, Chain
from tests.agent.model_server import ModelServer, task_of, text_reply, tool_call, tool_calls
from tests.bench_kit import load_bench

NOW = 1_800_000_000
WALLET = "0x" + "22" * 20


bench = load_bench("agent")
PLACES = bench.Places(
    recipients=tuple("0x" + f"{0xA1 + i:02x}" * 20 for i in range(5)),
    vault="0x" + "33" * 20,
    pool="0x" + "44" * 20,
    stable="0x" + "55" * 20,
)


def test_every_generated_request_is_inside_the_policy_in_sequence():
    policy, tip = bench.bench_policy(PLACES, token="0x" + "11" * 20, now=NOW)
    requests = bench.generate(PLACES, count=120, tip_amount=tip)
    assert len(requests) == 120
    assert {r.kind for r in requests} == set(bench.TEMPLATES)
    assert len({r.phrasing for r in requests}) >= 30
    state = WalletState(
        address=WALLET,
        now=NOW,
        spent_total=0,
        period_start=NOW,
        period_spent=0,
        balance=bench.FUND,
    )
    in_vault = 0
    for i, request in enumerate(requests):
        if i and i % bench.PER_DAY == 0:
            state = replace(state, now=state.now + bench.DAY)
        verdict = check_intent(policy, state, request.intent)
        assert verdict.allowed, (i, request.task, verdict.explain())
        assert verdict.state_after is not None
        state = verdict.state_after
        if request.kind == "stake":
            in_vault += request.intent.amount
        if request.kind == "unstake":
            in_vault -= request.intent.amount
            assert in_vault >= 0, (i, request.task)  # never more out than went in
    assert state.spent_total <= policy.budget


def test_every_generated_swap_asks_within_the_slippage_and_is_paid():
    """The pool's reserves replayed (Uniswap V2's formula, as `Pool.vy`) through both runs of
    the bench: each swap's minimum is at least the quote less the policy's slippage (the
    executor's check) and at most what the pool pays then (so it is not reverted)."""
    policy, tip = bench.bench_policy(PLACES, token="0x" + "11" * 20, now=NOW)
    swaps = [r.intent for r in bench.generate(PLACES, count=120, tip_amount=tip)]
    swaps = [s for s in swaps if isinstance(s, Swap)] * 2  # the rules' run, then the model's
    reserve_in = reserve_out = POOL_LIQUIDITY
    for swap in swaps:
        after_fee = swap.amount_in * (10_000 - POOL_FEE_BPS)
        quote = reserve_out * after_fee // (reserve_in * 10_000 + after_fee)
        assert check_swap_price(policy, swap, quote).allowed, swap
        assert swap.min_out <= quote, swap
        reserve_in, reserve_out = reserve_in + swap.amount_in, reserve_out - quote


def test_the_rules_plan_what_was_asked_or_nothing():
    _, tip = bench.bench_policy(PLACES, token="0x" + "11" * 20, now=NOW)
    requests = bench.generate(PLACES, count=120, tip_amount=tip)
    understood = 0
    for request in requests:
        planned = plan([request.task], tip_amount=tip)
        if planned:
            assert [bench.effect(parse_intent(p)) for p in planned] == [
                bench.effect(request.intent)
            ], request.task
            understood += 1
    assert 0.6 * len(requests) < understood < len(requests)


def test_the_model_path_counts_only_what_the_model_planned(monkeypatch):
    """A double answers half the requests with the intended tool call, a quarter with a payment
    inside the policy that is not what was asked, and a quarter with text: the model completes
    the half, the payments are sent but not counted, the text is not understood."""
    monkeypatch.setenv(bench.KEY_ENV, "sk-bench-test-key-0123456789")
    with Chain.embedded() as chain:
        b = bench.set_up(chain)
        requests = bench.generate(b.places, count=20, tip_amount=b.tip_amount)
        # the user message the planner sends for each task, as the double sees it
        answers = {
            _content(r.task): r.intent.model_dump(mode="json")
            for i, r in enumerate(requests)
            if i % 2 == 0
        }
        answers |= {
            _content(r.task): {"kind": "pay", "to": b.places.recipients[0], "amount": "1"}
            for i, r in enumerate(requests)
            if i % 4 == 1
        }

        def oracle(body: Any):
            intent = dict(answers.get(task_of(body)) or {})
            if not intent:
                return text_reply("I would rather not.")
            return tool_calls(tool_call(intent.pop("kind"), **intent))

        with ModelServer(oracle) as model:
            endpoint = bench.ModelEndpoint(model.url, model="oracle", timeout_s=10.0)
            tally = bench.measure(b, requests, bench.plan(b, requests, endpoint), "model")
        assert len(model.requests) == 20
        assert all(s.authorization == "Bearer sk-bench-test-key-0123456789" for s in model.requests)
    assert sum(tally.completed.values()) == 10
    assert tally.wrong == 5
    assert sum(tally.not_understood.values()) == 5
    assert (tally.fallback, tally.queued, tally.invalid) == (0, 0, 0)


def _content(task: Any) -> str:
    return task if isinstance(task, str) else json.dumps(task, sort_keys=True)
