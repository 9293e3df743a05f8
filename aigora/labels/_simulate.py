"""Simulated labeling crowds with known truth, to measure quality control where it can be scored.

A crowd is `labelers` people, a `spam_fraction` of them spammers, answering `items` items with
`overlap` distinct labelers each. Honest labelers are right with an accuracy drawn uniformly from
0.55..0.95; two in three spread their errors uniformly over the other labels, one in three is
biased (every error is the same shift of the true label, a consistent confusion that majority vote
cannot see and Dawid-Skene can learn). Spammers are half uniformly random, half always one fixed
label. A `gold_fraction` of items have their truth published as gold.

Everything is drawn from one `numpy.random.Generator` seeded with `seed`, in a fixed order, so the
same arguments give the same crowd on every machine.
"""

from dataclasses import dataclass

import numpy as np

from aigora.labels._quality import Answer, LabelingError

ACCURACY = (0.55, 0.95)
BIASED_SHARE = 1 / 3


@dataclass(frozen=True)
class Crowd:
    answers: tuple[Answer, ...]
    truth: dict[str, int]  # every item's true label
    gold: dict[str, int]  # the items whose truth is published
    spammers: frozenset[str]


def _names(prefix: str, count: int) -> list[str]:
    width = len(str(max(count - 1, 0)))
    return [f"{prefix}-{i:0{width}d}" for i in range(count)]


def _assignments(rng: np.random.Generator, items: int, labelers: int, overlap: int) -> np.ndarray:
    """(items, overlap) labeler indices, distinct within each row: redraw rows until they are."""
    chosen = rng.integers(0, labelers, size=(items, overlap))
    while True:
        ordered = np.sort(chosen, axis=1)
        clash = (ordered[:, 1:] == ordered[:, :-1]).any(axis=1)
        if not clash.any():
            return chosen
        chosen[clash] = rng.integers(0, labelers, size=(int(clash.sum()), overlap))


def simulate_crowd(
    items: int,
    label_count: int,
    labelers: int,
    spam_fraction: float,
    overlap: int,
    gold_fraction: float,
    seed: int,
) -> Crowd:
    """A deterministic crowd by the rules above."""
    if label_count < 2:
        raise LabelingError(f"a crowd needs at least 2 labels, got {label_count}")
    if not 1 <= overlap <= labelers:
        raise LabelingError(f"overlap must be 1..{labelers} (the labelers), got {overlap}")
    if not (0 <= spam_fraction <= 1 and 0 <= gold_fraction <= 1):
        raise LabelingError("spam_fraction and gold_fraction are shares in 0..1")
    if items < 0:
        raise LabelingError(f"items must be non-negative, got {items}")
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, label_count, size=items)
    gold_mask = rng.random(items) < gold_fraction

    spam_count = round(spam_fraction * labelers)
    order = rng.permutation(labelers)
    spam = np.zeros(labelers, dtype=bool)
    spam[order[:spam_count]] = True
    constant = np.zeros(labelers, dtype=bool)
    constant[order[: spam_count // 2]] = True
    fixed_label = rng.integers(0, label_count, size=labelers)
    accuracy = rng.uniform(*ACCURACY, size=labelers)
    biased = rng.random(labelers) < BIASED_SHARE
    shift = rng.integers(1, label_count, size=labelers)

    who = _assignments(rng, items, labelers, overlap)  # (items, overlap)
    true = np.broadcast_to(truth[:, None], who.shape)
    right = rng.random(who.shape) < accuracy[who]
    uniform_error = (true + rng.integers(1, label_count, size=who.shape)) % label_count
    error = np.where(biased[who], (true + shift[who]) % label_count, uniform_error)
    label = np.where(right, true, error)
    label = np.where(spam[who], rng.integers(0, label_count, size=who.shape), label)
    label = np.where(constant[who], fixed_label[who], label)

    item_names = _names("item", items)
    labeler_names = _names("labeler", labelers)
    answers = tuple(
        Answer(item_names[i], labeler_names[w], int(y))
        for i, w, y in zip(
            np.repeat(np.arange(items), overlap).tolist(),
            who.ravel().tolist(),
            label.ravel().tolist(),
            strict=True,
        )
    )
    truth_map = dict(zip(item_names, truth.tolist(), strict=True))
    gold = {name: truth_map[name] for name, g in zip(item_names, gold_mask, strict=True) if g}
    spammers = frozenset(labeler_names[w] for w in np.flatnonzero(spam).tolist())
    return Crowd(answers, truth_map, gold, spammers)
