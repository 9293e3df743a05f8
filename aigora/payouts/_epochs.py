"""Closing a payout epoch: earnings per item and account, a cumulative tree, one posted root.

`close_epoch` runs idempotent steps, each safe to crash in:

0. **prepare** (optional, the caller's): e.g. releasing labeling escrow for what epoch N will
   pay, so that a line from an outside source enters the tree only once its money is on hand;
   a source that fails there (a release that reverts) is left out of the epoch by that source,
   never holding up the epoch for everyone else.
1. **compute** (one database transaction): every paid receipt that is anchored, whose voucher
   the channel has redeemed on-chain (its cumulative <= the channel's `redeemed`, read before
   the transaction: it only grows) and that no epoch has split yet, has its fee split
   (`split_fee`) among the passages it returned, and is marked split by this epoch. A paid
   receipt whose voucher is not redeemed waits for a later epoch (never, if its asker withdrew
   first and deposits no more), so the fees split are the fees actually redeemed, never more,
   and never twice; a receipt without a voucher charged nothing and splits nothing. The
   optional training pool is split by KNN-Shapley value (`training_lines`); lines are summed
   per account and added to the previous cumulative balances; the tree is written to
   `<data>/payouts/epoch-N-<root>.json`, then the epoch row (`computed`), its lines and
   balances and the receipts' marks are committed together. A crash before the commit leaves
   nothing (the next run computes the same epoch again); a stray tree file is harmless.
2. **post**: the distributor is shared by every node of a network, each poster (the node's
   operator, the signer that posts) with a tree of its own. If the signer's tree there already
   holds epoch N (a crash after sending, before recording), its root must be ours and the epoch
   is marked `posted`; otherwise the increase of the signer's cumulative total is approved and
   `post_epoch` sends root and total in one transaction, which also pulls the funds. The
   contract refuses a second post of epoch N, so nothing is paid twice.
   `on_posted(session, N)` runs in the transaction that marks the epoch posted: a source marks
   what it paid as paid there, once its money is in the distributor.

A computed epoch must be posted before another is computed: a run finds it and posts it first.
"""

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from web3.contract import Contract

from aigora.chain import Chain
from aigora.chain.client import TxSigner
from aigora.core.errors import AigoraError, NotFound
from aigora.payouts._split import PayoutError, split_fee
from aigora.payouts._tree import payout_tree, save_tree
from aigora.store.answer_models import ReceiptRecord
from aigora.store.ask_models import PaidReceipt
from aigora.store.content_models import ContentItem
from aigora.store.db import session_scope
from aigora.store.models import Anchor
from aigora.store.payout_models import Epoch, EpochBalance, EpochLine
from aigora.verify import loads_document

COMPUTED = "computed"
POSTED = "posted"
USAGE = "usage"
TRAINING = "training"
LABELING = "labeling"


class NothingToClose(AigoraError):
    """No paid receipt was redeemed and anchored, and no other source pays, since the last
    epoch."""


@dataclass(frozen=True)
class Line:
    """`amount` base units earned by `account` from item `cid` (usage or training)."""

    account: str
    cid: str
    source: str
    amount: int


@dataclass(frozen=True)
class EpochSummary:
    number: int
    status: str
    receipts: int
    usage_total: int
    operator_total: int
    training_total: int
    labeling_total: int
    cumulative_total: int
    accounts: int
    root: str
    tx_hash: str | None

    def to_json(self) -> dict[str, Any]:
        """As the API answers it: amounts as decimal strings (they exceed 2**53)."""
        out = dict(self.__dict__)
        for key in out:
            if key.endswith("_total"):
                out[key] = str(out[key])
        return out


LineSource = Callable[[Session, int], list[Line]]
"""More lines for epoch N beyond usage (the training pool, accepted labels), computed in the
epoch's transaction."""

OnPosted = Callable[[Session, int], None]
"""Runs in the transaction that marks epoch N posted (e.g. marking labels paid)."""


Redeemed = Mapping[tuple[str, str, str], int]
"""The on-chain `redeemed` amount of each channel, by (channels contract, asker, operator): what
an epoch may split of the paid receipts in it."""


def splittable_receipts(
    session: Session, last_anchor: int, redeemed: Redeemed
) -> list[tuple[PaidReceipt, ReceiptRecord]]:
    """The paid receipts no epoch has split yet, anchored at or before `last_anchor`, whose
    voucher's cumulative amount the channel has redeemed on-chain: their fees are in the
    operator's hands."""
    rows = session.execute(
        select(PaidReceipt, ReceiptRecord)
        .join(ReceiptRecord, ReceiptRecord.digest == PaidReceipt.digest)
        .where(
            PaidReceipt.epoch.is_(None),
            ReceiptRecord.anchor_id.is_not(None),
            ReceiptRecord.anchor_id <= last_anchor,
        )
        .order_by(ReceiptRecord.anchor_id, ReceiptRecord.nonce)
    ).all()
    found = []
    for paid, receipt in rows:
        channel = (paid.channels_address, paid.asker, paid.operator)
        if int(paid.cumulative) <= redeemed.get(channel, 0):
            found.append((paid, receipt))
    return found


def usage_lines(
    session: Session, receipts: Sequence[ReceiptRecord], operator_bps: int
) -> tuple[list[Line], int]:
    """Lines from the fees of `receipts`, and the operator's total. A returned CID this node has
    no record of cannot be paid to anyone: its part stays with the operator."""
    documents = [loads_document(row.document) for row in receipts]
    cids = {r.cid for d in documents for r in d.results}
    found = session.execute(
        select(ContentItem.cid, ContentItem.author).where(ContentItem.cid.in_(cids))
    )
    authors: dict[str, str] = dict(found.all())
    lines, operator_total = [], 0
    for document in documents:
        fee = int(document.receipt["fee"])
        split = split_fee(fee, [r.score for r in document.results], operator_bps)
        operator_total += split.operator
        for result, amount in zip(document.results, split.passages, strict=True):
            author = authors.get(result.cid)
            if author is None:
                operator_total += amount
            elif amount:
                lines.append(Line(author, result.cid, USAGE, amount))
    return lines, operator_total


def compute_epoch(
    db: Engine,
    data_dir: Path,
    operator_bps: int,
    sources: Sequence[LineSource] = (),
    redeemed: Redeemed | None = None,
) -> int:
    """Compute and record the next epoch (step 1); returns its number. `redeemed`: each
    channel's redeemed amount on-chain (none: no paid receipt is split). Raises
    `NothingToClose` when there is nothing to pay and `PayoutError` while an earlier epoch
    awaits posting."""
    with session_scope(db) as session:
        last = session.scalars(select(Epoch).order_by(Epoch.number.desc()).limit(1)).first()
        if last is not None and last.status != POSTED:
            raise PayoutError(f"epoch {last.number} is computed but not posted yet")
        number = 1 if last is None else last.number + 1
        after = 0 if last is None else last.last_anchor_id
        newest = session.scalar(select(func.max(Anchor.id))) or 0
        paid = splittable_receipts(session, newest, redeemed or {})
        lines, operator_total = usage_lines(session, [r for _, r in paid], operator_bps)
        receipts = len(paid)
        for source in sources:
            lines += source(session, number)
        if not lines:
            raise NothingToClose(
                f"nothing to pay since epoch {number - 1}: {receipts} paid receipts anchored "
                "and redeemed with a fee for a known author, and no training pool or labeling"
            )
        previous = _balances(session, number - 1)
        earned: dict[str, int] = defaultdict(int)
        for line in lines:
            earned[line.account] += line.amount
        cumulative = dict(previous)
        for account, amount in earned.items():
            cumulative[account] = cumulative.get(account, 0) + amount
        usage_total = sum(x.amount for x in lines if x.source == USAGE)
        training_total = sum(x.amount for x in lines if x.source == TRAINING)
        labeling_total = sum(x.amount for x in lines if x.source == LABELING)
        previous_total = 0 if last is None else int(last.cumulative_total)
        total = previous_total + sum(x.amount for x in lines)
        if sum(cumulative.values()) != total:
            raise PayoutError("cumulative balances do not add up to the cumulative total (a bug)")
        tree = payout_tree(cumulative)
        path = save_tree(tree, data_dir / "payouts" / f"epoch-{number}-{tree.root_hex}.json")
        session.add(
            Epoch(
                number=number,
                status=COMPUTED,
                after_anchor_id=after,
                last_anchor_id=max(newest, after),
                receipt_count=receipts,
                usage_total=str(usage_total),
                operator_total=str(operator_total),
                training_total=str(training_total),
                labeling_total=str(labeling_total),
                cumulative_total=str(total),
                root=tree.root_hex,
                tree_path=str(path.relative_to(data_dir)),
                computed_at=datetime.now(UTC),
            )
        )
        session.flush()
        for receipt, _ in paid:
            receipt.epoch = number
        session.add_all(
            EpochLine(
                epoch=number, account=x.account, cid=x.cid, source=x.source, amount=str(x.amount)
            )
            for x in lines
        )
        session.add_all(
            EpochBalance(
                epoch=number,
                account=account,
                amount=str(earned.get(account, 0)),
                cumulative=str(amount),
            )
            for account, amount in sorted(cumulative.items())
        )
    return number


def _balances(session: Session, epoch: int) -> dict[str, int]:
    rows = session.execute(
        select(EpochBalance.account, EpochBalance.cumulative).where(EpochBalance.epoch == epoch)
    )
    return {account: int(cumulative) for account, cumulative in rows}


def next_epoch(db: Engine) -> int:
    """The number the next epoch to compute will have (one past the newest, posted or not)."""
    with session_scope(db) as session:
        return (session.scalar(select(func.max(Epoch.number))) or 0) + 1


def post_epoch(
    db: Engine,
    chain: Chain,
    distributor: Contract,
    token: Contract,
    signer: TxSigner,
    number: int,
    *,
    on_posted: OnPosted | None = None,
) -> str | None:
    """Put computed epoch `number` on-chain as epoch `number` of `signer`'s own tree (step 2);
    returns the posting transaction's hash (None when an earlier, interrupted run had already
    posted it)."""
    with session_scope(db) as session:
        epoch = session.get(Epoch, number)
        if epoch is None:
            raise PayoutError(f"there is no epoch {number}")
        if epoch.status == POSTED:
            return epoch.tx_hash
        root, total = epoch.root, int(epoch.cumulative_total)
    poster = signer.address
    onchain = int(chain.call(distributor.functions.epoch(poster)))
    tx_hash = None
    if onchain >= number:
        posted = "0x" + bytes(chain.call(distributor.functions.roots(poster, number))).hex()
        if posted != root:
            raise PayoutError(
                f"the distributor's epoch {number} of {poster} has root {posted}, ours is "
                f"{root}: another node's database posts with this operator key"
            )
    elif onchain == number - 1:
        previous = int(chain.call(distributor.functions.cumulative_total(poster)))
        chain.transact(signer, token.functions.approve(distributor.address, total - previous))
        result = chain.transact(
            signer, distributor.functions.post_epoch(number, bytes.fromhex(root[2:]), total)
        )
        tx_hash = result.tx_hash
    else:
        raise PayoutError(
            f"the distributor is at epoch {onchain} of {poster}; epoch {number} cannot follow"
        )
    mark_posted(db, number, tx_hash, on_posted)
    return tx_hash


def mark_posted(
    db: Engine, number: int, tx_hash: str | None, on_posted: OnPosted | None = None
) -> None:
    with session_scope(db) as session:
        epoch = session.get(Epoch, number)
        epoch.status = POSTED
        epoch.tx_hash = tx_hash
        epoch.posted_at = datetime.now(UTC)
        if on_posted is not None:
            on_posted(session, number)


def close_epoch(
    db: Engine,
    chain: Chain,
    distributor: Contract,
    token: Contract,
    signer: TxSigner,
    data_dir: Path,
    operator_bps: int,
    sources: Sequence[LineSource] = (),
    prepare: Callable[[int], None] | None = None,
    on_posted: OnPosted | None = None,
    redeemed: Redeemed | None = None,
) -> EpochSummary:
    """Post an epoch left computed by an interrupted run, or compute and post the next one.
    `prepare(number)` runs before computing (idempotently): e.g. releasing labeling escrow,
    which brings the operator the funds the post pulls. A computed epoch holds only lines whose
    money is on hand, so nothing a source does can stop it from being posted."""
    with session_scope(db) as session:
        pending = session.scalars(select(Epoch).where(Epoch.status == COMPUTED)).first()
        number = pending.number if pending is not None else None
    if number is None:
        if prepare is not None:
            prepare(next_epoch(db))
        number = compute_epoch(db, data_dir, operator_bps, sources, redeemed)
    post_epoch(db, chain, distributor, token, signer, number, on_posted=on_posted)
    return epoch_summary(db, number)


def epoch_summary(db: Engine, number: int) -> EpochSummary:
    with session_scope(db) as session:
        epoch = session.get(Epoch, number)
        if epoch is None:
            raise NotFound(f"there is no epoch {number}")
        accounts = session.scalar(
            select(func.count()).select_from(EpochBalance).where(EpochBalance.epoch == number)
        )
        return EpochSummary(
            epoch.number,
            epoch.status,
            epoch.receipt_count,
            int(epoch.usage_total),
            int(epoch.operator_total),
            int(epoch.training_total),
            int(epoch.labeling_total),
            int(epoch.cumulative_total),
            int(accounts or 0),
            epoch.root,
            epoch.tx_hash,
        )


def earnings(db: Engine, account: str) -> list[tuple[int, str, str, int, str]]:
    """(epoch, source, cid, amount, status) of every line `account` earned, oldest first."""
    with session_scope(db) as session:
        rows = session.execute(
            select(EpochLine.epoch, EpochLine.source, EpochLine.cid, EpochLine.amount, Epoch.status)
            .join(Epoch, Epoch.number == EpochLine.epoch)
            .where(func.lower(EpochLine.account) == account.lower())
            .order_by(EpochLine.epoch, EpochLine.id)
        )
        return [(e, s, c, int(a), st) for e, s, c, a, st in rows]


def cumulative_of(db: Engine, epoch: int, account: str) -> tuple[str, int] | None:
    """(account as recorded, cumulative amount) of `account`'s leaf in epoch `epoch`'s tree,
    None when it has none. Every account ever paid has a leaf in every later epoch."""
    with session_scope(db) as session:
        row = session.execute(
            select(EpochBalance.account, EpochBalance.cumulative).where(
                EpochBalance.epoch == epoch,
                func.lower(EpochBalance.account) == account.lower(),
            )
        ).first()
        return None if row is None else (row[0], int(row[1]))


def latest_posted(db: Engine) -> tuple[int, str, str] | None:
    """(number, root, tree path) of the newest posted epoch."""
    with session_scope(db) as session:
        epoch = session.scalars(
            select(Epoch).where(Epoch.status == POSTED).order_by(Epoch.number.desc()).limit(1)
        ).first()
        return None if epoch is None else (epoch.number, epoch.root, epoch.tree_path)
