"""Sybil labelers: one person with several addresses answers what it takes for gold right and
every other item wrong, in agreement. Under the keyed serving order nothing it observes, pooled,
tells gold from work, so it fails the gold check and takes nothing, and the honest labelers are
paid for exactly the answers they would be paid for without it. Under main's old order (gold
first) the same ring takes most of the escrow, so these tests can fail."""

import pytest

from aigora.labels._quality import Answer, QualityPolicy, vouched
from aigora.labels._simulate import (
    EARLY,
    EARLY_OR_SHARED,
    GOLD_FIRST,
    JUDGE_ONLY,
    KEYED,
    OURS,
    SHARED,
    MarketSetup,
    _Job,
    simulate_market,
)

# 300 items (a fifth gold), 8 honest labelers doing 40 tasks each, a ring of 3 addresses taking
# everything it can: the ring could fill every slot of the job by itself.
SETUP = MarketSetup(work=240, gold=60, honest=8, honest_tasks=40, ring=3)


@pytest.mark.parametrize(("guess", "seed"), [(EARLY_OR_SHARED, 0), (SHARED, 1)])
def test_a_ring_takes_under_5_percent_and_honest_pay_is_unchanged(guess, seed):
    run = simulate_market(SETUP, ordering=KEYED, rule=OURS, guess=guess, seed=seed)
    assert sum(len(run.served[r]) for r in run.ring) > SETUP.work  # it labeled a lot
    assert run.take(run.ring) < SETUP.escrow // 20
    assert run.stolen == 0
    # "Unchanged": every honest labeler is paid for exactly the answers the same rule pays when
    # the ring's answers are not there (the ring held slots, so a run without it serves honest
    # labelers other items where one was full; bench/labels.py measures that run too).
    honest_paid = {(item, who) for item, who in run.paid if who in run.honest}
    assert honest_paid == run.honest_paid_alone
    assert run.take(run.honest) > SETUP.escrow // 10  # and the honest labelers were paid
    # A run without the ring at all (same secret, crowd and answers) pays them within 5%.
    alone = simulate_market(SETUP, ordering=KEYED, rule=OURS, with_ring=False, seed=seed)
    assert abs(run.take(run.honest) - alone.take(alone.honest)) <= alone.take(alone.honest) // 20


def test_a_run_without_the_ring_serves_honest_labelers_alike_until_an_item_is_full():
    with_ring = simulate_market(SETUP, seed=3)
    alone = simulate_market(SETUP, seed=3, with_ring=False)
    same = [h for h in with_ring.honest if with_ring.served[h] == alone.served[h]]
    assert same  # labelers who never met an item the ring had filled are served the same
    for h in with_ring.honest:
        a, b = with_ring.served[h], alone.served[h]
        first = next((i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y), len(a))
        assert a[:first] == b[:first]


@pytest.mark.parametrize("rule", [OURS, JUDGE_ONLY])
def test_under_mains_gold_first_order_the_same_ring_takes_most_of_the_escrow(rule):
    run = simulate_market(SETUP, ordering=GOLD_FIRST, rule=rule, guess=EARLY, seed=0)
    assert run.take(run.ring) > SETUP.escrow // 2
    assert run.stolen > SETUP.escrow // 3  # paid for wrong labels
    keyed = simulate_market(SETUP, ordering=KEYED, rule=rule, guess=EARLY, seed=0)
    assert keyed.take(keyed.ring) < SETUP.escrow // 20


def test_serving_does_not_depend_on_which_items_are_gold():
    """The same requests against the same job, with gold placed elsewhere: the same items."""
    items = SETUP.work + SETUP.gold
    golds = [{str(i): 0 for i in range(SETUP.gold)}, {str(items - 1 - i): 1 for i in range(30)}]
    sequences = []
    for gold in golds:
        job = _Job(SETUP, KEYED, gold, b"s" * 32)
        sequences.append([job.next(f"labeler-{n % 7}") for n in range(400)])
    assert sequences[0] == sequences[1]
    assert len({x for x in sequences[0] if x is not None}) > 100
    main = [_Job(SETUP, GOLD_FIRST, gold, b"s" * 32) for gold in golds]
    assert [main[0].next("a") for _ in range(3)] != [main[1].next("a") for _ in range(3)]


def test_serving_orders_differ_across_addresses():
    job = _Job(SETUP, KEYED, {"0": 0}, b"k" * 32)
    firsts = [[job.next(f"address-{a}") for _ in range(5)] for a in range(4)]
    assert len({tuple(f) for f in firsts}) == 4


POLICY = QualityPolicy(min_gold_answers=2)
GOLD = {"g1": 0, "g2": 0, "g3": 0, "g4": 0}


def _seq(labeler: str, items: list[tuple[str, int]]) -> list[Answer]:
    return [Answer(item, labeler, label) for item, label in items]


def test_work_is_vouched_only_by_gold_passed_after_it():
    honest_then_cheat = _seq(
        "m", [("g1", 0), ("w1", 2), ("g2", 0), ("w2", 1), ("g3", 1), ("w3", 1), ("g4", 1)]
    )
    got = vouched({"m": honest_then_cheat}, GOLD, POLICY, ended=False)
    # w1 is followed by g2 right, g3 and g4 wrong: 1 of 3 after it. Nothing is vouched.
    assert got == frozenset()
    steady = _seq("h", [("w1", 2), ("g1", 0), ("w2", 1), ("g2", 0), ("w3", 1)])
    assert vouched({"h": steady}, GOLD, POLICY, ended=False) == {("w1", "h"), ("w2", "h")}
    # Work after the labeler's last gold waits for the job's end.
    assert vouched({"h": steady}, GOLD, POLICY, ended=True) == {
        ("w1", "h"),
        ("w2", "h"),
        ("w3", "h"),
    }
