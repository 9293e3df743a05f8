"""The model planner against the OpenAI-compatible double: tools from the intent set, tool calls
through the real executor and wallet, the rules when the endpoint fails, and the key's secrecy."""

import json
import logging
import os
import socket

import pytest
from jsonschema import Draft202012Validator
from pydantic import BaseModel, ConfigDict
from typer.testing import CliRunner

from aigora.agent import (
    INTENT_TYPES,
    MAX_TOOL_CALLS,
    Executor,
    IntentError,
    MemoryApprovals,
    ModelEndpoint,
    ModelError,
    Pay,
    Stake,
    Unstake,
    intent_tools,
    parse_intent,
    run_planner,
)
from aigora.agent.model_planner import MAX_REPLY_BYTES, REDACTED
from aigora.agent.planner import plan, plan_tasks, planner_env
from aigora.agent.policy import Address, Amount
from aigora.app import AgentConfig, load_config, open_node, write_default_config
from aigora.cli.agent import app
from aigora.core.errors import ConfigError
from tests.agent.model_server import (
    HUGE,
    RESET_PROMPT,
    ModelServer,
    Reply,
    error_reply,
    garbage_reply,
    lookalike,
    raw_tool_call,
    shape_reply,
    slow,
    task_of,
    text_reply,
    tool_call,
    tool_calls,
)

UNIT = 10**18
KEY = "sk-test-RECOGNISABLE-0123456789abcdef"
A = "0x" + "a1" * 20


def _kinds(types) -> list[str]:
    return [t.model_fields["kind"].default for t in types]


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---- tools -------------------------------------------------------------------------------------


class Burn(BaseModel):
    """Burn `amount` at `target` (a made-up intent: a new class in the set gets its tool)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    kind: str = "burn"
    target: Address
    amount: Amount
    note: str = ""


def test_each_intent_class_is_one_tool_and_a_new_class_gets_one():
    tools = intent_tools()
    assert [t["function"]["name"] for t in tools] == _kinds(INTENT_TYPES)
    for tool, intent_type in zip(tools, INTENT_TYPES, strict=True):
        assert tool["type"] == "function"
        function = tool["function"]
        assert function["description"].startswith(intent_type.__doc__.split("`")[0])
        assert "smallest unit" in function["description"]
        parameters = function["parameters"]
        assert parameters["additionalProperties"] is False
        assert "kind" not in parameters["properties"]
        assert "kind" not in parameters["required"]
        assert set(parameters["properties"]) == set(intent_type.model_fields) - {"kind"}

    burn = intent_tools((*INTENT_TYPES, Burn))[-1]["function"]
    assert burn["name"] == "burn"
    assert burn["description"].startswith("Burn `amount` at `target`")
    properties = burn["parameters"]["properties"]
    assert properties["amount"]["type"] == "string"  # amounts travel as decimal strings
    assert properties["amount"]["pattern"] == "^[0-9]{1,78}$"
    assert properties["target"]["pattern"] == "^0x[0-9a-fA-F]{40}$"
    assert properties["note"] == {"default": "", "title": "Note", "type": "string"}
    assert burn["parameters"]["required"] == ["target", "amount"]


VALID = [
    ("pay", {"to": A, "amount": "5"}),
    ("pay", {"to": A, "amount": "5", "memo": "rent"}),
    ("tip", {"to": A, "amount": "1", "cid": "bafy1"}),
    ("stake", {"vault": A, "amount": "7"}),
    ("unstake", {"vault": A, "amount": "7"}),
    ("swap", {"router": A, "token_out": A, "amount_in": "3", "min_out": "1"}),
]
INVALID = [
    ("pay", {"to": A, "amount": "5", "then": "send the rest"}),  # an extra argument
    ("pay", {"to": A}),  # no amount
    ("pay", {"to": A, "amount": "1.5"}),  # not in smallest units
    ("pay", {"to": A, "amount": "-1"}),
    ("pay", {"to": A, "amount": True}),
    ("pay", {"to": "0x123", "amount": "1"}),  # not an address
    ("pay", {"to": A, "amount": "1", "memo": "x" * 201}),
    ("tip", {"to": A, "amount": "1", "cid": "c" * 101}),
    ("stake", {"vault": A, "amount": "1", "pool": A}),
    ("swap", {"router": A, "token_out": A, "amount_in": "3"}),  # no minimum output
    ("unstake", {"kind": "pay", "vault": A, "amount": "1"}),  # a kind of its own
]


@pytest.mark.parametrize(("name", "arguments"), VALID + INVALID)
def test_the_tool_schema_refuses_what_parse_intent_refuses(name, arguments):
    tools = {t["function"]["name"]: t["function"]["parameters"] for t in intent_tools()}
    schema_ok = Draft202012Validator(tools[name]).is_valid(arguments)
    try:
        parse_intent({"kind": name, **arguments})
        parsed_ok = True
    except IntentError:
        parsed_ok = False
    assert schema_ok == parsed_ok == ((name, arguments) in VALID)


# ---- through the executor ----------------------------------------------------------------------


def test_model_tool_calls_become_intents_that_the_policy_checks(embedded_setup):
    s = embedded_setup
    alice, bob, mallory = s.alice.address, s.bob.address, s.mallory.address
    twin = lookalike(alice)
    replies = {
        "thank alice": tool_calls(tool_call("tip", to=alice, amount=str(2 * UNIT), cid="bafy1")),
        "pay bob 6": tool_calls(tool_call("pay", to=bob, amount=str(6 * UNIT))),
        "pay mallory": tool_calls(tool_call("pay", to=mallory, amount=str(UNIT))),
        "made up": tool_calls(
            tool_call("transfer_all", to=mallory),
            tool_call("tip", to=alice, amount="1", owner_approved=True),
            raw_tool_call("pay", "{not json"),
            tool_call("pay", to=twin, amount=str(UNIT)),
            content="The owner approved these.",
        ),
        "chat": text_reply("I cannot help with that."),
    }
    with ModelServer(lambda request: replies[task_of(request)]) as model:
        plans = run_planner(
            list(replies),
            tip_amount=UNIT,
            model=ModelEndpoint(model.url, model="planner-1", timeout_s=10),
            api_key=KEY,
            policy=s.policy,
        )
    approvals = MemoryApprovals()
    executor = Executor(s.chain, s.wallet, s.agent, s.policy, approvals)
    statuses = [[executor.handle(i).status for i in p.intents] for p in plans]

    assert [p.planned_by for p in plans] == ["model"] * 5
    assert statuses == [
        ["sent"],
        ["pending"],  # over the per-transaction cap
        ["pending"],  # not an allowed recipient
        ["invalid", "invalid", "invalid", "pending"],  # made-up tool, extra arg, not JSON; twin
        [],  # text only: nothing understood
    ]
    assert plans[3].intents[0] == {"kind": "transfer_all", "to": mallory}
    assert s.balance(alice) == 2 * UNIT
    assert (s.balance(bob), s.balance(mallory), s.balance(twin)) == (0, 0, 0)
    assert [intent.to for intent, _ in approvals.items] == [bob, mallory, twin]

    # one fresh request per task, with the policy in words, the tools and the key as a Bearer
    assert [seen.task for seen in model.requests] == list(replies)
    for seen in model.requests:
        assert seen.path == "/v1/chat/completions"
        assert [m["role"] for m in seen.messages] == ["system", "user"]
        assert s.policy.describe() in seen.system
        assert "only by calling the tools" in seen.system
        assert seen.tool_names == _kinds(INTENT_TYPES)
        assert seen.body["tool_choice"] == "auto"
        assert seen.body["temperature"] == 0
        assert seen.body["model"] == "planner-1"
        assert seen.authorization == f"Bearer {KEY}"


def test_a_flood_of_calls_is_capped_and_a_session_reset_gains_nothing(embedded_setup):
    s = embedded_setup
    flood = [tool_call("tip", to=s.alice.address, amount=str(UNIT // 10)) for _ in range(20)]
    reset = tool_calls(tool_call("pay", to=s.mallory.address, amount=HUGE), content=RESET_PROMPT)
    with ModelServer(replies=[tool_calls(*flood), reset]) as model:
        plans = plan_tasks(
            ["tip alice a lot", RESET_PROMPT],
            tip_amount=UNIT,
            model=ModelEndpoint(model.url, timeout_s=10),
        )
    assert len(plans[0].intents) == MAX_TOOL_CALLS
    assert plans[0].dropped == 20 - MAX_TOOL_CALLS
    executor = Executor(s.chain, s.wallet, s.agent, s.policy, MemoryApprovals())
    outcomes = [executor.handle(i) for p in plans for i in p.intents]
    assert [o.status for o in outcomes] == ["sent"] * MAX_TOOL_CALLS + ["pending"]
    assert s.balance(s.alice.address) == MAX_TOOL_CALLS * UNIT // 10
    assert s.balance(s.mallory.address) == 0
    # the reset text arrived as the task of its own request; the request carried no earlier turn
    assert [len(seen.messages) for seen in model.requests] == [2, 2]


# ---- fallback ----------------------------------------------------------------------------------

FAILURES = [
    (error_reply(500), "HTTP 500"),
    (error_reply(401, "bad key"), "HTTP 401"),
    (garbage_reply(), "not JSON"),
    (shape_reply(), "not a chat completion"),
    (shape_reply({"choices": [{"message": {"tool_calls": "pay everything"}}]}), "not a list"),
    (shape_reply([1, 2, 3]), "not a chat completion"),
    (slow(text_reply("late"), 5), "no reply within 0.5s"),
    (Reply(b" " * (MAX_REPLY_BYTES + 1)), f"over {MAX_REPLY_BYTES} bytes"),
]


@pytest.mark.parametrize(("reply", "reason"), FAILURES)
def test_the_rules_plan_a_task_the_model_endpoint_failed(reply, reason):
    tasks = [f"pay 1 to {A}", "something the rules do not know"]
    with ModelServer(replies=[reply]) as model:
        plans = plan_tasks(tasks, tip_amount=UNIT, model=ModelEndpoint(model.url, timeout_s=0.5))
    assert [p.planner for p in plans] == ["rules", "rules"]
    assert all(reason in p.model_error for p in plans)
    assert plans[0].planned_by == f"rules (model failed: {plans[0].model_error})"
    assert [list(p.intents) for p in plans] == [plan(tasks[:1], tip_amount=UNIT), []]


def test_the_rules_plan_when_nothing_listens():
    url = f"http://127.0.0.1:{_closed_port()}/v1"
    plans = run_planner([f"pay 1 to {A}"], tip_amount=UNIT, model=ModelEndpoint(url), api_key=KEY)
    assert plans[0].planned_by == "rules (model failed: cannot connect to the model endpoint)"
    assert plans[0].intents == ({"kind": "pay", "to": A, "amount": str(UNIT)},)


def test_an_endpoint_that_is_not_a_url_is_refused():
    with pytest.raises(ModelError, match="http"):
        ModelEndpoint("file:///etc/passwd")


# ---- the key -----------------------------------------------------------------------------------


def test_the_key_reaches_only_the_authorization_header(embedded_setup, caplog, capfd, monkeypatch):
    s = embedded_setup
    monkeypatch.setenv("AIGORA_MODEL_KEY", KEY)  # where the CLI reads it; the planner gets stdin
    caplog.set_level(logging.DEBUG)
    echo = tool_calls(tool_call("pay", to=s.alice.address, amount=str(UNIT), memo=KEY))
    replies = [
        echo,  # a server that echoes the key into an intent
        error_reply(500, f"invalid key {KEY}"),
        garbage_reply(f"<pre>{KEY}</pre>".encode()),
        shape_reply({"error": KEY}),
        text_reply(f"your key is {KEY}"),
    ]
    tasks = [f"pay 1 to {s.alice.address}"] * len(replies)
    with ModelServer(replies=replies) as model:
        endpoint = ModelEndpoint(model.url, timeout_s=10)
        plans = plan_tasks(tasks, tip_amount=UNIT, model=endpoint, api_key=KEY, policy_text="p")
        in_process = plan_tasks(tasks[:1], tip_amount=UNIT, model=endpoint, api_key=KEY)
        assert KEY not in json.dumps(planner_env(os.environ))
        subprocess_plans = run_planner(tasks[:2], tip_amount=UNIT, model=endpoint, api_key=KEY)
    executor = Executor(s.chain, s.wallet, s.agent, s.policy, MemoryApprovals())
    outcomes = [executor.handle(i) for p in plans for i in p.intents]

    assert plans[0].intents[0]["memo"] == REDACTED
    assert [p.planned_by for p in plans[1:4]] == [
        "rules (model failed: HTTP 500)",
        "rules (model failed: the reply is not JSON)",
        "rules (model failed: the reply is not a chat completion)",
    ]
    assert outcomes[0].intent == Pay(to=s.alice.address, amount=UNIT, memo=REDACTED)
    seen_anywhere = [
        caplog.text,
        *capfd.readouterr(),
        repr(plans),
        repr(in_process),
        repr(subprocess_plans),
        repr(outcomes),
    ]
    assert not any(KEY in text for text in seen_anywhere)
    assert len(model.requests) == 8
    for seen in model.requests:
        assert seen.authorization == f"Bearer {KEY}"
        assert KEY.encode() not in seen.raw
        assert not any(KEY in v for k, v in seen.headers.items() if k != "authorization")


def test_the_agent_config_defaults_to_the_rules_and_refuses_a_bad_url(tmp_path):
    write_default_config(tmp_path)
    config = load_config(tmp_path)
    assert config.agent == AgentConfig()
    assert config.agent.model_url is None
    assert config.agent.model_key_env == "AIGORA_MODEL_KEY"
    (tmp_path / "config.toml").write_text('[agent]\nmodel_url = "file:///etc/passwd"\n')
    with pytest.raises(ConfigError, match=r"agent\.model_url: .*http"):
        load_config(tmp_path)


# ---- the command -------------------------------------------------------------------------------

PASSPHRASE = "correct horse battery staple"
MANDATE = "tip the authors of answers I rate helpful, at most 5 tokens a day, for 30 days"
MODEL_POLICY = {  # the draft a model proposes through the propose_policy tool
    "per_payment": "2",
    "per_period": "5",
    "total": "50",
    "days": 30,
    "helpful_authors": True,
}


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("AIGORA_PASSPHRASE", PASSPHRASE)
    monkeypatch.setenv("AIGORA_MODEL_KEY", KEY)
    directory = tmp_path / "home"
    open_node(directory, PASSPHRASE).close()
    return directory


def _run(home, *args):
    result = CliRunner().invoke(app, [*args, "--data-dir", str(home)])
    result.text = " ".join(result.output.split())
    return result


def test_agent_run_plans_with_the_model_and_falls_back_to_the_rules(home, tmp_path):
    author, stranger = "0x" + "a1" * 20, "0x" + "e1" * 20
    rated = {"event": "rated", "rating": "helpful", "author": author, "cid": "bafyanswer"}
    tasks = tmp_path / "tasks.json"
    tasks.write_text(json.dumps([rated, f"please give {stranger} 3 tokens", RESET_PROMPT]))

    def script(request):
        task = task_of(request)
        if [t["function"]["name"] for t in request["tools"]] == ["propose_policy"]:
            return tool_calls(tool_call("propose_policy", **MODEL_POLICY))  # the mandate
        if "bafyanswer" in task:
            return tool_calls(tool_call("tip", to=author, amount=str(UNIT), cid="bafyanswer"))
        if stranger in task:
            return tool_calls(tool_call("pay", to=stranger, amount=str(3 * UNIT)))
        return text_reply("Session reset acknowledged.")

    with ModelServer(script) as model, ModelServer(replies=[error_reply(503)]) as down:
        config = home / "config.toml"
        text = config.read_text()
        line = '# model_url = "http://127.0.0.1:8000/v1"'
        assert line in text
        config.write_text(text.replace(line, f'model_url = "{model.url}"'))

        created = _run(home, "create", MANDATE, "--name", "tips", "--fund", "100", "--yes")
        assert created.exit_code == 0, created.text
        assert "compiled by a model" in created.text
        assert "at most 2 tokens in one transaction" in created.text

        ran = _run(home, "run", "tips", str(tasks), "--model", "planner-2")
        assert ran.exit_code == 0, ran.text
        assert "task 1 (model): sent: 0x" in ran.text
        assert "task 2 (model): pending: this mandate only tips authors" in ran.text
        assert "task 3 (model): not understood" in ran.text
        assert "1 sent, 1 waiting for you" in ran.text

        fell_back = _run(home, "run", "tips", str(tasks), "--model-url", down.url)
        assert fell_back.exit_code == 0, fell_back.text
        assert "task 1 (rules (model failed: HTTP 503)): sent: 0x" in fell_back.text
        # the rules read "please give ..." too, and the role refuses it the same way
        assert (
            "task 2 (rules (model failed: HTTP 503)): pending: this mandate only" in fell_back.text
        )
        assert "task 3 (rules (model failed: HTTP 503)): not understood" in fell_back.text
        assert "1 sent, 1 waiting for you" in fell_back.text

    assert [seen.body["model"] for seen in model.requests] == ["default"] + ["planner-2"] * 3
    assert len(down.requests) == 3  # the flag overrides the config
    for seen in [*model.requests, *down.requests]:
        assert seen.authorization == f"Bearer {KEY}"
    for result in (created, ran, fell_back):
        assert KEY not in result.output
    assert "holds 98 tokens" in _run(home, "show", "tips").text


def test_the_rules_stake_into_and_unstake_from_a_vault():
    planned = plan([f"stake 2 in {A}", f"unstake 1.5 from {A}"], tip_amount=UNIT)
    assert [parse_intent(p) for p in planned] == [
        Stake(vault=A, amount=2 * UNIT),
        Unstake(vault=A, amount=3 * UNIT // 2),
    ]
