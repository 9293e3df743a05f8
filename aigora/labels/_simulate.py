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

from dataclasses import dataclass, field

import numpy as np

from aigora.core.hashing import keccak
from aigora.labels._quality import Answer, LabelingError, QualityPolicy, judge, paid_answers
from aigora.labels._serving import serving_key

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


# ---- a marketplace with a sybil ring -----------------------------------------------------------

KEYED, GOLD_FIRST = "keyed", "gold-first"
"""Serving orders: ours (`_serving`), and main's before it (gold first, in position order,
until `min_gold_answers` gold answers; then the work item with the fewest assignments, lowest
position)."""
OURS, JUDGE_ONLY = "ours", "judge-only"
"""Pay rules: ours (`paid_answers`: qualified labelers only, vouched by later gold) and main's
before it (`judge` over every answer)."""
EARLY, SHARED, EARLY_OR_SHARED = "early", "shared", "early-or-shared"
"""What the ring takes for gold: each address's first `min_gold_answers` items; items already
served to another address of the ring; either."""
HONEST_ACCURACY = (0.75, 0.95)


@dataclass(frozen=True)
class MarketSetup:
    """A job, a crowd and a ring. Honest labelers are right with an accuracy drawn from
    `HONEST_ACCURACY` (errors uniform over the other labels) and stop after `honest_tasks`
    tasks; ring addresses take tasks until none is left, as many as `ring_tasks` each."""

    work: int = 300
    gold: int = 60
    label_count: int = 4
    overlap: int = 3
    price: int = 1_000
    honest: int = 10
    honest_tasks: int = 30
    ring: int = 3
    ring_tasks: int = 10_000
    policy: QualityPolicy = field(default_factory=QualityPolicy)

    @property
    def escrow(self) -> int:
        return self.price * self.overlap * self.work


@dataclass(frozen=True)
class MarketRun:
    """What one simulated job paid. Amounts in token units; each paid answer is worth `price`."""

    pay: dict[str, int]  # every labeler's pay (0 included)
    honest: tuple[str, ...]
    ring: tuple[str, ...]
    stolen: int  # paid to the ring for answers that are wrong
    served: dict[str, tuple[str, ...]]  # each labeler's items, in the order served
    paid: frozenset[tuple[str, str]]  # (item, labeler) of every paid answer
    honest_paid_alone: frozenset[tuple[str, str]]  # the same rule over honest answers only

    def take(self, who: tuple[str, ...]) -> int:
        return sum(self.pay[w] for w in who)


class _Job:
    """Serving state of one simulated job: who was assigned what, in each labeler's order."""

    def __init__(self, setup: MarketSetup, ordering: str, gold: dict[str, int], secret: bytes):
        self.setup, self.ordering, self.gold, self.secret = setup, ordering, gold, secret
        self.items = [str(i) for i in range(setup.work + setup.gold)]
        self.taken = dict.fromkeys(self.items, 0)
        self.mine: dict[str, set[str]] = {}
        self.orders: dict[str, list[str]] = {}

    def next(self, labeler: str) -> str | None:
        mine = self.mine.setdefault(labeler, set())
        item = self._keyed(labeler, mine) if self.ordering == KEYED else self._gold_first(mine)
        if item is not None:
            mine.add(item)
            self.taken[item] += 1
        return item

    def _keyed(self, labeler: str, mine: set[str]) -> str | None:
        # `next_position` over the open items, as the node calls it; an order sorted once and
        # walked gives the same first open item.
        if labeler not in self.orders:
            self.orders[labeler] = sorted(
                self.items, key=lambda i: serving_key(self.secret, labeler, int(i))
            )
        order = self.orders[labeler]
        while order and (order[0] in mine or self.taken[order[0]] >= self.setup.overlap):
            order.pop(0)  # never open again for this labeler: assigned, or full for good
        return order[0] if order else None

    def _gold_first(self, mine: set[str]) -> str | None:
        if sum(i in self.gold for i in mine) < self.setup.policy.min_gold_answers:
            for item in self.items:
                if item in self.gold and item not in mine:
                    return item
        open_work = [
            i
            for i in self.items
            if i not in self.gold and i not in mine and self.taken[i] < self.setup.overlap
        ]
        return min(open_work, key=lambda i: (self.taken[i], int(i)), default=None)


def _cheap_label(item: str, label_count: int) -> int:
    """The label every address of the ring gives an item it does not label: agreed, no effort."""
    return int.from_bytes(keccak(b"ring" + item.encode())[:8], "big") % label_count


def simulate_market(
    setup: MarketSetup,
    *,
    ordering: str = KEYED,
    rule: str = OURS,
    guess: str = EARLY_OR_SHARED,
    with_ring: bool = True,
    right_share: float | None = None,
    seed: int = 0,
) -> MarketRun:
    """One job labeled in rounds: each round, in a random order, every labeler still working
    takes one task and answers it at once. The ring (one person, `setup.ring` addresses) answers
    right only what it takes for gold by `guess`, from what its addresses were served so far
    (pooled), and gives every other item its agreed cheap label. Past each address's first
    `min_gold_answers` items it labels at most `right_share` of its answers (default: the job's
    gold share, which the ring is granted to know). Everything is drawn from `seed`
    (the crowd, the truth, the gold positions, the job secret), independently of `with_ring`, so
    a run without the ring serves the honest labelers under the same secret."""
    rng = np.random.default_rng(seed)
    size = setup.work + setup.gold
    truth = {str(i): int(t) for i, t in enumerate(rng.integers(0, setup.label_count, size=size))}
    gold_items = rng.choice(size, size=setup.gold, replace=False)
    gold = {str(i): truth[str(i)] for i in sorted(gold_items.tolist())}
    secret = rng.bytes(32)
    accuracy = rng.uniform(*HONEST_ACCURACY, size=setup.honest)
    draws = np.random.default_rng([seed, 1])  # honest answers: the same with or without the ring
    order_rng = np.random.default_rng([seed, 2])
    honest = tuple(f"honest-{i:02d}" for i in range(setup.honest))
    ring = tuple(f"ring-{i}" for i in range(setup.ring)) if with_ring else ()
    job = _Job(setup, ordering, gold, secret)
    budget = dict.fromkeys(honest, setup.honest_tasks) | dict.fromkeys(ring, setup.ring_tasks)
    served: dict[str, list[Answer]] = {w: [] for w in budget}
    seen_by: dict[str, set[str]] = {}  # the ring's pooled view: item -> addresses served it
    skill = dict(zip(honest, accuracy.tolist(), strict=True))
    # Each honest labeler's answers, drawn up front per item: its answer to an item does not
    # depend on whether the ring is there, or on when it is served the item.
    honest_answer = {
        h: {
            i: _honest_label(truth[i], draws.random(2), skill[h], setup.label_count)
            for i in job.items
        }
        for h in honest
    }
    share = setup.gold / (setup.work + setup.gold) if right_share is None else right_share
    ring_right = ring_answers = 0
    working = list(budget)
    while working:
        still = []
        for who in [working[i] for i in order_rng.permutation(len(working))]:
            item = job.next(who)
            if item is None:
                continue
            if who in skill:
                label = honest_answer[who][item]
            else:
                early = len(served[who]) < setup.policy.min_gold_answers
                shared = bool(seen_by.get(item, set()) - {who})
                # Right answers cost the ring effort: beyond each address's first items, it
                # labels at most `right_share` of what it answers (the job's gold share by
                # default: labeling more is honest work).
                within = ring_right < share * ring_answers
                looks_gold = {
                    EARLY: early,
                    SHARED: shared and within,
                    EARLY_OR_SHARED: early or (shared and within),
                }[guess]
                label = truth[item] if looks_gold else _cheap_label(item, setup.label_count)
                seen_by.setdefault(item, set()).add(who)
                ring_right += looks_gold and not early
                ring_answers += 1
            served[who].append(Answer(item, who, label))
            budget[who] -= 1
            if budget[who] > 0:
                still.append(who)
        working = still
    paid = _pay(served, gold, setup, rule)
    alone = _pay({h: served[h] for h in honest}, gold, setup, rule)
    pay = {w: setup.price * sum(1 for _, who in paid if who == w) for w in served}
    labels = {(a.item, a.labeler): a.label for seq in served.values() for a in seq}
    stolen = sum(
        setup.price for item, who in paid if who in ring and labels[item, who] != truth[item]
    )
    return MarketRun(
        pay=pay,
        honest=honest,
        ring=ring,
        stolen=stolen,
        served={w: tuple(a.item for a in seq) for w, seq in served.items()},
        paid=paid,
        honest_paid_alone=alone,
    )


def _honest_label(truth: int, draw: np.ndarray, accuracy: float, label_count: int) -> int:
    if draw[0] < accuracy:
        return truth
    return (truth + 1 + int(draw[1] * (label_count - 1))) % label_count


def _pay(
    served: dict[str, list[Answer]], gold: dict[str, int], setup: MarketSetup, rule: str
) -> frozenset[tuple[str, str]]:
    if rule == OURS:
        _, paid = paid_answers(served, setup.label_count, gold, setup.policy, ended=True)
    else:
        answers = [a for seq in served.values() for a in seq]
        paid = judge(answers, setup.label_count, gold, setup.policy).accepted
    return frozenset((a.item, a.labeler) for a in paid)
