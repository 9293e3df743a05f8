"""Paid asks attacked around withdrawals and at the HTTP edge, against a real node, chain and
database, the attacker's loss asserted:

- an asker asks, at once requests its deposit back and withdraws it before the node redeems: a
  node whose background pass (which redeems a channel with a pending withdrawal) cannot come
  within the withdrawal delay takes no voucher, so it never serves an answer it is not paid for;
- an asker deposits into a channel whose withdrawal is pending, or withdraws while owing and
  deposits again: no voucher is taken until the old debt is covered, and the operator gets it;
- a relayed withdrawal request is replayed: refused, and the node sends nothing;
- malformed numbers, hex and addresses on every paid-ask route: a 4xx with a message, never 5xx.
"""

import os
from collections.abc import Iterator
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from aigora.app import Asks
from aigora.store import PaidReceipt, ReceiptRecord, session_scope
from tests.asks_kit import Asker, body, paid_node

from .test_answers_api import QUESTION

FEE = 5000
TOKEN = "operator-token-for-tests-" + os.urandom(8).hex()
DELAY = 600  # the channels contract's withdrawal delay: ten minutes
PASS_S = 3600  # the node's background pass: once an hour, longer than the delay
DAY = 24 * 3600


def config(delay: int) -> str:
    """A fee, the background pass every PASS_S, the channels' withdrawal delay `delay`."""
    return (
        f"[chain]\nwithdraw_delay_s = {delay}\n\n[node]\nanchor_interval_s = {PASS_S}\n\n"
        f'[answers]\nfee = "{FEE}"\nredeem_interval_s = {DAY}\nrefresh_interval_s = 0\n'
        "\n[limits]\nasks_per_minute = 10000\nwrites_per_minute = 10000\n"
    )


@pytest.fixture(scope="module")
def slow(tmp_path_factory) -> Iterator[SimpleNamespace]:
    """A node whose background pass is rarer than its channels' withdrawal delay (DELAY)."""
    with paid_node(tmp_path_factory.mktemp("slow") / "node", config(DELAY), token=TOKEN) as node:
        yield node


@pytest.fixture(scope="module")
def node(tmp_path_factory) -> Iterator[SimpleNamespace]:
    """A node that redeems in time: a day's delay, 24 passes."""
    with paid_node(tmp_path_factory.mktemp("paying") / "node", config(DAY), token=TOKEN) as node:
        yield node


def paid_receipts(context, asker: str) -> int:
    with session_scope(context.db) as session:
        return session.scalar(
            select(func.count()).select_from(PaidReceipt).where(PaidReceipt.asker == asker)
        )


def receipts(context) -> int:
    with session_scope(context.db) as session:
        return session.scalar(select(func.count()).select_from(ReceiptRecord))


def test_an_asker_cannot_withdraw_before_a_node_too_slow_to_redeem_is_paid(slow):
    """The asker asks, requests its deposit back at once (on-chain, not through the node) and
    withdraws it when the delay has passed, before the node's next background pass. A node that
    answered would have served an answer for nothing: it refuses the voucher instead (503, the
    operator's configuration to fix), so every answer it served is redeemed."""
    node, context = slow, slow.context
    asker = Asker.new(context).fund(2 * FEE)
    before = receipts(context)
    answered = node.client.post("/ask", json=body(asker.voucher(FEE), QUESTION))
    served = paid_receipts(context, asker.address)
    asker.request_withdrawal()
    assert asker.withdraw() == 2 * FEE  # DELAY + 1 s later: the node's pass is an hour away
    assert served * FEE <= asker.channel().redeemed  # every answer served was paid
    assert answered.status_code == 503, answered.text
    assert answered.json()["error"] == "NoTimeToRedeem"
    assert "withdraw_delay" in answered.json()["detail"]
    assert receipts(context) == before


def ask(node, asker: Asker):
    """Ask paying with the voucher the node names next."""
    return node.client.post("/ask", json=body(asker.next_voucher(), QUESTION))


def deposit(node, asker: Asker, amount: int) -> None:
    """Another deposit into the asker's channel (minted to the asker first)."""
    context = node.context
    token = context.deployment.token
    context.chain.transact(context.operator, token.functions.mint(asker.address, amount))
    Asks(context).deposit(asker.signer, asker=asker.address, amount=amount)


def test_an_asker_who_withdrew_owing_pays_the_old_debt_before_a_new_answer(node):
    """The asker asks, requests its deposit back, deposits more while the request is pending
    (refused: no voucher while a withdrawal is pending) and, the node having slept through the
    delay, takes everything back. Deposit again: the next voucher must cover the unredeemed
    answer too, so one fee more is not enough; once it is covered, the node redeems both answers
    and the operator has been paid for every answer it served."""
    context = node.context
    asker = Asker.new(context).fund(FEE)
    assert ask(node, asker).status_code == 200
    asker.request_withdrawal()
    deposit(node, asker, FEE)
    pending = ask(node, asker)
    assert pending.status_code == 402, pending.text
    assert pending.json()["error"] == "WithdrawalPending"
    assert asker.withdraw() == 2 * FEE  # the node slept through the whole delay
    assert asker.channel().redeemed == 0
    deposit(node, asker, FEE)
    short = ask(node, asker)
    assert short.status_code == 402, short.text
    assert short.json()["error"] == "Uncovered"
    deposit(node, asker, FEE)
    assert ask(node, asker).status_code == 200
    node.services.asks.redeem()
    assert paid_receipts(context, asker.address) == 2
    assert asker.channel().redeemed == 2 * FEE  # both answers, the old one included
    assert asker.channel().balance == 0


def test_a_relayed_withdrawal_request_replayed_is_refused_and_costs_the_node_nothing(node):
    context = node.context
    asker = Asker.new(context).fund(2 * FEE)
    url = f"/asks/withdrawals/{asker.address}"
    deadline = context.chain.now() + 3 * DAY  # still good when it is replayed
    typed = node.client.get(url, params={"deadline": deadline}).json()
    signature = bytes(asker.signer.sign_typed_data(full_message=typed).signature)
    request = {"deadline": deadline, "signature": "0x" + signature.hex()}
    assert node.client.post(url, json=request).status_code == 200
    context.chain.advance_time(DAY + 1)
    assert node.client.post(f"{url}/complete").json()["amount"] == str(2 * FEE)
    deposit(node, asker, 2 * FEE)
    sent = context.chain.w3.eth.get_transaction_count(context.operator.address)
    replayed = node.client.post(url, json=request)  # the nonce it signed is spent
    assert replayed.status_code == 409, replayed.text
    assert "signature is not the asker's" in replayed.json()["detail"]
    assert context.chain.w3.eth.get_transaction_count(context.operator.address) == sent
    assert asker.channel().unlocks_at == 0


def test_malformed_input_on_every_paid_ask_route_is_a_4xx(node):
    """Numbers past uint256, negative or not decimal, bad hex, signatures that recover nobody
    (r = 0, r >= n, high s, v not 27/28), the zero address, deadlines past 2**64: each a 4xx
    with a message, nothing recorded, and never a 500."""
    context, client = node.context, node.client
    asker = Asker.new(context).fund(FEE)
    good = body(asker.voucher(FEE), QUESTION)["payment"]
    n = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
    zero = "0x" + "00" * 20
    payments = [{"cumulative": c} for c in (str(2**256), "9" * 78, "-1", "1e5", " 1", "0x10", "")]
    payments += [
        {"signature": "0x" + s}
        for s in (
            "00" * 65,
            "ff" * 65,
            "00" * 64 + "1b",
            n.to_bytes(32, "big").hex() + "11" * 32 + "1b",
            "11" * 32 + (n - 1).to_bytes(32, "big").hex() + "1c",
            "zz" * 65,
            "11" * 64,
        )
    ]
    payments += [{"asker": a} for a in (zero, "0x1234", "ab" * 20, "0x" + "gg" * 20)]
    before = receipts(context)
    answers = [
        client.post("/ask", json={"query": QUESTION, "k": 2, "payment": {**good, **change}})
        for change in payments
    ]
    address = asker.address
    answers += [
        client.get(f"/asks/channels/{a}") for a in ("0xzz", "0x" + "00" * 21, address + "0")
    ]
    answers += [
        client.get(f"/asks/withdrawals/{address}", params={"deadline": d})
        for d in (-1, 2**64, "abc", 10**80)
    ]
    answers += [
        client.post(f"/asks/withdrawals/{address}", json={"deadline": d, "signature": s})
        for d, s in (
            (2**64, "0x" + "11" * 65),
            (-1, "0x" + "11" * 65),
            (0, "0x" + "11" * 65),
            (2**63, "0x" + "00" * 65),
            (1, "0x11"),
        )
    ]
    answers.append(client.post(f"/asks/withdrawals/{zero}/complete"))
    answers.append(client.post(f"/asks/withdrawals/{address}/complete"))
    operator = {"Authorization": f"Bearer {TOKEN}"}
    answers += [
        client.post(f"/asks/deposits/{address}", json={"amount": a}, headers=operator)
        for a in ("0", str(2**256), "9" * 78, "-5", "1.5")
    ]
    answers.append(client.post(f"/asks/deposits/{zero}", json={"amount": "1"}, headers=operator))
    answers += [client.get(f"/claims/{a}/fee") for a in (zero, "0x12")]
    statuses = [(r.request.method, r.request.url.path, r.status_code) for r in answers]
    assert all(400 <= status < 500 for _, _, status in statuses), statuses
    assert all(r.json()["detail"] for r in answers)
    assert receipts(context) == before
    assert asker.channel().redeemed == 0
    assert Asks(context).channel(address).accepted == "0"
