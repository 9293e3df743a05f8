"""Held-out text and the metrics that compare the integer engine with the float model.

The held-out text is the docstrings of Python's standard library: plentiful, varied, present on
every machine without a download, and never used to calibrate or tune the converter (which
calibrates on `_calibration`). The exact set depends on the Python version, which is fine for
quality thresholds and benchmarks; bit-exactness tests use their own fixed sentences.
"""

import ast
import sysconfig
from functools import lru_cache
from pathlib import Path

import numpy as np

_SKIP_DIRS = frozenset({"test", "tests", "site-packages", "idlelib", "turtledemo", "lib2to3"})


@lru_cache(maxsize=1)
def stdlib_docstrings() -> tuple[str, ...]:
    """First paragraphs (whitespace-normalized, 30 to 1000 characters, deduplicated) of every
    module, class and function docstring in the standard library, in path order."""
    root = Path(sysconfig.get_paths()["stdlib"])
    seen: set[str] = set()
    out: list[str] = []
    for path in sorted(root.rglob("*.py")):
        if _SKIP_DIRS.intersection(path.relative_to(root).parts):
            continue
        try:
            tree = ast.parse(path.read_text("utf-8"))
        except (SyntaxError, UnicodeDecodeError, ValueError):
            continue
        for node in ast.walk(tree):
            if not isinstance(
                node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef
            ):
                continue
            doc = ast.get_docstring(node)
            if not doc:
                continue
            para = " ".join(doc.strip().split("\n\n")[0].split())
            if 30 <= len(para) <= 1000 and para not in seen:
                seen.add(para)
                out.append(para)
    return tuple(out)


def held_out_sentences(n: int) -> list[str]:
    """`n` docstrings spread evenly over the standard library."""
    docs = stdlib_docstrings()
    if n > len(docs):
        raise ValueError(f"only {len(docs)} docstrings available, asked for {n}")
    return [docs[i * len(docs) // n] for i in range(n)]


def retrieval_set(passages: int, queries: int) -> tuple[list[str], list[str]]:
    """Disjoint passages and queries; a query is the first sentence of a docstring."""
    docs = stdlib_docstrings()
    total = passages + queries
    if total > len(docs):
        raise ValueError(f"only {len(docs)} docstrings available, asked for {total}")
    picked = [docs[i * len(docs) // total] for i in range(total)]
    query_docs, passage_docs = picked[:: total // queries][:queries], []
    chosen = set(query_docs)
    passage_docs = [d for d in picked if d not in chosen][:passages]
    return passage_docs, [q.split(". ")[0] for q in query_docs]


def cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise cosine similarity of two (n, d) arrays, computed in float64."""
    a, b = a.astype(np.float64), b.astype(np.float64)
    return (a * b).sum(axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


def top_k(queries: np.ndarray, passages: np.ndarray, k: int) -> np.ndarray:
    """Indices (q, k) of each query's k best passages by dot product; ties by lower index.

    int8 inputs are scored with exact int64 dot products, float inputs in float64.
    """
    if queries.dtype.kind == "i":
        scores = queries.astype(np.int64) @ passages.astype(np.int64).T
    else:
        scores = queries.astype(np.float64) @ passages.astype(np.float64).T
    order = np.lexsort((np.broadcast_to(np.arange(scores.shape[1]), scores.shape), -scores))
    return order[:, :k]


def top_k_overlap(a: np.ndarray, b: np.ndarray) -> float:
    """Mean over rows of |a_row ∩ b_row| / k for two (q, k) index arrays."""
    k = a.shape[1]
    return float(np.mean([len(set(x) & set(y)) / k for x, y in zip(a, b, strict=True)]))
