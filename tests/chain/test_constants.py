"""Every constant the Python side mirrors by hand equals the contract constant it mirrors.

The contract side is read from the Vyper source (`contract_constants`), so editing either side
alone fails here. Each mirror is imported once, below, from where it lives: when one moves, only
its import changes.
"""

import shutil
from pathlib import Path

import numpy as np
import pytest
from eth_utils import function_abi_to_4byte_selector

# The Python mirrors are the imports marked with the contract they mirror.
from aigora.agent.intents import (
    DEPOSIT_SIGNATURE,
    REDEEM_SIGNATURE,
    WITHDRAW_SIGNATURE,
    selector_of,
)
from aigora.agent.policy import (  # mirrors PolicyWallet
    APPROVE,
    INCREASE_ALLOWANCE,
    MAX_CALLS,
    MAX_LIMITS,
    MAX_RECIPIENTS,
    TRANSFER,
    TRANSFER_FROM,
)
from aigora.agent.swaps import (  # mirrors PolicyWallet
    MAX_TOKENS_OUT,
    SWAP_EXACT_IN,
    SWAP_EXACT_TOKENS_FOR_TOKENS,
    UNDECODED_SWAPS,
)
from aigora.agent.vaults import MINT, VAULT_CALLS  # mirrors PolicyWallet
from aigora.app._dispute_state import EMBEDDING, KIND_NAMES, OMISSION, STATUS_NAMES  # Disputes
from aigora.asks import DOMAIN_NAME as CHANNELS_DOMAIN_NAME  # mirrors Channels
from aigora.asks import DOMAIN_VERSION as CHANNELS_DOMAIN_VERSION  # mirrors Channels
from aigora.asks import REDEEM_BATCH, VOUCHER_TYPES, WITHDRAWAL_TYPES  # mirror Channels
from aigora.chain import POOL_FEE_BPS, Chain, compile_contract, contract_constants
from aigora.chain import compile as compile_module
from aigora.chain.constants import ConstantValue
from aigora.chain.deploy import (  # DisputeParams mirrors Disputes' deployed immutables
    DisputeParams,
    deploy_disputes,
    deploy_foundation,
)
from aigora.content.anchoring import KIND_CODES  # mirrors Registry
from aigora.content.signed import DOMAIN_NAME as RECEIPT_DOMAIN_NAME  # mirrors Disputes
from aigora.content.signed import DOMAIN_VERSION as RECEIPT_DOMAIN_VERSION  # mirrors Disputes
from aigora.core.eip712 import _SECP256K1_N, DOMAIN_TYPE  # mirror lib/ecdsa.vy, lib/eip712.vy
from aigora.core.hashing import keccak
from aigora.engine import _spec  # mirrors StepVerifier (fixed-point arithmetic)
from aigora.engine._commit import CHUNK_BYTES  # mirrors Disputes, StepVerifier
from aigora.engine._trace import TOKENS_OP, op_dtype  # mirrors Disputes
from aigora.governance import BALLOT_TYPES, PROPOSE_TYPES, STATE_NAMES, SUPPORT  # Governor
from aigora.governance import DOMAIN_NAME as GOVERNOR_DOMAIN_NAME  # mirrors Governor
from aigora.governance import DOMAIN_VERSION as GOVERNOR_DOMAIN_VERSION  # mirrors Governor
from aigora.payouts._claims import CLAIM_FEE_TYPES  # mirrors Distributor
from aigora.payouts._claims import DOMAIN_NAME as CLAIM_DOMAIN_NAME  # mirrors Distributor
from aigora.payouts._claims import DOMAIN_VERSION as CLAIM_DOMAIN_VERSION  # mirrors Distributor
from aigora.payouts._split import BPS  # mirrors Disputes
from aigora.store.models import AnchorKind  # mirrors Registry (with KIND_CODES)
from aigora.verify._challenge import KINDS  # mirrors Disputes
from aigora.verify._claims import EMBEDDING_OP  # mirrors Disputes
from aigora.verify._game import OPERATOR_PHASES, PHASES  # mirror Disputes
from aigora.verify._receipt import MAX_K, RECEIPT_TYPES  # mirror Disputes
from aigora.verify._step import _LAYER_OPS  # mirrors StepVerifier
from aigora.verify._verify import KIND_RECEIPTS, STALE_GRACE_S  # mirror Registry, Disputes

FIXED_POINT = (
    "LN_FRAC_BITS",
    "LN_INV_BITS",
    "EXP_IN_BITS",
    "EXP_OUT_BITS",
    "EXP_MIN_INPUT",
    "LN2_Q",
    "EXP_POLY_BITS",
    "EXP_COEFFS",
    "PROB_BITS",
    "PROB_INV_BITS",
    "GELU_BITS",
    "GELU_CLAMP",
    "PHI_ARG_BITS",
    "PHI_POLY_BITS",
    "PHI_COEFFS",
    "INT8_MAX",
    "INT16_MAX",
    "MAX_TOKENS",
)
"""The engine's constants StepVerifier recomputes with, under the same names on both sides."""


@pytest.fixture(scope="module")
def disputes() -> dict[str, ConstantValue]:
    return contract_constants("Disputes")


@pytest.fixture(scope="module")
def registry() -> dict[str, ConstantValue]:
    return contract_constants("Registry")


@pytest.fixture(scope="module")
def step() -> dict[str, ConstantValue]:
    return contract_constants("StepVerifier")


@pytest.fixture(scope="module")
def distributor() -> dict[str, ConstantValue]:
    return contract_constants("Distributor")


def _named(
    constants: dict[str, ConstantValue], prefix: str, *, besides: tuple[str, ...] = ()
) -> dict[ConstantValue, str]:
    """{value: name} of the constants `<prefix>NAME` (but `besides`), each named as Python spells
    it: NAME in lower case, words apart (`STATUS_CHALLENGER_WON` is "challenger won")."""
    named = [
        (value, key.removeprefix(prefix).lower().replace("_", " "))
        for key, value in constants.items()
        if key.startswith(prefix) and key not in besides
    ]
    assert len({value for value, _ in named}) == len(named), f"two {prefix}* share a value"
    return dict(named)


def _type_hash(primary: str, types: dict[str, list[dict[str, str]]]) -> bytes:
    """EIP-712 typeHash of a struct whose members are all atomic types."""
    members = ",".join(f"{m['type']} {m['name']}" for m in types[primary])
    return keccak(f"{primary}({members})".encode())


# ---- disputes -----------------------------------------------------------------------------------


def test_dispute_kinds(disputes):
    # KIND_RECEIPTS is the registry's batch kind (below), not a dispute kind
    assert _named(disputes, "KIND_", besides=("KIND_RECEIPTS",)) == KIND_NAMES
    assert (disputes["KIND_OMISSION"], disputes["KIND_EMBEDDING"]) == (OMISSION, EMBEDDING)
    assert sorted(KINDS) == sorted(KIND_NAMES.values())


def test_dispute_statuses(disputes):
    assert _named(disputes, "STATUS_") == STATUS_NAMES


def test_game_phases_and_whose_move_each_is(disputes):
    assert _named(disputes, "GAME_") == PHASES
    operator = sum(1 << code for code, phase in PHASES.items() if phase in OPERATOR_PHASES)
    assert disputes["OPERATOR_MOVES"] == operator
    assert set(PHASES.values()) >= OPERATOR_PHASES


def test_stale_grace_is_what_a_default_deployment_reads_back():
    assert DisputeParams().stale_grace_s == STALE_GRACE_S
    with Chain.embedded() as chain:
        owner = chain.dev_signers()[0]
        foundation = deploy_foundation(chain, owner)
        contract, _ = deploy_disputes(
            chain, owner, foundation.token.address, foundation.registry.address
        )
        assert chain.call(contract.functions.stale_grace()) == STALE_GRACE_S


def test_treasury_share_in_basis_points(disputes):
    assert disputes["BPS"] == BPS
    assert 0 <= DisputeParams().treasury_bps <= BPS


def test_embedding_and_tokens_ops(disputes):
    assert disputes["EMBEDDING_OP"] == EMBEDDING_OP
    assert disputes["EMBEDDING_DTYPE"] == op_dtype(EMBEDDING_OP).name
    assert disputes["TOKENS_OP"] == TOKENS_OP
    assert disputes["TOKENS_DTYPE"] == op_dtype(TOKENS_OP).name
    assert disputes["DIM"] == DisputeParams().hidden  # the embedding is one hidden-width vector
    assert disputes["WORDS"] * 32 == disputes["DIM"]


def test_chunk_size(disputes, step):
    assert disputes["CHUNK_BYTES"] == step["CHUNK"] == CHUNK_BYTES


def test_depth_and_size_limits(disputes, registry, step):
    # Disputes hands anchor proofs to Registry.verify_inclusion and step inputs to StepVerifier.
    assert disputes["MAX_ANCHOR_DEPTH"] == registry["MAX_PROOF_DEPTH"]
    assert disputes["MAX_STEP_CHUNKS"] == step["MAX_CHUNKS"]
    assert disputes["MAX_STEP_PARAMS"] == step["MAX_PARAMS"]
    assert 1 << disputes["MAX_OP_DEPTH"] == disputes["MAX_OPS"]
    assert 1 << disputes["MAX_RESULT_DEPTH"] >= MAX_K
    assert DisputeParams().layers <= step["MAX_LAYERS"]
    # every proof a contract takes fits the shared Merkle module's bound
    assert registry["MAX_PROOF_DEPTH"] <= registry["merkle.MAX_DEPTH"]


# ---- signatures ---------------------------------------------------------------------------------


def test_receipt_domain_and_type(disputes):
    assert disputes["DOMAIN_NAME_HASH"] == keccak(RECEIPT_DOMAIN_NAME.encode())
    assert disputes["DOMAIN_VERSION_HASH"] == keccak(RECEIPT_DOMAIN_VERSION.encode())
    assert disputes["RECEIPT_TYPEHASH"] == _type_hash("Receipt", RECEIPT_TYPES)
    domain = _type_hash("EIP712Domain", {"EIP712Domain": DOMAIN_TYPE})
    assert disputes["eip712.DOMAIN_TYPEHASH"] == domain


def test_claim_fee_domain_and_type(distributor):
    assert distributor["DOMAIN_NAME"] == CLAIM_DOMAIN_NAME
    assert distributor["DOMAIN_VERSION"] == CLAIM_DOMAIN_VERSION
    assert distributor["CLAIM_FEE_TYPEHASH"] == _type_hash("ClaimFee", CLAIM_FEE_TYPES)
    domain = _type_hash("EIP712Domain", {"EIP712Domain": DOMAIN_TYPE})
    assert distributor["eip712._TYPE_HASH"] == domain  # snekmate's


def test_channels_domain_types_and_batch():
    channels = contract_constants("Channels")
    assert channels["DOMAIN_NAME"] == CHANNELS_DOMAIN_NAME
    assert channels["DOMAIN_VERSION"] == CHANNELS_DOMAIN_VERSION
    assert channels["VOUCHER_TYPEHASH"] == _type_hash("Voucher", VOUCHER_TYPES)
    assert channels["WITHDRAWAL_TYPEHASH"] == _type_hash("Withdrawal", WITHDRAWAL_TYPES)
    assert channels["ecdsa.HALF_CURVE_ORDER"] == _SECP256K1_N // 2
    assert channels["MAX_BATCH"] >= REDEEM_BATCH


def test_governor_domain_types_supports_and_states():
    governor = contract_constants("Governor")
    assert governor["DOMAIN_NAME"] == GOVERNOR_DOMAIN_NAME
    assert governor["DOMAIN_VERSION"] == GOVERNOR_DOMAIN_VERSION
    assert governor["PROPOSE_TYPEHASH"] == _type_hash("Propose", PROPOSE_TYPES)
    assert governor["BALLOT_TYPEHASH"] == _type_hash("Ballot", BALLOT_TYPES)
    assert _named(governor, "SUPPORT_") == {code: name for name, code in SUPPORT.items()}
    assert _named(governor, "STATE_") == STATE_NAMES
    assert governor["ecdsa.HALF_CURVE_ORDER"] == _SECP256K1_N // 2
    assert governor["eip712._TYPE_HASH"] == _type_hash(
        "EIP712Domain", {"EIP712Domain": DOMAIN_TYPE}
    )
    assert governor["BPS"] == BPS
    assert governor["MAX_DEPTH"] <= governor["merkle.MAX_DEPTH"]


def test_signature_malleability_bound(disputes, distributor):
    assert disputes["ecdsa.HALF_CURVE_ORDER"] == _SECP256K1_N // 2
    assert distributor["ecdsa.HALF_CURVE_ORDER"] == _SECP256K1_N // 2


# ---- registry, step verifier, policy wallet -----------------------------------------------------


def test_anchor_batch_kinds(registry, disputes):
    assert {kind: registry[f"KIND_{kind.name}"] for kind in AnchorKind} == KIND_CODES
    assert set(KIND_CODES.values()) == set(_named(registry, "KIND_"))
    assert KIND_RECEIPTS == registry["KIND_RECEIPTS"] == disputes["KIND_RECEIPTS"]


@pytest.mark.parametrize("name", FIXED_POINT)
def test_fixed_point_constants(step, name):
    assert step[name] == getattr(_spec, name)


def test_every_shared_engine_name_is_compared(step):
    shared = {name for name in step if name.isupper() and hasattr(_spec, name)}
    assert shared <= set(FIXED_POINT)
    assert step["INT32_MAX"] == np.iinfo(np.int32).max


def test_layer_op_order(step):
    """StepVerifier's layer kinds K_QKV..K_LN2_MM are the engine's layer ops, in trace order."""
    kinds = sorted(
        (value, key.removeprefix("K_").lower())
        for key, value in step.items()
        if key.startswith("K_") and step["K_QKV"] <= value <= step["K_LN2_MM"]
    )
    names = [k.replace("ln1_", "ln1.").replace("ln2_", "ln2.") for _, k in kinds]
    assert names == list(_LAYER_OPS)


def test_policy_wallet_selectors_and_limits():
    wallet = contract_constants("PolicyWallet")
    assert wallet["TRANSFER"] == TRANSFER
    assert wallet["APPROVE"] == APPROVE
    assert wallet["TRANSFER_FROM"] == TRANSFER_FROM
    assert wallet["INCREASE_ALLOWANCE"] == INCREASE_ALLOWANCE
    assert wallet["MAX_RECIPIENTS"] == MAX_RECIPIENTS
    assert wallet["MAX_CALLS"] == MAX_CALLS
    assert wallet["MAX_TOKENS_OUT"] == MAX_TOKENS_OUT
    assert wallet["SWAP_EXACT_IN"] == SWAP_EXACT_IN
    assert wallet["SWAP_EXACT_TOKENS_FOR_TOKENS"] == SWAP_EXACT_TOKENS_FOR_TOKENS
    assert tuple(wallet["UNDECODED_SWAPS"]) == UNDECODED_SWAPS
    assert (wallet["DEPOSIT"], wallet["WITHDRAW"], wallet["REDEEM"]) == VAULT_CALLS
    assert wallet["MINT"] == MINT
    assert wallet["MAX_LIMITS"] == MAX_LIMITS
    for name, signature in [
        ("DEPOSIT", DEPOSIT_SIGNATURE),
        ("WITHDRAW", WITHDRAW_SIGNATURE),
        ("REDEEM", REDEEM_SIGNATURE),
        ("MINT", "mint(uint256,address)"),
    ]:
        assert wallet[name] == selector_of(signature)


def test_the_pools_swap_is_the_one_the_wallet_decodes():
    """The dev chains' pool is swapped through with the call the PolicyWallet decodes, and its
    default fee is one the contract accepts."""
    swap = next(e for e in compile_contract("Pool").abi if e.get("name") == "swap_exact_in")
    assert function_abi_to_4byte_selector(swap) == SWAP_EXACT_IN
    assert contract_constants("Pool")["MAX_FEE_BPS"] >= POOL_FEE_BPS


# ---- the reader itself --------------------------------------------------------------------------

TOY = """# pragma version ~=0.4.3
from .lib import toy_lib

WIDE: constant(uint256) = 2**128 - 1
NEGATIVE: constant(int256) = -20 * 65536
BIAS: constant(uint256) = max_value(uint256) // 255 * 128
NAME: constant(String[5]) = "hello"
SELECTOR: constant(bytes4) = 0xa9059cbb
RAW: constant(Bytes[3]) = b"abc"
HASH: constant(bytes32) = keccak256("Aigora")
COEFFS: constant(int256[3]) = [1, -2, 3]
FLAG: constant(bool) = True
DOUBLE: constant(uint256) = toy_lib.LIMIT * 2
"""


def test_reader_folds_literals_arithmetic_and_module_constants(tmp_path: Path, monkeypatch):
    contracts = tmp_path / "contracts"
    (contracts / "lib").mkdir(parents=True)
    (contracts / "Toy.vy").write_text(TOY)
    (contracts / "lib" / "toy_lib.vy").write_text("LIMIT: constant(uint256) = 64\n")
    monkeypatch.setattr(compile_module, "CONTRACTS_DIR", contracts)
    assert contract_constants("Toy") == {
        "WIDE": 2**128 - 1,
        "NEGATIVE": -1310720,
        "BIAS": (2**256 - 1) // 255 * 128,
        "NAME": "hello",
        "SELECTOR": bytes.fromhex("a9059cbb"),
        "RAW": b"abc",
        "HASH": keccak(b"Aigora"),
        "COEFFS": (1, -2, 3),
        "FLAG": True,
        "DOUBLE": 128,
        "toy_lib.LIMIT": 64,
    }
    (contracts / "lib" / "toy_lib.vy").write_text("LIMIT: constant(uint256) = 32\n")
    assert contract_constants("Toy")["DOUBLE"] == 64


def test_reader_sees_an_edited_contract(tmp_path: Path, monkeypatch):
    contracts = tmp_path / "contracts"
    shutil.copytree(compile_module.CONTRACTS_DIR, contracts)
    monkeypatch.setattr(compile_module, "CONTRACTS_DIR", contracts)
    source = contracts / "Disputes.vy"
    old, new = "STATUS_OPEN: constant(uint8) = 1", "STATUS_OPEN: constant(uint8) = 9"
    source.write_text(source.read_text().replace(old, new))
    assert contract_constants("Disputes")["STATUS_OPEN"] == 9
    assert _named(contract_constants("Disputes"), "STATUS_") != STATUS_NAMES
