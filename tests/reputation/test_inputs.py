"""Inputs and parameters are checked at the edge, with messages that say what to fix."""

import math

import pytest

from aigora.core.errors import AigoraError
from aigora.reputation import (
    Rating,
    ReputationError,
    ReputationParams,
    TrustEdge,
    bridging_scores,
    compute_reputation,
)

ROOT = "0x" + "ab" * 32


def test_reputation_error_is_an_aigora_error() -> None:
    assert issubclass(ReputationError, AigoraError)
    assert issubclass(ReputationError, ValueError)


@pytest.mark.parametrize("verdict", ["Accurate", "true", "", "helpful"])
def test_unknown_verdict_is_refused(verdict: str) -> None:
    with pytest.raises(ReputationError, match="unknown verdict"):
        Rating("0xa", "c", verdict)


@pytest.mark.parametrize(("attester", "cid"), [("", "c"), ("0xa", ""), (None, "c"), ("0xa", 3)])
def test_names_must_be_non_empty_strings(attester: object, cid: object) -> None:
    with pytest.raises(ReputationError, match="non-empty string"):
        Rating(attester, cid, "accurate")  # type: ignore[arg-type]


@pytest.mark.parametrize("weight", [0, -1.0, math.inf, math.nan, True, "1"])
def test_trust_weights_must_be_positive_and_finite(weight: object) -> None:
    with pytest.raises(ReputationError, match="weight"):
        TrustEdge("0xa", "0xb", weight)  # type: ignore[arg-type]


def test_repeated_rating_is_refused() -> None:
    ratings = [Rating("0xa", "c", "accurate"), Rating("0xa", "c", "misleading")]
    with pytest.raises(ReputationError, match="0xa rated c more than once"):
        bridging_scores(ratings, {"0xa": 1.0}, ReputationParams(seeds=("0xa",)))


@pytest.mark.parametrize("weight", [-0.1, math.nan, math.inf])
def test_bad_attester_weight_is_refused(weight: float) -> None:
    with pytest.raises(ReputationError, match="weights must be >= 0"):
        bridging_scores([Rating("0xa", "c", "accurate")], {"0xa": weight}, ReputationParams(("s",)))


def test_non_rating_input_is_refused() -> None:
    with pytest.raises(ReputationError, match="expected Rating"):
        bridging_scores([("0xa", "c", "accurate")], {}, ReputationParams(("s",)))  # type: ignore[list-item]


@pytest.mark.parametrize(
    "changes",
    [
        {"seeds": ()},
        {"seeds": "0xa"},
        {"seeds": ("",)},
        {"damping": 0.0},
        {"damping": 1.0},
        {"damping": math.nan},
        {"intercept_lambda": 0.0},
        {"factor_lambda": -1.0},
        {"mf_tol": math.inf},
        {"mf_max_iter": 0},
        {"mf_max_iter": 1.5},
        {"trust_max_iter": True},
        {"min_rating_weight": -1.0},
        {"min_side_support": -1.0},
        {"helpful_min_score": -0.1},
    ],
)
def test_bad_parameters_are_refused(changes: dict) -> None:
    with pytest.raises(ReputationError):
        ReputationParams(**{"seeds": ("0xa",), **changes})


def test_seed_sets_are_normalised() -> None:
    assert ReputationParams(seeds=("0xb", "0xa", "0xb")) == ReputationParams(seeds=["0xa", "0xb"])
    assert ReputationParams(seeds=("0xb", "0xa")).as_dict()["seeds"] == ["0xa", "0xb"]
    assert ReputationParams(seeds=("0xa",), damping=1 / 4).as_dict()["damping"] == 0.25


@pytest.mark.parametrize("root", ["ab" * 32, "0x" + "ab" * 31, "0x" + "zz" * 32, b"\x00" * 32])
def test_attestation_root_must_be_32_bytes_of_hex(root: object) -> None:
    with pytest.raises(ReputationError, match="attestation_root"):
        compute_reputation([], [], ReputationParams(("0xa",)), root)  # type: ignore[arg-type]


def test_roots_are_recorded_in_lowercase() -> None:
    res = compute_reputation([], [], ReputationParams(("0xa",)), "0x" + "AB" * 32, "0x" + "Cd" * 32)
    assert res.attestation_root == ROOT
    assert res.trust_root == "0x" + "cd" * 32


def test_empty_inputs_give_a_well_formed_result() -> None:
    res = compute_reputation([], [], ReputationParams(("0xa",)), ROOT)
    assert res.trust == {"0xa": 1.0}
    assert res.scores == {}
    assert len(res.digest()) == 32


def test_attesters_without_trust_appear_with_zero() -> None:
    ratings = [Rating("0xstranger", "c", "accurate")]
    res = compute_reputation(ratings, [TrustEdge("0xa", "0xb")], ReputationParams(("0xa",)), ROOT)
    assert res.trust["0xstranger"] == 0.0
    assert res.scores["c"].rating_weight == 0.0
