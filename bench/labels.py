"""Labeling quality: Dawid-Skene against majority vote on simulated crowds; speed at 1M answers.

    python bench/labels.py [--items 333334] [--seed 0]

Crowds come from `aigora.labels._simulate.simulate_crowd` (4 labels, 10% gold, honest labelers
55-95% accurate, a third of them biased; spammers half random, half constant). Two tables:

- quality: for spam fractions 0.1/0.3/0.5 and overlaps 3/5 (10,000 items, 100 labelers), the
  accuracy on non-gold items of `aggregate` (crowd-kit Dawid-Skene, gold clamped) and of
  crowd-kit's `MajorityVote` on the same answers, and what `judge` pays under the default policy:
  how many answers, the share of them that are right, and how many go to spammers;
- sybil ring: a job of 240 work and 60 gold items (overlap 3, 4 labels), 8 honest labelers doing
  40 tasks each (75-95% accurate) and a ring of 3 addresses of one person taking every task it
  can, labeling right only what its pooled observations suggest is gold (its first 3 tasks, or
  also items another address was served, within the job's gold share: whichever takes more) and
  the rest with one agreed label: the ring's pay and what it was paid for wrong labels, as
  shares of the escrow, and the honest labelers' pay with the ring against a run without it
  (same seed, same secret), under main's old serving order and pay rule (the baseline, measured
  in the same run) and ours;
- speed: `aggregate` on `--items` x overlap 3 answers (1,000,002 by default; 1,000 labelers, 30%
  spam), from `Answer` objects to labels, against `MajorityVote` timed in the same run from the
  same answers (the DataFrame built from them included).
"""

import argparse
import time
import warnings

import numpy as np
import pandas as pd
from crowdkit.aggregation import MajorityVote
from pandas.errors import PandasDeprecationWarning
from rich.console import Console
from rich.table import Table

from aigora.labels._quality import Answer, QualityPolicy, aggregate, judge
from aigora.labels._simulate import (
    EARLY,
    EARLY_OR_SHARED,
    GOLD_FIRST,
    JUDGE_ONLY,
    KEYED,
    OURS,
    Crowd,
    MarketSetup,
    simulate_crowd,
    simulate_market,
)

LABELS, GOLD = 4, 0.1


def majority_vote(answers: tuple[Answer, ...]) -> dict[str, int]:
    frame = pd.DataFrame(
        {
            "task": [a.item for a in answers],
            "worker": [a.labeler for a in answers],
            "label": [a.label for a in answers],
        }
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PandasDeprecationWarning)
        return MajorityVote().fit_predict(frame).to_dict()


def accuracy(labels: dict[str, int], crowd: Crowd) -> float:
    items = [item for item in crowd.truth if item not in crowd.gold]
    return float(np.mean([labels[item] == crowd.truth[item] for item in items]))


def quality_row(spam: float, overlap: int, seed: int) -> list[str]:
    crowd = simulate_crowd(10_000, LABELS, 100, spam, overlap, GOLD, seed)
    judgement = judge(crowd.answers, LABELS, crowd.gold, QualityPolicy())
    ds = accuracy({item: label.label for item, label in judgement.labels.items()}, crowd)
    mv = accuracy(majority_vote(crowd.answers), crowd)
    paid = judgement.accepted
    right = np.mean([a.label == crowd.truth[a.item] for a in paid]) if paid else float("nan")
    return [
        f"{spam:.0%}",
        str(overlap),
        f"{len(crowd.answers):,}",
        f"{ds:.1%}",
        f"{mv:.1%}",
        f"{(ds - mv) * 100:+.1f} pts",
        f"{len(paid):,}",
        f"{right:.1%}",
        str(sum(a.labeler in crowd.spammers for a in paid)),
    ]


def speed(items: int, seed: int) -> tuple[int, float, float, float, float]:
    crowd = simulate_crowd(items, LABELS, 1000, 0.3, 3, GOLD, seed)
    start = time.perf_counter()
    labels = aggregate(crowd.answers, LABELS, crowd.gold)
    ours = time.perf_counter() - start
    start = time.perf_counter()
    votes = majority_vote(crowd.answers)
    baseline = time.perf_counter() - start
    ds = accuracy({item: label.label for item, label in labels.items()}, crowd)
    return len(crowd.answers), ours, baseline, ds, accuracy(votes, crowd)


SYBIL_SETUP = MarketSetup(work=240, gold=60, honest=8, honest_tasks=40, ring=3)


def sybil_row(ordering: str, rule: str, seeds: range) -> tuple[list[str], float]:
    """One row (means over seeds) and the ring's mean share of the escrow."""
    escrow = SYBIL_SETUP.escrow
    take, stolen, ratio = [], [], []
    for seed in seeds:
        # The ring's best guess at gold, by its take: under main's order its first tasks.
        run = max(
            (
                simulate_market(SYBIL_SETUP, ordering=ordering, rule=rule, guess=guess, seed=seed)
                for guess in (EARLY, EARLY_OR_SHARED)
            ),
            key=lambda r: r.take(r.ring),
        )
        alone = simulate_market(
            SYBIL_SETUP, ordering=ordering, rule=rule, with_ring=False, seed=seed
        )
        take.append(run.take(run.ring) / escrow)
        stolen.append(run.stolen / escrow)
        ratio.append(run.take(run.honest) / alone.take(alone.honest))
    name = {
        (GOLD_FIRST, JUDGE_ONLY): "main: gold first, judge all answers",
        (GOLD_FIRST, OURS): "gold first, our pay rule",
        (KEYED, OURS): "ours: keyed order, our pay rule",
    }[ordering, rule]
    row = [
        name,
        f"{np.mean(take):.1%} (max {max(take):.1%})",
        f"{np.mean(stolen):.1%}",
        f"{np.mean(ratio):.3f} ({min(ratio):.3f}..{max(ratio):.3f})",
    ]
    return row, float(np.mean(take))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=333_334)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--sybil-seeds", type=int, default=3)
    args = parser.parse_args()
    console = Console(width=120)
    seeds = range(args.seed, args.seed + args.sybil_seeds)
    sybils = Table(
        "serving order and pay rule",
        "ring's pay / escrow",
        "paid for wrong labels",
        "honest pay with ring / without",
        title=(
            f"sybil ring: 3 addresses of one person against 8 honest labelers "
            f"(240 work + 60 gold items, overlap 3; mean of {len(seeds)} seeds)"
        ),
    )
    takes = {}
    for ordering, rule in ((GOLD_FIRST, JUDGE_ONLY), (GOLD_FIRST, OURS), (KEYED, OURS)):
        row, takes[ordering, rule] = sybil_row(ordering, rule, seeds)
        sybils.add_row(*row)
    console.print(sybils)
    baseline, ours = takes[GOLD_FIRST, JUDGE_ONLY], takes[KEYED, OURS]
    console.print(
        f"ring's take, ours / main's: {ours / baseline:.3f} ({ours:.1%} against {baseline:.1%})"
    )
    quality = Table(
        "spam",
        "overlap",
        "answers",
        "Dawid-Skene",
        "majority vote",
        "gain",
        "paid answers",
        "paid right",
        "paid to spammers",
        title="accuracy on non-gold items (10,000 items, 100 labelers, 4 labels, 10% gold)",
    )
    for spam in (0.1, 0.3, 0.5):
        for overlap in (3, 5):
            quality.add_row(*quality_row(spam, overlap, args.seed))
    console.print(quality)
    answers, ours, baseline, ds, mv = speed(args.items, args.seed)
    timing = Table("measure", "ours", "baseline", "ratio", title="speed")
    timing.add_row(
        f"aggregate {answers:,} answers ({args.items:,} items x 3, 1,000 labelers, 30% spam)",
        f"{ours:.1f} s ({ds:.1%} right)",
        f"{baseline:.1f} s (crowd-kit MajorityVote, {mv:.1%} right)",
        f"{ours / baseline:.1f}x the time",
    )
    console.print(timing)


if __name__ == "__main__":
    main()
