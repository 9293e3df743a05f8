"""Every knob of the computation, in one frozen record that is published with the scores.

A score is reproducible only together with the exact parameters it came from, so `as_dict()` is
what goes into the result (and so into its digest); `ALGORITHM_VERSION` names everything that is
not a parameter (the verdict mapping, the update order, the stopping rules, the interval formula).
"""

import math
from dataclasses import asdict, dataclass, fields
from typing import Any

from aigora.reputation._errors import ReputationError

ALGORITHM_VERSION = "aigora-reputation/1"
"""Bump whenever the same inputs and parameters could give different bytes."""


@dataclass(frozen=True)
class ReputationParams:
    """Parameters of seeded trust, the bridging factorisation and the status thresholds.

    `seeds` are stored sorted and without duplicates, so two spellings of one seed set compare
    and serialise equal. Defaults, and why:

    - `damping` 0.3: the probability of jumping back to the seeds at each step. A region reached
      by few edges keeps at most (1 - damping) / damping times the trust flowing into it per step:
      5.7 at PageRank's customary 0.15, 2.3 at 0.3. In the ten synthetic communities of
      `tests/reputation/test_resistance.py` (100 honest attesters vouching for 8 others each, 50
      sybils, 10 attack edges) a brigade moved a score by up to 1.89x (median 1.41x) at 0.15,
      1.64x at 0.2, 1.43x (median 1.15x) at 0.3. The price is trust that stays closer to the
      seeds: with few seeds in a large graph most attesters weigh little (see `trust_weights`),
      so the seed set should be large and spread across viewpoints.
    - `intercept_lambda` 0.15, `factor_lambda` 0.03: Community Notes' published values
      (Wojcik et al. 2022), intercepts regularised five times more than factors, so agreement that
      one viewpoint explains goes into the factor, not into the content's score.
    - `helpful_*`, `not_helpful_*`: Community Notes' thresholds (score >= 0.40 and |factor| < 0.5;
      score <= -0.05 - 0.8 |factor|). Ratings are 1.0 (accurate) or 0.0 (misleading, spam), the
      same 0..1 scale those thresholds were set on.
    - `min_rating_weight` 5.0: the summed trust weight of the content's raters (a fully trusted
      attester weighs 1). Community Notes asks for 5 ratings; weighing them stops a swarm of
      barely trusted accounts from satisfying the minimum.
    - `mf_tol` 1e-6 and `mf_max_iter` 500: the fit stops when a sweep lowers the loss by less than
      a millionth of itself (about 10 sweeps on the test communities, about 110 on the benchmark's
      million ratings). The stopping point is part of the result: on the test communities a
      tolerance of 1e-10 moves no score by more than 1e-4, but on very sparse data (the
      benchmark's 5 ratings per item) the one-dimensional factorisation has flat valleys, and
      1e-10 (four times the sweeps) moves the average score by 1e-3 and a few by more than 1,
      changing 93 of 200,000 statuses.
    - `min_side_support` 2.0: helpful content needs "accurate" ratings worth at least two fully
      trusted attesters from each side of the viewpoint axis (attester factor >= 0 and <= 0).
      Our addition: with raters from one side only, the factorisation cannot tell viewpoint from
      quality (see `content_status`).
    - `ci_z` 1.96: a 95% interval.
    - `init_seed` 0, `spectral_iter` 50: the attester factors start from the leading singular
      vector of the residual matrix of an intercept-only fit, found by 50 power-iteration steps
      from a fixed PCG64 draw; enough to orient the viewpoint axis, which the sweeps then refine.
    """

    seeds: tuple[str, ...]
    damping: float = 0.3
    trust_tol: float = 1e-12
    trust_max_iter: int = 10_000
    intercept_lambda: float = 0.15
    factor_lambda: float = 0.03
    mf_tol: float = 1e-6
    mf_max_iter: int = 500
    init_seed: int = 0
    spectral_iter: int = 50
    ci_z: float = 1.96
    min_rating_weight: float = 5.0
    min_side_support: float = 2.0
    helpful_min_score: float = 0.40
    helpful_max_factor: float = 0.5
    not_helpful_max_score: float = -0.05
    not_helpful_factor_slope: float = 0.8

    def __post_init__(self) -> None:
        object.__setattr__(self, "seeds", normalize_seeds(self.seeds))
        for f in fields(self):
            if f.name == "seeds":
                continue
            value = getattr(self, f.name)
            if f.type is int:
                if isinstance(value, bool) or not isinstance(value, int):
                    raise ReputationError(f"{f.name} must be an integer, got {value!r}")
            else:
                if isinstance(value, bool) or not isinstance(value, int | float):
                    raise ReputationError(f"{f.name} must be a number, got {value!r}")
                if not math.isfinite(value):
                    raise ReputationError(f"{f.name} must be finite, got {value!r}")
                object.__setattr__(self, f.name, float(value))
        check_damping(self.damping)
        _positive(self, "trust_tol", "intercept_lambda", "factor_lambda", "mf_tol", "spectral_iter")
        _positive(self, "ci_z", "trust_max_iter", "mf_max_iter")
        if self.init_seed < 0:
            raise ReputationError(f"init_seed must be >= 0, got {self.init_seed}")
        for name in ("min_rating_weight", "min_side_support"):
            if getattr(self, name) < 0:
                raise ReputationError(f"{name} must be >= 0, got {getattr(self, name)}")
        if self.helpful_max_factor <= 0 or self.not_helpful_factor_slope < 0:
            raise ReputationError(
                "helpful_max_factor must be above 0 and not_helpful_factor_slope at least 0"
            )
        if self.not_helpful_max_score >= self.helpful_min_score:
            raise ReputationError(
                f"not_helpful_max_score ({self.not_helpful_max_score}) must be below "
                f"helpful_min_score ({self.helpful_min_score}), or content could be both"
            )

    def as_dict(self) -> dict[str, Any]:
        """The parameters as canonical-JSON-ready values (seeds as a sorted list)."""
        out = asdict(self)
        out["seeds"] = list(self.seeds)
        return out


def normalize_seeds(seeds: object) -> tuple[str, ...]:
    """The seed set sorted and deduplicated; refuses an empty set or a bare string."""
    if isinstance(seeds, str) or not isinstance(seeds, tuple | list | frozenset | set):
        raise ReputationError(f"seeds must be a collection of addresses, got {seeds!r}")
    for s in seeds:
        if not isinstance(s, str) or not s:
            raise ReputationError(f"each seed must be a non-empty string, got {s!r}")
    if not seeds:
        raise ReputationError("the seed set is empty; trust needs at least one pre-trusted account")
    return tuple(sorted(set(seeds)))


def check_damping(damping: float) -> None:
    """Damping must lie strictly between 0 and 1: at 0 trust ignores the seeds, at 1 the graph."""
    if isinstance(damping, bool) or not isinstance(damping, int | float) or not 0 < damping < 1:
        raise ReputationError(f"damping must lie strictly between 0 and 1, got {damping!r}")


def _positive(params: ReputationParams, *names: str) -> None:
    for name in names:
        if getattr(params, name) <= 0:
            raise ReputationError(f"{name} must be above 0, got {getattr(params, name)!r}")
