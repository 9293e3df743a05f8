"""The node's payouts: closing epochs with its configuration, relaying claims, earnings.

The usage pool is the fees of the node's own anchored receipts; the training pool
(`[payouts] training_pool`, funded by the operator) is split by KNN-Shapley value of the
snapshot's labeled passages against a labeled validation set (`validation`, JSON lines of
`{"text": ..., "label": int}`; `item_labels`, a JSON object `{cid: label}`). The newest posted
tree is kept in memory; a claim's proof is a lookup in it by (account, cumulative amount).
"""

import json
import threading
from pathlib import Path

import numpy as np
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session
from web3.contract import Contract

from aigora.app._answers import Answers
from aigora.app._context import StoreContext
from aigora.app._labels import quality_policy, release_escrow
from aigora.core.errors import AigoraError, NotFound
from aigora.core.merkle import StandardMerkleTree
from aigora.labels import labeling_lines
from aigora.payouts import (
    TRAINING,
    ClaimResult,
    EpochSummary,
    FeeAuthorization,
    Line,
    PayoutError,
    TrainingItem,
    Validation,
    check_account,
    close_epoch,
    cumulative_of,
    earnings,
    epoch_summary,
    latest_posted,
    load_tree,
    relay_claim,
    training_split,
)
from aigora.store import ContentItem


class NoDistributor(AigoraError):
    """This node's chain has no distributor contract it knows of."""


class EpochReport(BaseModel):
    """An epoch's totals as the API answers them: amounts as decimal strings (beyond 2**53)."""

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

    @classmethod
    def of(cls, summary: EpochSummary) -> "EpochReport":
        return cls.model_validate(summary.to_json())


class ClaimReport(BaseModel):
    """A relayed claim: what was paid, to whom, and the relayer's fee."""

    account: str
    cumulative: str
    paid: str
    fee: str
    relayer: str
    tx_hash: str

    @classmethod
    def of(cls, result: ClaimResult) -> "ClaimReport":
        return cls.model_validate(result.to_json())


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


def read_validation(path: Path) -> tuple[list[str], np.ndarray]:
    """Texts and integer labels of a JSON-lines validation file."""
    texts, labels = [], []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise PayoutError(f"cannot read the validation set {path}: {exc}") from exc
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            texts.append(str(row["text"]))
            labels.append(int(row["label"]))
        except (ValueError, KeyError, TypeError) as exc:
            raise PayoutError(
                f'{path}:{number}: a line must be {{"text": str, "label": int}}'
            ) from exc
    if not texts:
        raise PayoutError(f"the validation set {path} is empty")
    return texts, np.array(labels, dtype=np.int64)


def read_item_labels(path: Path) -> dict[str, int]:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return {str(cid): int(label) for cid, label in raw.items()}
    except (OSError, ValueError, AttributeError, TypeError) as exc:
        raise PayoutError(f"{path} must be a JSON object of CID to integer label: {exc}") from exc


class Payouts:
    """Epochs and claims over an `Answers` service (which knows the snapshot and the engine)."""

    def __init__(self, answers: Answers) -> None:
        self.answers = answers
        self._lock = threading.Lock()
        self._trees: dict[str, StandardMerkleTree] = {}

    def _resolve(self, setting: str) -> Path:
        path = Path(setting).expanduser()
        return path if path.is_absolute() else self.answers.context.data_dir / path

    def training_lines(self, session: Session, _epoch: int) -> list[Line]:
        config = self.answers.context.config.payouts
        pool = int(config.training_pool)
        if pool == 0:
            return []
        if not config.validation or not config.item_labels:
            raise PayoutError("a training pool needs [payouts] validation and item_labels files")
        texts, labels = read_validation(self._resolve(config.validation))
        item_labels = read_item_labels(self._resolve(config.item_labels))
        snapshot, _ = self.answers.current()
        labeled = [cid for cid in snapshot.cids if cid in item_labels]
        rows = session.execute(
            select(ContentItem.cid, ContentItem.author, ContentItem.created_at).where(
                ContentItem.cid.in_(labeled)
            )
        )
        published = sorted(rows, key=lambda row: (row[2], row[0]))
        items = [
            TrainingItem(
                cid,
                author,
                item_labels[cid],
                snapshot.embeddings[snapshot.positions[cid]],
            )
            for cid, author, _ in published
        ]
        validation = Validation(self.answers.bulk_encoder().embed(texts), labels)
        split = training_split(pool, items, validation, config.k, config.duplicate_threshold)
        return [Line(item.author, item.cid, TRAINING, amount) for item, amount in split]

    def close(self) -> EpochReport:
        """Close the next epoch (or finish posting one an interrupted run left computed)."""
        return EpochReport.of(self.close_summary())

    def close_summary(self) -> EpochSummary:
        context = self.answers.context
        with self._lock:
            return close_epoch(
                context.db,
                context.chain,
                _distributor(self.answers),
                context.deployment.token,
                context.operator,
                context.data_dir,
                context.config.payouts.operator_bps,
                (self.training_lines, self.labeling_lines),
                self.release_escrow,
            )

    def labeling_lines(self, session: Session, epoch: int) -> list[Line]:
        """Accepted labels not yet paid (see `aigora.labels`); none without a bounties contract."""
        if self.answers.context.deployment.bounties is None:
            return []
        context = self.answers.context
        return labeling_lines(session, epoch, quality_policy(context), context.chain.now())

    def release_escrow(self, epoch: int) -> None:
        if self.answers.context.deployment.bounties is not None:
            release_escrow(self.answers.context, epoch)

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
        return EpochReport.of(epoch_summary(self.answers.context.db, number))

    def earnings(self, account: str) -> Earnings:
        return earnings_of(self.answers.context, account)

    def claim(self, account: str, authorization: FeeAuthorization | None = None) -> ClaimReport:
        """Relay `account`'s claim from the newest posted tree, the node paying the gas."""
        return ClaimReport.of(self.claim_result(check_account(account), authorization))

    def claim_result(
        self, account: str, authorization: FeeAuthorization | None = None
    ) -> ClaimResult:
        context = self.answers.context
        number, tree = self._posted()
        leaf = cumulative_of(context.db, number, account)
        if leaf is None:
            raise NotFound(f"{account} has earned nothing in the posted epochs")
        return relay_claim(
            context.chain,
            _distributor(self.answers),
            context.operator,
            tree,
            *leaf,
            authorization,
        )
