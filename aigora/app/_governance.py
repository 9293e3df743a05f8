"""Governance: the policy in force, read from the network's Governor, and the use cases around it:
show it, draft a change, relay a signed proposal or ballot, execute a passed proposal.

Every policy's document travels in the Governor's `Proposed` event (the genesis one from its
constructor), and each is checked against the hash the contract holds before it is believed:
the chain is the only source of the policy. A node pays the gas of what it relays; the signer
needs no ether.
"""

import json
import threading
from dataclasses import dataclass
from typing import Any, Literal

from eth_utils import to_checksum_address
from pydantic import BaseModel, ConfigDict, Field

from aigora.app._context import StoreContext
from aigora.app._reputation import Reputation
from aigora.chain import (
    Chain,
    EnactmentRecord,
    ProposalRecord,
    read_enactment,
    read_proposal,
)
from aigora.core.eip712 import with_decimal_integers
from aigora.core.errors import AigoraError, NotFound
from aigora.governance import (
    MAX_DOCUMENT,
    STATE_NAMES,
    SUPPORT,
    Policy,
    PolicyError,
    Standing,
    ballot_typed_data,
    governor_domain,
    parse_policy,
    policy_diff,
    propose_typed_data,
    standing_from_trust,
    standing_tree,
    support_code,
)


class NoGovernance(AigoraError):
    """This node follows no network, so no community policy: its config is its policy."""


class AlreadyVoted(AigoraError):
    """A voter's ballot on a proposal is already counted (the Governor counts each once)."""


class PolicyUnreadable(AigoraError):
    """The policy in force (or a proposal's) cannot be read from the chain as a policy."""


class PolicyInForce(BaseModel):
    index: int
    proposal_id: int
    policy_hash: str
    block: int
    timestamp: int
    standing_root: str
    standing_total: str
    policy: dict[str, Any]


class ProposalInfo(BaseModel):
    id: int
    proposer: str
    policy_hash: str
    base_policy: str
    state: str
    vote_end: int
    eta: int
    for_power: str
    against_power: str
    abstain_power: str
    standing_total: str
    quorum: str
    changes: list[str]
    enacts_standing_root: str
    enacts_standing_total: str
    problem: str | None = None


class GovernanceState(BaseModel):
    governor: str
    now: int
    voting_period_s: int
    timelock_s: int
    quorum_bps: int
    threshold_bps: int
    in_force: PolicyInForce
    proposals: list[ProposalInfo]


class SignTerms(BaseModel):
    """What a signer signs (EIP-712 typed data, every integer a decimal string: totals exceed
    2**53) and the standing proof the node will send with it."""

    typed_data: dict[str, Any]
    power: str
    proof: list[str]


_ADDRESS = r"^0x[0-9a-fA-F]{40}$"
_SIGNATURE = r"^0x[0-9a-fA-F]{130}$"


class SignedBallot(BaseModel):
    """A voter's signed `Ballot` (`GET /governance/proposals/{id}/ballot` gives what to sign)."""

    model_config = ConfigDict(extra="forbid")

    voter: str = Field(pattern=_ADDRESS)
    support: Literal["for", "against", "abstain"]
    signature: str = Field(pattern=_SIGNATURE)


class SignedProposal(BaseModel):
    """A proposer's signed `Propose` over `document` (the canonical policy, as text)."""

    model_config = ConfigDict(extra="forbid")

    document: str = Field(min_length=1, max_length=MAX_DOCUMENT)
    proposer: str = Field(pattern=_ADDRESS)
    signature: str = Field(pattern=_SIGNATURE)


class Relayed(BaseModel):
    proposal_id: int
    tx_hash: str


@dataclass(frozen=True)
class _Known:
    """A policy document found on-chain, with the hash it was proposed under."""

    document: bytes
    policy: Policy | None
    problem: str | None
    policy_hash: bytes


def standing_problem(
    policy: Policy, *, policy_hash: bytes, standing_root: bytes, standing_total: int
) -> str | None:
    """Why a proposal's document and the hash and standing it was proposed with disagree, or
    None. The Governor cannot read a document's table, so a proposer could pair a harmless
    document with a standing of its own (a table of one: itself): nobody votes for, relays or
    executes such a proposal, and a node never takes it for a policy."""
    if policy.hash() != policy_hash:
        return "the document does not hash to its policy hash"
    table = policy.standing.table()
    if standing_tree(table).root != standing_root or sum(table.values()) != standing_total:
        return "the standing this proposal would enact is not its document's table: vote against it"
    return None


def _signature(text: str) -> bytes:
    if not (text.startswith("0x") and len(text) == 132):
        raise AigoraError("a signature is 0x and 130 hex digits (65 bytes: r, s, v)")
    try:
        return bytes.fromhex(text[2:])
    except ValueError:
        raise AigoraError("a signature is 0x and 130 hex digits (65 bytes: r, s, v)") from None


class Governance:
    """The network's policy, through its Governor. Documents are cached by proposal id."""

    def __init__(self, context: StoreContext) -> None:
        self.context = context
        self._lock = threading.Lock()
        self._documents: dict[int, _Known] = {}
        self._scanned_to = -1

    # -- reading -------------------------------------------------------------------------------

    @property
    def chain(self) -> Chain:
        chain = getattr(self.context, "chain", None)
        if chain is None:
            raise NoGovernance("governance needs the chain: run this against a node")
        return chain

    @property
    def governor(self) -> Any:
        deployment = getattr(self.context, "deployment", None)
        governor = None if deployment is None else deployment.governor
        if self.context.network is None or governor is None:
            raise NoGovernance(
                "this node follows no network, so its policy is its config.toml; "
                "a network's policy is decided by its community (`aigora policy` there)"
            )
        return governor

    def _scan(self) -> None:
        """Read every `Proposed` event not yet seen (documents are immutable once proposed)."""
        governor = self.governor
        head = self.chain.block_number()
        with self._lock:
            start = max(self._scanned_to + 1, self.chain.deployment_block(governor.address))
            if start > head:
                return
            for log in self.chain.events(governor.events.Proposed, start, head):
                args = log["args"]
                document = bytes(args["document"])
                policy, problem = None, None
                try:
                    policy = parse_policy(document)
                except PolicyError as exc:
                    problem = str(exc)
                if policy is not None:
                    problem = standing_problem(
                        policy,
                        policy_hash=bytes(args["policy_hash"]),
                        standing_root=bytes(args["standing_root"]),
                        standing_total=int(args["standing_total"]),
                    )
                    if problem is not None:
                        policy = None
                self._documents[int(args["proposal_id"])] = _Known(
                    document, policy, problem, bytes(args["policy_hash"])
                )
            self._scanned_to = head

    def _rescan(self) -> None:
        """Forget every document read and read them again from the deployment block (what a
        node does when the chain no longer agrees with what it read: a reorganisation)."""
        with self._lock:
            self._documents.clear()
            self._scanned_to = -1
        self._scan()

    def _known(self, proposal_id: int) -> _Known:
        if proposal_id not in self._documents:
            self._scan()
        known = self._documents.get(proposal_id)
        if known is None:
            raise NotFound(f"no proposal {proposal_id} on the governor")
        return known

    def enactments(self) -> list[EnactmentRecord]:
        governor = self.governor
        count = self.chain.call(governor.functions.enacted_count())
        return [read_enactment(self.chain, governor, i) for i in range(count)]

    def enactment_at(self, block: int | None = None) -> EnactmentRecord:
        """The enactment in force at `block` (the latest block when None)."""
        found = [e for e in self.enactments() if block is None or e.block_number <= block]
        if not found:
            raise NotFound(f"no policy was in force at block {block}")
        return found[-1]

    def policy_of(self, enactment: EnactmentRecord) -> Policy:
        """The enacted policy, whose document hashes to the enacted hash and whose table is the
        enacted standing (after a reorganisation the documents are read again)."""
        known = self._known(enactment.proposal_id)
        if known.policy_hash != enactment.policy_hash:
            self._rescan()
            known = self._known(enactment.proposal_id)
        if known.policy is not None and standing_problem(
            known.policy,
            policy_hash=enactment.policy_hash,
            standing_root=enactment.standing_root,
            standing_total=enactment.standing_total,
        ):
            raise PolicyUnreadable(
                f"the policy enacted by proposal {enactment.proposal_id} does not match what "
                "the governor enacted; a new proposal must replace it"
            )
        if known.policy is None:
            raise PolicyUnreadable(
                f"the policy enacted by proposal {enactment.proposal_id} is unreadable: "
                f"{known.problem}; a new proposal must replace it"
            )
        return known.policy

    def in_force(self, block: int | None = None) -> tuple[EnactmentRecord, Policy]:
        """The policy in force at `block` (now when None), checked against its on-chain hash."""
        enactment = self.enactment_at(block)
        return enactment, self.policy_of(enactment)

    def policy_by_hash(self, policy_hash: bytes) -> Policy:
        """Any policy ever proposed, by its hash (a snapshot names the one it was built under)."""
        self._scan()
        for known in self._documents.values():
            if known.policy is not None and known.policy.hash() == policy_hash:
                return known.policy
        raise NotFound(f"no policy 0x{policy_hash.hex()} was ever proposed on this governor")

    def proposal(self, proposal_id: int) -> ProposalRecord:
        count = self.chain.call(self.governor.functions.proposal_count())
        if not 0 <= proposal_id < count:
            raise NotFound(f"no proposal {proposal_id} (the governor has {count})")
        return read_proposal(self.chain, self.governor, proposal_id)

    def state(self) -> GovernanceState:
        governor, chain = self.governor, self.chain
        enactment, policy = self.in_force()
        count = chain.call(governor.functions.proposal_count())
        quorum_bps = chain.call(governor.functions.quorum_bps())
        proposals = [
            self._info(i, read_proposal(chain, governor, i), policy, quorum_bps)
            for i in range(count - 1, 0, -1)
        ]
        return GovernanceState(
            governor=governor.address,
            now=chain.now(),
            voting_period_s=chain.call(governor.functions.voting_period()),
            timelock_s=chain.call(governor.functions.timelock()),
            quorum_bps=quorum_bps,
            threshold_bps=chain.call(governor.functions.threshold_bps()),
            in_force=PolicyInForce(
                index=len(self.enactments()) - 1,
                proposal_id=enactment.proposal_id,
                policy_hash="0x" + enactment.policy_hash.hex(),
                block=enactment.block_number,
                timestamp=enactment.timestamp,
                standing_root="0x" + enactment.standing_root.hex(),
                standing_total=str(enactment.standing_total),
                policy=policy.model_dump(mode="json"),
            ),
            proposals=proposals,
        )

    def _info(
        self, proposal_id: int, record: ProposalRecord, current: Policy, quorum_bps: int
    ) -> ProposalInfo:
        known = self._known(proposal_id)
        changes = []
        if known.policy is not None:
            changes = policy_diff(self._base_of(record, current), known.policy)
        state = self.chain.call(self.governor.functions.state(proposal_id))
        return ProposalInfo(
            id=proposal_id,
            proposer=record.proposer,
            policy_hash="0x" + record.policy_hash.hex(),
            base_policy="0x" + record.base_policy.hex(),
            state=STATE_NAMES.get(state, str(state)),
            vote_end=record.vote_end,
            eta=record.eta,
            for_power=str(record.for_power),
            against_power=str(record.against_power),
            abstain_power=str(record.abstain_power),
            standing_total=str(record.snapshot_total),
            quorum=str(-(-record.snapshot_total * quorum_bps // 10_000)),
            changes=changes,
            enacts_standing_root="0x" + record.standing_root.hex(),
            enacts_standing_total=str(record.standing_total),
            problem=known.problem,
        )

    def _base_of(self, record: ProposalRecord, current: Policy) -> Policy:
        """The policy a proposal was written against (its changes are relative to it), else the
        one in force."""
        try:
            return self.policy_by_hash(record.base_policy)
        except NotFound:
            return current

    # -- standing ------------------------------------------------------------------------------

    def _table_of_root(self, root: bytes) -> dict[str, int]:
        """The standing table with this root, from the enacted policy that carried it."""
        for enactment in reversed(self.enactments()):
            if enactment.standing_root == root:
                return self.policy_of(enactment).standing.table()
        raise NotFound(f"no enacted policy carries the standing root 0x{root.hex()}")

    def _proof(self, root: bytes, account: str) -> tuple[int, list[bytes]]:
        table = self._table_of_root(root)
        match = next((a for a in table if a.lower() == account.lower()), None)
        if match is None:
            raise NotFound(
                f"{account} has no standing in this vote: voting power comes from the trust "
                "others place in an account (a vouch from someone trusted), not from tokens"
            )
        power = table[match]
        return power, standing_tree(table).get_proof((match, power))

    def standing_of_newest_run(self) -> Standing:
        """The standing table a proposal may carry: `standing_from_trust` of the newest
        reputation run's trust, naming that run's digest (anyone can recompute it)."""
        reputation = Reputation(self.context)
        runs = reputation.runs(1).runs
        if not runs:
            raise NotFound("no reputation run yet: run `aigora reputation compute` first")
        run = runs[0]
        trust = json.loads(reputation.document(run.id))["result"]["trust"]
        table = standing_from_trust({to_checksum_address(a): float(t) for a, t in trust.items()})
        if not table:
            raise PolicyError(f"reputation run {run.id} gives nobody any trust: no voters")
        return Standing(run=run.result_digest, powers={a: str(p) for a, p in table.items()})

    # -- signing terms -------------------------------------------------------------------------

    def domain(self) -> Any:
        return governor_domain(self.chain.chain_id, self.governor.address)

    def ballot_terms(self, proposal_id: int, voter: str, support: str) -> SignTerms:
        code = support_code(support)
        record = self.proposal(proposal_id)
        if self.chain.call(self.governor.functions.has_voted(proposal_id, voter)):
            raise AlreadyVoted(f"{voter} already voted on proposal {proposal_id}: one ballot each")
        known = self._known(proposal_id)
        if known.policy is None and code != SUPPORT["against"]:
            raise PolicyError(
                f"proposal {proposal_id} is malformed ({known.problem}): vote against"
            )
        power, proof = self._proof(record.snapshot_root, voter)
        return SignTerms(
            typed_data=with_decimal_integers(
                ballot_typed_data(
                    self.domain(),
                    proposal_id=proposal_id,
                    support=code,
                    voter=voter,
                    policy_hash=record.policy_hash,
                    standing_root=record.standing_root,
                    standing_total=record.standing_total,
                )
            ),
            power=str(power),
            proof=["0x" + p.hex() for p in proof],
        )

    def propose_terms(self, document: bytes, proposer: str) -> SignTerms:
        policy = self._checked_document(document)
        governor = self.governor
        enactment, _ = self.in_force()
        table = policy.standing.table()
        root, total = standing_tree(table).root, sum(table.values())
        if (policy.hash(), root, total) == (
            enactment.policy_hash,
            enactment.standing_root,
            enactment.standing_total,
        ):
            raise PolicyError("the document is the policy in force: nothing to change")
        power, proof = self._proof(enactment.standing_root, proposer)
        return SignTerms(
            typed_data=with_decimal_integers(
                propose_typed_data(
                    self.domain(),
                    proposer=proposer,
                    policy_hash=policy.hash(),
                    standing_root=root,
                    standing_total=total,
                    base_policy=enactment.policy_hash,
                    nonce=self.chain.call(governor.functions.nonces(proposer)),
                )
            ),
            power=str(power),
            proof=["0x" + p.hex() for p in proof],
        )

    @staticmethod
    def _checked_document(document: bytes) -> Policy:
        try:
            return parse_policy(document)
        except PolicyError as exc:
            raise PolicyError(f"{exc}; nothing was proposed") from None

    # -- relaying ------------------------------------------------------------------------------

    def _relayer(self) -> Any:
        operator = getattr(self.context, "operator", None)
        if operator is None:
            raise NoGovernance("relaying needs a node with its operator key: run `aigora up`")
        return operator

    def relay_proposal(self, signed: SignedProposal) -> Relayed:
        document = signed.document.encode("utf-8")
        policy = self._checked_document(document)
        terms = self.propose_terms(document, signed.proposer)
        table = policy.standing.table()
        chain, governor = self.chain, self.governor
        result = chain.transact(
            self._relayer(),
            governor.functions.propose(
                document,
                standing_tree(table).root,
                sum(table.values()),
                signed.proposer,
                int(terms.power),
                [bytes.fromhex(p[2:]) for p in terms.proof],
                _signature(signed.signature),
            ),
        )
        (log,) = chain.events_in(result, governor.events.Proposed)
        return Relayed(proposal_id=int(log["args"]["proposal_id"]), tx_hash=result.tx_hash)

    def relay_ballot(self, proposal_id: int, signed: SignedBallot) -> Relayed:
        terms = self.ballot_terms(proposal_id, signed.voter, signed.support)
        result = self.chain.transact(
            self._relayer(),
            self.governor.functions.vote(
                proposal_id,
                signed.voter,
                support_code(signed.support),
                int(terms.power),
                [bytes.fromhex(p[2:]) for p in terms.proof],
                _signature(signed.signature),
            ),
        )
        return Relayed(proposal_id=proposal_id, tx_hash=result.tx_hash)

    def execute(self, proposal_id: int) -> Relayed:
        self.proposal(proposal_id)
        known = self._known(proposal_id)
        if known.policy is None:
            raise PolicyError(f"proposal {proposal_id} is malformed ({known.problem}): not sent")
        result = self.chain.transact(self._relayer(), self.governor.functions.execute(proposal_id))
        return Relayed(proposal_id=proposal_id, tx_hash=result.tx_hash)
