"""Quality control for a labeling marketplace: which answers are trusted, and which are paid.

Labelers answer items with one of `label_count` labels (integers 0..L-1); some items are gold
(their label is known). The rules, each in one function:

- `gold_accuracy`: a labeler's (correct, answered) over the gold items they answered; every
  labeler who answered anything appears, with (0, 0) when they answered no gold item.
- `aggregate`: crowd-kit's Dawid-Skene (EM over one confusion matrix per labeler) over all
  answers, gold items included so the confusion matrices learn from them; the gold labels
  initialise the EM and stay clamped at every step (crowd-kit's `true_labels`). Each non-gold
  item gets its most probable label and that label's posterior. When Dawid-Skene cannot run
  (fewer than 2 labelers, fewer than 2 distinct labels) or fails (an error or a non-finite
  posterior), majority vote decides instead, its posterior being the winning share of the
  item's answers. `ItemLabel.method` says which one ran.
- `judge`: an answer is accepted (paid) only when its item is not gold; its labeler's gold
  accuracy is at least `min_gold_accuracy` over at least `min_gold_answers` gold answers; its
  item's posterior is at least `min_posterior`; and it equals the item's aggregated label. A
  spammer (random, or always one label) fails the gold test and earns nothing, and an honest
  labeler is paid only for answers the crowd is confident about.

The pay rule (`paid_answers`, what the marketplace pays) adds two rules over a job's answers, each
labeler's in the order it was served:

- `qualified_labelers`: only labelers whose gold record clears the policy are judged at all; the
  others' answers are dropped before aggregation, so a labeler (or a ring) that fails gold cannot
  move an item's aggregate nor the pay of anyone else.
- `vouched`: a work answer is paid only once gold answered *after* it by the same labeler clears
  `min_gold_accuracy` (at least one such gold answer), or the job has ended. Gold comes at random
  places (see `_serving`), so a labeler who answers well only until qualified, then cheats, is not
  paid for the cheating.

Guarantees: the output depends on the set of answers, not their order (answers are sorted by
item, then labeler, before anything is computed; ties between labels go to the lowest label);
a labeler answers an item at most once; bad input raises `LabelingError` naming the culprit.
`aggregate` handles 1,000,000 answers in seconds (bench/labels.py): answers become integer codes
once, and crowd-kit works on integer columns.
"""

import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from aigora.core.errors import AigoraError

DS_ITERATIONS = 100
DS_TOLERANCE = 1e-5
DAWID_SKENE, MAJORITY = "dawid-skene", "majority"
INT64_LIMIT = 2**63


class LabelingError(AigoraError):
    """Answers, gold labels or a policy cannot be judged as given."""


@dataclass(frozen=True, slots=True)
class Answer:
    """One labeler's answer to one item."""

    item: str
    labeler: str
    label: int


@dataclass(frozen=True)
class QualityPolicy:
    """What it takes to be trusted and paid; checked on construction."""

    min_posterior: float = 0.9  # an item's aggregated label is trusted at or above this
    min_gold_accuracy: float = 0.7  # a labeler is paid only at or above this accuracy on gold
    min_gold_answers: int = 3  # ... measured over at least this many gold answers

    def __post_init__(self) -> None:
        if not (0 <= self.min_posterior <= 1 and 0 <= self.min_gold_accuracy <= 1):
            raise LabelingError("min_posterior and min_gold_accuracy are shares in 0..1")
        if self.min_gold_answers < 1:
            raise LabelingError(f"min_gold_answers must be at least 1, got {self.min_gold_answers}")


@dataclass(frozen=True)
class ItemLabel:
    """An item's aggregated label and the posterior (or, for majority, the share) behind it."""

    item: str
    label: int
    posterior: float
    method: str  # DAWID_SKENE or MAJORITY


@dataclass(frozen=True)
class Judgement:
    """Everything `judge` decides about one batch of answers."""

    labels: dict[str, ItemLabel]  # every non-gold item's aggregate
    gold_accuracy: dict[str, tuple[int, int]]  # labeler -> (correct, answered) on gold
    accepted: tuple[Answer, ...]  # answers that are paid, by item then labeler


@dataclass(frozen=True)
class _Coded:
    """Answers as integer codes, sorted by (item, labeler): the one form every rule reads."""

    answers: list[Answer]  # in that order
    items: list[str]  # code -> name, sorted
    labelers: list[str]
    item: np.ndarray  # (n,) item code of each answer
    labeler: np.ndarray  # (n,) labeler code
    label: np.ndarray  # (n,) label
    gold: np.ndarray  # (items,) gold label of each item, -1 where not gold


def _is_label(value: object, limit: int) -> bool:
    is_int = type(value) is int or isinstance(value, np.integer)
    return is_int and 0 <= value < limit  # type: ignore[operator]


def _check_labels(answers: list[Answer], label_count: int | None) -> np.ndarray:
    """The labels as an int64 array; each must be an integer (not a bool) in 0..label_count-1."""
    limit = INT64_LIMIT if label_count is None else label_count
    raw = [a.label for a in answers]
    if all(t is int or issubclass(t, np.integer) for t in set(map(type, raw))):
        try:
            labels = np.array(raw, dtype=np.int64)
        except OverflowError:
            labels = None
        if labels is not None and (not labels.size or (labels.min() >= 0 and labels.max() < limit)):
            return labels
    culprit = next(a for a in answers if not _is_label(a.label, limit))
    raise LabelingError(
        f"{culprit.labeler!r} answered {culprit.item!r} with {culprit.label!r}; "
        f"labels are integers in 0..{limit - 1}"
    )


def _names(values: list[object], what: str) -> tuple[np.ndarray, list[str]]:
    """Codes into the sorted distinct values, which must be non-empty strings."""
    if not set(map(type, values)) <= {str} or "" in values:
        culprit = next(v for v in values if type(v) is not str or not v)
        raise LabelingError(f"every {what} must be a non-empty string, got {culprit!r}")
    uniques, codes = np.unique(np.array(values, dtype=object), return_inverse=True)
    return codes.astype(np.int64).reshape(-1), uniques.tolist()


def _code(answers: Iterable[Answer], gold: Mapping[str, int], label_count: int | None) -> _Coded:
    """Validate and encode; raises `LabelingError` on the first problem found.

    `label_count` None (gold accuracy needs no label set) checks only that labels are
    non-negative integers.
    """
    if label_count is not None and (type(label_count) is not int or label_count < 1):
        raise LabelingError(f"label_count must be a positive integer, got {label_count!r}")
    answers = list(answers)
    if not all(isinstance(a, Answer) for a in answers):
        raise LabelingError("answers must be `Answer` instances")
    for item, label in gold.items():
        if not isinstance(item, str) or not item:
            raise LabelingError(f"a gold item must be a non-empty string, got {item!r}")
        if not _is_label(label, INT64_LIMIT if label_count is None else label_count):
            raise LabelingError(f"the gold label of {item!r} is {label!r}, not a valid label")
    labels = _check_labels(answers, label_count)
    item, items = _names([a.item for a in answers], "item")
    labeler, labelers = _names([a.labeler for a in answers], "labeler")
    order = np.lexsort((labeler, item))
    item, labeler, labels = item[order], labeler[order], labels[order]
    repeated = np.flatnonzero((item[1:] == item[:-1]) & (labeler[1:] == labeler[:-1]))
    if repeated.size:
        at = int(repeated[0])
        raise LabelingError(
            f"{labelers[labeler[at]]!r} answered {items[item[at]]!r} more than once; "
            "keep one answer per labeler and item"
        )
    gold_of = np.array([gold.get(name, -1) for name in items], dtype=np.int64)
    return _Coded(
        answers=[answers[i] for i in order.tolist()],
        items=items,
        labelers=labelers,
        item=item,
        labeler=labeler,
        label=labels,
        gold=gold_of,
    )


def _majority(coded: _Coded, label_count: int) -> tuple[np.ndarray, np.ndarray]:
    """Each item's most frequent label (lowest on ties) and its share of the item's answers."""
    counts = np.bincount(
        coded.item * label_count + coded.label, minlength=len(coded.items) * label_count
    ).reshape(len(coded.items), label_count)
    winner = counts.argmax(axis=1)
    share = counts[np.arange(len(coded.items)), winner] / counts.sum(axis=1)
    return winner, share


def _dawid_skene(coded: _Coded, label_count: int) -> np.ndarray | None:
    """(items, label_count) posteriors from crowd-kit, gold clamped; None when it cannot run."""
    if len(coded.labelers) < 2 or np.unique(coded.label).size < 2:
        return None
    # crowd-kit pulls pandas, scipy and transformers (seconds): only aggregation loads it.
    import pandas as pd
    from crowdkit.aggregation import DawidSkene
    from pandas.errors import PandasDeprecationWarning

    frame = pd.DataFrame({"task": coded.item, "worker": coded.labeler, "label": coded.label})
    # crowd-kit knows only labels somebody answered: a gold label nobody gave cannot be clamped.
    answered = np.zeros(label_count, dtype=bool)
    answered[coded.label] = True
    clamp = np.flatnonzero((coded.gold >= 0) & answered[np.maximum(coded.gold, 0)])
    true_labels = pd.Series(coded.gold[clamp], index=clamp) if clamp.size else None
    try:
        with warnings.catch_warnings():
            # crowd-kit 1.4 still passes pandas 3's deprecated `inplace=` and `copy=`.
            warnings.simplefilter("ignore", PandasDeprecationWarning)
            probas = DawidSkene(n_iter=DS_ITERATIONS, tol=DS_TOLERANCE).fit_predict_proba(
                frame, true_labels
            )
    except (ValueError, KeyError, ZeroDivisionError, FloatingPointError):
        return None
    posterior = probas.reindex(
        index=range(len(coded.items)), columns=range(label_count), fill_value=0.0
    ).to_numpy(dtype=np.float64)
    if not np.isfinite(posterior).all():
        return None
    return posterior


def _aggregate(coded: _Coded, label_count: int) -> tuple[np.ndarray, np.ndarray, str]:
    """(items,) aggregated label and its posterior for every answered item, and the method."""
    posterior = _dawid_skene(coded, label_count)
    if posterior is None:
        winner, confidence = _majority(coded, label_count)
        return winner, confidence, MAJORITY
    winner = posterior.argmax(axis=1)  # the lowest label on ties
    return winner, posterior[np.arange(len(coded.items)), winner], DAWID_SKENE


def _item_labels(
    coded: _Coded, winner: np.ndarray, confidence: np.ndarray, method: str
) -> dict[str, ItemLabel]:
    open_items = coded.gold < 0
    return {
        coded.items[i]: ItemLabel(coded.items[i], label, posterior, method)
        for i, label, posterior in zip(
            np.flatnonzero(open_items).tolist(),
            winner[open_items].tolist(),
            confidence[open_items].tolist(),
            strict=True,
        )
    }


def _gold_counts(coded: _Coded) -> tuple[np.ndarray, np.ndarray]:
    """(labelers,) correct and answered counts on gold items."""
    truth = coded.gold[coded.item]
    on_gold = truth >= 0
    labelers = len(coded.labelers)
    answered = np.bincount(coded.labeler[on_gold], minlength=labelers)
    correct = np.bincount(coded.labeler[on_gold & (coded.label == truth)], minlength=labelers)
    return correct, answered


def gold_accuracy(answers: Iterable[Answer], gold: Mapping[str, int]) -> dict[str, tuple[int, int]]:
    """Each labeler's (correct, answered) on gold items, for every labeler who answered."""
    coded = _code(answers, gold, None)
    correct, answered = _gold_counts(coded)
    return {
        name: (c, a)
        for name, c, a in zip(coded.labelers, correct.tolist(), answered.tolist(), strict=True)
    }


def aggregate(
    answers: Iterable[Answer], label_count: int, gold: Mapping[str, int]
) -> dict[str, ItemLabel]:
    """Every answered non-gold item's label and posterior, by the rules in the module docstring."""
    coded = _code(answers, gold, label_count)
    return _item_labels(coded, *_aggregate(coded, label_count))


def judge(
    answers: Iterable[Answer],
    label_count: int,
    gold: Mapping[str, int],
    policy: QualityPolicy,
) -> Judgement:
    """Aggregate labels, gold accuracies and the accepted answers, by the rules above."""
    coded = _code(answers, gold, label_count)
    winner, confidence, method = _aggregate(coded, label_count)
    correct, answered = _gold_counts(coded)
    with np.errstate(invalid="ignore", divide="ignore"):
        paid = (answered >= policy.min_gold_answers) & (
            correct / answered >= policy.min_gold_accuracy
        )
    accept = (
        (coded.gold[coded.item] < 0)
        & paid[coded.labeler]
        & (confidence[coded.item] >= policy.min_posterior)
        & (coded.label == winner[coded.item])
    )
    return Judgement(
        labels=_item_labels(coded, winner, confidence, method),
        gold_accuracy={
            name: (c, a)
            for name, c, a in zip(coded.labelers, correct.tolist(), answered.tolist(), strict=True)
        },
        accepted=tuple(coded.answers[i] for i in np.flatnonzero(accept).tolist()),
    )


def qualified_labelers(
    answers: Iterable[Answer], gold: Mapping[str, int], policy: QualityPolicy
) -> frozenset[str]:
    """Labelers with at least `min_gold_answers` gold answers, `min_gold_accuracy` of them right."""
    return frozenset(
        labeler
        for labeler, (correct, answered) in gold_accuracy(answers, gold).items()
        if answered >= policy.min_gold_answers and correct / answered >= policy.min_gold_accuracy
    )


def vouched(
    served: Mapping[str, Sequence[Answer]],
    gold: Mapping[str, int],
    policy: QualityPolicy,
    ended: bool,
) -> frozenset[tuple[str, str]]:
    """(item, labeler) of each work answer that the same labeler's later gold answers vouch for:
    at least one, `min_gold_accuracy` of them right; after the job's end, also every work answer
    with no gold after it. `served[labeler]` is that labeler's answers in the order served."""
    out: set[tuple[str, str]] = set()
    for labeler, sequence in served.items():
        right = seen = 0
        for answer in reversed(sequence):
            truth = gold.get(answer.item)
            if truth is not None:
                seen += 1
                right += answer.label == truth
            elif (seen and right / seen >= policy.min_gold_accuracy) or (not seen and ended):
                out.add((answer.item, labeler))
    return frozenset(out)


def paid_answers(
    served: Mapping[str, Sequence[Answer]],
    label_count: int,
    gold: Mapping[str, int],
    policy: QualityPolicy,
    ended: bool,
) -> tuple[Judgement, tuple[Answer, ...]]:
    """The pay rule: `judge` over the qualified labelers' answers only, then `vouched`.

    Returns that judgement (its labels are what the job exports) and the answers it pays, by item
    then labeler."""
    answers = [a for sequence in served.values() for a in sequence]
    qualified = qualified_labelers(answers, gold, policy)
    trusted = [a for a in answers if a.labeler in qualified]
    if not trusted:
        return Judgement(labels={}, gold_accuracy={}, accepted=()), ()
    judgement = judge(trusted, label_count, gold, policy)
    vouch = vouched({k: v for k, v in served.items() if k in qualified}, gold, policy, ended=ended)
    return judgement, tuple(a for a in judgement.accepted if (a.item, a.labeler) in vouch)
