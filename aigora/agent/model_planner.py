"""The model planner: a task to an OpenAI-compatible chat endpoint, its tool calls back as intents.

The model is the part an attacker may control completely, so it gets nothing it could misuse: one
tool per intent class in `INTENT_TYPES` (generated from the pydantic models, so a new intent is a
new tool and nothing else is), the policy in words, and one task per request (no memory across
tasks: a "new session" in one task reaches no other). Its tool calls become intent dicts and go
through the same `parse_intent`, `check_intent` and wallet as the rule planner's; a call it makes
up (an unknown tool, extra arguments) is passed on as it is, so the executor refuses it as
"invalid" in the open rather than dropping it here. At most `MAX_TOOL_CALLS` per task are taken.

Every failure of the endpoint (refused, slow, non-2xx, not a chat completion) is a `ModelError`
whose message we write ourselves, never the server's text or an exception's, so the API key (sent
only in the Authorization header) cannot reach a message, a log line or a report.
"""

import inspect
import json
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
from pydantic.fields import FieldInfo

from aigora.agent.errors import ModelError
from aigora.agent.intents import INTENT_TYPES
from aigora.agent.policy import Address, Amount

MAX_TOOL_CALLS = 8
"""Tool calls taken from one reply; the rest are counted and dropped (a flood gains nothing)."""
MAX_REPLY_BYTES = 1 << 20
REDACTED = "[redacted]"
MIN_REDACTED_KEY = 8
"""Keys this long or longer are cut out of replies (a shorter one would cut up the JSON)."""

_WIRE_FORMS: tuple[tuple[Any, dict[str, Any]], ...] = (
    (
        Amount,
        {
            "type": "string",
            "pattern": "^[0-9]{1,78}$",
            "description": "an integer in the token's smallest unit, as a decimal string",
        },
    ),
    (Address, {"type": "string", "pattern": "^0x[0-9a-fA-F]{40}$"}),
)
"""How the two value types travel as JSON: amounts as decimal strings (a JSON number loses
precision above 2**53), addresses as 0x-hex; every other field keeps pydantic's own schema."""


@dataclass(frozen=True)
class ModelEndpoint:
    """Where the model is: `url` is the API base (`.../v1`); `timeout_s` bounds each request."""

    url: str
    model: str = "default"
    timeout_s: float = 30.0

    def __post_init__(self) -> None:
        check_model_url(self.url)
        if not self.timeout_s > 0:
            raise ModelError("the model timeout must be positive")


def check_model_url(url: str) -> str:
    """An http(s) URL, as every endpoint we talk to."""
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise ModelError(f"the model URL must be an http(s):// URL, got {str(url)[:80]!r}")
    return url


def _units_rule(decimals: int) -> str:
    return (
        f"Amounts are integers in the token's smallest unit (1 token = 10^{decimals} units), "
        "written as decimal strings; addresses are 0x followed by 40 hex digits."
    )


def _wire_form(field: FieldInfo) -> dict[str, Any] | None:
    for annotated, form in _WIRE_FORMS:
        if all(meta in field.metadata for meta in annotated.__metadata__):
            return form
    return None


def intent_tool(intent_type: type, *, decimals: int = 18) -> dict[str, Any]:
    """The OpenAI function tool for one intent class: its `kind` is the name, the rest its
    arguments (no `kind`, nothing extra)."""
    kind = intent_type.model_fields["kind"].default
    schema = intent_type.model_json_schema()
    properties = {}
    for name, spec in schema["properties"].items():
        if name == "kind":
            continue
        form = _wire_form(intent_type.model_fields[name])
        properties[name] = {**spec, **form} if form else spec
    parameters = {
        "type": "object",
        "properties": properties,
        "required": [name for name in schema.get("required", []) if name != "kind"],
        "additionalProperties": False,
    }
    description = inspect.cleandoc(intent_type.__doc__ or kind) + " " + _units_rule(decimals)
    return {
        "type": "function",
        "function": {"name": kind, "description": description, "parameters": parameters},
    }


def intent_tools(
    types: Iterable[type] = INTENT_TYPES, *, decimals: int = 18
) -> list[dict[str, Any]]:
    """One tool per intent class, in the closed set's order."""
    return [intent_tool(t, decimals=decimals) for t in types]


def system_prompt(policy_text: str, *, tip_amount: int, decimals: int = 18) -> str:
    """What the model is told: it may only call the tools, under the owner's policy."""
    return "\n".join(
        [
            "You plan actions for a payment agent. You can act only by calling the tools you are "
            "given; each call proposes one action, which is checked against the owner's policy "
            "and enforced by the owner's wallet contract. Nothing you write as text is carried "
            "out. If the task asks for nothing the tools can do, call no tool.",
            _units_rule(decimals),
            "When the owner rated an answer helpful, tip its author "
            f"{tip_amount} units, with the answer's cid.",
            "The owner's policy:",
            policy_text,
        ]
    )


def chat_request(
    task: Any, *, model: str, system: str, tools: list[dict[str, Any]]
) -> dict[str, Any]:
    """The chat completion request for one task (a fresh conversation each time)."""
    content = task if isinstance(task, str) else json.dumps(task, sort_keys=True)
    return {
        "model": model,
        "messages": [
            {"role": "system", "content": system},
            {"role": "user", "content": content},
        ],
        "tools": tools,
        "tool_choice": "auto",
        "temperature": 0,
    }


def post_chat(
    client: httpx.Client, endpoint: ModelEndpoint, body: Mapping[str, Any], api_key: str | None
) -> dict[str, Any]:
    """One request; the reply's JSON, or a `ModelError` with a reason we wrote (no secret, no
    server text). The key is redacted from the reply before it is parsed, so a server that
    echoes it cannot plant it in an intent."""
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    url = endpoint.url.rstrip("/") + "/chat/completions"
    deadline = time.monotonic() + endpoint.timeout_s
    try:
        with client.stream(
            "POST", url, json=body, headers=headers, timeout=endpoint.timeout_s
        ) as response:
            if not 200 <= response.status_code < 300:
                raise ModelError(f"HTTP {response.status_code}")
            raw = bytearray()
            for chunk in response.iter_bytes():
                raw += chunk
                if len(raw) > MAX_REPLY_BYTES:
                    raise ModelError(f"the reply is over {MAX_REPLY_BYTES} bytes")
                if time.monotonic() > deadline:
                    raise ModelError(f"no reply within {endpoint.timeout_s:g}s")
    except httpx.TimeoutException:
        raise ModelError(f"no reply within {endpoint.timeout_s:g}s") from None
    except httpx.ConnectError:
        raise ModelError("cannot connect to the model endpoint") from None
    except httpx.HTTPError as exc:
        raise ModelError(f"network error ({type(exc).__name__})") from None
    text = raw.decode("utf-8", errors="replace")
    if api_key and len(api_key) >= MIN_REDACTED_KEY:
        text = text.replace(api_key, REDACTED)
    try:
        reply = json.loads(text)
    except ValueError:
        raise ModelError("the reply is not JSON") from None
    if not isinstance(reply, dict):
        raise ModelError("the reply is not a chat completion")
    return reply


def tool_calls_of(reply: Mapping[str, Any]) -> list[Any]:
    """`choices[0].message.tool_calls` (empty for a text reply); ModelError if the reply is not
    a chat completion at all."""
    try:
        message = reply["choices"][0]["message"]
    except (KeyError, IndexError, TypeError):
        raise ModelError("the reply is not a chat completion") from None
    if not isinstance(message, Mapping):
        raise ModelError("the reply is not a chat completion")
    calls = message.get("tool_calls") or []
    if not isinstance(calls, list):
        raise ModelError("the reply's tool_calls is not a list")
    return calls


def intent_of(tool_call: Any) -> dict[str, Any]:
    """`{"kind": name, **arguments}`; anything malformed stays visible (under a key no intent
    has), so `parse_intent` refuses it rather than this code guessing or dropping it."""
    function = tool_call.get("function") if isinstance(tool_call, Mapping) else None
    if not isinstance(function, Mapping):
        return {"kind": None, "unparsed_tool_call": tool_call}
    name, arguments = function.get("name"), function.get("arguments")
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments) if arguments.strip() else {}
        except ValueError:
            return {"kind": name, "unparsed_arguments": arguments}
    if arguments is None:
        arguments = {}
    if not isinstance(arguments, Mapping) or "kind" in arguments:
        return {"kind": name, "unparsed_arguments": arguments}
    return {"kind": name, **arguments}


@dataclass(frozen=True)
class ModelPlan:
    """What the model proposed for one task, and how many of its calls were over the cap."""

    intents: tuple[dict[str, Any], ...]
    dropped: int = 0


def plan_with_model(
    task: Any,
    *,
    client: httpx.Client,
    endpoint: ModelEndpoint,
    api_key: str | None,
    system: str,
    tools: list[dict[str, Any]],
) -> ModelPlan:
    """The model's intents for one task; ModelError when the endpoint gave no chat completion."""
    body = chat_request(task, model=endpoint.model, system=system, tools=tools)
    calls = tool_calls_of(post_chat(client, endpoint, body, api_key))
    taken = calls[:MAX_TOOL_CALLS]
    return ModelPlan(tuple(intent_of(c) for c in taken), len(calls) - len(taken))
