"""The node's payouts: closing epochs with its configuration, relaying claims, earnings.

The usage pool is the fees of the node's own anchored paid receipts whose vouchers are redeemed
on-chain: closing redeems every accepted voucher first, then reads each channel's redeemed
amount, and a paid receipt whose voucher is still unredeemed (its asker withdrew first, or the
redemption failed) waits for a later epoch; so the fees split in an epoch are the fees the
operator actually received, never more. The training pool
(`[payouts] training_pool`, funded by the operator) is split by KNN-Shapley value of the
snapshot's labeled passages against a labeled validation set (`validation`, JSON lines of
`{"text": ..., "label": int}`; `item_labels`, a JSON object `{cid: label}`). The newest posted
tree is kept in memory; a claim's proof is a lookup in it by (account, cumulative amount).

Labelers are paid from `Bounties` escrow: before an epoch is computed, each job's accepted
answers are reserved and released job by job (`prepare_labeling`); a job whose release reverts
is left out of that epoch, with the reason shown in its `EpochReport.left_out`, and the epoch is
posted for everyone else. The node also releases escrow for jobs that have ended on its
anchoring interval (`release_ended`), so a late epoch finds the money already released.
"""

import json
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session
from web3.contract import Contract

from aigora.app._answers import Answers
from aigora.app._asks import Asks
from aigora.app._context import StoreContext
from aigora.app._games import log_failure
from aigora.app._labels import prepare_labeling
from aigora.core.eip712 import with_decimal_integers
from aigora.core.errors import AigoraError, NotFound
from aigora.core.merkle import StandardMerkleTree
from aigora.index import AdmissionPolicy, candidates
from aigora.labels import LeftOut, labeling_lines, left_out, mark_labels_paid
from aigora.payouts import (
    TRAINING,
    ClaimResult,
    EpochSummary,
    FeeAuthorization,
    Line,
    NothingToClose,
    PayoutError,
    TrainingItem,
    Validation,
    check_account,
    claimable_now,
    close_epoch,
    cumulative_of,
    earnings,
    epoch_summary,
    fee_authorization,
    latest_posted,
    load_tree,
    next_epoch,
    relay_claim,
    training_split,
)
from aigora.store import ContentItem, PaidReceipt, session_scope

log = logging.getLogger("aigora.node")


class NoDistributor(AigoraError):
    """This node's chain has no distributor contract it knows of."""


class LeftOutJob(BaseModel):
    """A labeling job whose escrow release for the epoch reverted: its labelers' `amount` is not
    in the epoch's tree. `forfeited`: the requester refunded the escrow first, so that work is
    never paid; otherwise it stays owed and is tried again at the next epoch."""

    job_id: str
    amount: str
    reason: str
    forfeited: bool

    @classmethod
    def of(cls, job: LeftOut) -> "LeftOutJob":
        return cls(
            job_id=job.job_id, amount=str(job.amount), reason=job.reason, forfeited=job.forfeited
        )


class EpochReport(BaseModel):
    """An epoch's totals as the API answers them: amounts as decimal strings (beyond 2**53),
    and the labeling jobs left out of it because their escrow release reverted."""

    number: int
    status: str
    receipts: int
    usage_total: str
    operator_total: str
    training_total: str
    labeling_total: str
    cumulative_total: str
    accounts: int
    root: str
    tx_hash: str | None
    left_out: list[LeftOutJob] = []

    @classmethod
    def of(cls, summary: EpochSummary, left: Sequence[LeftOut] = ()) -> "EpochReport":
        report = cls.model_validate(summary.to_json())
        return report.model_copy(update={"left_out": [LeftOutJob.of(x) for x in left]})


class ClaimReport(BaseModel):
    """A relayed claim: what was paid, to whom, out of which poster's tree (this node's
    operator's), and the relayer's fee."""

    poster: str
    account: str
    cumulative: str
    paid: str
    fee: str
    relayer: str
    tx_hash: str

    @classmethod
    def of(cls, result: ClaimResult) -> "ClaimReport":
        return cls.model_validate(result.to_json())


FEE_DEADLINE_S = 900
"""How long a relayer fee the node offers stays signable (chain seconds)."""


class FeeTerms(BaseModel):
    """What an account signs (`eth_signTypedData_v4` of `typed_data`, EIP-712 `ClaimFee`) to
    have this node send its claim and keep `fee`: the poster's tree is this node's, the relayer
    its operator. Amounts are decimal strings, in `typed_data` too (they exceed 2**53)."""

    account: str
    poster: str
    relayer: str
    cumulative: str
    due: str
    fee: str
    deadline: int
    typed_data: dict[str, Any]


class EarningLine(BaseModel):
    epoch: int
    source: str
    cid: str
    amount: str
    status: str


class Earnings(BaseModel):
    """Every line an account earned, oldest epoch first, and their sum."""

    account: str
    total: str
    lines: list[EarningLine]

    def per_epoch(self) -> dict[int, int]:
        totals: dict[int, int] = {}
        for line in self.lines:
            totals[line.epoch] = totals.get(line.epoch, 0) + int(line.amount)
        return totals


def earnings_of(context: StoreContext, account: str) -> Earnings:
    """Every line `account` earned: epoch, source (usage, training, labeling), item, amount (the
    store alone: safe beside a running node)."""
    lines = earnings(context.db, check_account(account))
    return Earnings(
        account=account,
        total=str(sum(amount for _, _, _, amount, _ in lines)),
        lines=[
            EarningLine(epoch=e, source=s, cid=c, amount=str(a), status=st)
            for e, s, c, a, st in lines
        ],
    )


def _distributor(answers: Answers) -> Contract:
    distributor = answers.context.deployment.distributor
    if distributor is None:
        raise NoDistributor("no distributor contract is deployed for this node")
    return distributor


def parse_validation(data: bytes, where: str) -> tuple[list[str], np.ndarray]:
    """Texts and integer labels of a JSON-lines validation set (`where` names it in errors)."""
    texts, labels = [], []
    try:
        lines = data.decode("utf-8").splitlines()
    except UnicodeDecodeError as exc:
        raise PayoutError(f"the validation set {where} is not UTF-8: {exc}") from exc
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            texts.append(str(row["text"]))
            labels.append(int(row["label"]))
        except (ValueError, KeyError, TypeError) as exc:
            raise PayoutError(
                f'{where}:{number}: a line must be {{"text": str, "label": int}}'
            ) from exc
    if not texts:
        raise PayoutError(f"the validation set {where} is empty")
    return texts, np.array(labels, dtype=np.int64)


def parse_item_labels(data: bytes, where: str) -> dict[str, int]:
    try:
        raw = json.loads(data.decode("utf-8"))
        return {str(cid): int(label) for cid, label in raw.items()}
    except (ValueError, AttributeError, TypeError) as exc:
        raise PayoutError(f"{where} must be a JSON object of CID to integer label: {exc}") from exc


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise PayoutError(f"cannot read the {what} {path}: {exc}") from exc


def read_validation(path: Path) -> tuple[list[str], np.ndarray]:
    """Texts and integer labels of a JSON-lines validation file."""
    return parse_validation(_read(path, "validation set"), str(path))


def read_item_labels(path: Path) -> dict[str, int]:
    return parse_item_labels(_read(path, "item labels"), str(path))


@dataclass(frozen=True)
class Objectives:
    """What an epoch pays for: the training pool with its validation set and item labels, `k`,
    the duplicate threshold, and the operator's share of fees."""

    pool: int
    k: int
    duplicate_threshold: int
    operator_bps: int
    validation: tuple[list[str], np.ndarray] | None
    item_labels: dict[str, int] | None


class Payouts:
    """Epochs and claims over an `Answers` service (which knows the snapshot and the engine)."""

    def __init__(self, answers: Answers, asks: Asks | None = None) -> None:
        self.answers = answers
        self.asks = asks or Asks(answers.context)
        self._lock = threading.Lock()
        self._trees: dict[str, StandardMerkleTree] = {}

    def _resolve(self, setting: str) -> Path:
        path = Path(setting).expanduser()
        return path if path.is_absolute() else self.answers.context.data_dir / path

    def objectives(self) -> Objectives:
        """In a network, the policy in force's objectives (the validation set and item labels
        are content by CID, the operator's share its configured one up to the policy's cap);
        else `[payouts]`."""
        context = self.answers.context
        config = context.config.payouts
        if context.network is not None:
            _, policy = self.answers.governance.in_force()
            goals = policy.objectives
            pool = int(goals.training_pool)
            validation = labels = None
            if pool:
                if goals.validation is None or goals.item_labels is None:
                    raise PayoutError("the policy's training pool names no validation set")
                validation = parse_validation(self._blob(goals.validation), goals.validation)
                labels = parse_item_labels(self._blob(goals.item_labels), goals.item_labels)
            return Objectives(
                pool=pool,
                k=goals.k,
                duplicate_threshold=goals.duplicate_threshold,
                operator_bps=min(config.operator_bps, goals.max_operator_bps),
                validation=validation,
                item_labels=labels,
            )
        pool = int(config.training_pool)
        validation = labels = None
        if pool:
            if not config.validation or not config.item_labels:
                raise PayoutError(
                    "a training pool needs [payouts] validation and item_labels files"
                )
            validation = read_validation(self._resolve(config.validation))
            labels = read_item_labels(self._resolve(config.item_labels))
        return Objectives(
            pool=pool,
            k=config.k,
            duplicate_threshold=config.duplicate_threshold,
            operator_bps=config.operator_bps,
            validation=validation,
            item_labels=labels,
        )

    def _blob(self, cid: str) -> bytes:
        blobs = self.answers.context.blobs
        if not blobs.has(cid):
            raise PayoutError(
                f"the policy's objective {cid} is not on this node yet: it arrives with the "
                "batch that anchored it (`aigora network sync`)"
            )
        return blobs.get(cid)

    def training_lines(self, goals: Objectives, session: Session, _epoch: int) -> list[Line]:
        """The training pool split by KNN-Shapley value of the snapshot's labeled passages."""
        if goals.pool == 0 or goals.validation is None or goals.item_labels is None:
            return []
        texts, labels = goals.validation
        item_labels = goals.item_labels
        pool = goals.pool
        snapshot, _ = self.answers.current()
        labeled = {p.cid for p in snapshot.passages if p.cid in item_labels}
        anchored = AdmissionPolicy(anchored_only=self.answers.context.network is not None)
        order = {c.cid: c.published for c in candidates(session, anchored)}
        authors = dict(
            session.execute(
                select(ContentItem.cid, ContentItem.author).where(ContentItem.cid.in_(labeled))
            ).all()
        )
        passages = sorted(
            (i for i, p in enumerate(snapshot.passages) if p.cid in authors and p.cid in order),
            key=lambda i: (order[snapshot.passages[i].cid], snapshot.passages[i].index),
        )
        items = [
            TrainingItem(
                snapshot.passages[i].cid,
                authors[snapshot.passages[i].cid],
                item_labels[snapshot.passages[i].cid],
                snapshot.embeddings[i],
                key=snapshot.passages[i].key,
            )
            for i in passages
        ]
        validation = Validation(self.answers.bulk_encoder().embed(texts), labels)
        split = training_split(pool, items, validation, goals.k, goals.duplicate_threshold)
        return [Line(item.author, item.cid, TRAINING, amount) for item, amount in split]

    def close(self) -> EpochReport:
        """Close the next epoch (or finish posting one an interrupted run left computed)."""
        summary = self.close_summary()
        return EpochReport.of(summary, self._left_out(summary.number))

    def close_summary(self) -> EpochSummary:
        context = self.answers.context
        with self._lock:
            goals = self.objectives()
            redeemed = self._redeemed()
            try:
                return close_epoch(
                    context.db,
                    context.chain,
                    _distributor(self.answers),
                    context.deployment.token,
                    context.operator,
                    context.data_dir,
                    goals.operator_bps,
                    sources=(partial(self.training_lines, goals), labeling_lines),
                    prepare=self._prepare_labeling,
                    on_posted=mark_labels_paid,
                    redeemed=redeemed,
                )
            except NothingToClose as exc:
                left = self._left_out(next_epoch(context.db))
                if not left:
                    raise
                jobs = "; ".join(f"job {x.job_id}: {x.reason}" for x in left)
                raise NothingToClose(f"{exc}; labeling releases that reverted: {jobs}") from None

    def _redeemed(self) -> dict[tuple[str, str, str], int]:
        """Redeem every accepted voucher, then read the redeemed amount of each channel with a
        paid receipt no epoch has split yet. A redemption that fails is logged and the epoch
        goes on with what the channels had already redeemed."""
        context = self.answers.context
        channels = context.deployment.channels
        if channels is None:
            return {}
        try:
            self.asks.redeem()
        except AigoraError as exc:
            log_failure(log, "redeeming vouchers before closing the epoch", exc)
        operator = context.operator.address
        with session_scope(context.db) as session:
            askers = set(
                session.scalars(
                    select(PaidReceipt.asker).where(
                        PaidReceipt.epoch.is_(None),
                        PaidReceipt.channels_address == channels.address,
                        PaidReceipt.operator == operator,
                    )
                )
            )
        return {
            (channels.address, asker, operator): redeemed
            for asker, redeemed in self.asks.redeemed(askers).items()
        }

    def _prepare_labeling(self, epoch: int) -> None:
        """Release labeling escrow for what epoch `epoch` pays (no bounties contract: nothing)."""
        if self.answers.context.deployment.bounties is not None:
            prepare_labeling(self.answers.context, epoch)

    def release_ended(self) -> None:
        """Release the escrow that jobs which have ended owe their accepted labelers, for the
        next epoch, without waiting for it to close (the node runs this on its anchoring
        interval): the requester cannot refund money already released."""
        if self.answers.context.deployment.bounties is None:
            return
        with self._lock:
            prepare_labeling(
                self.answers.context, next_epoch(self.answers.context.db), ended_only=True
            )

    def _left_out(self, number: int) -> list[LeftOut]:
        with session_scope(self.answers.context.db) as session:
            return left_out(session, number)

    def tree(self) -> StandardMerkleTree:
        """The newest posted epoch's tree (loaded once per root)."""
        return self._posted()[1]

    def _posted(self) -> tuple[int, StandardMerkleTree]:
        posted = latest_posted(self.answers.context.db)
        if posted is None:
            raise NotFound("no payout epoch has been posted yet")
        number, root, relative = posted
        with self._lock:
            if root not in self._trees:  # only the newest tree is kept: they can be large
                self._trees = {root: load_tree(self.answers.context.data_dir / relative, root)}
            return number, self._trees[root]

    def show(self, number: int) -> EpochReport:
        return EpochReport.of(
            epoch_summary(self.answers.context.db, number), self._left_out(number)
        )

    def earnings(self, account: str) -> Earnings:
        return earnings_of(self.answers.context, account)

    def claim(self, account: str, authorization: FeeAuthorization | None = None) -> ClaimReport:
        """Relay `account`'s claim from this node's newest posted tree (the shared distributor's
        tree of poster = the operator), the node paying the gas."""
        return ClaimReport.of(self.claim_result(check_account(account), authorization))

    def fee_terms(self, account: str) -> FeeTerms:
        """The `ClaimFee` typed data for `account`'s claim from the newest posted tree: the fee
        is `[payouts] relay_fee`, at most what the claim pays now; good for `FEE_DEADLINE_S`."""
        context = self.answers.context
        tree, recorded, cumulative = self._leaf(check_account(account))
        poster = context.operator.address
        distributor = _distributor(self.answers)
        due = claimable_now(
            context.chain,
            distributor,
            tree,
            poster=poster,
            account=recorded,
            cumulative=cumulative,
        )
        fee = min(int(context.config.payouts.relay_fee), due)
        deadline = context.chain.now() + FEE_DEADLINE_S
        typed = fee_authorization(
            context.chain,
            distributor,
            poster=poster,
            account=recorded,
            cumulative=cumulative,
            fee=fee,
            relayer=poster,
            deadline=deadline,
        )
        typed = with_decimal_integers(typed)
        return FeeTerms(
            account=recorded,
            poster=poster,
            relayer=poster,
            cumulative=str(cumulative),
            due=str(due),
            fee=str(fee),
            deadline=deadline,
            typed_data=typed,
        )

    def _leaf(self, account: str) -> tuple[StandardMerkleTree, str, int]:
        """The newest posted tree and `account`'s leaf in it (the address as recorded)."""
        number, tree = self._posted()
        leaf = cumulative_of(self.answers.context.db, number, account)
        if leaf is None:
            raise NotFound(f"{account} has earned nothing in the posted epochs")
        recorded, cumulative = leaf
        return tree, recorded, cumulative

    def claim_result(
        self, account: str, authorization: FeeAuthorization | None = None
    ) -> ClaimResult:
        context = self.answers.context
        tree, recorded, cumulative = self._leaf(account)
        return relay_claim(
            context.chain,
            _distributor(self.answers),
            context.operator,
            tree,
            poster=context.operator.address,
            account=recorded,
            cumulative=cumulative,
            authorization=authorization,
        )
