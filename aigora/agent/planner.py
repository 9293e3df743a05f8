"""The offline, rule-based planner: tasks in, typed intents out, and never a key in reach.

The planner is the part an attacker talks to (task text, answers, a model's reply), so it runs in
its own process with an environment stripped of every secret (`planner_env`) and can only print
intent JSON; the executor validates that against the closed set in `intents.py`.

Tasks it understands (one per line or as dicts):
  - `{"event": "rated", "rating": "helpful", "author": ADDRESS, "cid": CID}` (the owner rated an
    answer helpful): a tip of the mandate's tip amount to the author;
  - "tip ADDRESS AMOUNT [for CID]", "pay AMOUNT to ADDRESS", "stake AMOUNT in ADDRESS",
    "swap AMOUNT via ROUTER for at least MIN of TOKEN".
Anything else is skipped with a note, never guessed at.
"""

import json
import os
import re
import subprocess
import sys
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from aigora.agent.errors import MandateError

_ADDR = r"(0x[0-9a-fA-F]{40})"
_NUM = r"(\d+(?:\.\d+)?)"
_RULES = [
    ("tip", re.compile(rf"^tip\s+{_ADDR}\s+{_NUM}(?:\s+tokens?)?(?:\s+for\s+(\S+))?$", re.I)),
    ("pay", re.compile(rf"^(?:pay|send|transfer)\s+{_NUM}(?:\s+tokens?)?\s+to\s+{_ADDR}$", re.I)),
    ("stake", re.compile(rf"^stake\s+{_NUM}(?:\s+tokens?)?\s+in\s+{_ADDR}$", re.I)),
    (
        "swap",
        re.compile(
            rf"^swap\s+{_NUM}(?:\s+tokens?)?\s+via\s+{_ADDR}\s+for\s+at\s+least\s+{_NUM}\s+of\s+{_ADDR}$",
            re.I,
        ),
    ),
]
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
    text = " ".join(str(task).split())
    for kind, rule in _RULES:
        m = rule.match(text)
        if not m:
            continue
        g = m.groups()
        if kind == "tip":
            return {
                "kind": "tip",
                "to": g[0],
                "amount": str(to_units(g[1], decimals)),
                "cid": g[2] or "",
            }
        if kind == "pay":
            return {"kind": "pay", "to": g[1], "amount": str(to_units(g[0], decimals))}
        if kind == "stake":
            return {"kind": "stake", "pool": g[1], "amount": str(to_units(g[0], decimals))}
        return {
            "kind": "swap",
            "router": g[1],
            "token_out": g[3],
            "amount_in": str(to_units(g[0], decimals)),
            "min_out": str(to_units(g[2], decimals)),
        }
    return None


def planner_env(environ: Mapping[str, str]) -> dict[str, str]:
    """The planner's environment: a few harmless variables, nothing that names a secret."""
    return {k: v for k, v in environ.items() if k in _SAFE_NAMES and not _SECRET_NAME.search(k)}


def run_planner(tasks: list[Any], *, tip_amount: int, decimals: int = 18) -> list[dict[str, Any]]:
    """`plan` in its own process, with no secret in its environment; stdout is its only say."""
    request = json.dumps({"tasks": tasks, "tip_amount": str(tip_amount), "decimals": decimals})
    done = subprocess.run(
        [sys.executable, "-m", "aigora.agent.planner"],
        input=request,
        capture_output=True,
        text=True,
        env=planner_env(os.environ),
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        raise MandateError(f"the planner failed: {done.stderr.strip().splitlines()[-1:]}")
    output = json.loads(done.stdout)
    if not isinstance(output, list):
        raise MandateError("the planner did not return a list of intents")
    return output


def main() -> None:
    request = json.loads(sys.stdin.read())
    intents = plan(
        request["tasks"], tip_amount=int(request["tip_amount"]), decimals=int(request["decimals"])
    )
    sys.stdout.write(json.dumps(intents))


if __name__ == "__main__":
    main()
