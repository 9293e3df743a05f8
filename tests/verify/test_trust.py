"""Verification checks what it used to assume: that the registry runs our Registry code, that its
slasher is our Disputes code wired to this registry, its token and our StepVerifier (so a cheating
operator can lose its bond), and, when the verifier pins one, that the receipt uses that model.

The attacks here are played on the world's chain: the world's operator sets up a second registry
that knows it, its model and its snapshot exactly as the first one does, differing only in what
it names as slasher, and answers under it. Only the genuine arrangement verifies."""

import itertools
import time
from dataclasses import replace

import pytest
from web3.contract import Contract

from aigora.app import (
    BURN_ADDRESS,
    ENGINE_VERSION,
    parse_model_root,
    verify_on_chain,
    verify_over_rpc,
)
from aigora.chain import (
    ZERO_ADDRESS,
    Anvil,
    Chain,
    DisputeParams,
    compile_contract,
    deploy_disputes,
    deploy_foundation,
)
from aigora.content.signed import domain_for
from aigora.core.errors import AigoraError
from aigora.index import snapshot_dir
from aigora.verify import (
    DISPUTES_LINKS,
    DISPUTES_PARAMETERS,
    ChainRegistry,
    DeploymentFacts,
    Invalid,
    ReceiptDocument,
    Verdict,
    runs_contract,
    sign_answer,
    sign_receipt,
)
from aigora.verify._verify import STALE_GRACE_S, check_slasher

QUESTION = "Which car is best for a family of five?"
_NONCES = itertools.count(2**41)  # hand-signed receipts: far above the node's own nonces


def mirror(world, slasher: str, params: DisputeParams | None = None) -> Contract:
    """A second registry on the world's chain, owned by the world's operator, in which that
    operator is bonded and has registered the world's model and current snapshot; `slasher` says
    what the registry names as its slasher: "none", "token" (the payment token), "registry" (a
    third registry), "foreign" (a genuine disputes contract of another registry) or "disputes"
    (a genuine one of its own, deployed with `params`)."""
    chain, operator = world.context.chain, world.context.operator
    token = world.context.deployment.token
    registry = deploy_foundation(chain, operator, token_address=token.address).registry
    bond = chain.call(registry.functions.min_bond())
    chain.transact(operator, token.functions.approve(registry.address, bond))
    chain.transact(operator, registry.functions.register_operator(bond, "no endpoint"))
    snapshot, _ = world.answers.current()
    chain.transact(
        operator, registry.functions.register_model(world.answers.model.root, ENGINE_VERSION)
    )
    chain.transact(
        operator,
        registry.functions.register_snapshot(snapshot.root, snapshot.model_root, len(snapshot)),
    )
    if slasher == "token":
        chain.transact(operator, registry.functions.set_slasher(token.address))
    elif slasher == "registry":
        other = deploy_foundation(chain, operator, token_address=token.address).registry
        chain.transact(operator, registry.functions.set_slasher(other.address))
    elif slasher == "foreign":
        other = deploy_foundation(chain, operator, token_address=token.address).registry
        disputes, _ = deploy_disputes(chain, operator, token.address, other.address)
        chain.transact(operator, registry.functions.set_slasher(disputes.address))
    elif slasher == "disputes":
        params = params or DisputeParams(treasury=BURN_ADDRESS)
        deploy_disputes(chain, operator, token.address, registry.address, params)
    else:
        assert slasher == "none"
    return registry


def answer_under(
    world, registry: Contract, issued_at: int | None = None, chain: Chain | None = None
) -> ReceiptDocument:
    """The world's operator's honest answer to QUESTION, signed for `registry`'s domain (on the
    world's chain unless `chain` is given)."""
    snapshot, index = world.answers.current()
    ranking = world.answers.rank(snapshot, index, QUESTION, 3)
    chain = chain or world.context.chain
    return sign_answer(
        world.context.operator,
        domain_for(chain.chain_id, registry.address),
        world.answers.model.root,
        snapshot.root,
        QUESTION,
        ranking,
        0,
        next(_NONCES),
        issued_at if issued_at is not None else max(int(time.time()), chain.now()),
    )


def verify_under(world, registry: Contract, document: ReceiptDocument, **options) -> Verdict:
    snapshot, _ = world.answers.current()
    return verify_on_chain(
        document,
        world.context.chain,
        registry,
        None,
        snapshot_dirs=[snapshot_dir(world.context.data_dir)],
        loaded=[world.answers.model, snapshot],
        **options,
    )


# -- the slasher -------------------------------------------------------------------------------


def test_the_genuine_deployment_is_valid_and_states_its_dispute_terms(world):
    verdict = world.answers.verify(world.answers.ask(QUESTION, 3))
    assert verdict.valid, verdict.reason
    disputes = world.context.deployment.disputes
    terms = next(note for note in verdict.notes if note.startswith("disputes "))
    defaults = DisputeParams()
    assert terms == (
        f"disputes {disputes.address}: "
        f"challenger bond {defaults.challenger_bond} base units, "
        f"challenge window {defaults.challenge_window_s} s, "
        f"response window {defaults.response_window_s} s, "
        f"stale grace {defaults.stale_grace_s} s, "
        f"treasury share {defaults.treasury_bps} bps "
        f"(treasury {BURN_ADDRESS})"
    )


def test_a_mirror_with_our_disputes_contract_is_valid(world):
    """The control for the attacks below: the same second registry, with a genuine slasher."""
    registry = mirror(world, "disputes")
    verdict = verify_under(world, registry, answer_under(world, registry))
    assert verdict.valid, verdict.reason
    assert any(note.startswith("disputes 0x") for note in verdict.notes)


@pytest.mark.parametrize(
    ("slasher", "says"),
    [
        ("none", "names no slasher, so no dispute can take a bond"),
        ("token", "does not run Aigora's Disputes.vy code"),
        ("registry", "does not run Aigora's Disputes.vy code"),
        ("foreign", "judges for registry"),
    ],
)
def test_a_registry_whose_slasher_is_not_its_own_disputes_contract_is_invalid(world, slasher, says):
    registry = mirror(world, slasher)
    verdict = verify_under(world, registry, answer_under(world, registry))
    assert (verdict.valid, verdict.check) == (False, "slasher"), verdict.reason
    assert says in verdict.reason
    assert "\n" not in verdict.reason
    facts = ChainRegistry(world.context.chain, registry).deployment()
    assert facts.registry_genuine  # the registry itself is ours: only its slasher is wrong


def test_a_registry_that_is_not_our_code_is_invalid(world):
    """A contract that answers the registry's getters however it likes (here the token, which
    has none) says nothing: the receipt is INVALID before any of its answers are read."""
    impostor = world.context.chain.contract("Registry", world.context.deployment.token.address)
    verdict = verify_under(world, impostor, answer_under(world, impostor))
    assert (verdict.valid, verdict.check) == (False, "registry")
    assert "does not run Aigora's Registry.vy code" in verdict.reason


def test_the_stale_grace_is_the_disputes_contracts_own(world):
    """An answer from the previous snapshot 15 minutes after a newer one is stale under the
    default grace (10 minutes) but not under a deployment that grants an hour: the verifier
    judges as the contract would, so no challenger files a stale claim the contract rejects."""
    grace = 3600
    registry = mirror(world, "disputes", DisputeParams(treasury=BURN_ADDRESS, stale_grace_s=grace))
    chain, operator = world.context.chain, world.context.operator
    snapshot, _ = world.answers.current()
    newer = bytes(range(32))
    chain.transact(
        operator, registry.functions.register_snapshot(newer, snapshot.model_root, len(snapshot))
    )
    late = chain.advance_time(15 * 60)
    assert STALE_GRACE_S < 15 * 60 < grace
    verdict = verify_under(world, registry, answer_under(world, registry, issued_at=late))
    assert verdict.valid, verdict.reason
    assert f"stale grace {grace} s" in next(n for n in verdict.notes if n.startswith("disputes"))


def test_over_json_rpc_the_slasher_is_checked_too(world):
    """`aigora verify --rpc` against anvil: a registry without a slasher is INVALID; once our
    disputes contract is its slasher the terms are stated and the next rule decides (here: the
    operator never bonded on that chain)."""
    with Anvil() as url, Chain.connect(url) as chain:
        deployer = chain.dev_signers()[0]
        deployment = deploy_foundation(chain, deployer)
        document = answer_under(world, deployment.registry, chain=chain)
        bare = verify_over_rpc(document, url)
        assert (bare.verdict, bare.check) == ("INVALID", "slasher")
        params = DisputeParams(treasury=BURN_ADDRESS, challenger_bond=5)
        disputes, _ = deploy_disputes(
            chain, deployer, deployment.token.address, deployment.registry.address, params
        )
        wired = verify_over_rpc(document, url)
        assert (wired.verdict, wired.check) == ("INVALID", "operator")
        assert wired.notes[0].startswith(f"disputes {disputes.address}: challenger bond 5 ")


def test_the_code_check_runs_once_per_chain_and_registry(world, monkeypatch):
    registry = mirror(world, "disputes")
    chain = world.context.chain
    fetched: list[str] = []
    real_code = chain.code

    def counting_code(address: str) -> bytes:
        fetched.append(address)
        return real_code(address)

    monkeypatch.setattr(chain, "code", counting_code)
    verdicts = [verify_under(world, registry, answer_under(world, registry)) for _ in range(3)]
    assert all(v.valid for v in verdicts), [v.reason for v in verdicts]
    facts = ChainRegistry(chain, registry).deployment()
    assert fetched == [registry.address, facts.slasher, facts.links["step_verifier"]]


def test_deployed_code_matches_only_its_own_source(world):
    chain, deployment = world.context.chain, world.context.deployment
    disputes_code = chain.code(deployment.disputes.address)
    runtime = compile_contract("Disputes").runtime
    assert len(disputes_code) > len(runtime)  # the immutables follow the code
    assert runs_contract(disputes_code, "Disputes")
    assert not runs_contract(disputes_code, "Registry")
    assert not runs_contract(chain.code(deployment.registry.address), "Disputes")
    assert not runs_contract(b"", "Disputes")
    edited = bytearray(disputes_code)
    edited[len(runtime) // 2] ^= 0x01
    assert not runs_contract(bytes(edited), "Disputes")


def test_every_getter_the_verdict_reads_is_in_the_compiled_abi():
    """The getters are named in one list; renaming one in Disputes.vy fails here first."""
    getters = {
        entry["name"]
        for entry in compile_contract("Disputes").abi
        if entry.get("type") == "function"
        and entry.get("stateMutability") == "view"
        and not entry.get("inputs")
    }
    named = {getter for getter, _, _ in DISPUTES_PARAMETERS} | set(DISPUTES_LINKS)
    assert named <= getters, named - getters
    assert "stale_grace" in named


GENUINE = DeploymentFacts(
    registry="0x" + "11" * 20,
    registry_genuine=True,
    token="0x" + "22" * 20,
    unbonding_delay=7 * 24 * 3600,
    slasher="0x" + "33" * 20,
    slasher_genuine=True,
    links={
        "registry": "0x" + "11" * 20,
        "token": "0x" + "22" * 20,
        "step_verifier": "0x" + "44" * 20,
        "treasury": BURN_ADDRESS,
    },
    parameters={getter: 1 for getter, _, _ in DISPUTES_PARAMETERS},
    step_verifier_genuine=True,
)


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"slasher": ZERO_ADDRESS, "slasher_genuine": False}, "names no slasher"),
        ({"slasher_genuine": False}, "does not run Aigora's Disputes.vy code"),
        ({"links": {**GENUINE.links, "token": "0x" + "55" * 20}}, "takes bonds in token"),
        ({"step_verifier_genuine": False}, "does not run Aigora's StepVerifier.vy code"),
    ],
)
def test_the_slasher_rule_names_what_is_wrong(change, says):
    check_slasher(GENUINE)
    with pytest.raises(Invalid) as caught:
        check_slasher(replace(GENUINE, **change))
    assert caught.value.check == "slasher"
    assert says in caught.value.reason


# -- the pinned model --------------------------------------------------------------------------


def test_a_pinned_model_accepts_only_receipts_under_it(world):
    document = world.answers.ask(QUESTION, 3)
    own = "0x" + world.answers.model.root.hex()
    assert world.answers.verify(document, model=own).valid
    other = "0x" + "ab" * 32
    verdict = world.answers.verify(document, model=other)
    assert (verdict.valid, verdict.check) == (False, "model")
    assert own in verdict.reason
    assert other in verdict.reason


def test_an_openly_registered_edited_model_is_refused_by_a_pinning_verifier(world, monkeypatch):
    """The operator registers an edited model (here only its root) and answers under it; a
    verifier pinning the model it trusts (in `[verify] model`) refuses the receipt at once."""
    chain, operator, registry = (
        world.context.chain,
        world.context.operator,
        world.context.deployment.registry,
    )
    edited = bytes.fromhex("ed" * 32)
    chain.transact(operator, registry.functions.register_model(edited, ENGINE_VERSION))
    honest = answer_under(world, registry)
    receipt = {**honest.receipt, "modelRoot": "0x" + edited.hex()}
    document = replace(
        honest, receipt=receipt, signature=sign_receipt(operator, honest.domain, receipt)
    )
    own = "0x" + world.answers.model.root.hex()
    config = world.context.config
    pinned = config.model_copy(update={"verify": config.verify.model_copy(update={"model": own})})
    monkeypatch.setattr(world.context, "config", pinned)
    verdict = world.answers.verify(document)
    assert (verdict.valid, verdict.check) == (False, "model")
    assert f"model 0x{edited.hex()}, not the pinned model {own}" in verdict.reason


@pytest.mark.parametrize("root", ["0x12", "ab" * 33, "0x" + "zz" * 32])
def test_a_malformed_pin_is_refused(root):
    with pytest.raises(AigoraError, match="a model root is 0x and 64 hex digits"):
        parse_model_root(root)
