"""Epochs end to end on the embedded chain: paid answers (an asker's vouchers, redeemed when the
epoch closes) become integer earnings per author, the cumulative root is posted and funded in
one transaction, and an author who has never held a
token or any ether is paid through a claim the node relays. Closing survives a crash at each step
without losing an epoch or paying twice."""

import os
import time
from pathlib import Path

import pytest

from aigora.app import Answers, Payouts, open_node
from aigora.content import service
from aigora.content.anchoring import anchor_all
from aigora.content.signed import content_message, sign
from aigora.core.cid import cid_of
from aigora.core.eip712 import sign_typed
from aigora.core.keystore import Keystore, Signer
from aigora.payouts import (
    CLAIM_FEE_TYPES,
    FeeAuthorization,
    NothingToClaim,
    NothingToClose,
    _epochs,
    distributor_domain,
    earnings,
    fee_authorization,
    split_fee,
)
from aigora.store import PaidReceipt
from aigora.store.db import session_scope
from tests.asks_kit import Asker

FEE = 1_000_003  # odd on purpose: remainders must land somewhere
OPERATOR_BPS = 2000
CORPUS = (
    "The Volvo XC90 seats seven people and earned top crash-test safety ratings.",
    "The Toyota Sienna minivan is the most reliable family car of the decade.",
    "The Honda Odyssey has sliding doors and room for eight passengers.",
    "Bananas are rich in potassium and easy to carry.",
    "Electric cars cost less to run but need a charger at home.",
)
QUESTIONS = ("Which car should I buy for my family?", "What fruit is easy to carry?")


class Market:
    """A node whose answers cost FEE, over content by three authors who hold nothing, and an
    asker who paid a deposit and pays each answer with a voucher."""

    def __init__(self, directory: Path, database_url: str | None = None) -> None:
        directory.mkdir(parents=True)
        database = f'\n[database]\nurl = "{database_url}"\n' if database_url else ""
        (directory / "config.toml").write_text(
            f'[answers]\nfee = "{FEE}"\n\n[payouts]\noperator_bps = {OPERATOR_BPS}\n{database}'
        )
        Keystore(directory / "keys", kdf_iterations=2**10).create("operator", "pw")
        self.context = open_node(directory, "pw")
        self.answers = Answers(self.context)
        self.payouts = Payouts(self.answers)
        self.authors = [Signer.dev(os.urandom(32)) for _ in range(3)]
        self.author_of: dict[str, str] = {}
        for i, text in enumerate(CORPUS):
            self.publish(text, self.authors[i % 3])
        self.answers.refresh()
        self.chain = self.context.chain
        self.token = self.context.deployment.token
        self.distributor = self.context.deployment.distributor
        self.asker = Asker.new(self.context).fund(100 * FEE)

    def publish(self, text: str, author: Signer) -> None:
        body, now = text.encode(), int(time.time())
        message = content_message(author.address, body, "text/plain", "CC-BY-4.0", now)
        signed = sign("content", author, self.context.domain, message)
        with session_scope(self.context.db) as session:
            service.publish(session, self.context.blobs, self.context.domain, signed, body, now)
        self.author_of[cid_of(body)] = author.address

    def answer_and_anchor(self, questions=QUESTIONS):
        documents = []
        for question in questions:
            paid = self.answers.answer(
                question, 3, by_operator=False, payment=self.asker.next_voucher()
            )
            documents.append(self.answers.receipt(paid.digest))
        context = self.context
        anchor_all(context.db, self.chain, context.deployment.registry, context.operator)
        return documents

    def balance(self, account: str) -> int:
        return self.chain.call(self.token.functions.balanceOf(account))

    def onchain_epoch(self) -> int:
        return self.chain.call(self.distributor.functions.epoch(self.context.operator.address))


@pytest.fixture
def market(tmp_path, database_url):
    """On each backend: SQLite, then a real PostgreSQL server."""
    m = Market(tmp_path / "node", database_url)
    try:
        yield m
    finally:
        m.context.close()


def expected_earnings(market: Market, documents) -> dict[str, int]:
    owed: dict[str, int] = {}
    for document in documents:
        split = split_fee(FEE, [r.score for r in document.results], OPERATOR_BPS)
        for result, amount in zip(document.results, split.passages, strict=True):
            author = market.author_of[result.cid]
            owed[author] = owed.get(author, 0) + amount
    return {a: v for a, v in owed.items() if v}


def test_fees_become_exact_earnings_and_a_funded_root(market):
    documents = market.answer_and_anchor()
    operator = market.context.operator.address
    before = market.balance(operator)
    summary = market.payouts.close_summary()
    redeemed = market.asker.channel().redeemed
    assert redeemed == FEE * len(documents)  # closing redeemed the vouchers first
    assert market.balance(operator) - before == redeemed - summary.cumulative_total
    owed = expected_earnings(market, documents)
    assert summary.number == 1
    assert summary.status == "posted"
    assert summary.receipts == len(documents)
    assert summary.usage_total == sum(owed.values())
    assert summary.usage_total + summary.operator_total == FEE * len(documents)
    assert summary.cumulative_total == summary.usage_total
    assert market.onchain_epoch() == 1
    root = market.chain.call(market.distributor.functions.root(market.context.operator.address))
    assert "0x" + bytes(root).hex() == summary.root
    assert market.balance(market.distributor.address) == summary.cumulative_total
    for author, amount in owed.items():
        lines = earnings(market.context.db, author)
        assert sum(line[3] for line in lines) == amount
        assert {line[1] for line in lines} == {"usage"}


def test_a_newcomer_with_nothing_is_paid_through_a_relayed_claim(market):
    market.answer_and_anchor()
    market.payouts.close_summary()
    owed = {a: int(v) for _, (a, v) in market.payouts.tree() if v}
    newcomer = next(iter(sorted(owed)))
    w3 = market.chain.w3
    assert w3.eth.get_balance(newcomer) == 0
    assert w3.eth.get_transaction_count(newcomer) == 0
    assert market.balance(newcomer) == 0
    result = market.payouts.claim_result(newcomer)
    assert result.paid == owed[newcomer] == market.balance(newcomer)
    assert result.relayer == result.poster == market.context.operator.address
    assert w3.eth.get_balance(newcomer) == 0  # it never needed ether
    with pytest.raises(NothingToClaim):
        market.payouts.claim_result(newcomer)


def test_a_second_epoch_pays_only_the_increase(market):
    first = expected_earnings(market, market.answer_and_anchor())
    market.payouts.close_summary()
    with pytest.raises(NothingToClose):
        market.payouts.close_summary()  # nothing new: closing again changes nothing
    assert market.onchain_epoch() == 1
    author = max(first, key=first.get)
    market.payouts.claim_result(author)
    second = expected_earnings(market, market.answer_and_anchor(QUESTIONS[:1]))
    summary = market.payouts.close_summary()
    assert summary.number == 2
    assert summary.cumulative_total == sum(first.values()) + sum(second.values())
    if second.get(author):
        assert market.payouts.claim_result(author).paid == second[author]
    assert market.balance(author) == first[author] + second.get(author, 0)


def test_a_relayer_keeps_a_fee_only_with_the_accounts_signature(market):
    """The account signs what `fee_authorization` builds (a wallet's `eth_signTypedData_v4`),
    naming this node's operator as poster and relayer; a forged fee, or the same signature made
    out to another poster's tree, is refused."""
    market.answer_and_anchor()
    market.payouts.close_summary()
    owed = {a: int(v) for _, (a, v) in market.payouts.tree() if v}
    account = max(owed, key=owed.get)
    signer = next(s for s in market.authors if s.address == account)
    operator = market.context.operator.address
    deadline = market.chain.now() + 3600
    terms = {"account": account, "cumulative": owed[account], "fee": 1000, "deadline": deadline}
    typed = fee_authorization(
        market.chain, market.distributor, poster=operator, relayer=operator, **terms
    )
    signature = bytes(signer.sign_typed_data(full_message=typed).signature)
    message = typed["message"]
    domain = distributor_domain(market.chain, market.distributor)
    assert signature == sign_typed(signer, domain, CLAIM_FEE_TYPES, "ClaimFee", message)
    elsewhere = fee_authorization(
        market.chain,
        market.distributor,
        poster=market.authors[0].address,
        relayer=operator,
        **terms,
    )
    other_tree = bytes(signer.sign_typed_data(full_message=elsewhere).signature)
    for forged in (
        FeeAuthorization(5000, deadline, signature),
        FeeAuthorization(1000, deadline, other_tree),
    ):
        with pytest.raises(Exception, match="signature is not the account's"):
            market.payouts.claim_result(account, forged)
    before = market.balance(operator)
    result = market.payouts.claim_result(account, FeeAuthorization(1000, deadline, signature))
    assert (result.poster, result.paid, result.fee) == (operator, owed[account], 1000)
    assert market.balance(account) == owed[account] - 1000
    assert market.balance(operator) - before == 1000


def test_a_crash_after_posting_neither_loses_the_epoch_nor_posts_it_twice(market, monkeypatch):
    market.answer_and_anchor()
    real = _epochs.mark_posted

    def crash(*args, **kwargs):
        raise RuntimeError("power cut after the post was mined")

    monkeypatch.setattr(_epochs, "mark_posted", crash)
    with pytest.raises(RuntimeError, match="power cut"):
        market.payouts.close_summary()
    assert market.onchain_epoch() == 1
    funded = market.balance(market.distributor.address)
    monkeypatch.setattr(_epochs, "mark_posted", real)
    summary = market.payouts.close_summary()  # finds epoch 1 on-chain with our root: records it
    assert (summary.number, summary.status, summary.tx_hash) == (1, "posted", None)
    assert market.onchain_epoch() == 1
    assert market.balance(market.distributor.address) == funded
    with pytest.raises(NothingToClose):
        market.payouts.close_summary()


def test_a_crash_while_computing_leaves_nothing_half_written(market, monkeypatch):
    market.answer_and_anchor()

    def crash(*args, **kwargs):
        raise RuntimeError("killed while writing the tree")

    monkeypatch.setattr(_epochs, "save_tree", crash)
    with pytest.raises(RuntimeError, match="killed"):
        market.payouts.close_summary()
    assert market.onchain_epoch() == 0
    with session_scope(market.context.db) as session:
        assert session.query(_epochs.Epoch).count() == 0
        assert session.query(_epochs.EpochLine).count() == 0
        assert {p.epoch for p in session.query(PaidReceipt)} == {None}  # none marked split
    monkeypatch.undo()
    summary = market.payouts.close_summary()
    assert summary.number == 1
    assert market.onchain_epoch() == 1


def test_a_crash_before_posting_is_resumed_with_the_same_root(market, monkeypatch):
    market.answer_and_anchor()

    def crash(*args, **kwargs):
        raise RuntimeError("killed before sending")

    monkeypatch.setattr(_epochs, "post_epoch", crash)
    with pytest.raises(RuntimeError, match="killed before sending"):
        market.payouts.close_summary()
    with session_scope(market.context.db) as session:
        (epoch,) = session.query(_epochs.Epoch).all()
        computed_root = epoch.root
        assert epoch.status == "computed"
    monkeypatch.undo()
    summary = market.payouts.close_summary()
    assert (summary.number, summary.root) == (1, computed_root)
    assert market.onchain_epoch() == 1
