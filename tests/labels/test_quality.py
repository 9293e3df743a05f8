"""Quality control on crowds whose truth is known: Dawid-Skene beats majority vote, spammers earn
nothing, paid answers are right; plus the rules' edge cases, validation and determinism."""

import random
import warnings

import numpy as np
import pandas as pd
import pytest
from crowdkit.aggregation import MajorityVote
from hypothesis import given, settings
from hypothesis import strategies as st
from pandas.errors import PandasDeprecationWarning

from aigora.core.errors import AigoraError
from aigora.labels._quality import (
    DAWID_SKENE,
    MAJORITY,
    Answer,
    ItemLabel,
    Judgement,
    LabelingError,
    QualityPolicy,
    aggregate,
    gold_accuracy,
    judge,
)
from aigora.labels._simulate import simulate_crowd

LABELS = 4
SEEDS = range(5)
# 300 answers per labeler, 10% gold: what a labeler does in a modest batch.
CROWD = {"items": 3000, "label_count": LABELS, "labelers": 30, "gold_fraction": 0.1}


def _crowd(seed: int, spam: float = 0.3, overlap: int = 3):
    return simulate_crowd(**CROWD, spam_fraction=spam, overlap=overlap, seed=seed)


def _majority_vote(answers: tuple[Answer, ...]) -> dict[str, int]:
    frame = pd.DataFrame(
        {
            "task": [a.item for a in answers],
            "worker": [a.labeler for a in answers],
            "label": [a.label for a in answers],
        }
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PandasDeprecationWarning)  # crowd-kit 1.4 on pandas 3
        return MajorityVote().fit_predict(frame).to_dict()


def _accuracy(labels: dict[str, int], truth: dict[str, int], items: list[str]) -> float:
    return float(np.mean([labels[item] == truth[item] for item in items]))


@pytest.fixture(scope="module")
def judged():
    """Each seed's crowd (30% spammers, overlap 3) and its judgement under the default policy."""
    return [
        (crowd, judge(crowd.answers, LABELS, crowd.gold, QualityPolicy()))
        for crowd in map(_crowd, SEEDS)
    ]


def test_dawid_skene_beats_majority_vote(judged):
    for crowd, judgement in judged:
        open_items = sorted(judgement.labels)
        ours = {item: label.label for item, label in judgement.labels.items()}
        assert {label.method for label in judgement.labels.values()} == {DAWID_SKENE}
        ds = _accuracy(ours, crowd.truth, open_items)
        mv = _accuracy(_majority_vote(crowd.answers), crowd.truth, open_items)
        assert ds > mv + 0.05, (ds, mv)


def test_aggregate_is_judge_labels(judged):
    crowd, judgement = judged[0]
    assert aggregate(crowd.answers, LABELS, crowd.gold) == judgement.labels
    assert set(judgement.labels) == set(crowd.truth) - set(crowd.gold)


def test_spammers_earn_nothing(judged):
    for crowd, judgement in judged:
        assert crowd.spammers
        assert not [a for a in judgement.accepted if a.labeler in crowd.spammers]


def test_accepted_answers_are_overwhelmingly_correct(judged):
    for crowd, judgement in judged:
        right = [a.label == crowd.truth[a.item] for a in judgement.accepted]
        assert len(right) > 0.5 * len(crowd.answers) * 0.9 / 3  # a fair share is paid at all
        assert np.mean(right) >= 0.95


def test_accepted_answers_obey_every_rule(judged):
    policy = QualityPolicy()
    for crowd, judgement in judged:
        for answer in judgement.accepted:
            assert answer.item not in crowd.gold
            correct, answered = judgement.gold_accuracy[answer.labeler]
            assert answered >= policy.min_gold_answers
            assert correct / answered >= policy.min_gold_accuracy
            label = judgement.labels[answer.item]
            assert label.posterior >= policy.min_posterior
            assert answer.label == label.label


def test_wider_overlap_still_shuts_spammers_out():
    crowd = _crowd(7, spam=0.5, overlap=5)
    judgement = judge(crowd.answers, LABELS, crowd.gold, QualityPolicy())
    assert judgement.accepted
    assert not [a for a in judgement.accepted if a.labeler in crowd.spammers]


def test_gold_accuracy_counts():
    answers = [
        Answer("g1", "ann", 0),
        Answer("g2", "ann", 1),
        Answer("g1", "bob", 2),
        Answer("x", "bob", 1),
        Answer("x", "cy", 1),
    ]
    assert gold_accuracy(answers, {"g1": 0, "g2": 1, "unanswered": 3}) == {
        "ann": (2, 2),
        "bob": (0, 1),
        "cy": (0, 0),
    }


def test_judge_pays_only_labelers_with_enough_gold():
    gold = {f"g{i}": i % 2 for i in range(4)}
    answers = [Answer(item, who, label) for item, label in gold.items() for who in ("ann", "bob")]
    answers += [Answer("g0", "cy", 0), Answer("g1", "cy", 1)]  # right, but only 2 gold answers
    answers += [Answer("x", who, 1) for who in ("ann", "bob", "cy")]
    judgement = judge(answers, 2, gold, QualityPolicy(min_posterior=0.5))
    assert judgement.gold_accuracy["cy"] == (2, 2)
    assert [a.labeler for a in judgement.accepted] == ["ann", "bob"]
    assert judgement.labels["x"].label == 1


def test_single_labeler_falls_back_to_majority():
    answers = [Answer("a", "ann", 2), Answer("b", "ann", 0)]
    assert aggregate(answers, 3, {}) == {
        "a": ItemLabel("a", 2, 1.0, MAJORITY),
        "b": ItemLabel("b", 0, 1.0, MAJORITY),
    }


def test_identical_answers_fall_back_to_majority():
    answers = [Answer(item, who, 1) for item in "ab" for who in ("ann", "bob")]
    labels = aggregate(answers, 2, {"a": 1})
    assert labels == {"b": ItemLabel("b", 1, 1.0, MAJORITY)}


def test_failing_dawid_skene_falls_back_to_majority_lowest_label_on_ties(monkeypatch):
    class Broken:
        def __init__(self, **_: object) -> None:
            pass

        def fit_predict_proba(self, *_: object) -> None:
            raise ValueError("diverged")

    import crowdkit.aggregation  # loaded by the aggregation itself, only when it runs

    monkeypatch.setattr(crowdkit.aggregation, "DawidSkene", Broken)
    answers = [
        Answer("a", "ann", 2),
        Answer("a", "bob", 1),
        Answer("b", "ann", 0),
        Answer("b", "bob", 0),
        Answer("b", "cy", 2),
    ]
    assert aggregate(answers, 3, {}) == {
        "a": ItemLabel("a", 1, 0.5, MAJORITY),
        "b": ItemLabel("b", 0, 2 / 3, MAJORITY),
    }


def test_no_answers():
    assert aggregate([], 2, {"g": 0}) == {}
    assert judge([], 2, {}, QualityPolicy()) == Judgement({}, {}, ())


@pytest.mark.parametrize(
    ("answers", "label_count", "gold", "message"),
    [
        ([Answer("a", "ann", 3)], 3, {}, "labels are integers in 0..2"),
        ([Answer("a", "ann", -1)], 3, {}, "with -1"),
        ([Answer("a", "ann", True)], 3, {}, "with True"),
        ([Answer("a", "ann", "1")], 3, {}, "with '1'"),
        ([Answer("a", "ann", 1.0)], 3, {}, "with 1.0"),
        ([Answer("", "ann", 1)], 3, {}, "every item must be a non-empty string"),
        ([Answer("a", 7, 1)], 3, {}, "every labeler must be a non-empty string"),
        ([("a", "ann", 1)], 3, {}, "must be `Answer` instances"),
        ([Answer("a", "ann", 1), Answer("a", "ann", 0)], 3, {}, "more than once"),
        ([Answer("a", "ann", 1)], 3, {"g": 3}, "gold label of 'g' is 3"),
        ([Answer("a", "ann", 1)], 0, {}, "label_count must be a positive integer"),
        ([Answer("a", "ann", 1)], 2.0, {}, "label_count must be a positive integer"),
    ],
)
def test_invalid_input_is_a_labeling_error(answers, label_count, gold, message):
    with pytest.raises(LabelingError, match=message) as raised:
        judge(answers, label_count, gold, QualityPolicy())
    assert isinstance(raised.value, AigoraError)


@pytest.mark.parametrize(
    "kwargs", [{"min_posterior": 1.5}, {"min_gold_accuracy": -0.1}, {"min_gold_answers": 0}]
)
def test_invalid_policy(kwargs):
    with pytest.raises(LabelingError):
        QualityPolicy(**kwargs)


def test_order_of_answers_does_not_matter(judged):
    crowd, judgement = judged[0]
    shuffled = list(crowd.answers)
    random.Random(0).shuffle(shuffled)
    assert judge(shuffled, LABELS, dict(reversed(crowd.gold.items())), QualityPolicy()) == (
        judgement
    )


def test_simulation_is_deterministic():
    assert _crowd(3) == _crowd(3)
    assert _crowd(3).answers != _crowd(4).answers


answer_sets = st.lists(
    st.builds(
        Answer,
        st.sampled_from([f"item-{i}" for i in range(6)]),
        st.sampled_from(["ann", "bob", "cy", "dee"]),
        st.integers(0, 2),
    ),
    max_size=20,
    unique_by=lambda a: (a.item, a.labeler),
)


@settings(max_examples=30, deadline=None)
@given(answers=answer_sets, gold_items=st.sets(st.sampled_from(["item-0", "item-1", "item-2"])))
def test_judgement_invariants(answers, gold_items):
    gold = dict.fromkeys(gold_items, 0)
    policy = QualityPolicy(min_posterior=0.6, min_gold_answers=1)
    judgement = judge(answers, 3, gold, policy)
    assert set(judgement.labels) == {a.item for a in answers} - gold_items
    assert set(judgement.accepted) <= set(answers)
    for answer in judgement.accepted:
        correct, answered = judgement.gold_accuracy[answer.labeler]
        assert answered >= 1
        assert correct / answered >= policy.min_gold_accuracy
        assert judgement.labels[answer.item].label == answer.label
        assert judgement.labels[answer.item].posterior >= policy.min_posterior
    for label in judgement.labels.values():
        assert 0 <= label.label < 3
        assert 0 <= label.posterior <= 1
    assert judge(list(reversed(answers)), 3, gold, policy) == judgement
