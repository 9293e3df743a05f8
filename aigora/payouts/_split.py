"""Integer money: a pool split by weights so the parts add up to the pool exactly.

Amounts are token base units (Python ints, no floats). `allocate` is the largest-remainder
(Hamilton) method: each share is floor(pool * w / W); the units left over go one each to the
largest fractional parts, ties to the lower index (the earlier item). With all weights zero the
pool is split evenly by the same rule.

The usage rule (`split_fee`): of an answer's fee, the operator keeps `operator_bps` / 10000
(rounded down); the rest goes to the passages the answer returned, weighted by their scores
clipped at zero (a passage that scored below zero still earns its equal part when every score
is; a returned passage is never worth less than nothing).
"""

from collections.abc import Sequence
from dataclasses import dataclass

from aigora.core.errors import AigoraError

BPS = 10_000


class PayoutError(AigoraError):
    """A payout cannot be computed from these inputs."""


def allocate(pool: int, weights: Sequence[int]) -> list[int]:
    """Parts of `pool` proportional to `weights`, summing to `pool` exactly."""
    if not isinstance(pool, int) or pool < 0:
        raise PayoutError(f"a pool is a non-negative integer of base units, got {pool!r}")
    if any(not isinstance(w, int) or w < 0 for w in weights):
        raise PayoutError("weights must be non-negative integers")
    if not weights:
        if pool:
            raise PayoutError(f"cannot allocate {pool} units to nobody")
        return []
    total = sum(weights)
    if total == 0:
        weights, total = [1] * len(weights), len(weights)
    parts = [pool * w // total for w in weights]
    remainders = [pool * w % total for w in weights]
    left = pool - sum(parts)
    for index in sorted(range(len(weights)), key=lambda i: (-remainders[i], i))[:left]:
        parts[index] += 1
    return parts


@dataclass(frozen=True)
class FeeSplit:
    operator: int
    passages: tuple[int, ...]


def split_fee(fee: int, scores: Sequence[int], operator_bps: int) -> FeeSplit:
    """The operator's part of `fee` and each returned passage's, by the rule above."""
    if not 0 <= operator_bps <= BPS:
        raise PayoutError(f"the operator's share must be 0..{BPS} bps, got {operator_bps}")
    if fee < 0:
        raise PayoutError(f"a fee cannot be negative, got {fee}")
    if not scores:
        return FeeSplit(fee, ())
    operator = fee * operator_bps // BPS
    parts = allocate(fee - operator, [max(int(s), 0) for s in scores])
    return FeeSplit(operator, tuple(parts))
