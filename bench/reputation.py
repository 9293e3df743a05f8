"""Time to recompute reputation (seeded trust + bridging scores) for a million attestations.

A synthetic community: 50,000 attesters in two viewpoints, 200,000 content items (good, bad, or
liked by one viewpoint only), 1,000,000 ratings with 10% noise, 300,000 trust edges (80% within a
viewpoint) and 50 seeds. Inputs are built once as `Rating` and `TrustEdge` objects, shuffled; the
timed call is `compute_reputation` on them, end to end (reading and validating the objects,
canonical ordering, trust, weights, the factorisation, intervals, statuses). `digest()` (canonical
JSON of the whole result, then keccak) is timed separately: it is the verification step, not the
computation.

Baseline, measured in the same run: the same alternating solves written as a plain per-item Python
loop (dicts of lists, one 2x2 solve per item and per attester), timed for one sweep on a 5% sample
of the ratings and scaled to the full data and to the number of sweeps the real run needed. It is
an estimate (linear scaling), and says what the vectorised, bincount-based sweep buys.

    python bench/reputation.py [--repeat 3]
"""

import argparse
import random
import statistics
import time

import numpy as np
from rich.console import Console
from rich.table import Table

from aigora.reputation import (
    VERDICT_RATINGS,
    Rating,
    ReputationParams,
    TrustEdge,
    compute_reputation,
    seeded_trust,
)

ROOT = "0x" + "11" * 32


def community(
    n_att: int = 50_000, n_items: int = 200_000, n_ratings: int = 1_000_000, n_edges: int = 300_000
) -> tuple[list[Rating], list[TrustEdge], tuple[str, ...]]:
    rng = np.random.default_rng(0)
    side = rng.integers(0, 2, n_att)
    kind = rng.integers(0, 4, n_items)  # good, bad, liked by side 0, liked by side 1
    atts = [f"0x{i:040x}" for i in range(n_att)]
    cids = [f"bafkrei{i:052d}" for i in range(n_items)]
    pairs = np.unique(
        rng.integers(0, n_att, 2 * n_ratings) * n_items + rng.integers(0, n_items, 2 * n_ratings)
    )
    pairs = rng.permutation(pairs)[:n_ratings]
    a, c = pairs // n_items, pairs % n_items
    likes = np.select(
        [kind[c] == 0, kind[c] == 1, kind[c] == 2], [True, False, side[a] == 0], side[a] == 1
    )
    accurate = likes ^ (rng.random(n_ratings) < 0.1)
    ratings = [
        Rating(atts[i], cids[j], "accurate" if v else "misleading")
        for i, j, v in zip(a.tolist(), c.tolist(), accurate.tolist(), strict=True)
    ]
    truster = rng.integers(0, n_att, 2 * n_edges)
    same = rng.random(2 * n_edges) < 0.8
    order = np.argsort(side, kind="stable")  # attesters grouped by side
    n_side0 = int(np.count_nonzero(side == 0))
    pick = rng.random(2 * n_edges)
    own = side[truster]
    target_side = np.where(same, own, 1 - own)
    lo = np.where(target_side == 0, 0, n_side0)
    size = np.where(target_side == 0, n_side0, n_att - n_side0)
    trustee = order[lo + (pick * size).astype(np.int64)]
    keys = np.unique(truster * n_att + trustee)
    keys = rng.permutation(keys[keys // n_att != keys % n_att])[:n_edges]
    edges = [
        TrustEdge(atts[u], atts[v])
        for u, v in zip((keys // n_att).tolist(), (keys % n_att).tolist(), strict=True)
    ]
    seeds = tuple(atts[i] for i in rng.choice(n_att, 50, replace=False))
    random.Random(0).shuffle(ratings)
    return ratings, edges, seeds


def naive_sweep_seconds(ratings: list[Rating], params: ReputationParams) -> float:
    """One alternating sweep (content, then attesters, then μ) as a per-item Python loop."""
    by_cid: dict[str, list[tuple[str, float]]] = {}
    by_att: dict[str, list[tuple[str, float]]] = {}
    for r in ratings:
        by_cid.setdefault(r.cid, []).append((r.attester, VERDICT_RATINGS[r.verdict]))
        by_att.setdefault(r.attester, []).append((r.cid, VERDICT_RATINGS[r.verdict]))
    lam_b, lam_f = params.intercept_lambda, params.factor_lambda
    rng = random.Random(0)
    b_att = dict.fromkeys(by_att, 0.0)
    f_att = {a: rng.gauss(0.0, 1.0) for a in by_att}
    b_cid, f_cid = dict.fromkeys(by_cid, 0.0), dict.fromkeys(by_cid, 0.0)
    mu = 0.5
    start = time.perf_counter()
    for own_b, own_f, groups, other_b, other_f in (
        (b_cid, f_cid, by_cid, b_att, f_att),
        (b_att, f_att, by_att, b_cid, f_cid),
    ):
        for key, rows in groups.items():
            s0 = s1 = s2 = t0 = t1 = 0.0
            for other, value in rows:
                f = other_f[other]
                y = value - mu - other_b[other]
                s0, s1, s2, t0, t1 = s0 + 1, s1 + f, s2 + f * f, t0 + y, t1 + f * y
            a, c = s0 + lam_b, s2 + lam_f
            det = a * c - s1 * s1
            own_b[key], own_f[key] = (c * t0 - s1 * t1) / det, (a * t1 - s1 * t0) / det
    total = 0.0
    for r in ratings:
        total += VERDICT_RATINGS[r.verdict] - b_att[r.attester] - b_cid[r.cid]
        total -= f_att[r.attester] * f_cid[r.cid]
    mu = total / (len(ratings) + lam_b)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    console = Console()
    build = time.perf_counter()
    ratings, edges, seeds = community()
    params = ReputationParams(seeds=seeds)
    console.print(
        f"{len(ratings):,} ratings, {len(edges):,} trust edges, {len(seeds)} seeds "
        f"(built in {time.perf_counter() - build:.1f} s, not timed)"
    )

    totals, digests = [], set()
    for _ in range(args.repeat):
        start = time.perf_counter()
        result = compute_reputation(ratings, edges, params, ROOT)
        totals.append(time.perf_counter() - start)
        start = time.perf_counter()
        digests.add(result.digest().hex())
        digest_s = time.perf_counter() - start
    start = time.perf_counter()
    seeded_trust(edges, params.seeds, params.damping, params.trust_tol, params.trust_max_iter)
    trust_s = time.perf_counter() - start

    sample = ratings[: len(ratings) // 20]
    naive = naive_sweep_seconds(sample, params) * 20 * result.mf_iterations
    total = statistics.median(totals)

    table = Table("stage", "seconds", "x naive baseline")
    table.add_row("compute_reputation, total (median)", f"{total:.2f}", f"{total / naive:.3f}")
    table.add_row("  of which seeded trust", f"{trust_s:.2f}", "")
    table.add_row("digest() of the result (separate)", f"{digest_s:.2f}", "")
    table.add_row(
        f"naive Python loop, {result.mf_iterations} sweeps (estimated)", f"{naive:.1f}", "1.000"
    )
    console.print(table)
    console.print(
        f"sweeps: {result.mf_iterations} (converged: {result.mf_converged}); "
        f"runs: {', '.join(f'{t:.2f}' for t in totals)} s; "
        f"digest identical across runs: {len(digests) == 1}; speed-up {naive / total:.0f}x"
    )


if __name__ == "__main__":
    main()
