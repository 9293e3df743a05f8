"""The executor on the embedded chain: in-policy intents are sent, the rest wait for the owner."""

import logging
import os
from datetime import UTC, datetime

import pytest

from aigora.agent.agent import Executor, approve_pending
from aigora.agent.approvals import ApprovalQueue
from aigora.agent.errors import ApprovalError
from aigora.agent.intents import Pay, Stake, Tip
from aigora.agent.planner import planner_env, run_planner
from aigora.store import AgentWallet, make_engine, migrate, sqlite_url
from aigora.store.db import session_scope

UNIT = 10**18


@pytest.fixture
def queue(tmp_path, embedded_setup):
    db = make_engine(sqlite_url(tmp_path / "aigora.db"))
    migrate(db)
    s = embedded_setup
    with session_scope(db) as session:
        row = AgentWallet(
            name="tips",
            chain_id=s.chain.chain_id,
            address=s.wallet.address,
            owner=s.owner.address,
            agent=s.agent.address,
            agent_key="agent",
            mandate="test",
            policy_json=s.policy.to_json(),
            created_at=datetime.now(UTC),
        )
        session.add(row)
        session.flush()
        wallet_id = row.id
    yield ApprovalQueue(db, wallet_id)
    db.dispose()


def test_in_policy_is_sent_and_out_of_policy_waits_for_the_owner(embedded_setup, queue, caplog):
    s = embedded_setup
    caplog.set_level(logging.DEBUG)
    executor = Executor(s.chain, s.wallet, s.agent, s.policy, queue)
    sent = executor.handle({"kind": "tip", "to": s.alice.address, "amount": str(2 * UNIT)})
    assert sent.status == "sent"
    assert s.balance(s.alice.address) == 2 * UNIT
    staked = executor.handle(Stake(vault=s.vault.address, amount=UNIT).model_dump())
    assert staked.status == "sent"
    assert len(staked.tx_hashes) == 2  # approve, then deposit naming the wallet
    assert s.chain.call(s.vault.functions.balanceOf(s.wallet.address)) == UNIT

    outside = executor.handle({"kind": "pay", "to": s.mallory.address, "amount": str(UNIT)})
    too_big = executor.handle({"kind": "pay", "to": s.bob.address, "amount": str(6 * UNIT)})
    invalid = executor.handle({"kind": "call", "target": s.mallory.address, "data": "0xdead"})
    assert (outside.status, too_big.status, invalid.status) == ("pending", "pending", "invalid")
    assert "not an allowed recipient" in outside.reason
    assert "per-transaction cap" in too_big.reason
    pending = queue.list()
    assert [a.intent for a in pending] == [
        Pay(to=s.mallory.address, amount=UNIT),
        Pay(to=s.bob.address, amount=6 * UNIT),
    ]
    assert s.balance(s.mallory.address) == 0
    assert s.balance(s.bob.address) == 0

    # the owner approves one (paid with the owner's key, outside the policy) and rejects the other
    tx = approve_pending(s.chain, s.owner, s.wallet, pending[1].intent)
    queue.decide(pending[1].id, "approved", tx)
    queue.decide(pending[0].id, "rejected")
    assert s.balance(s.bob.address) == 6 * UNIT
    assert s.balance(s.mallory.address) == 0
    assert queue.list() == []
    with pytest.raises(ApprovalError, match="already approved"):
        queue.decide(pending[1].id, "rejected")
    with pytest.raises(ApprovalError, match="one-off"):
        approve_pending(s.chain, s.owner, s.wallet, Stake(vault=s.vault.address, amount=1))

    key_hex = bytes(s.agent._account.key).hex()  # test-only peek at the secret
    assert key_hex not in caplog.text
    assert key_hex not in repr(executor.__dict__)


def test_a_contract_refusal_after_a_passing_check_is_queued(embedded_setup):
    s = embedded_setup
    queued = []
    executor = Executor(
        s.chain,
        s.wallet,
        s.agent,
        s.policy,
        type(
            "Q",
            (),
            {"add": lambda self, intent, reason: queued.append((intent, reason)) or len(queued)},
        )(),
    )
    s.chain.transact(s.owner, s.wallet.functions.revoke())
    # a stale policy object still allows it off-chain; the chain's expiry=0 is caught by the check
    outcome = executor.handle(Tip(to=s.alice.address, amount=UNIT).model_dump())
    assert outcome.status == "pending"
    assert "revoked" in outcome.reason
    assert s.balance(s.alice.address) == 0


def test_the_planner_runs_without_secrets(monkeypatch, embedded_setup):
    s = embedded_setup
    key_hex = bytes(s.agent._account.key).hex()
    monkeypatch.setenv("AIGORA_PASSPHRASE", "hunter2")
    monkeypatch.setenv("AIGORA_AGENT_KEY", key_hex)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret")
    env = planner_env(os.environ)
    assert "hunter2" not in env.values()
    assert key_hex not in "".join(env.values())
    assert not any("KEY" in k or "PASS" in k for k in env)
    plans = run_planner([f"pay 1 to {s.alice.address}"], tip_amount=UNIT)
    assert [(p.planned_by, p.intents) for p in plans] == [
        ("rules", ({"kind": "pay", "to": s.alice.address, "amount": str(UNIT)},))
    ]
