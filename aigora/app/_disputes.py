"""Disputes: file the claim that proves a receipt wrong, rebut false omission claims, play
embedding games, close disputes whose other side went silent.

The rules (which claim proves what, the game's moves) are `aigora.verify`'s pure functions; this
module sends them to the disputes contract and reads its state back. Amounts are token units.
"""

import contextlib
import logging
import time
from collections.abc import Callable

from pydantic import BaseModel
from sqlalchemy import Engine
from web3.contract import Contract

from aigora.app._answers import Answers, VerdictReport
from aigora.app._dispute_state import (
    OMISSION,
    DisputeState,
    dispute_state,
    registry_of,
    state_after,
)
from aigora.app._games import Move, each_on_its_own, remember_challenge
from aigora.app._watch import filed_by_us, follow_disputes, mark_closed, open_watched
from aigora.chain import Chain, TxSigner
from aigora.core.errors import AigoraError, NotFound
from aigora.verify import (
    Claim,
    NotAnchored,
    ReceiptDocument,
    anchor_arg,
    receipt_arg,
    result_entry,
    stored_receipt,
)

log = logging.getLogger(__name__)


class NoDisputes(AigoraError):
    """This chain has no disputes contract the node knows of."""


class ChallengeResult(BaseModel):
    """What `challenge` found and did: the verdict, the claim chosen, and the dispute filed
    (none on a dry run)."""

    verdict: VerdictReport
    claim: str
    dispute: DisputeState | None = None


def require(disputes: Contract | None) -> Contract:
    if disputes is None:
        raise NoDisputes("no disputes contract is deployed for this node's registry")
    return disputes


def file_claim(
    chain: Chain,
    disputes: Contract,
    token: Contract,
    signer: TxSigner,
    document: ReceiptDocument,
    claim: Claim,
) -> DisputeState:
    """Approve the challenger bond and file `claim` against the anchored `document`."""
    bond = chain.call(disputes.functions.challenger_bond())
    receipt, signature, anchor = receipt_arg(document), document.signature, anchor_arg(document)
    functions = disputes.functions
    if claim.kind in ("score", "omission"):  # one shape: a result, a passage, the query
        call = getattr(functions, f"challenge_{claim.kind}")(
            receipt,
            signature,
            anchor,
            claim.entry.as_arg(),
            claim.passage.as_arg(),
            claim.query.as_arg(),
        )
    elif claim.kind == "order":
        call = functions.challenge_order(
            receipt, signature, anchor, claim.entry.as_arg(), claim.lower.as_arg()
        )
    elif claim.kind == "stale":
        call = functions.challenge_stale(receipt, signature, anchor, claim.newer_snapshot)
    elif claim.kind == "embedding":
        call = functions.challenge_embedding(receipt, signature, anchor)
    else:
        raise AigoraError(f"unknown claim kind {claim.kind!r}")
    chain.transact(signer, token.functions.approve(disputes.address, bond))
    result = chain.transact(signer, call)
    return state_after(chain, disputes, result)


def rebut_omissions(
    chain: Chain, db: Engine, disputes: Contract, signer: TxSigner
) -> list[DisputeState]:
    """Rebut every open omission claim against this node's receipts whose passage is listed.

    The claims come from the node's dispute scan (`follow_disputes`: new ones since its cursor),
    not from the chain's whole history. Each is tried on its own: one that fails (a revert, a
    receipt that cannot be read) is logged by id and tried again next pass; the others go on."""
    follow_disputes(chain, db, disputes, signer.address)
    return each_on_its_own(
        log,
        [w for w in open_watched(db, chain, disputes, kind=OMISSION) if w.against_us],
        lambda watched: f"rebuttal of dispute {watched.dispute_id}",
        lambda watched: _rebut_one(chain, db, disputes, signer, watched.dispute_id),
    )


def _rebut_one(
    chain: Chain, db: Engine, disputes: Contract, signer: TxSigner, dispute_id: int
) -> DisputeState | None:
    """Rebut one omission claim if it is open, in time and false; None when there is nothing
    honest to send."""
    state = dispute_state(chain, disputes, dispute_id)
    if state.status != "open":
        mark_closed(db, chain, disputes, dispute_id)
        return None
    if state.deadline < chain.now():
        return None  # too late to rebut: whoever resolves it closes it
    document = stored_receipt(db, state.digest)
    ranks = [
        rank for rank, r in enumerate(document.results) if "0x" + r.key.hex() == state.passage_key
    ]
    if not ranks:
        return None  # the claim holds: nothing honest to answer
    entry = result_entry(document, ranks[0]).as_arg()
    result = chain.transact(signer, disputes.functions.rebut_omission(dispute_id, entry))
    mark_closed(db, chain, disputes, dispute_id)
    return state_after(chain, disputes, result, dispute_id)


def resolve(chain: Chain, disputes: Contract, signer: TxSigner, dispute_id: int) -> DisputeState:
    """Close a dispute whose mover let its deadline pass: an unrebutted omission claim (the
    challenger wins) or an embedding game (the silent side loses)."""
    result = chain.transact(signer, disputes.functions.resolve_timeout(dispute_id))
    return state_after(chain, disputes, result, dispute_id)


def collect_reward(
    chain: Chain, disputes: Contract, signer: TxSigner, dispute_id: int
) -> DisputeState:
    """Pay a won dispute's challenger its share of the slash (anyone may send this)."""
    registry = registry_of(chain, disputes)
    result = chain.transact(signer, registry.functions.collect_reward(dispute_id))
    (log,) = chain.events_in(result, registry.events.RewardCollected)
    state = dispute_state(chain, disputes, dispute_id)
    return state.model_copy(
        update={
            "tx_hash": result.tx_hash,
            "gas_used": result.gas_used,
            "paid_to": str(log.args.challenger),
            "amount": int(log.args.amount),
        }
    )


class Disputes:
    """The dispute use cases of a node: as challenger (with the operator account, which pays the
    bond) and as the operator that answers claims against its receipts."""

    def __init__(self, answers: Answers) -> None:
        self.answers = answers

    @property
    def contract(self) -> Contract:
        return require(self.answers.context.deployment.disputes)

    def anchored(self, document: ReceiptDocument) -> ReceiptDocument:
        """The receipt with its batch proof: as given, or this node's stored copy once its batch
        is anchored. `NotAnchored` when neither has one yet."""
        if document.anchor is not None:
            return document
        with contextlib.suppress(NotFound):
            stored = stored_receipt(self.answers.context.db, "0x" + document.digest().hex())
            if stored.anchor is not None:
                return stored
        raise NotAnchored("the receipt is not anchored yet; disputes need its batch proof")

    def challenge(
        self, document: ReceiptDocument, source: str | None = None, dry_run: bool = False
    ) -> ChallengeResult:
        """Verify the receipt and, if it is wrong in a way the contract can recompute, file the
        claim (unless `dry_run`). An embedding claim opens a game the node plays on."""
        anchored = self.anchored(document)
        verdict, claim = self.answers.plan(anchored, source)
        report = ChallengeResult(verdict=VerdictReport.of(verdict), claim=claim.kind)
        if dry_run:
            return report
        context = self.answers.context
        disputes = self.contract
        state = file_claim(
            context.chain, disputes, context.deployment.token, context.operator, anchored, claim
        )
        if claim.kind == "embedding":
            remember_challenge(context.db, context.chain, disputes, state.dispute_id, anchored)
        return report.model_copy(update={"dispute": state})

    def show(self, dispute_id: int) -> DisputeState:
        return dispute_state(self.answers.context.chain, self.contract, dispute_id)

    def all(self) -> list[DisputeState]:
        """Every dispute the contract has opened, oldest first (by id: the contract counts them,
        so no event history is read)."""
        context = self.answers.context
        disputes = context.deployment.disputes
        if disputes is None:
            return []
        found = []
        for dispute_id in range(1, context.chain.call(disputes.functions.dispute_count()) + 1):
            with contextlib.suppress(NotFound):
                found.append(dispute_state(context.chain, disputes, dispute_id))
        return found

    def resolve(self, dispute_id: int) -> DisputeState:
        """Close a dispute whose mover let its deadline pass (the silent side loses)."""
        context = self.answers.context
        return resolve(context.chain, self.contract, context.operator, dispute_id)

    def collect(self, dispute_id: int) -> DisputeState:
        """Collect a won dispute's share of the slash for its challenger, once the share window
        is over and every dispute that may share is resolved."""
        context = self.answers.context
        return collect_reward(context.chain, self.contract, context.operator, dispute_id)

    def close_expired(self) -> list[DisputeState]:
        """Resolve every omission claim this node filed whose operator let the response window
        pass unanswered (the challenger wins; someone must send it, and the reward waits for
        it). Each tried on its own."""
        context = self.answers.context
        disputes = context.deployment.disputes
        if disputes is None:
            return []
        chain, db = context.chain, context.db
        follow_disputes(chain, db, disputes, context.operator.address)

        def close(dispute_id: int) -> DisputeState | None:
            state = dispute_state(chain, disputes, dispute_id)
            if state.status == "open" and state.deadline >= chain.now():
                return None  # its operator may still answer
            resolved = self.resolve(dispute_id) if state.status == "open" else None
            mark_closed(db, chain, disputes, dispute_id)
            return resolved

        return each_on_its_own(
            log,
            [
                w.dispute_id
                for w in open_watched(db, chain, disputes, kind=OMISSION)
                if w.filed_by_us
            ],
            lambda dispute_id: f"resolving expired claim {dispute_id}",
            close,
        )

    def collect_owed(self) -> list[DisputeState]:
        """Collect the reward of every dispute this node filed and won whose share is due; each
        tried on its own (a failure is logged and retried next pass)."""
        context = self.answers.context
        disputes = context.deployment.disputes
        if disputes is None:
            return []
        follow_disputes(context.chain, context.db, disputes, context.operator.address)

        def collect(dispute_id: int) -> DisputeState | None:
            reward = dispute_state(context.chain, disputes, dispute_id).reward
            return self.collect(dispute_id) if reward is not None and reward.collectable else None

        return each_on_its_own(
            log,
            filed_by_us(context.db, context.chain, disputes),
            lambda dispute_id: f"collecting the reward of dispute {dispute_id}",
            collect,
        )

    def rebut(self) -> list[DisputeState]:
        """Rebut every open omission claim against this node's receipts that is false."""
        context = self.answers.context
        if context.deployment.disputes is None:
            return []
        return rebut_omissions(
            context.chain, context.db, context.deployment.disputes, context.operator
        )

    def play(self) -> list[Move]:
        """One move in every open embedding game this node answers or filed."""
        return self.answers.play_games()

    def play_until_decided(
        self,
        dispute_id: int,
        poll_s: float,
        on_move: Callable[[Move], None] = lambda _move: None,
        on_wait: Callable[[DisputeState], None] = lambda _state: None,
    ) -> DisputeState:
        """Move whenever it is this node's turn until the game is decided."""
        state = self.show(dispute_id)
        while state.status == "open":
            for move in self.play():
                if move.dispute_id == dispute_id:
                    on_move(move)
            state = self.show(dispute_id)
            if state.status == "open":
                on_wait(state)
                time.sleep(poll_s)
        return state
