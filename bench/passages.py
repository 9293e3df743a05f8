"""Retrieval quality on long documents: passages against whole-document embeddings.

    python bench/passages.py [--documents 100] [--answers 7] [--fillers 18] [--queries 400]

Held out: standard-library docstrings. A question is the first sentence of a docstring of two
sentences or more; its answer is the rest of that docstring. Each long document is `--answers`
answers and `--fillers` other docstrings as paragraphs in a shuffled order (about 1,000 tokens,
four times what the engine reads at once), so most answers lie past a document's first 256
tokens. Both sides use the integer engine:

- **passages:** each document cut by the model's passage rule, one embedding per passage; a hit
  is a top-10 passage whose span overlaps the answer's span in its document;
- **whole documents** (the baseline, how Aigora read documents before passages): one embedding
  per document, of its first 256 tokens; a hit is the answer's document in the top 10.

Prints recall@10 for both, overall and for answers past the first 256 tokens, and the ratio.
"""

import argparse
import time

import numpy as np
from rich.progress import Progress

from aigora.engine import Encoder, load_default_model
from aigora.engine.evaluation import stdlib_docstrings, top_k
from aigora.index import PassageRule, split_passages


def qa_pairs() -> list[tuple[str, str]]:
    """(question, answer) from every docstring of two sentences or more."""
    pairs = []
    for doc in stdlib_docstrings():
        first, sep, rest = doc.partition(". ")
        if sep and len(first) >= 20 and len(rest) >= 40:
            pairs.append((first + ".", rest))
    return pairs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--documents", type=int, default=100)
    parser.add_argument("--answers", type=int, default=7)
    parser.add_argument("--fillers", type=int, default=18)
    parser.add_argument("--queries", type=int, default=400)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    pairs = qa_pairs()
    needed = args.documents * args.answers
    if needed > len(pairs):
        raise SystemExit(f"only {len(pairs)} question-answer pairs, asked for {needed}")
    picked = [pairs[i * len(pairs) // needed] for i in range(needed)]
    used = {q + " " + a for q, a in pairs}
    fillers = [d for d in stdlib_docstrings() if d not in used]
    rng = np.random.default_rng(0)
    rng.shuffle(picked)
    documents, where = [], []  # where[j] = (document, start, end) of answer j
    for d in range(args.documents):
        answers = list(range(d * args.answers, (d + 1) * args.answers))
        paragraphs = [("answer", j) for j in answers]
        paragraphs += [
            ("filler", (d * args.fillers + f) % len(fillers)) for f in range(args.fillers)
        ]
        order = rng.permutation(len(paragraphs))
        text, offset = [], 0
        for kind, j in (paragraphs[i] for i in order):
            body = picked[j][1] if kind == "answer" else fillers[j]
            if kind == "answer":
                where.append((j, d, offset, offset + len(body)))
            text.append(body)
            offset += len(body) + 2
        documents.append("\n\n".join(text))
    where = [w[1:] for w in sorted(where)]
    asked = sorted(rng.choice(needed, size=min(args.queries, needed), replace=False).tolist())

    encoder = Encoder(load_default_model(), threads=args.threads)
    rule = PassageRule.of(encoder)
    start = time.perf_counter()
    spans = [split_passages(text, encoder.token_count, rule) for text in documents]
    split_s = time.perf_counter() - start
    owner = [(d, s) for d, doc_spans in enumerate(spans) for s in doc_spans]
    texts = [documents[d][s.start : s.end] for d, s in owner]
    questions = [picked[j][0] for j in asked]
    with Progress() as progress:
        task = progress.add_task("embedding", total=len(texts) + len(documents) + len(questions))
        step = lambda n: progress.advance(task, n)  # noqa: E731
        start = time.perf_counter()
        passage_vectors = encoder.embed(texts, progress=step)
        passage_s = time.perf_counter() - start
        document_vectors = encoder.embed(documents, progress=step)
        query_vectors = encoder.embed(questions, progress=step)

    by_passage = top_k(query_vectors, passage_vectors, 10)
    by_document = top_k(query_vectors, document_vectors, 10)
    first_tokens = [_prefix_chars(encoder, text) for text in documents]
    hits = {"passages": [], "documents": []}
    late = {"passages": [], "documents": []}
    for row, j in enumerate(asked):
        d, a_start, a_end = where[j]
        passage_hit = any(
            owner[p][0] == d and owner[p][1].start < a_end and a_start < owner[p][1].end
            for p in by_passage[row]
        )
        document_hit = d in by_document[row]
        hits["passages"].append(passage_hit)
        hits["documents"].append(document_hit)
        if a_start >= first_tokens[d]:
            late["passages"].append(passage_hit)
            late["documents"].append(document_hit)

    tokens = np.mean([encoder.token_count(text) for text in documents])
    print(
        f"{args.documents} documents of {args.answers} answers and {args.fillers} other "
        f"paragraphs ({tokens:.0f} tokens each on "
        f"average), {len(texts)} passages ({len(texts) / args.documents:.1f} per document), "
        f"{len(asked)} questions"
    )
    print(
        f"cutting: {split_s:.2f} s for all documents; embedding passages: "
        f"{len(texts) / passage_s:.1f} passages/s"
    )
    for name, subset in (("all answers", hits), ("answers past the first 256 tokens", late)):
        p, d = np.mean(subset["passages"]), np.mean(subset["documents"])
        print(
            f"recall@10, {name} ({len(subset['passages'])}): passages {p:.3f}, "
            f"whole documents {d:.3f}, ratio {p / max(d, 1e-9):.2f}"
        )


def _prefix_chars(encoder: Encoder, text: str) -> int:
    """How many characters of `text` the engine reads at once (its first max_tokens - 2)."""
    budget = int(encoder.model.header["max_tokens"]) - 2
    low, high = 0, len(text)
    while low < high:  # the longest prefix of at most `budget` tokens, by bisection
        mid = (low + high + 1) // 2
        if encoder.token_count(text[:mid]) <= budget:
            low = mid
        else:
            high = mid - 1
    return low


if __name__ == "__main__":
    main()
