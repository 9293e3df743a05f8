"""The planners, rules or a model: tasks in, typed intents out, and never a key in reach.

The planner is the part an attacker talks to (task text, answers, a model's reply), so it runs in
its own process with an environment stripped of every secret (`planner_env`) and can only print
intent JSON; the executor validates that against the closed set in `intents.py`. A model's API key
reaches that process on stdin (never argv or the environment) and leaves it only in the
Authorization header of the model request (`model_planner`).

The offline rule planner (`plan`) is the default, and the fallback for a task whenever the model
endpoint fails; each `TaskPlan` says which planner planned its task, and why the model did not.
Tasks the rules understand (one per line or as dicts):
  - `{"event": "rated", "rating": "helpful", "author": ADDRESS, "cid": CID}` (the owner rated an
    answer helpful): a tip of the mandate's tip amount to the author;
  - "tip ADDRESS AMOUNT [for CID]", "tip AMOUNT to ADDRESS [for CID]";
  - "pay|send|transfer|give AMOUNT to ADDRESS [for REASON]", "pay|send|transfer|give ADDRESS
    AMOUNT [for REASON]", "ADDRESS should get|receive AMOUNT [for REASON]";
  - "stake|deposit AMOUNT in|into [the vault] VAULT", "unstake|withdraw AMOUNT from [the vault]
    VAULT";
  - "swap AMOUNT via ROUTER for at least MIN of TOKEN", "swap AMOUNT for at least MIN of TOKEN
    via ROUTER".
AMOUNT is a decimal, optionally followed by "token(s)"; a task may start with "please", "kindly"
or "could/can/would you [please]" and end with "please", "thanks" or a full stop or question mark.
A REASON becomes the payment's memo (a tip's cid); one naming an address, a number, a second
step or a condition ("for 3 days", "and 3 more", "if it works") makes the task not understood.
Anything else is skipped with a note, never guessed at: a token named by its symbol, not its
address, included.
"""

import json
import logging
import os
import re
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from decimal import Decimal, InvalidOperation
from typing import Any

import httpx

from aigora.agent.errors import MandateError, ModelError
from aigora.agent.model_planner import (
    REDACTED,
    ModelEndpoint,
    intent_tools,
    plan_with_model,
    system_prompt,
)
from aigora.agent.policy import Policy

logger = logging.getLogger(__name__)

_ADDR = r"(0x[0-9a-fA-F]{40})"
_NUM = r"(\d+(?:\.\d+)?)"
_TOKENS = r"(?:\s+tokens?)?"
_VAULT = r"(?:the\s+vault\s+)?"
_FOR = r"(?:\s+for\s+(.{1,100}))?"  # a reason, kept as the memo or the answer's cid
_PAY = r"(?:pay|send|transfer|give)"
# Each rule is one fixed shape that names exactly one address per role and one amount per
# role; the whole task must match, so anything more (a second address, a condition) matches none.
_RULES = [
    ("tip", re.compile(rf"^tip\s+{_ADDR}\s+{_NUM}{_TOKENS}{_FOR}$", re.I), ("to", "amount", "for")),
    (
        "tip",
        re.compile(rf"^tip\s+{_NUM}{_TOKENS}\s+to\s+{_ADDR}{_FOR}$", re.I),
        ("amount", "to", "for"),
    ),
    (
        "pay",
        re.compile(rf"^{_PAY}\s+{_NUM}{_TOKENS}\s+to\s+{_ADDR}{_FOR}$", re.I),
        ("amount", "to", "for"),
    ),
    (
        "pay",
        re.compile(rf"^{_PAY}\s+{_ADDR}\s+{_NUM}{_TOKENS}{_FOR}$", re.I),
        ("to", "amount", "for"),
    ),
    (
        "pay",
        re.compile(rf"^{_ADDR}\s+should\s+(?:get|receive)\s+{_NUM}{_TOKENS}{_FOR}$", re.I),
        ("to", "amount", "for"),
    ),
    (
        "stake",
        re.compile(rf"^(?:stake|deposit)\s+{_NUM}{_TOKENS}\s+in(?:to)?\s+{_VAULT}{_ADDR}$", re.I),
        ("amount", "vault"),
    ),
    (
        "unstake",
        re.compile(rf"^(?:unstake|withdraw)\s+{_NUM}{_TOKENS}\s+from\s+{_VAULT}{_ADDR}$", re.I),
        ("amount", "vault"),
    ),
    (
        "swap",
        re.compile(
            rf"^swap\s+{_NUM}{_TOKENS}\s+via\s+{_ADDR}\s+for\s+at\s+least\s+{_NUM}\s+of\s+{_ADDR}$",
            re.I,
        ),
        ("amount_in", "router", "min_out", "token_out"),
    ),
    (
        "swap",
        re.compile(
            rf"^swap\s+{_NUM}{_TOKENS}\s+for\s+at\s+least\s+{_NUM}\s+of\s+{_ADDR}\s+via\s+{_ADDR}$",
            re.I,
        ),
        ("amount_in", "min_out", "token_out", "router"),
    ),
]
_POLITE = re.compile(
    r"^(?:(?:please|kindly)\s+|(?:could|can|would)\s+you\s+(?:please\s+)?)?(.*?)"
    r"(?:,?\s+please|,?\s+thanks|,?\s+thank\s+you)?\s*[.!?]?$",
    re.I,
)
_AMOUNTS = {"amount", "amount_in", "min_out"}
_UNCLEAR_REASON = re.compile(
    r"0x[0-9a-fA-F]{40}|(?<![\w.])\d+(?:\.\d+)?(?![\w.])"
    r"|\b(?:and|then|also|plus|each|every|daily|weekly|monthly|if|unless|when\w*|once|only"
    r"|after|before|until|not|never|no|\w+n't)\b",
    re.I,
)
"""A reason that names an address, a number, a second step or a condition ("for 0xB", "for 3
days", "for the review and 3 more", "for the fix if it works") could change what is asked: such
a task is not understood."""
_SECRET_NAME = re.compile(r"PASS|SECRET|KEY|TOKEN|MNEMONIC|CREDENTIAL|PRIVATE", re.I)
_SAFE_NAMES = (
    "PATH",
    "HOME",
    "LANG",
    "LC_ALL",
    "PYTHONPATH",
    "SYSTEMROOT",
    "TMPDIR",
    "VIRTUAL_ENV",
)


def to_units(text: str, decimals: int = 18) -> int:
    """Exact smallest units for a decimal like "2.5" (never through a float)."""
    if not isinstance(text, str) or not re.fullmatch(r"\d+(?:\.\d+)?", text):
        raise MandateError(f"not a plain decimal amount: {text!r}")
    try:
        value = Decimal(text) * (10**decimals)
    except InvalidOperation:
        raise MandateError(f"not an amount: {text!r}") from None
    if value != value.to_integral_value() or value < 0:
        raise MandateError(f"{text} has more decimals than the token")
    return int(value)


def plan(tasks: list[Any], *, tip_amount: int, decimals: int = 18) -> list[dict[str, Any]]:
    """One intent dict per task the rules recognise; unknown tasks become no intent."""
    intents = []
    for task in tasks:
        intent = _plan_one(task, tip_amount, decimals)
        if intent is not None:
            intents.append(intent)
    return intents


def _plan_one(task: Any, tip_amount: int, decimals: int) -> dict[str, Any] | None:
    if isinstance(task, Mapping):
        if task.get("event") == "rated" and task.get("rating") == "helpful":
            return {
                "kind": "tip",
                "to": task.get("author"),
                "amount": str(tip_amount),
                "cid": str(task.get("cid", ""))[:100],
            }
        return None
    text = _POLITE.fullmatch(" ".join(str(task).split()))[1]  # always matches
    for kind, rule, roles in _RULES:
        m = rule.fullmatch(text)
        if m is None:
            continue
        found = dict(zip(roles, m.groups(), strict=True))
        reason = found.pop("for", None) or ""
        if _UNCLEAR_REASON.search(reason):
            return None
        intent: dict[str, Any] = {"kind": kind}
        for role, value in found.items():
            intent[role] = str(to_units(value, decimals)) if role in _AMOUNTS else value
        if kind == "tip":
            intent["cid"] = reason
        elif kind == "pay" and reason:
            intent["memo"] = reason
        return intent
    return None


def planner_env(environ: Mapping[str, str]) -> dict[str, str]:
    """The planner's environment: a few harmless variables, nothing that names a secret."""
    return {k: v for k, v in environ.items() if k in _SAFE_NAMES and not _SECRET_NAME.search(k)}


@dataclass(frozen=True)
class TaskPlan:
    """The intents planned for one task, by `planner` ("model" or "rules"); `model_error` is why
    the model did not plan it (the rules did), `dropped` how many tool calls were over the cap."""

    planner: str
    intents: tuple[dict[str, Any], ...] = ()
    model_error: str | None = None
    dropped: int = 0

    @property
    def planned_by(self) -> str:
        if self.model_error:
            return f"rules (model failed: {self.model_error})"
        return self.planner

    def to_json(self) -> dict[str, Any]:
        return {
            "planner": self.planner,
            "intents": list(self.intents),
            "model_error": self.model_error,
            "dropped": self.dropped,
        }


def plan_tasks(
    tasks: list[Any],
    *,
    tip_amount: int,
    decimals: int = 18,
    model: ModelEndpoint | None = None,
    api_key: str | None = None,
    policy_text: str = "",
) -> list[TaskPlan]:
    """One `TaskPlan` per task: by the model at `model` (one request per task), else, and
    whenever that request fails, by the rules."""
    if model is None:
        return [_rules(task, tip_amount, decimals) for task in tasks]
    tools = intent_tools(decimals=decimals)
    system = system_prompt(policy_text, tip_amount=tip_amount, decimals=decimals)
    plans = []
    with httpx.Client(follow_redirects=False) as client:
        for task in tasks:
            try:
                found = plan_with_model(
                    task, client=client, endpoint=model, api_key=api_key, system=system, tools=tools
                )
            except ModelError as exc:
                logger.info("the model failed (%s); the rules plan this task", exc)
                plans.append(replace(_rules(task, tip_amount, decimals), model_error=str(exc)))
                continue
            plans.append(TaskPlan("model", found.intents, dropped=found.dropped))
    return plans


def _rules(task: Any, tip_amount: int, decimals: int) -> TaskPlan:
    try:
        intent = _plan_one(task, tip_amount, decimals)
    except MandateError:  # an amount with more decimals than the token: not understood
        intent = None
    return TaskPlan("rules", () if intent is None else (intent,))


def run_planner(
    tasks: list[Any],
    *,
    tip_amount: int,
    decimals: int = 18,
    model: ModelEndpoint | None = None,
    api_key: str | None = None,
    policy: Policy | None = None,
) -> list[TaskPlan]:
    """`plan_tasks` in its own process, with no secret in its environment; stdout is its only
    say. `api_key` (for `model`) travels on stdin; `policy` reaches the model in words."""
    request = {
        "tasks": tasks,
        "tip_amount": str(tip_amount),
        "decimals": decimals,
        "model": None if model is None else asdict(model),
        "api_key": api_key,
        "policy": "" if policy is None else policy.describe(decimals=decimals),
    }
    # a request may take its timeout to connect and again to answer (`post_chat`)
    budget = 60 + (0 if model is None else len(tasks) * (2 * model.timeout_s + 5))
    try:
        done = subprocess.run(
            [sys.executable, "-m", "aigora.agent.planner"],
            input=json.dumps(request),
            capture_output=True,
            text=True,
            env=planner_env(os.environ),
            timeout=budget,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise MandateError(f"the planner took longer than {budget:g}s") from None
    if done.returncode != 0:
        last = done.stderr.strip().splitlines()[-1:] or ["no message"]
        raise MandateError(f"the planner failed: {_redact(last[0], api_key)}")
    try:
        output = json.loads(done.stdout)
        return [
            TaskPlan(
                str(p["planner"]),
                tuple(p["intents"]),
                p["model_error"],
                int(p["dropped"]),
            )
            for p in output
        ]
    except (ValueError, KeyError, TypeError):
        raise MandateError("the planner did not return a plan per task") from None


def _redact(text: str, secret: str | None) -> str:
    return text.replace(secret, REDACTED) if secret else text


def main() -> None:
    request = json.loads(sys.stdin.read())
    model = request.get("model")
    plans = plan_tasks(
        request["tasks"],
        tip_amount=int(request["tip_amount"]),
        decimals=int(request["decimals"]),
        model=None if model is None else ModelEndpoint(**model),
        api_key=request.get("api_key"),
        policy_text=request.get("policy", ""),
    )
    sys.stdout.write(json.dumps([p.to_json() for p in plans]))


if __name__ == "__main__":
    main()
