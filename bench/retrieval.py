"""Queries per second of exact int8 top-10 retrieval against faiss' flat index, same run.

    python bench/retrieval.py [--sizes 100000,1000000] [--queries 64] [--repeat 3] [--threads 2]

Passages are synthetic: gaussian vectors, L2-normalised, times 127, rounded to int8 (seed 0), the
shape of the snapshot's sentence embeddings (d = 384). Ours is `ExactIndex.search` with its cached
float32 copy (the default budget holds a million passages); faiss is `IndexFlatIP` on the same
vectors as float32, with as many threads as our BLAS. Both answer the same queries one at a time
and as one batch, each timed `--repeat` times, alternating, best time counting (the machine may
be shared). Ours is exact by construction; faiss' float scores of these integer vectors are exact
too, so the positions must agree wherever the top 10 has no tied scores, and the check says so.
The block-by-block path (no float copy, bounded memory) is timed on the batch as well.

The script is a list of sections, each a function of the parsed arguments that prints its own
table; a later section is appended to `SECTIONS` with its options added in `parser()`.
"""

import argparse
import platform
import resource
import time
from collections.abc import Callable

import faiss
import numpy as np
from rich.console import Console
from rich.table import Table
from threadpoolctl import threadpool_limits

from aigora.index import ExactIndex

DIM = 384
K = 10


def int8_vectors(n: int, seed: int, chunk: int = 100_000) -> np.ndarray:
    """n gaussian directions as int8 (round(127 * unit vector)), made in chunks to bound memory."""
    rng = np.random.default_rng(seed)
    out = np.empty((n, DIM), np.int8)
    for start in range(0, n, chunk):
        x = rng.standard_normal((min(chunk, n - start), DIM), dtype=np.float32)
        x *= 127 / np.linalg.norm(x, axis=1, keepdims=True)
        out[start : start + len(x)] = np.rint(x)
    return out


def best_seconds(runs: dict[str, Callable[[], object]], repeat: int) -> dict[str, float]:
    """Best wall time of each callable over `repeat` rounds, alternating, after one warm-up."""
    for run in runs.values():
        run()
    best = dict.fromkeys(runs, float("inf"))
    for _ in range(repeat):
        for name, run in runs.items():
            start = time.perf_counter()
            run()
            best[name] = min(best[name], time.perf_counter() - start)
    return best


def agreement(ours: tuple[np.ndarray, np.ndarray], theirs: tuple[np.ndarray, np.ndarray]) -> str:
    """How many queries' positions match faiss', and whether any mismatch is only a tie order."""
    positions, scores = ours
    faiss_scores, faiss_positions = theirs
    same = (positions == faiss_positions).all(axis=1)
    tie_order = ((scores == faiss_scores.astype(np.int32)).all(axis=1) & ~same).sum()
    other = len(same) - same.sum() - tie_order
    note = f", {tie_order} differ only in tie order" if tie_order else ""
    note += f", {other} REALLY DIFFER" if other else ""
    return f"{same.sum()}/{len(same)} equal{note}"


def size_rows(n: int, queries: np.ndarray, repeat: int, console: Console) -> list[list[str]]:
    """Table rows for one corpus size; the indexes are freed when this returns."""
    made = time.perf_counter()
    passages = int8_vectors(n, seed=0)
    made = time.perf_counter() - made
    built = time.perf_counter()
    index = ExactIndex(passages)
    built = time.perf_counter() - built
    bounded = ExactIndex(passages, memory_budget_bytes=0)
    flat = faiss.IndexFlatIP(DIM)
    flat.add(passages.astype(np.float32))
    queries_f32 = queries.astype(np.float32)
    console.print(
        f"{n:,} passages: made in {made:.1f} s, ExactIndex built in {built:.2f} s "
        f"(float copy cached: {index.cached}), not timed"
    )

    singles = best_seconds(
        {
            "ours": lambda: [index.search(q, K) for q in queries],
            "faiss": lambda: [flat.search(q[None], K) for q in queries_f32],
        },
        repeat,
    )
    batch = best_seconds(
        {
            "ours": lambda: index.search(queries, K),
            "faiss": lambda: flat.search(queries_f32, K),
            "bounded": lambda: bounded.search(queries, K),
        },
        repeat,
    )
    ours_single = [index.search(q, K) for q in queries]
    faiss_single = [flat.search(q[None], K) for q in queries_f32]
    single_check = agreement(
        (np.concatenate([p for p, _ in ours_single]), np.concatenate([s for _, s in ours_single])),
        (
            np.concatenate([s for s, _ in faiss_single]),
            np.concatenate([p for _, p in faiss_single]),
        ),
    )
    ours_batch = index.search(queries, K)
    bounded_batch = bounded.search(queries, K)
    same = all((a == b).all() for a, b in zip(ours_batch, bounded_batch, strict=True))
    same_bounded = "identical to the cached path" if same else "DIFFERS from the cached path"

    m, rows = len(queries), []
    for mode, best, check in (
        ("single", singles, single_check),
        (f"batch of {m}", batch, agreement(ours_batch, flat.search(queries_f32, K))),
        (f"batch of {m}, no float copy", {**batch, "ours": batch["bounded"]}, same_bounded),
    ):
        ours_qps, faiss_qps = m / best["ours"], m / best["faiss"]
        ratio = f"{ours_qps / faiss_qps:.2f}"
        rows.append([f"{n:,}", mode, f"{ours_qps:.1f}", f"{faiss_qps:.1f}", ratio, check])
    return rows


def retrieval(args: argparse.Namespace, console: Console) -> None:
    """Exact top-10 over each corpus size: one query at a time, then one batch."""
    queries = int8_vectors(args.queries, seed=1)
    table = Table("passages", "mode", "ours q/s", "faiss q/s", "ours / faiss", "positions vs faiss")
    for n in args.sizes:
        for row in size_rows(n, queries, args.repeat, console):
            table.add_row(*row)
    console.print(table)


def receipt_verification(args: argparse.Namespace, console: Console) -> None:
    """Time to verify one receipt end to end (signature, registry reads on the embedded chain,
    anchor proof, re-embedding the question, re-ranking), against the time to answer it."""
    import os
    import sys
    import tempfile
    from pathlib import Path

    from aigora.app import Answers, open_node
    from aigora.content.anchoring import anchor_all
    from aigora.core.keystore import Keystore, Signer
    from aigora.verify import stored_receipt

    sys.path.insert(0, str(Path(__file__).parents[1] / "examples"))
    from sponsored_ranking import publish  # the example's publishing helper

    rng = np.random.default_rng(0)
    words = [
        "car",
        "family",
        "safe",
        "seats",
        "trunk",
        "reliable",
        "electric",
        "charger",
        "price",
        "warranty",
        "road",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp) / "node"
        directory.mkdir()
        Keystore(directory / "keys", kdf_iterations=2**10).create("operator", "bench")
        context = open_node(directory, "bench")
        try:
            author = Signer.dev(os.urandom(32))
            texts = {" ".join(rng.choice(words, 12)) + f" #{i}" for i in range(args.passages)}
            for text in texts:
                publish(context, author, text)
            answers = Answers(context)
            answers.refresh()
            question = "which car is safe and reliable for a family?"
            document = answers.ask(question, K)
            anchor_all(context.db, context.chain, context.deployment.registry, context.operator)
            anchored = stored_receipt(context.db, "0x" + document.digest().hex())
            times = best_seconds(
                {
                    "answer": lambda: answers.ask(question, K),
                    "verify": lambda: answers.verify(anchored),
                },
                args.repeat,
            )
            verdict = answers.verify(anchored)
        finally:
            context.close()
    table = Table("passages", "answer (s)", "verify one receipt (s)", "verify / answer", "verdict")
    table.add_row(
        f"{len(texts):,}",
        f"{times['answer']:.3f}",
        f"{times['verify']:.3f}",
        f"{times['verify'] / times['answer']:.2f}",
        verdict.word,
    )
    console.print(table)


SECTIONS: list[Callable[[argparse.Namespace, Console], None]] = [retrieval, receipt_verification]


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "--sizes",
        type=lambda s: [int(x) for x in s.split(",")],
        default=[100_000, 1_000_000],
        help="comma-separated corpus sizes",
    )
    p.add_argument("--queries", type=int, default=64, help="queries (and batch size)")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--threads", type=int, default=2, help="threads for our BLAS and for faiss")
    p.add_argument(
        "--passages", type=int, default=500, help="published passages for the receipt section"
    )
    return p


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    console = Console(width=120)
    faiss.omp_set_num_threads(args.threads)
    console.print(
        f"machine: {platform.processor() or platform.machine()}, numpy {np.__version__}, "
        f"faiss {faiss.__version__}, threads {args.threads}, d = {DIM}, top-{K}"
    )
    with threadpool_limits(limits=args.threads, user_api="blas"):
        for section in SECTIONS:
            section(args, console)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB on Linux
    console.print(f"peak RSS: {peak:.2f} GiB")


if __name__ == "__main__":
    main()
