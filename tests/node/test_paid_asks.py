"""Paid asks end to end against a node that charges a fee: an asker deposits into its channel
once, then pays each ask with a cumulative voucher; the node books the voucher with the receipt
in one transaction and redeems the vouchers on-chain. Every attack is played against the real
node, chain and database, and its loss asserted: a replayed voucher, two concurrent asks on one
voucher, a voucher someone else signed, an older cumulative, an asker who withdraws right after
asking (the node still redeems within the delay, and an epoch splits no more than was
redeemed), and an operator redeeming more than was signed."""

import contextlib
import os
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from aigora.app import App
from aigora.app._asks import prepare_payment
from aigora.asks import Payment, StaleVoucher, channels_domain, sign_voucher
from aigora.core.errors import ContractRevert
from aigora.core.keystore import Signer
from aigora.node.runner import background_pass
from aigora.payouts import NothingToClose
from aigora.store import PaidReceipt, ReceiptRecord, session_scope
from tests.asks_kit import Asker, body, paid_node

from .test_answers_api import QUESTION

FEE = 7000
TOKEN = "operator-token-for-tests-" + os.urandom(8).hex()
DELAY = 24 * 3600


@pytest.fixture(scope="module")
def node(tmp_path_factory) -> Iterator[SimpleNamespace]:
    """A node charging FEE per answer, redeeming in batches once a day (so only a withdrawal
    request makes it redeem at once), with the passages published and snapshotted (and no rate
    limit: every test's askers are one test client)."""
    config = (
        f'[node]\nanchor_interval_s = 3600\n\n[answers]\nfee = "{FEE}"\nredeem_interval_s = 86400\n'
        "refresh_interval_s = 0\n\n[limits]\nasks_per_minute = 10000\nwrites_per_minute = 10000\n"
    )
    with paid_node(tmp_path_factory.mktemp("paid") / "node", config, token=TOKEN) as node:
        node.services.asks.background_redeem()  # the day's batch: the next one is a day away
        yield node


def receipts(context) -> int:
    with session_scope(context.db) as session:
        return session.scalar(select(func.count()).select_from(ReceiptRecord))


def ask(node, payment, **headers):
    return node.client.post("/ask", json=body(payment, QUESTION), headers=headers)


def channel(node, asker: Asker) -> dict:
    response = node.client.get(f"/asks/channels/{asker.address}")
    assert response.status_code == 200, response.text
    return response.json()


def operator_balance(node) -> int:
    context = node.context
    token = context.deployment.token
    return int(context.chain.call(token.functions.balanceOf(context.operator.address)))


# ---- the shapes a browser codes against ---------------------------------------------------------


def test_the_terms_say_how_to_pay(node):
    terms = node.client.get("/asks/terms").json()
    context = node.context
    channels = context.deployment.channels.address
    assert terms == {
        "fee": str(FEE),
        "operator": context.operator.address,
        "channels": channels,
        "withdraw_delay_s": DELAY,
        "domain": {
            "name": "Aigora Channels",
            "version": "1",
            "chainId": context.chain.chain_id,
            "verifyingContract": channels,
        },
        "types": {
            "Voucher": [
                {"name": "asker", "type": "address"},
                {"name": "operator", "type": "address"},
                {"name": "cumulative", "type": "uint256"},
            ]
        },
    }


def test_a_paid_ask_is_answered_and_its_voucher_booked(node):
    asker = Asker.new(node.context).fund(3 * FEE)
    assert channel(node, asker) == {
        "asker": asker.address,
        "operator": node.context.operator.address,
        "deposit": str(3 * FEE),
        "redeemed": "0",
        "accepted": "0",
        "available": str(3 * FEE),
        "next_cumulative": str(FEE),
        "withdrawal_unlocks_at": None,
    }
    before = receipts(node.context)
    answered = ask(node, asker.voucher(FEE))
    assert answered.status_code == 200, answered.text
    assert answered.json()["receipt"]["receipt"]["fee"] == str(FEE)
    assert receipts(node.context) == before + 1
    state = channel(node, asker)
    assert (state["accepted"], state["available"], state["next_cumulative"]) == (
        str(FEE),
        str(2 * FEE),
        str(2 * FEE),
    )
    with session_scope(node.context.db) as session:
        paid = session.get(PaidReceipt, answered.json()["digest"])
        assert (paid.asker, paid.cumulative, paid.fee, paid.epoch) == (
            asker.address,
            str(FEE),
            str(FEE),
            None,
        )


# ---- refusals -----------------------------------------------------------------------------------


def test_without_payment_the_node_says_how_to_pay_and_the_operator_asks_free(node):
    before = receipts(node.context)
    refused = node.client.post("/ask", json={"query": QUESTION, "k": 2})
    assert refused.status_code == 402
    assert refused.json()["error"] == "PaymentRequired"
    assert "GET /asks/terms" in refused.json()["detail"]
    assert receipts(node.context) == before
    free = node.client.post(
        "/ask", json={"query": QUESTION, "k": 2}, headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert free.status_code == 200, free.text
    assert free.json()["receipt"]["receipt"]["fee"] == "0"  # the operator pays no one


def test_replaying_a_voucher_for_a_second_ask_is_refused(node):
    asker = Asker.new(node.context).fund(5 * FEE)
    voucher = asker.voucher(FEE)
    assert ask(node, voucher).status_code == 200
    before = receipts(node.context)
    replayed = ask(node, voucher)
    assert replayed.status_code == 409
    assert replayed.json()["error"] == "StaleVoucher"
    assert f"must name {2 * FEE}" in replayed.json()["detail"]
    assert receipts(node.context) == before
    assert channel(node, asker)["accepted"] == str(FEE)


def test_a_lower_or_higher_cumulative_is_refused(node):
    asker = Asker.new(node.context).fund(5 * FEE)
    assert ask(node, asker.voucher(FEE)).status_code == 200
    assert ask(node, asker.voucher(2 * FEE)).status_code == 200
    before = receipts(node.context)
    for cumulative in (FEE, 2 * FEE, 3 * FEE - 1, 3 * FEE + 1, 5 * FEE):
        refused = ask(node, asker.voucher(cumulative))
        assert refused.status_code == 409, (cumulative, refused.text)
    assert receipts(node.context) == before
    assert channel(node, asker)["accepted"] == str(2 * FEE)


def test_two_concurrent_asks_on_one_voucher_pay_once(node, monkeypatch):
    """Eight asks race with the same voucher: exactly one is answered and booked, and the node
    ranks once (the others are refused before any work)."""
    asker = Asker.new(node.context).fund(5 * FEE)
    voucher = asker.voucher(FEE)
    before = receipts(node.context)
    answers, ranked = node.services.answers, []
    real_rank = answers.rank

    def counted(*args, **kwargs):
        ranked.append(1)
        return real_rank(*args, **kwargs)

    monkeypatch.setattr(answers, "rank", counted)
    start = threading.Barrier(8)

    def race(_: int) -> int:
        start.wait()
        return ask(node, voucher).status_code

    with ThreadPoolExecutor(8) as pool:
        statuses = sorted(pool.map(race, range(8)))
    assert statuses == [200] + [409] * 7
    assert len(ranked) == 1
    assert receipts(node.context) == before + 1
    with session_scope(node.context.db) as session:
        paid = session.scalar(
            select(func.count()).select_from(PaidReceipt).where(PaidReceipt.asker == asker.address)
        )
    assert paid == 1


def test_the_loser_of_a_race_is_rolled_back_with_its_receipt(node):
    """The interleaving the race needs, made certain: both asks pass every check against the
    chain before either books; the second then finds the voucher spent, and its receipt is
    never recorded."""
    answers, context = node.services.answers, node.context
    asker = Asker.new(context).fund(5 * FEE)
    voucher = asker.voucher(FEE)
    first, second = prepare_payment(context, voucher, FEE), prepare_payment(context, voucher, FEE)
    before = receipts(context)
    answers.ask(QUESTION, 2, fee=FEE, record=first)
    with pytest.raises(StaleVoucher):
        answers.ask(QUESTION, 2, fee=FEE, record=second)
    assert receipts(context) == before + 1


def test_a_crash_while_booking_loses_neither_half_and_pays_nothing_twice(node):
    """A failure after the receipt row is written rolls back the voucher too; what committed
    survives a restart of the services, and the committed voucher cannot be replayed."""
    answers, context = node.services.answers, node.context
    asker = Asker.new(context).fund(5 * FEE)
    record = prepare_payment(context, asker.voucher(FEE), FEE)

    def crash(session, document):
        record(session, document)
        raise RuntimeError("power cut")

    before = receipts(context)
    with pytest.raises(RuntimeError):
        answers.ask(QUESTION, 2, fee=FEE, record=crash)
    assert receipts(context) == before
    assert channel(node, asker)["accepted"] == "0"
    assert ask(node, asker.voucher(FEE)).status_code == 200
    fresh = App(context)  # nothing of the accepted voucher lives in memory
    assert fresh.asks.channel(asker.address).accepted == str(FEE)
    assert ask(node, asker.voucher(FEE)).status_code == 409


def test_a_voucher_signed_by_anyone_but_the_asker_is_refused(node):
    """A stranger, the asker's own second address, and the asker's voucher for another operator
    or another channels contract: all 400, none booked."""
    context = node.context
    asker = Asker.new(context).fund(5 * FEE)
    second = Asker.new(context).fund(5 * FEE)
    stranger = Signer.dev(os.urandom(32))
    domain = channels_domain(context.chain.chain_id, context.deployment.channels.address)
    elsewhere = channels_domain(context.chain.chain_id, context.deployment.registry.address)
    terms = {"operator": asker.operator, "cumulative": FEE}
    forged = [
        sign_voucher(stranger, domain, asker=stranger.address, **terms),
        second.voucher(FEE),  # the asker's own second address
        asker.voucher(FEE, operator=second.address),
        sign_voucher(asker.signer, elsewhere, asker=asker.address, **terms),
    ]
    before = receipts(context)
    for payment in forged:
        named = Payment(asker.address, payment.cumulative, payment.signature)
        refused = ask(node, named)
        assert refused.status_code == 400, refused.text
        assert refused.json()["error"] == "BadVoucher"
    malformed = body(asker.voucher(FEE), QUESTION)
    malformed["payment"]["signature"] = "0x" + "11" * 65
    assert node.client.post("/ask", json=malformed).status_code == 400
    malformed["payment"]["signature"] = "0x1234"
    assert node.client.post("/ask", json=malformed).status_code == 422
    assert receipts(context) == before
    assert channel(node, asker)["accepted"] == "0"


def test_a_voucher_the_deposit_does_not_cover_is_refused(node):
    asker = Asker.new(node.context).fund(FEE + FEE // 2)
    assert ask(node, asker.voucher(FEE)).status_code == 200
    refused = ask(node, asker.voucher(2 * FEE))
    assert refused.status_code == 402
    assert refused.json()["error"] == "Uncovered"
    assert f"deposit at least {FEE // 2} more" in refused.json()["detail"]
    never = Asker.new(node.context)  # no deposit at all
    assert ask(node, never.voucher(FEE)).status_code == 402


# ---- withdrawals --------------------------------------------------------------------------------


def test_a_withdrawal_request_is_met_by_an_immediate_redemption(node):
    """The asker asks twice, then at once requests its deposit back. The next background pass
    redeems both vouchers (the daily batch is far away), vouchers are refused from then on, and
    after the delay the asker gets exactly the rest."""
    context = node.context
    asker = Asker.new(context).fund(10 * FEE)
    assert ask(node, asker.voucher(FEE)).status_code == 200
    assert ask(node, asker.voucher(2 * FEE)).status_code == 200
    unrelated = Asker.new(context).fund(10 * FEE)
    assert ask(node, unrelated.voucher(FEE)).status_code == 200
    asker.request_withdrawal()
    before = operator_balance(node)
    assert background_pass(node.services) == []
    assert asker.channel().redeemed == 2 * FEE
    assert unrelated.channel().redeemed == 0  # no hurry there: the day's batch takes it
    assert operator_balance(node) - before == 2 * FEE
    refused = ask(node, asker.voucher(3 * FEE))
    assert refused.status_code == 402
    assert refused.json()["error"] == "WithdrawalPending"
    assert channel(node, asker)["withdrawal_unlocks_at"] == asker.channel().unlocks_at
    assert asker.withdraw() == 8 * FEE


def test_a_relayed_withdrawal_needs_no_ether_and_starts_the_redemption(node):
    """The asker signs; the node sends the request (and later the withdrawal), paying the gas."""
    context = node.context
    asker = Asker.new(context).fund(4 * FEE)
    assert ask(node, asker.voucher(FEE)).status_code == 200
    deadline = context.chain.now() + 3600
    typed = node.client.get(f"/asks/withdrawals/{asker.address}", params={"deadline": deadline})
    assert typed.status_code == 200, typed.text
    assert typed.json()["message"]["nonce"] == 0
    signature = bytes(asker.signer.sign_typed_data(full_message=typed.json()).signature)
    forged = bytes(Signer.dev(os.urandom(32)).sign_typed_data(full_message=typed.json()).signature)
    url = f"/asks/withdrawals/{asker.address}"
    refused = node.client.post(url, json={"deadline": deadline, "signature": "0x" + forged.hex()})
    assert refused.status_code == 409
    assert "signature is not the asker's" in refused.json()["detail"]
    requested = node.client.post(
        url, json={"deadline": deadline, "signature": "0x" + signature.hex()}
    )
    assert requested.status_code == 200, requested.text
    assert requested.json()["redeemed"] == str(FEE)  # redeemed at once
    assert requested.json()["withdrawal_unlocks_at"] is not None
    early = node.client.post(f"{url}/complete")
    assert early.status_code == 400
    assert "unlocks at" in early.json()["detail"]
    context.chain.advance_time(DELAY + 1)
    before = asker.balance()
    done = node.client.post(f"{url}/complete")
    assert done.status_code == 200, done.text
    assert done.json()["amount"] == str(3 * FEE)
    assert asker.balance() - before == 3 * FEE


def test_the_operator_gifts_a_deposit_to_an_asker_who_holds_nothing(node):
    """Only with its credential: the node then deposits the operator's own tokens."""
    nobody = Asker.new(node.context)
    url, amount = f"/asks/deposits/{nobody.address}", {"amount": str(2 * FEE)}
    assert node.client.post(url, json=amount).status_code == 401
    wrong = {"Authorization": "Bearer x"}
    assert node.client.post(url, json=amount, headers=wrong).status_code == 403
    gifted = node.client.post(url, json=amount, headers={"Authorization": f"Bearer {TOKEN}"})
    assert gifted.status_code == 200, gifted.text
    assert gifted.json()["available"] == str(2 * FEE)
    assert nobody.balance() == 0
    assert ask(node, nobody.voucher(FEE)).status_code == 200


def test_the_node_burns_no_gas_relaying_for_an_empty_channel(node):
    """Anyone can make a key and sign a withdrawal request: the node relays only for a channel
    that holds at least one fee, so a flood of empty channels costs it nothing."""
    context = node.context
    nobody = Asker.new(context)
    deadline = context.chain.now() + 3600
    url = f"/asks/withdrawals/{nobody.address}"
    typed = node.client.get(url, params={"deadline": deadline}).json()
    signature = bytes(nobody.signer.sign_typed_data(full_message=typed).signature)
    nonce_before = context.chain.w3.eth.get_transaction_count(context.operator.address)
    request = {"deadline": deadline, "signature": "0x" + signature.hex()}
    refused = node.client.post(url, json=request)
    assert refused.status_code == 400
    assert "relays no withdrawal" in refused.json()["detail"]
    assert context.chain.w3.eth.get_transaction_count(context.operator.address) == nonce_before
    assert nobody.channel().unlocks_at == 0


def test_the_operator_cannot_redeem_more_than_was_signed(node):
    """The operator holds the asker's voucher for FEE; it cannot turn it, or a voucher it signs
    itself in the asker's name, into more."""
    context = node.context
    asker = Asker.new(context).fund(10 * FEE)
    voucher = asker.voucher(FEE)
    assert ask(node, voucher).status_code == 200
    channels = context.deployment.channels
    forged = sign_voucher(
        context.operator,
        channels_domain(context.chain.chain_id, channels.address),
        asker=context.operator.address,
        operator=context.operator.address,
        cumulative=10 * FEE,
    )
    for cumulative, signature in ((10 * FEE, voucher.signature), (10 * FEE, forged.signature)):
        with pytest.raises(ContractRevert, match="signature is not the asker's"):
            context.chain.transact(
                context.operator,
                channels.functions.redeem(asker.address, asker.operator, cumulative, signature),
            )
    node.services.asks.redeem()
    assert asker.channel().redeemed == FEE


# ---- what an epoch splits -----------------------------------------------------------------------


def test_an_epoch_splits_only_what_was_redeemed_and_each_fee_once(node):
    """Two askers pay for three answers. One asker withdraws before the node redeems its second
    voucher (the node sleeps through the whole delay), so that fee never reaches the operator:
    the epoch splits exactly the fees the two channels redeemed, and the next epoch splits
    nothing again."""
    services, context = node.services, node.context
    services.content.anchor()
    with contextlib.suppress(NothingToClose):  # what earlier tests of the module paid for
        services.payouts.close_summary()
    steady = Asker.new(context).fund(5 * FEE)
    leaver = Asker.new(context).fund(5 * FEE)
    assert ask(node, steady.voucher(FEE)).status_code == 200
    assert ask(node, leaver.voucher(FEE)).status_code == 200
    services.asks.redeem()  # the leaver's first voucher is redeemed
    assert ask(node, leaver.voucher(2 * FEE)).status_code == 200
    leaver.request_withdrawal()  # ... and the node sleeps through the delay
    assert leaver.withdraw() == 4 * FEE
    services.content.anchor()
    summary = services.payouts.close_summary()  # redeems the steady asker's voucher first
    redeemed = steady.channel().redeemed + leaver.channel().redeemed
    assert redeemed == 2 * FEE
    assert summary.receipts == 2
    assert summary.usage_total + summary.operator_total == redeemed  # never more
    with session_scope(context.db) as session:
        waiting = session.scalars(
            select(PaidReceipt.cumulative).where(
                PaidReceipt.asker == leaver.address, PaidReceipt.epoch.is_(None)
            )
        ).all()
    assert waiting == [str(2 * FEE)]
    with pytest.raises(NothingToClose):
        services.payouts.close_summary()


def test_an_asker_who_withdraws_before_any_redemption_pays_no_split(node):
    services, context = node.services, node.context
    services.content.anchor()
    with contextlib.suppress(NothingToClose):
        services.payouts.close_summary()
    asker = Asker.new(context).fund(3 * FEE)
    assert ask(node, asker.voucher(FEE)).status_code == 200
    assert ask(node, asker.voucher(2 * FEE)).status_code == 200
    asker.request_withdrawal()
    assert asker.withdraw() == 3 * FEE
    services.content.anchor()
    with pytest.raises(NothingToClose):
        services.payouts.close_summary()
    assert asker.channel().redeemed == 0
