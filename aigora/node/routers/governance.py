"""The network's policy, decided by its community through the Governor: the policy in force and
every proposal, what a proposer or a voter signs, and relaying what they signed (the node sends
the transaction and pays its gas; the signer needs no ether). Every route is public: a proposal
or a ballot counts only with its signer's signature and standing, whoever relays it."""

import asyncio
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from aigora.app import GovernanceState, Relayed, SignedBallot, SignedProposal, SignTerms
from aigora.governance import MAX_DOCUMENT
from aigora.node.deps import Services

router = APIRouter(tags=["governance"])

ADDRESS = r"^0x[0-9a-fA-F]{40}$"
ProposalId = Annotated[int, Path(ge=0, lt=2**63, description="The proposal's id (0: genesis).")]


class ProposeTermsBody(BaseModel):
    """A policy document (canonical JSON, as text) and who will sign its proposal."""

    model_config = ConfigDict(extra="forbid")

    document: str = Field(min_length=1, max_length=MAX_DOCUMENT)
    proposer: str = Field(pattern=ADDRESS)


@router.get("/governance", response_model=GovernanceState)
def state(services: Services) -> GovernanceState:
    """The policy in force (checked against its on-chain hash) and every proposal since
    genesis, newest first: state, tallies against quorum, vote end, eta and changes."""
    return services.governance.state()


@router.get("/governance/proposals/{proposal_id}/ballot", response_model=SignTerms)
def ballot_terms(
    proposal_id: ProposalId,
    voter: Annotated[str, Query(pattern=ADDRESS, description="The voter's address.")],
    support: Annotated[Literal["for", "against", "abstain"], Query()],
    services: Services,
) -> SignTerms:
    """The `Ballot` typed data `voter` signs to vote `support`, and the power and proof the
    node will send with it (404 for a voter without standing in this vote)."""
    return services.governance.ballot_terms(proposal_id, voter, support)


@router.post("/governance/proposals/{proposal_id}/votes", response_model=Relayed)
async def vote(proposal_id: ProposalId, body: SignedBallot, services: Services) -> Relayed:
    """Relay a signed ballot; the Governor counts it once, as signed (409 with its reason
    when it refuses: already voted, voting ended, not the voter's signature...)."""
    return await asyncio.to_thread(services.governance.relay_ballot, proposal_id, body)


@router.post("/governance/propose-terms", response_model=SignTerms)
def propose_terms(body: ProposeTermsBody, services: Services) -> SignTerms:
    """The `Propose` typed data `proposer` signs to propose `document` as the next policy
    (against the policy in force and the proposer's next nonce)."""
    return services.governance.propose_terms(body.document.encode("utf-8"), body.proposer)


@router.post("/governance/proposals", response_model=Relayed)
async def propose(body: SignedProposal, services: Services) -> Relayed:
    """Relay a signed proposal: voting on it opens at once."""
    return await asyncio.to_thread(services.governance.relay_proposal, body)


@router.post("/governance/proposals/{proposal_id}/execute", response_model=Relayed)
async def execute(proposal_id: ProposalId, services: Services) -> Relayed:
    """Enact a proposal that passed, once its timelock is over; anyone may ask."""
    return await asyncio.to_thread(services.governance.execute, proposal_id)
