"""Issue 16, scenario 5: one late epoch must not freeze all payouts.

On the embedded chain, a node whose answers cost a fee (so authors earn) runs labeling jobs for
two requesters. The first epoch that pays a job's accepted labels closes after the job's release
grace. Played end to end:

- a late epoch still pays the job's labelers when the requester has not refunded: the escrow
  can be released until the refund, and the refund then takes only what is left;
- a requester who refunds first takes the unreleased pay back: that job alone is left out of
  the epoch (its labelers are not in the tree, not marked paid, the reason is in the report and
  over HTTP), while the authors and the other job's labelers are paid and claim, and the next
  epoch closes too;
- the node releases an ended job's escrow on its anchoring interval, before the requester may
  refund: the refund then cannot take what the labelers are owed;
- a crash at each new step (after a release reverts, between sending a release and recording
  it, after the post was mined) neither pays twice nor marks anyone paid without the money.
"""

import os
import time

import numpy as np
import pytest
from sqlalchemy import select

import aigora.app._labels as app_labels
from aigora.app import escrow_state
from aigora.content import service
from aigora.content.anchoring import anchor_all
from aigora.content.signed import content_message, sign
from aigora.core.keystore import Signer
from aigora.labels import record_failure, reserve_labeling
from aigora.payouts import _epochs, earnings
from aigora.store.db import session_scope
from aigora.store.label_models import LabelAnswer, LabelItem, LabelRelease
from tests.asks_kit import Asker
from tests.operator import operator_client

from .test_market import PRICE, Marketplace, dev_signer

FEE = 1_000_003
GRACE = 7 * 24 * 3600
JOB_LENGTH = 3600  # Marketplace.spec ends every job an hour after it is made
CORPUS = (
    "The Volvo XC90 seats seven people and earned top crash-test safety ratings.",
    "Bananas are rich in potassium and easy to carry.",
    "Electric cars cost less to run but need a charger at home.",
)


class PaidMarket(Marketplace):
    """A labeling marketplace whose node also sells answers over content by two authors."""

    def __init__(self, directory) -> None:
        super().__init__(directory, f'\n[answers]\nfee = "{FEE}"\n')
        self.answers = self.payouts.answers
        self.distributor = self.context.deployment.distributor
        self.authors = [Signer.dev(os.urandom(32)) for _ in range(2)]
        for i, text in enumerate(CORPUS):
            self.publish(text, self.authors[i % 2])
        self.answers.refresh()
        self.other_requester = self.chain.dev_signers()[4]
        self.chain.transact(
            self.context.operator,
            self.token.functions.transfer(self.other_requester.address, 10**21),
        )

    def publish(self, text: str, author: Signer) -> None:
        body, now = text.encode(), int(time.time())
        message = content_message(author.address, body, "text/plain", "CC-BY-4.0", now)
        signed = sign("content", author, self.context.domain, message)
        with session_scope(self.context.db) as session:
            service.publish(session, self.context.blobs, self.context.domain, signed, body, now)

    def sell_answers(self) -> None:
        """Two answers an asker pays for with vouchers (the epoch redeems them first)."""
        asker = Asker.new(self.context).fund(2 * FEE)
        for question in ("Which car is safe?", "What fruit is easy to carry?"):
            self.answers.answer(question, 2, by_operator=False, payment=asker.next_voucher())
        context = self.context
        anchor_all(context.db, self.chain, context.deployment.registry, context.operator)

    def job_with_work(self, seed: int, requester, workers: int = 4) -> tuple[str, list[Signer]]:
        """A funded job answered right by `workers` labelers, who hold nothing (three fill its
        overlap)."""
        rng = np.random.default_rng(seed)
        spec, truth = self.spec(rng)
        spec["title"] = f"topic of a passage ({seed})"  # a distinct job id per seed
        job_id = self.post_and_fund(spec, requester)
        labelers = [dev_signer(f"job {seed} worker {i}") for i in range(workers)]
        for labeler in labelers:
            self.work(
                labeler, lambda task: truth[self.index_of(task)] if task.job_id == job_id else 0
            )
        return job_id, labelers

    def refund(self, requester, job_id: str) -> int:
        before = self.balance(requester.address)
        self.chain.transact(requester, self.bounties.functions.refund(bytes.fromhex(job_id[2:])))
        return self.balance(requester.address) - before

    def earned(self, account: str) -> int:
        return sum(line[3] for line in earnings(self.context.db, account))

    def paid_answers(self, job_id: str) -> list[int | None]:
        with session_scope(self.context.db) as session:
            return list(
                session.scalars(
                    select(LabelAnswer.paid_epoch)
                    .join(LabelItem, LabelItem.id == LabelAnswer.item_id)
                    .where(LabelItem.job_id == job_id, LabelItem.gold.is_(None))
                )
            )


@pytest.fixture
def market(tmp_path):
    m = PaidMarket(tmp_path / "node")
    try:
        yield m
    finally:
        m.context.close()


def test_a_late_first_epoch_still_pays_the_labelers_when_nobody_refunded(market):
    job_id, labelers = market.job_with_work(1, market.requester, workers=2)  # some escrow left
    market.sell_answers()
    market.chain.advance_time(JOB_LENGTH + GRACE + 3600)  # the first paying epoch is late
    summary = market.payouts.close_summary()
    assert summary.status == "posted"
    assert summary.labeling_total > 0
    assert market.payouts.show(summary.number).left_out == []
    state = escrow_state(market.context, job_id)
    assert state.released == summary.labeling_total
    assert all(epoch == summary.number for epoch in market.paid_answers(job_id) if epoch)
    labeler = max(labelers, key=lambda s: market.earned(s.address))
    owed = market.earned(labeler.address)
    assert (
        market.payouts.claim_result(labeler.address).paid == owed == market.balance(labeler.address)
    )
    # The refund now takes only what was not released: the labelers' pay is gone from escrow.
    assert market.refund(market.requester, job_id) == state.escrowed - state.released
    final = escrow_state(market.context, job_id)
    assert final.released + final.refunded == final.escrowed
    assert market.balance(market.bounties.address) == 0


def test_a_refunded_job_is_left_out_and_nobody_else_waits(market):
    refunded_job, cheated = market.job_with_work(2, market.requester)
    fair_job, others = market.job_with_work(3, market.other_requester)
    market.sell_answers()
    market.chain.advance_time(JOB_LENGTH + GRACE + 1)
    escrowed = escrow_state(market.context, refunded_job).escrowed
    # The requester refunds before the late epoch: it takes back the whole escrow, including
    # the pay of work the node accepted but had not released (stated in docs/labeling.md).
    assert market.refund(market.requester, refunded_job) == escrowed

    summary = market.payouts.close_summary()
    assert (summary.number, summary.status) == (1, "posted")
    operator = market.context.operator.address
    assert market.chain.call(market.distributor.functions.epoch(operator)) == 1
    report = market.payouts.show(1)
    (left,) = report.left_out
    assert left.job_id == refunded_job
    assert left.forfeited is True
    assert "the requester refunded the escrow" in left.reason
    assert int(left.amount) > 0
    # The cheated job's labelers are not in the tree and are not marked paid.
    tree_accounts = {a.lower() for _, (a, _v) in market.payouts.tree()}
    for labeler in cheated:
        assert earnings(market.context.db, labeler.address) == []
        assert labeler.address.lower() not in tree_accounts
    assert set(market.paid_answers(refunded_job)) == {None}
    # Everyone else is paid: the other job's labelers and the authors, in a funded root.
    fair = escrow_state(market.context, fair_job).released
    assert fair == summary.labeling_total == sum(market.earned(s.address) for s in others) > 0
    assert summary.usage_total > 0
    assert market.balance(market.distributor.address) == summary.cumulative_total
    for account in [others[0].address, *(a.address for a in market.authors)]:
        owed = market.earned(account)
        if owed:
            assert market.payouts.claim_result(account).paid == owed == market.balance(account)
    assert {market.earned(a.address) > 0 for a in market.authors} == {True}
    # Over HTTP the report says the same.
    body = operator_client(market.context, market.answers).get("/epochs/1").json()
    assert body["left_out"] == [left.model_dump()]

    # The next epoch closes as well, and does not try the forfeited job again.
    market.sell_answers()
    second = market.payouts.close_summary()
    assert (second.number, second.status) == (2, "posted")
    assert market.payouts.show(2).left_out == []
    with session_scope(market.context.db) as session:
        assert session.query(LabelRelease).filter_by(job_id=refunded_job).count() == 1


def test_escrow_released_when_the_job_ends_cannot_be_refunded(market):
    job_id, labelers = market.job_with_work(4, market.requester, workers=2)
    market.payouts.release_ended()  # the job is still running: nothing is final yet
    assert escrow_state(market.context, job_id).released == 0
    market.chain.advance_time(JOB_LENGTH + 1)
    market.payouts.release_ended()  # what the node's anchoring loop does once the job ended
    owed = escrow_state(market.context, job_id).released
    assert owed > 0
    assert owed % PRICE == 0
    market.chain.advance_time(GRACE)
    state = escrow_state(market.context, job_id)
    assert market.refund(market.requester, job_id) == state.escrowed - owed
    market.sell_answers()
    summary = market.payouts.close_summary()  # late, and after the refund
    assert summary.labeling_total == owed
    assert market.payouts.show(summary.number).left_out == []
    assert sum(market.earned(s.address) for s in labelers) == owed
    assert set(market.paid_answers(job_id)) <= {summary.number, None}
    assert market.paid_answers(job_id).count(summary.number) == owed // PRICE
    labeler = max(labelers, key=lambda s: market.earned(s.address))
    assert market.payouts.claim_result(labeler.address).paid == market.earned(labeler.address)


def test_crashes_around_a_failing_release_never_pay_twice_or_early(market, monkeypatch):
    refunded_job, cheated = market.job_with_work(5, market.requester)
    fair_job, others = market.job_with_work(6, market.other_requester)
    market.sell_answers()
    market.chain.advance_time(JOB_LENGTH + GRACE + 1)
    market.refund(market.requester, refunded_job)

    # 1. Killed after the refunded job's release reverted and the fair job's was sent, before
    #    the fair job's release was recorded and before anything was computed.
    real_record = app_labels.record_release
    monkeypatch.setattr(app_labels, "record_release", _crash("killed after sending"))
    with pytest.raises(RuntimeError, match="killed after sending"):
        market.payouts.close_summary()
    released = escrow_state(market.context, fair_job).released
    assert released > 0
    with session_scope(market.context.db) as session:
        assert session.query(_epochs.Epoch).count() == 0
    assert set(market.paid_answers(fair_job)) == {None}
    monkeypatch.setattr(app_labels, "record_release", real_record)

    # 2. Killed after the root was posted, before it was recorded: nobody is marked paid yet.
    real_mark = _epochs.mark_posted
    monkeypatch.setattr(_epochs, "mark_posted", _crash("killed after posting"))
    with pytest.raises(RuntimeError, match="killed after posting"):
        market.payouts.close_summary()
    assert escrow_state(market.context, fair_job).released == released  # not released twice
    assert set(market.paid_answers(fair_job)) == {None}
    with session_scope(market.context.db) as session:
        (release,) = session.query(LabelRelease).filter_by(job_id=fair_job).all()
        assert release.tx_hash == "recovered"
    monkeypatch.setattr(_epochs, "mark_posted", real_mark)

    summary = market.payouts.close_summary()  # finds the post on-chain and records it
    assert (summary.number, summary.status) == (1, "posted")
    assert summary.labeling_total == released == sum(market.earned(s.address) for s in others)
    assert market.paid_answers(fair_job).count(1) == released // PRICE
    assert set(market.paid_answers(refunded_job)) == {None}
    assert all(market.earned(s.address) == 0 for s in cheated)
    (left,) = market.payouts.show(1).left_out
    assert (left.job_id, left.forfeited) == (refunded_job, True)
    assert market.balance(market.distributor.address) == summary.cumulative_total
    assert escrow_state(market.context, fair_job).released == released


def test_a_release_that_reverts_for_another_reason_stays_owed_and_is_retried(market):
    """A failure that is not a refund leaves the answers owed: reserved again by the next try
    and paid once the release goes through."""
    job_id, labelers = market.job_with_work(7, market.requester)
    with session_scope(market.context.db) as session:
        policy, now = app_labels.quality_policy(market.context), market.chain.now()
        assert reserve_labeling(session, 1, policy, now=now) == 1
        (row,) = session.query(LabelRelease).all()
        reserved = int(row.amount)
        record_failure(session, row.id, "a transient revert", forfeited=False)
    assert set(market.paid_answers(job_id)) == {None}
    with session_scope(market.context.db) as session:
        (row,) = session.query(LabelRelease).all()
        assert row.failure == "a transient revert"
        assert session.query(LabelAnswer).filter(LabelAnswer.release_id.is_not(None)).count() == 0
    summary = market.payouts.close_summary()  # epoch 1 tries the job again: it is released
    assert summary.labeling_total == reserved == escrow_state(market.context, job_id).released
    assert market.payouts.show(1).left_out == []
    assert sum(market.earned(s.address) for s in labelers) == reserved


def _crash(message: str):
    def crash(*args, **kwargs):
        raise RuntimeError(message)

    return crash
