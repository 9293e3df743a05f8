"""Guarded agents: how many varied legitimate owner requests the planners complete, and the gas a
policy check adds to a transfer, a swap, a stake and an unstake.

    python bench/agent.py [--requests 120] [--model-url URL [--model NAME]] [--json OUT.json]

Everything runs on the embedded py-evm chain: the dev token, the dev chain's markets
(`aigora.chain.deploy_markets`: the second token DUSD, the constant-product `Pool` seeded with
100,000 of each, the ERC-4626 `Vault`) and a `PolicyWallet` whose policy is compiled from a mandate
in words (`MANDATE`, by `aigora.agent.compile_mandate`): five allowlisted recipients, at most 5
tokens a payment and 50 a day, stakes in the vault, swaps into DUSD through the pool within their
own limit of 25 a day, 1,000 in total, for 60 days.

Requests: ten a simulated day (three payments, two tips, one "rated helpful" event, a stake, an
unstake, two swaps), each in a phrasing drawn in turn from that kind's templates (`TEMPLATES`:
"pay 2 to 0x…", "please give 0x… 2.5 tokens", "0x… should get 2 tokens for the review", "stake 3
into the vault 0x…", "swap 3 for at least 2.979 DUSD via 0x…", …) with amounts and recipients from a
fixed seed, every one inside the policy by construction (the day's spending under the caps, an
unstake never more than is in the vault, a swap's minimum within the policy's 1% of the pool's
price; `tests/agent/test_bench_agent.py` checks the whole sequence with `check_intent` and
`check_swap_price`). Some phrasings are beyond the rule planner's grammar; they count
as not completed and are listed. A request is completed when its plan is exactly the intended
action (same recipient or vault or router, same amounts) and the executor's outcome is "sent".

The rule planner plans every request (in its own keyless process, `run_planner`). With
`--model-url` the same requests go, one chat request each, to that OpenAI-compatible endpoint
(`--model`, key from the environment variable AIGORA_MODEL_KEY), through a second wallet with the
same policy; a request the rules planned because the endpoint failed does not count for the
model. Without `--model-url` only the rule planner is measured, and the report says so.

Gas, from the receipts of the same run, steady state (each operation done once before, so
balances and counters are already non-zero on both sides): the executor's calls through
`PolicyWallet.execute` (a transfer; approve + `swap_exact_in` on the Pool; approve + `deposit` on
the Vault; `withdraw` on the Vault) against the same plain calls sent by an EOA.
"""

import argparse
import json
import os
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from web3.contract import Contract

from aigora.agent import (
    Executor,
    IntentError,
    MemoryApprovals,
    ModelEndpoint,
    Pay,
    Policy,
    Stake,
    Swap,
    TaskPlan,
    Tip,
    Unstake,
    build_calls,
    compile_mandate,
    deploy_wallet,
    execute,
    parse_intent,
    run_planner,
)
from aigora.chain import DEV_STABLE_SYMBOL, Chain, TxSigner, deploy_markets

AnyIntent = Pay | Tip | Stake | Unstake | Swap
UNIT = 10**18
DAY = 24 * 3600
SEED = 21
PER_DAY = 10
DAY_KINDS = ("pay", "pay", "pay", "tip", "tip", "rated", "stake", "unstake", "swap", "swap")
"""One simulated day's requests; the default limit takes at most 3*5 + 2*5 + 1 + 5 = 31 of its
50 a day, the swap limit at most 2*5 = 10 of its 25."""
FUND = 1_000 * UNIT
KEY_ENV = "AIGORA_MODEL_KEY"
MANDATE = (
    "pay {recipients} at most 50 tokens a day, at most 5 per payment, never more than 1000 in "
    "total, for 60 days; stake in {vault}; never swap more than 25 a day"
)
AMOUNTS = ("0.5", "1", "1.25", "2", "2.5", "3", "4", "5")
UNSTAKE_AMOUNTS = ("0.5", "1", "1.5", "2")
SWAP_AMOUNTS = ("1", "2", "2.5", "3", "4", "5")
SWAP_MIN_SHARE = Decimal("0.993")
"""A swap asks for at least 0.993 of its amount (rounded down to 0.001): above the router's quote
less the policy's 1% slippage (the quote is at most 0.997 of it, the pool's fee), and under what
the pool pays after the bench's own swaps moved its price (0.5 ... 5 tokens into 100,000 a
side; `tests/agent/test_bench_agent.py` replays the reserves)."""
TEMPLATES: dict[str, tuple[str, ...]] = {
    "pay": (
        "pay {a} to {to}",
        "Pay {a} tokens to {to}",
        "send {a} tokens to {to}",
        "transfer {a} to {to}",
        "give {a} tokens to {to}",
        "give {to} {a}",
        "send {to} {a} tokens",
        "please give {to} {a} tokens",
        "could you send {a} tokens to {to}?",
        "{to} should get {a} tokens for the review",
        "pay {to} {a} for the translation, thanks",
        "{a} tokens to {to}",
        "I owe {to} {a} tokens, settle it",
        "move {a} tokens over to {to}",
    ),
    "tip": (
        "tip {to} {a}",
        "tip {to} {a} for {cid}",
        "tip {to} {a} tokens",
        "tip {a} to {to}",
        "please tip {a} tokens to {to} for {cid}",
        "{to} deserves a {a} token tip for {cid}",
    ),
    "rated": (
        "EVENT",  # {"event": "rated", "rating": "helpful", "author": ..., "cid": ...}
        "EVENT",
        "I rated {cid} by {to} helpful",
    ),
    "stake": (
        "stake {a} in {vault}",
        "stake {a} tokens into {vault}",
        "stake {a} in the vault {vault}",
        "please deposit {a} tokens into the vault {vault}",
        "put {a} tokens into the vault {vault}",
        "stake {a} in the vault",
    ),
    "unstake": (
        "unstake {a} from {vault}",
        "unstake {a} tokens from the vault {vault}",
        "withdraw {a} from the vault {vault}",
        "please unstake {a} from {vault}",
        "take {a} tokens out of the vault {vault}",
    ),
    "swap": (
        "swap {a} via {pool} for at least {m} of {stable}",
        "swap {a} tokens for at least {m} of {stable} via {pool}",
        "please swap {a} via {pool} for at least {m} of {stable}",
        "swap {a} for at least {m} " + DEV_STABLE_SYMBOL + " via {pool}",
        "swap {a} into {stable} via {pool}, at least {m} back",
    ),
}


@dataclass(frozen=True)
class Places:
    """The addresses requests name: who may be paid, and the dev chain's markets."""

    recipients: tuple[str, ...]
    vault: str
    pool: str
    stable: str


@dataclass(frozen=True)
class Request:
    """One owner request (`task`, words or a "rated" event) and the action it means."""

    kind: str
    phrasing: str
    task: str | dict[str, str]
    intent: AnyIntent


def bench_policy(places: Places, *, token: str, now: int) -> tuple[Policy, int]:
    """The policy `MANDATE` compiles to against `places`, and the tip a "rated" event pays."""
    compiled = compile_mandate(
        MANDATE.format(recipients=", ".join(places.recipients), vault=places.vault),
        token=token,
        now=now,
        router=places.pool,
        swap_tokens=(places.stable,),
    )
    return compiled.policy, compiled.tip_amount


def units(text: str) -> int:
    return int(Decimal(text) * UNIT)


def generate(places: Places, *, count: int, tip_amount: int, seed: int = SEED) -> list[Request]:
    """`count` requests, `PER_DAY` a day in `DAY_KINDS`' mix (shuffled, a stake before the
    day's unstake), phrasings in turn per kind, amounts and recipients from `seed`."""
    rng = random.Random(seed)
    turns = dict.fromkeys(TEMPLATES, 0)
    in_vault = 0
    requests: list[Request] = []
    while len(requests) < count:
        day = list(DAY_KINDS)
        rng.shuffle(day)
        if day.index("unstake") < day.index("stake"):
            i, j = day.index("unstake"), day.index("stake")
            day[i], day[j] = day[j], day[i]
        for kind in day[: count - len(requests)]:
            templates = TEMPLATES[kind]
            phrasing = templates[turns[kind] % len(templates)]
            turns[kind] += 1
            to = rng.choice(places.recipients)
            cid = f"bafyanswer{len(requests)}"
            if kind == "unstake":
                a = rng.choice([u for u in UNSTAKE_AMOUNTS if units(u) <= in_vault])
            elif kind == "swap":
                a = rng.choice(SWAP_AMOUNTS)
            else:
                a = rng.choice(AMOUNTS)
            m = str((Decimal(a) * SWAP_MIN_SHARE).quantize(Decimal("0.001"), ROUND_DOWN))
            intent: AnyIntent
            if kind == "pay":
                intent = Pay(to=to, amount=units(a))
            elif kind == "tip":
                intent = Tip(to=to, amount=units(a), cid=cid if "{cid}" in phrasing else "")
            elif kind == "rated":
                intent = Tip(to=to, amount=tip_amount, cid=cid)
            elif kind == "stake":
                intent = Stake(vault=places.vault, amount=units(a))
                in_vault += units(a)
            elif kind == "unstake":
                intent = Unstake(vault=places.vault, amount=units(a))
                in_vault -= units(a)
            else:
                intent = Swap(
                    router=places.pool,
                    token_out=places.stable,
                    amount_in=units(a),
                    min_out=units(m),
                )
            task: str | dict[str, str]
            if phrasing == "EVENT":
                task = {"event": "rated", "rating": "helpful", "author": to, "cid": cid}
            else:
                task = phrasing.format(
                    a=a, m=m, to=to, cid=cid, vault=places.vault, pool=places.pool,
                    stable=places.stable,
                )  # fmt: skip
            requests.append(Request(kind, phrasing, task, intent))
    return requests


def effect(intent: AnyIntent) -> tuple[Any, ...]:
    """What an intent moves, to compare a plan with the request (a memo or cid aside; a tip and
    a payment of the same amount to the same address move the same)."""
    match intent:
        case Pay() | Tip():
            return ("transfer", intent.to, intent.amount)
        case Stake() | Unstake():
            return (intent.kind, intent.vault, intent.amount)
        case Swap():
            return ("swap", intent.router, intent.token_out, intent.amount_in, intent.min_out)
    raise IntentError(f"unknown intent {intent!r}")


def planned_effect(proposed: Any) -> tuple[Any, ...] | None:
    try:
        return effect(parse_intent(proposed))
    except IntentError:
        return None


@dataclass
class Tally:
    """What one planner achieved over the requests."""

    planner: str
    total: Counter = field(default_factory=Counter)
    completed: Counter = field(default_factory=Counter)
    not_understood: Counter = field(default_factory=Counter)  # by phrasing
    wrong: int = 0  # something sent that was not what was asked
    queued: int = 0
    invalid: int = 0
    fallback: int = 0  # planned by the rules because the model endpoint failed

    @property
    def fraction(self) -> float:
        return sum(self.completed.values()) / max(sum(self.total.values()), 1)

    def to_json(self) -> dict[str, Any]:
        return {
            "planner": self.planner,
            "requests": sum(self.total.values()),
            "completed": sum(self.completed.values()),
            "fraction": round(self.fraction, 3),
            "by_kind": {k: [self.completed[k], n] for k, n in self.total.items()},
            "not_understood": dict(self.not_understood),
            "sent_but_not_asked": self.wrong,
            "queued_for_the_owner": self.queued,
            "invalid": self.invalid,
            "planned_by_rules_after_model_failed": self.fallback,
        }


@dataclass(frozen=True)
class Bench:
    """The chain, its signers and markets, and the policy every wallet gets."""

    chain: Chain
    owner: TxSigner
    agent: TxSigner
    trader: TxSigner
    token: Contract
    pool: Contract
    vault: Contract
    stable: Contract
    places: Places
    policy: Policy
    tip_amount: int


def set_up(chain: Chain) -> Bench:
    """The dev token, the markets beside it, and the policy compiled against them."""
    owner, agent, trader, *people = chain.dev_signers()[:8]
    token, _ = chain.deploy(owner, "Token", "Aigora Dev Token", "AIGD")
    chain.transact(owner, token.functions.mint(owner.address, 10 * FUND))
    markets, _ = deploy_markets(chain, owner, token)
    places = Places(
        recipients=tuple(p.address for p in people[:5]),
        vault=markets.vault.address,
        pool=markets.pool.address,
        stable=markets.stable.address,
    )
    policy, tip_amount = bench_policy(places, token=token.address, now=chain.now())
    return Bench(
        chain=chain,
        owner=owner,
        agent=agent,
        trader=trader,
        token=token,
        pool=markets.pool,
        vault=markets.vault,
        stable=markets.stable,
        places=places,
        policy=policy,
        tip_amount=tip_amount,
    )


def plan(bench: Bench, requests: list[Request], model: ModelEndpoint | None) -> list[TaskPlan]:
    return run_planner(
        [r.task for r in requests],
        tip_amount=bench.tip_amount,
        model=model,
        api_key=os.environ.get(KEY_ENV) if model else None,
        policy=bench.policy,
    )


def measure(bench: Bench, requests: list[Request], plans: list[TaskPlan], label: str) -> Tally:
    """Carry out `plans` through a fresh wallet under the bench policy, a simulated day per
    `PER_DAY` requests, and count what was done as asked."""
    chain = bench.chain
    wallet, _ = deploy_wallet(chain, bench.owner, bench.agent.address, bench.policy, fund=FUND)
    executor = Executor(chain, wallet, bench.agent, bench.policy, MemoryApprovals())
    tally = Tally(label)
    for i, (request, planned) in enumerate(zip(requests, plans, strict=True)):
        if i and i % PER_DAY == 0:
            chain.advance_time(DAY)
        tally.total[request.kind] += 1
        tally.fallback += planned.model_error is not None
        if not planned.intents:
            tally.not_understood[request.phrasing] += 1
            continue
        outcomes = [executor.handle(proposed) for proposed in planned.intents]
        tally.queued += sum(o.status == "pending" for o in outcomes)
        tally.invalid += sum(o.status == "invalid" for o in outcomes)
        sent = [p for p, o in zip(planned.intents, outcomes, strict=True) if o.status == "sent"]
        done = [planned_effect(p) for p in sent]
        asked = [effect(request.intent)]
        # a task the rules planned because the endpoint failed is not the model's
        if done == asked and len(outcomes) == 1 and planned.model_error is None:
            tally.completed[request.kind] += 1
        elif done and done != asked:
            tally.wrong += 1
    chain.advance_time(DAY)
    return tally


# ---- gas ----------------------------------------------------------------------------------------


def gas_rows(bench: Bench) -> list[tuple[str, int, int]]:
    """(operation, plain gas, policy-checked gas), each the second of two identical runs."""
    chain, trader, places = bench.chain, bench.trader, bench.places
    wallet, _ = deploy_wallet(chain, bench.owner, bench.agent.address, bench.policy, fund=FUND)
    chain.transact(bench.owner, bench.token.functions.transfer(trader.address, FUND))
    to = places.recipients[0]
    swap = Swap(router=places.pool, token_out=places.stable, amount_in=UNIT, min_out=UNIT // 2)
    stake = Stake(vault=places.vault, amount=2 * UNIT)
    unstake = Unstake(vault=places.vault, amount=UNIT // 2)
    pool, vault, token = bench.pool.functions, bench.vault.functions, bench.token.functions

    def checked(intent: AnyIntent) -> list[int]:
        calls = build_calls(intent, bench.policy, wallet.address)
        return [execute(chain, bench.agent, wallet, c).gas_used for c in calls]

    def plain(*calls: Any) -> list[int]:
        return [chain.transact(trader, c).gas_used for c in calls]

    def twice(run: Any) -> list[int]:
        run()
        return run()

    me = trader.address
    runs = {
        "transfer": (
            lambda: plain(token.transfer(to, UNIT)),
            lambda: checked(Pay(to=to, amount=UNIT)),
        ),
        "swap": (
            lambda: plain(
                token.approve(places.pool, UNIT),
                pool.swap_exact_in(token.address, places.stable, UNIT, UNIT // 2, me),
            ),
            lambda: checked(swap),
        ),
        "stake": (
            lambda: plain(token.approve(places.vault, 2 * UNIT), vault.deposit(2 * UNIT, me)),
            lambda: checked(stake),
        ),
        "unstake": (
            lambda: plain(vault.withdraw(UNIT // 2, me, me)),
            lambda: checked(unstake),
        ),
    }
    steps = {
        "transfer": ("transfer",),
        "swap": ("approve", "swap_exact_in"),
        "stake": ("approve", "deposit"),
        "unstake": ("withdraw",),
    }
    rows = []
    for name, (run_plain, run_checked) in runs.items():
        p, c = twice(run_plain), twice(run_checked)
        if len(p) > 1:
            rows += [(f"{name}: {s}", a, b) for s, a, b in zip(steps[name], p, c, strict=True)]
        rows.append((f"{name} (whole)" if len(p) > 1 else name, sum(p), sum(c)))
    return rows


# ---- report -------------------------------------------------------------------------------------


def utility_table(tallies: list[Tally]) -> Table:
    table = Table("requests", *(t.planner for t in tallies), title="Legitimate requests completed")
    for kind in TEMPLATES:
        cells = [f"{t.completed[kind]} of {t.total[kind]}" for t in tallies]
        table.add_row(kind, *cells)
    table.add_row(
        "all",
        *(
            f"{sum(t.completed.values())} of {sum(t.total.values())} ({t.fraction:.2f})"
            for t in tallies
        ),
    )
    table.add_row("sent, but not what was asked", *(str(t.wrong) for t in tallies))
    table.add_row("queued for the owner", *(str(t.queued) for t in tallies))
    table.add_row("refused as invalid", *(str(t.invalid) for t in tallies))
    if len(tallies) > 1:
        table.add_row("planned by the rules (endpoint failed)", *(str(t.fallback) for t in tallies))
    return table


def missed_table(tally: Tally) -> Table:
    table = Table("phrasing", "requests", title=f"Not understood by the {tally.planner} planner")
    for phrasing, n in sorted(tally.not_understood.items(), key=lambda kv: -kv[1]):
        table.add_row(phrasing, str(n))
    return table


def gas_table(rows: list[tuple[str, int, int]]) -> Table:
    table = Table(
        "operation",
        "plain (EOA)",
        "policy-checked",
        "checked/plain",
        "overhead",
        title="Gas used (receipts, whole transactions, steady state)",
    )
    for name, p, c in rows:
        table.add_row(name, f"{p:,}", f"{c:,}", f"{c / p:.2f}", f"+{c - p:,}")
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=120)
    parser.add_argument("--model-url", default=None, help="an OpenAI-compatible API base (…/v1)")
    parser.add_argument("--model", default="default")
    parser.add_argument("--model-timeout", type=float, default=60.0)
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = parser.parse_args()
    console = Console(width=120)
    started = time.monotonic()
    with Chain.embedded() as chain:
        bench = set_up(chain)
        requests = generate(bench.places, count=args.requests, tip_amount=bench.tip_amount)
        tallies = [measure(bench, requests, plan(bench, requests, None), "rules")]
        if args.model_url:
            endpoint = ModelEndpoint(args.model_url, model=args.model, timeout_s=args.model_timeout)
            model_plans = plan(bench, requests, endpoint)
            tallies.append(measure(bench, requests, model_plans, f"model ({args.model})"))
        rows = gas_rows(bench)
    console.print(utility_table(tallies))
    for tally in tallies:
        if tally.not_understood:
            console.print(missed_table(tally))
    if not args.model_url:
        console.print(
            "Only the rule planner was measured: no --model-url was given, and the bench does "
            "not stand in a model of its own (a test double's numbers would measure the double)."
        )
    console.print(gas_table(rows))
    console.print(
        f"{len(requests)} requests, embedded py-evm chain, {time.monotonic() - started:.0f} s"
    )
    if args.json is not None:
        result = {
            "utility": [t.to_json() for t in tallies],
            "gas": [{"operation": n, "plain": p, "checked": c} for n, p, c in rows],
        }
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
