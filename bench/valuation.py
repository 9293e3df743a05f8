"""Time exact KNN-Shapley for 100,000 snapshot items against 1,000 labeled validation points.

Synthetic data: 100,000 training and 1,000 validation L2-normalised 384-dim vectors quantised to
int8 (x 127, like the index's sentence embeddings), 10 random labels, k = 10, seed 0; 1% of the
training items are near-copies (one int8 unit changed) of earlier ones. The timed call is
`knn_shapley` end to end (scores, sorting, recursion, accumulation); `duplicate_groups` on the
same items (threshold 95% of 127**2) and the full `value_items` pipeline are timed separately.

Baseline, measured in the same run: the recursion as a per-validation-point Python loop (pyDVL's
`knn_shapley` loop: numpy scores and ranking, then one Python step per training item), timed on a
sample of validation points and scaled linearly to all of them. It is an estimate, and says what
vectorising the recursion across items and validation points buys. The sample's values from the
loop and from `knn_shapley` are compared as a correctness check.

    python bench/valuation.py [--repeat 3] [--items 100000] [--valid 1000] [--sample 5]
"""

import argparse
import statistics
import time

import numpy as np
from rich.console import Console
from rich.table import Table

from aigora.value import duplicate_groups, knn_shapley, value_items

D, LABELS, K = 384, 10, 10


def embeddings(rng: np.random.Generator, n: int) -> np.ndarray:
    x = rng.standard_normal((n, D), dtype=np.float32)
    return np.round(x / np.linalg.norm(x, axis=1, keepdims=True) * 127).astype(np.int8)


def dataset(n: int, m: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    train, valid = embeddings(rng, n), embeddings(rng, m)
    copies = rng.choice(np.arange(1, n), n // 100, replace=False)
    for i in copies.tolist():
        train[i] = train[rng.integers(0, i)]
        j = rng.integers(0, D)
        train[i, j] -= np.sign(train[i, j]) if train[i, j] else -1
    return train, rng.integers(0, LABELS, n), valid, rng.integers(0, LABELS, m)


def naive_values(
    train: np.ndarray, yt: np.ndarray, valid: np.ndarray, yv: np.ndarray, k: int
) -> tuple[np.ndarray, float]:
    """Sum over `valid` of the per-point recursion as a Python loop, and the seconds it took."""
    n = train.shape[0]
    train64 = train.astype(np.int64)
    labels = yt.tolist()
    res = np.zeros(n)
    start = time.perf_counter()
    for query, label in zip(valid, yv.tolist(), strict=True):
        ii = np.lexsort((np.arange(n), -(train64 @ query.astype(np.int64)))).tolist()
        values = [0.0] * n
        idx = ii[-1]
        values[idx] = int(labels[idx] == label) / max(k, n)
        for i in range(n - 1, 0, -1):
            prev_idx, idx = idx, ii[i - 1]
            step = int(labels[idx] == label) - int(labels[prev_idx] == label)
            values[idx] = values[prev_idx] + step / max(k, i)
        res += values
    return res, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--valid", type=int, default=1_000)
    parser.add_argument("--sample", type=int, default=5)
    args = parser.parse_args()
    console = Console()
    build = time.perf_counter()
    train, yt, valid, yv = dataset(args.items, args.valid)
    console.print(
        f"{args.items:,} items x {args.valid:,} validation points, d={D}, {LABELS} labels, k={K} "
        f"(built in {time.perf_counter() - build:.1f} s, not timed)"
    )

    totals, results = [], []
    for _ in range(args.repeat):
        start = time.perf_counter()
        results.append(knn_shapley(train, yt, valid, yv, K))
        totals.append(time.perf_counter() - start)
    total = statistics.median(totals)
    identical = all(np.array_equal(results[0], r) for r in results)

    threshold = int(0.95 * 127**2)
    start = time.perf_counter()
    groups = duplicate_groups(train, threshold)
    dup_s = time.perf_counter() - start
    start = time.perf_counter()
    value_items(train, yt, valid, yv, K, threshold)
    pipeline_s = time.perf_counter() - start

    sample = slice(0, args.sample)
    loop_sum, loop_s = naive_values(train, yt, valid[sample], yv[sample], K)
    fast_sum = knn_shapley(train, yt, valid[sample], yv[sample], K) * args.sample
    naive = loop_s * args.valid / args.sample
    max_diff = float(np.abs(loop_sum - fast_sum).max())

    table = Table("stage", "seconds", "x naive baseline")
    table.add_row("knn_shapley (median)", f"{total:.2f}", f"{total / naive:.4f}")
    table.add_row("duplicate_groups", f"{dup_s:.2f}", "")
    table.add_row("value_items (groups + knn_shapley)", f"{pipeline_s:.2f}", "")
    table.add_row(
        f"naive Python loop, {args.valid:,} points (from {args.sample})", f"{naive:.1f}", "1.000"
    )
    console.print(table)
    n_groups = int(np.count_nonzero(groups == np.arange(args.items)))
    console.print(
        f"runs: {', '.join(f'{t:.2f}' for t in totals)} s; identical across runs: {identical}; "
        f"speed-up {naive / total:.0f}x; representatives: {n_groups:,} of {args.items:,}; "
        f"sample max |loop - vectorised|: {max_diff:.1e}"
    )


if __name__ == "__main__":
    main()
