"""A sybil ring attacks a funded job through the real application layer (embedded chain, the
`Labels` and `Payouts` services): one person with three addresses answers right only what its
pooled observations suggest is gold and gives every other item one agreed cheap label. It is paid
less than 5% of the escrow (here: nothing), and each honest labeler is paid exactly what the pay
rule gives its answers without the ring's. Each ring address meets about 30 gold items among 10
labels: the gold check is a binomial test, and with far fewer gold answers (or labels) an address
labeling a third of its items right would pass it by luck now and then."""

import numpy as np
import pytest

from aigora.app import escrow_state
from aigora.core.hashing import keccak
from aigora.core.keystore import Signer
from aigora.labels import QualityPolicy
from aigora.labels._quality import Answer, paid_answers
from aigora.payouts import earnings

from .test_market import Marketplace, dev_signer

WORK, GOLD, OVERLAP, PRICE = 90, 45, 3, 1_000
HONEST_TASKS = 30
LABELS = [f"topic {n}" for n in range(10)]
POLICY = QualityPolicy(min_posterior=0.8, min_gold_accuracy=0.7, min_gold_answers=3)


@pytest.fixture
def market(tmp_path):
    m = Marketplace(tmp_path / "node")
    try:
        yield m
    finally:
        m.context.close()


class Ring:
    """One person's addresses, sharing everything they are served. It takes for gold: an
    address's first `min_gold_answers` tasks, items with low numbers (where requesters often put
    gold), and items another address was served; past its first tasks each address labels
    right at most a third of its answers (the job's gold share, which it is granted to know:
    labeling more is honest work), and gives the rest an agreed label that costs nothing."""

    def __init__(self, addresses: list[Signer], truth) -> None:
        self.addresses, self.truth = addresses, truth
        self.seen: dict[int, set[str]] = {}
        self.count = dict.fromkeys((a.address for a in addresses), 0)
        self.right = dict.fromkeys((a.address for a in addresses), 0)
        self.answers = 0

    def choose(self, signer: Signer):
        def label(task) -> int:
            others = self.seen.get(task.item, set()) - {signer.address}
            me = signer.address
            early = self.count[me] < POLICY.min_gold_answers
            within = self.right[me] < self.count[me] // 3
            looks_gold = early or ((task.item < GOLD or bool(others)) and within)
            self.seen.setdefault(task.item, set()).add(signer.address)
            self.count[me] += 1
            self.answers += 1
            self.right[me] += looks_gold and not early
            if looks_gold:
                return self.truth(task)
            return keccak(b"ring" + str(task.item).encode())[0] % len(LABELS)

        return label


def _spec(market: Marketplace, rng) -> tuple[dict, dict[int, int]]:
    truth = {i: int(rng.integers(0, len(LABELS))) for i in range(WORK + GOLD)}
    items = [
        {"text": f"passage {i}", "gold": truth[i] if i < GOLD else None}  # gold first
        for i in range(WORK + GOLD)
    ]
    spec = {
        "requester": market.requester.address,
        "title": "topic of a passage",
        "instructions": "Pick the passage's topic.",
        "labels": LABELS,
        "overlap": OVERLAP,
        "price": str(PRICE),
        "ends_at": market.chain.now() + 3600,
        "items": items,
    }
    return spec, truth


def test_three_sybil_addresses_take_under_5_percent_and_honest_pay_is_untouched(market):
    rng = np.random.default_rng(16)
    spec, truth = _spec(market, rng)
    job_id = market.post_and_fund(spec)
    escrow = PRICE * OVERLAP * WORK

    def truth_of(task) -> int:
        return truth[market.index_of(task)]

    honest = [dev_signer(f"honest {i}") for i in range(4)]
    ring = Ring([dev_signer(f"ring {i}") for i in range(3)], truth_of)
    served: dict[str, list[Answer]] = {h.address: [] for h in honest}
    number_to_index: dict[int, int] = {}  # served number -> spec index, for the honest items
    budget = dict.fromkeys(served, HONEST_TASKS)

    def careful(signer: Signer):
        def label(task) -> int:  # right 95% of the time
            right = truth_of(task)
            number_to_index[task.item] = market.index_of(task)
            chosen = right if rng.random() < 0.95 else (right + 1) % len(LABELS)
            served[signer.address].append(Answer(str(task.item), signer.address, chosen))
            return chosen

        return label

    # Everyone takes one task in turn; honest labelers stop after HONEST_TASKS, the ring goes on
    # until nothing is left for it.
    workers = [(h, careful(h)) for h in honest] + [(r, ring.choose(r)) for r in ring.addresses]
    while workers:
        still = []
        for signer, choose in workers:
            if budget.get(signer.address, 1) == 0:
                continue
            task = market.labels.next_task(signer.address)
            if task is None:
                continue
            market.answer(signer, task, choose(task))
            if signer.address in budget:
                budget[signer.address] -= 1
            still.append((signer, choose))
        workers = still
    assert ring.answers > WORK  # the ring labeled most of the job
    assert sum(len(s) for s in served.values()) == len(honest) * HONEST_TASKS

    market.chain.advance_time(3600)  # the job ends: tails after a labeler's last gold count
    summary = market.payouts.close_summary()

    def paid(account: str) -> int:
        return sum(line[3] for line in earnings(market.context.db, account))

    ring_take = sum(paid(a.address) for a in ring.addresses)
    assert ring_take < escrow // 20

    # What the pay rule gives the honest answers alone, the ring's never having been given.
    gold = {str(number): truth[index] for number, index in number_to_index.items() if index < GOLD}
    _, alone = paid_answers(served, len(LABELS), gold, POLICY, ended=True)
    for h in honest:
        assert paid(h.address) == PRICE * sum(1 for a in alone if a.labeler == h.address)
    assert sum(paid(h.address) for h in honest) > escrow // 10
    assert summary.labeling_total == ring_take + sum(paid(h.address) for h in honest)
    assert escrow_state(market.context, job_id).released == summary.labeling_total
