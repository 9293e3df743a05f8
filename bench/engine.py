"""Throughput of the integer engine against fp32 sentence-transformers, same sentences, same run.

    python bench/engine.py [--sentences 1000] [--threads 2] [--batch-size 32] [--repeats 2]
                           [--join 1]

Sentences are standard-library docstrings (`aigora.engine.evaluation.held_out_sentences`);
`--join K` joins K consecutive ones into each input, for long inputs (attention-heavy).
Both models are warmed up first (the integer engine's torch.compile happens there), then each
is timed `--repeats` times, alternating, and the best time counts (the machine may be shared).
"""

import argparse
import platform
import time

import torch

from aigora.engine import Encoder, default_checkpoint, load_default_model
from aigora.engine._fp32 import Fp32Encoder
from aigora.engine.evaluation import held_out_sentences


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sentences", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--backend", default="torch", choices=["torch", "numpy"])
    parser.add_argument("--join", type=int, default=1)
    args = parser.parse_args()

    docs = held_out_sentences(args.sentences * args.join)
    sentences = [" ".join(docs[i : i + args.join]) for i in range(0, len(docs), args.join)]
    engine = Encoder(load_default_model(), backend=args.backend, threads=args.threads)
    fp32 = Fp32Encoder(default_checkpoint(), threads=args.threads)
    tokens = sum(len(ids) for ids in engine.tokenize(sentences))
    engine.embed(sentences[:128], batch_size=args.batch_size)
    fp32.embed(sentences[:128], batch_size=args.batch_size)

    best = {"integer": float("inf"), "fp32": float("inf")}
    for _ in range(args.repeats):
        for name, model in (("integer", engine), ("fp32", fp32)):
            start = time.perf_counter()
            model.embed(sentences, batch_size=args.batch_size)
            best[name] = min(best[name], time.perf_counter() - start)

    rate = {name: len(sentences) / seconds for name, seconds in best.items()}
    print(
        f"machine: {platform.processor() or platform.machine()}, torch {torch.__version__}, "
        f"threads {torch.get_num_threads()}, batch size {args.batch_size}"
    )
    print(
        f"inputs: {len(sentences)} x {args.join} standard-library docstrings, {tokens} tokens "
        f"({tokens / len(sentences):.1f} per input)"
    )
    print(f"integer engine ({args.backend}): {rate['integer']:.1f} sentences/s")
    print(f"fp32 sentence-transformers:   {rate['fp32']:.1f} sentences/s")
    print(f"ratio integer / fp32: {rate['integer'] / rate['fp32']:.2f}")


if __name__ == "__main__":
    main()
