"""`aigora policy show | propose | vote | execute`: the network's policy, decided by its community.

The policy in force (what the network admits, what it pays for, whom it trusts and who may vote)
is whatever the network's Governor enacted. `propose` drafts the next policy from the one in
force (`--set admission.min_score=0.3`, `--remove CID --reason TEXT`, `--restore CID`,
`--standing` for the table of the newest reputation run, or `--file` for a whole document),
shows what changes, and signs the proposal with the person's own account; `vote` signs a
ballot. Signing is always the person's: the node only relays what was signed and pays the gas.
Before signing, the command rebuilds the typed data from what it means to sign and refuses
terms from the node that differ, so a node can relay but never choose what a person signs.
"""

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from aigora.app import (
    App,
    Governance,
    GovernanceState,
    ProposalInfo,
    Relayed,
    SignedBallot,
    SignedProposal,
    SignTerms,
    open_store,
)
from aigora.cli._local import RemoteNode, UseCase, on_node, run_case
from aigora.cli.options import DataDirOption, account_signer, data_dir_of
from aigora.core.eip712 import Domain
from aigora.core.errors import AigoraError
from aigora.core.keystore import Signer
from aigora.governance import (
    SUPPORT,
    Policy,
    Standing,
    ballot_typed_data,
    describe_policy,
    edit_policy,
    parse_setting,
    plain_time,
    policy_diff,
    policy_from_data,
    policy_from_file,
    propose_typed_data,
    share,
    sign_ballot,
    sign_propose,
    standing_tree,
    support_code,
)

app = typer.Typer(help="The network's policy, decided by its community.", no_args_is_help=True)
console = Console(soft_wrap=True)
R = TypeVar("R")
Runner = Callable[[UseCase[Any]], Any]

AccountOption = Annotated[
    str, typer.Option("--account", help="Your keystore account: it signs, the node relays.")
]
ProposalArgument = Annotated[int, typer.Argument(min=1, help="The proposal's id.")]


class TermsMismatch(AigoraError):
    """The node asked to sign something other than what the command means to sign."""


# ---- use cases ---------------------------------------------------------------------------------


def state_case() -> UseCase[GovernanceState]:
    return UseCase(lambda a: a.governance.state(), "GET", "/governance", GovernanceState)


def ballot_terms_case(proposal_id: int, voter: str, support: str) -> UseCase[SignTerms]:
    return UseCase(
        lambda a: a.governance.ballot_terms(proposal_id, voter, support),
        "GET",
        f"/governance/proposals/{proposal_id}/ballot",
        SignTerms,
        params={"voter": voter, "support": support},
    )


def vote_case(proposal_id: int, ballot: SignedBallot) -> UseCase[Relayed]:
    return UseCase(
        lambda a: a.governance.relay_ballot(proposal_id, ballot),
        "POST",
        f"/governance/proposals/{proposal_id}/votes",
        Relayed,
        json=ballot.model_dump(),
    )


def propose_terms_case(document: bytes, proposer: str) -> UseCase[SignTerms]:
    return UseCase(
        lambda a: a.governance.propose_terms(document, proposer),
        "POST",
        "/governance/propose-terms",
        SignTerms,
        json={"document": document.decode("utf-8"), "proposer": proposer},
    )


def propose_case(proposal: SignedProposal) -> UseCase[Relayed]:
    return UseCase(
        lambda a: a.governance.relay_proposal(proposal),
        "POST",
        "/governance/proposals",
        Relayed,
        json=proposal.model_dump(),
    )


def execute_case(proposal_id: int) -> UseCase[Relayed]:
    return UseCase(
        lambda a: a.governance.execute(proposal_id),
        "POST",
        f"/governance/proposals/{proposal_id}/execute",
        Relayed,
    )


def _both(directory: Path, flow: Callable[[Runner], R]) -> R:
    """Run a flow of several use cases on the node opened here (the operator's key relays), or
    on the running node that holds the data directory."""

    def local(services: App) -> R:
        return flow(lambda case: case.local(services))

    def remote(node: RemoteNode) -> R:
        return flow(lambda case: case.remote(node))

    return on_node(directory, local, remote)


# ---- checking what the node asks us to sign ---------------------------------------------------


def _same_terms(expected: dict[str, Any], offered: dict[str, Any]) -> None:
    """Refuse unless the node's typed data is, field for field, what we built ourselves
    (integers compared as numbers: the node sends them as strings)."""

    def plain(typed: dict[str, Any]) -> dict[str, Any]:
        message = {k: str(v).lower() for k, v in typed.get("message", {}).items()}
        domain = {k: str(v).lower() for k, v in typed.get("domain", {}).items()}
        return {**typed, "message": message, "domain": domain}

    if plain(expected) != plain(offered):
        raise TermsMismatch(
            "the node asked to sign something else than this command means to sign; "
            "nothing was signed (is the node on this network?)"
        )


def _domain_of(terms: SignTerms, state: GovernanceState) -> Domain:
    domain = Domain.from_dict(terms.typed_data.get("domain", {}))
    if domain.verifying_contract.lower() != state.governor.lower():
        raise TermsMismatch(
            f"the node's terms name the governor {domain.verifying_contract}, "
            f"not the network's {state.governor}; nothing was signed"
        )
    return domain


def in_force(state: GovernanceState) -> Policy:
    """The policy in force as the node read it, checked against the hash it reports."""
    policy = policy_from_data(state.in_force.policy)
    if policy.hash_hex != state.in_force.policy_hash:
        raise AigoraError("the node's policy in force does not hash to its policy hash")
    return policy


# ---- show --------------------------------------------------------------------------------------


def render_state(state: GovernanceState) -> None:
    policy = in_force(state)
    since = plain_time(state.in_force.timestamp, state.now)
    console.print(
        f"[bold]Policy in force[/bold] {state.in_force.policy_hash}\n"
        f"since block {state.in_force.block}, {since} (proposal {state.in_force.proposal_id})",
        highlight=False,
    )
    table = Table(show_header=False, box=None)
    for section, what, words in describe_policy(policy):
        table.add_row(section, what, words)
    console.print(table)
    for removal in policy.admission.removed:
        console.print(f"  removed {removal.cid}: {removal.reason}", highlight=False)
    console.print(
        f"Votes last {state.voting_period_s} s, then a timelock of {state.timelock_s} s; "
        f"quorum {state.quorum_bps / 100:g}% of standing, proposing takes "
        f"{state.threshold_bps / 100:g}%.",
        highlight=False,
    )
    if not state.proposals:
        console.print("No proposals yet.")
        return
    for proposal in state.proposals:
        render_proposal(proposal, state.now)


def render_proposal(proposal: ProposalInfo, now: int) -> None:
    total = int(proposal.standing_total)
    turnout = int(proposal.for_power) + int(proposal.abstain_power)
    console.print(
        f"\n[bold]Proposal {proposal.id}[/bold] ({proposal.state}) by {proposal.proposer}\n"
        f"  for {share(int(proposal.for_power), total)}, "
        f"against {share(int(proposal.against_power), total)}, "
        f"abstain {share(int(proposal.abstain_power), total)}; "
        f"quorum {share(int(proposal.quorum), total)} "
        f"({'reached' if turnout >= int(proposal.quorum) else 'not reached'})\n"
        f"  vote ends {plain_time(proposal.vote_end, now)}; "
        f"executable {plain_time(proposal.eta, now)}",
        highlight=False,
    )
    for change in proposal.changes:
        console.print(f"  - {change}", highlight=False)
    if proposal.problem:
        console.print(f"  [red]unreadable:[/red] {proposal.problem}", highlight=False)


@app.command("show")
def show(data_dir: DataDirOption = None) -> None:
    """The policy in force, with its hash and since when, and every proposal: state, tallies
    against quorum, vote end and eta, and what it changes."""
    render_state(run_case(data_dir_of(data_dir), state_case(), key=False))


# ---- propose -----------------------------------------------------------------------------------


def draft(
    current: Policy,
    *,
    settings: list[str],
    removals: list[str],
    reason: str | None,
    restores: list[str],
    standing: Standing | None,
    document: bytes | None,
) -> Policy:
    """The proposed policy: a whole document, or the one in force with the edits applied."""
    if document is not None:
        if settings or removals or restores or standing is not None:
            raise AigoraError("--file is a whole policy: give it alone, without other edits")
        return policy_from_file(document)
    if removals and not reason:
        raise AigoraError("--remove needs --reason: say why the community removes it")
    return edit_policy(
        current,
        settings=[parse_setting(s) for s in settings],
        removals=[(cid, reason or "") for cid in removals],
        restores=restores,
        standing=standing,
    )


def propose_flow(
    run: Runner, proposer: Signer, make: Callable[[Policy], Policy], confirm: Callable[[], bool]
) -> Relayed | None:
    state = run(state_case())
    current = in_force(state)
    proposed = make(current)
    changes = policy_diff(current, proposed)
    if not changes:
        raise AigoraError("the draft is the policy in force: nothing to change")
    console.print(f"Proposal {proposed.hash_hex} changes:", highlight=False)
    for change in changes:
        console.print(f"  - {change}", highlight=False)
    if not confirm():
        return None
    document = proposed.document()
    terms = run(propose_terms_case(document, proposer.address))
    domain = _domain_of(terms, state)
    table = proposed.standing.table()
    meant = {
        "proposer": proposer.address,
        "policy_hash": proposed.hash(),
        "standing_root": standing_tree(table).root,
        "standing_total": sum(table.values()),
        "base_policy": current.hash(),
        "nonce": int(terms.typed_data["message"]["nonce"]),
    }
    _same_terms(propose_typed_data(domain, **meant), terms.typed_data)
    signature = sign_propose(proposer, domain, **meant)
    signed = SignedProposal(
        document=document.decode("utf-8"),
        proposer=proposer.address,
        signature="0x" + signature.hex(),
    )
    return run(propose_case(signed))


@app.command("propose")
def propose(
    account: AccountOption,
    sets: Annotated[
        list[str] | None,
        typer.Option("--set", help="section.field=value, e.g. admission.min_score=0.3."),
    ] = None,
    remove: Annotated[
        list[str] | None, typer.Option("--remove", help="A CID to remove (with --reason).")
    ] = None,
    reason: Annotated[str | None, typer.Option("--reason", help="Why it is removed.")] = None,
    restore: Annotated[
        list[str] | None, typer.Option("--restore", help="A removed CID to admit again.")
    ] = None,
    file: Annotated[
        Path | None, typer.Option("--file", help="A whole policy document (JSON).")
    ] = None,
    standing: Annotated[
        bool,
        typer.Option("--standing", help="The standing table of the newest reputation run."),
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", help="Sign without asking to confirm.")] = False,
    data_dir: DataDirOption = None,
) -> None:
    """Propose the next policy, signed by ACCOUNT: shows the changes, asks, signs, relays."""
    directory = data_dir_of(data_dir)
    document = None
    if file is not None:
        try:
            document = file.read_bytes()
        except OSError as exc:
            raise AigoraError(f"cannot read {file}: {exc.strerror}") from None
    table = _newest_standing(directory) if standing else None
    proposer = account_signer(directory, account)

    def make(current: Policy) -> Policy:
        return draft(
            current,
            settings=sets or [],
            removals=remove or [],
            reason=reason,
            restores=restore or [],
            standing=table,
            document=document,
        )

    def confirm() -> bool:
        return yes or typer.confirm(f"Sign this proposal as {proposer.address}?")

    done = _both(directory, lambda run: propose_flow(run, proposer, make, confirm))
    if done is None:
        console.print("Nothing signed.")
        return
    console.print(
        f"proposal {done.proposal_id} is open for votes; tx {done.tx_hash}", highlight=False
    )


def _newest_standing(directory: Path) -> Standing:
    """The table of the newest reputation run in this data directory (no chain needed)."""
    store = open_store(directory)
    try:
        return Governance(store).standing_of_newest_run()
    finally:
        store.close()


# ---- vote and execute --------------------------------------------------------------------------


def vote_flow(run: Runner, voter: Signer, proposal_id: int, support: str) -> Relayed:
    code = support_code(support)
    state = run(state_case())
    terms = run(ballot_terms_case(proposal_id, voter.address, support))
    domain = _domain_of(terms, state)
    shown = next((p for p in state.proposals if p.id == proposal_id), None)
    if shown is None:
        raise AigoraError(f"no proposal {proposal_id} is listed: `aigora policy show`")
    if shown.problem is not None and support != "against":
        raise AigoraError(f"proposal {proposal_id} is malformed ({shown.problem}): vote against")
    meant = {
        "proposal_id": proposal_id,
        "support": code,
        "voter": voter.address,
        "policy_hash": bytes.fromhex(shown.policy_hash[2:]),
        "standing_root": bytes.fromhex(shown.enacts_standing_root[2:]),
        "standing_total": int(shown.enacts_standing_total),
    }
    _same_terms(ballot_typed_data(domain, **meant), terms.typed_data)
    signature = sign_ballot(voter, domain, **meant)
    ballot = SignedBallot(voter=voter.address, support=support, signature="0x" + signature.hex())
    return run(vote_case(proposal_id, ballot))


@app.command("vote")
def vote(
    proposal_id: ProposalArgument,
    support: Annotated[str, typer.Argument(help=f"One of {', '.join(SUPPORT)}.")],
    account: AccountOption,
    data_dir: DataDirOption = None,
) -> None:
    """Vote on proposal ID with ACCOUNT's standing (a signed ballot; the node relays it)."""
    directory = data_dir_of(data_dir)
    support_code(support)
    voter = account_signer(directory, account)
    done = _both(directory, lambda run: vote_flow(run, voter, proposal_id, support))
    console.print(
        f"{voter.address} voted {support} on proposal {proposal_id}; tx {done.tx_hash}",
        highlight=False,
    )


@app.command("execute")
def execute(proposal_id: ProposalArgument, data_dir: DataDirOption = None) -> None:
    """Enact proposal ID once it passed and its timelock is over (anyone may)."""
    done = run_case(data_dir_of(data_dir), execute_case(proposal_id))
    console.print(f"proposal {proposal_id} is the policy in force; tx {done.tx_hash}")
