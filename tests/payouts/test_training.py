"""The training pool: split by KNN-Shapley value in integers, copies earn nothing, and a node
configured with a validation set pays its authors from it."""

import json

import numpy as np
import pytest

from aigora.payouts import TrainingItem, Validation, allocate, training_split, value_weights
from aigora.value import value_items

from .test_epochs import Market


def items_and_validation(seed: int = 3, n: int = 30, m: int = 40):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n + m, 16))
    e = np.round(x / np.linalg.norm(x, axis=1, keepdims=True) * 127).astype(np.int8)
    labels = rng.integers(0, 3, n + m)
    items = [TrainingItem(f"cid{i}", f"0x{i:040x}", int(labels[i]), e[i]) for i in range(n)]
    return items, Validation(e[n:], labels[n:])


def test_the_pool_is_split_exactly_by_positive_value():
    items, validation = items_and_validation()
    pool = 10**21 + 7
    split = training_split(pool, items, validation, k=3, threshold=16000)
    assert sum(amount for _, amount in split) == pool
    values = value_items(
        np.stack([i.embedding for i in items]),
        np.array([i.label for i in items]),
        validation.embeddings,
        validation.labels,
        3,
        16000,
        keys=[i.cid for i in items],
    )
    expected = allocate(pool, value_weights(values))
    assert {i.cid: a for i, a in split} == {
        i.cid: a for i, a in zip(items, expected, strict=True) if a
    }
    for item, value in zip(items, values, strict=True):
        if value <= 0:
            assert item.cid not in {i.cid for i, _ in split}


def test_a_copy_of_an_item_earns_nothing_and_takes_nothing():
    items, validation = items_and_validation()
    alone = {i.cid: a for i, a in training_split(10**18, items, validation, 3, 16000)}
    copy = TrainingItem("copy", "0xcopier", items[0].label, items[0].embedding.copy())
    with_copy = {i.cid: a for i, a in training_split(10**18, [*items, copy], validation, 3, 16000)}
    assert "copy" not in with_copy
    assert with_copy == alone


def test_weights_are_exact_integers_of_positive_values():
    assert value_weights(np.array([0.5, -0.1, 0.0, 2**-40])) == [2**39, 0, 0, 1]


def test_a_node_pays_its_training_pool(tmp_path):
    market = Market(tmp_path / "node")
    try:
        snapshot, _ = market.answers.current()
        labels = {cid: i % 2 for i, cid in enumerate(snapshot.cids)}
        (tmp_path / "node" / "labels.json").write_text(json.dumps(labels))
        rows = [{"text": "a family car with seats", "label": 0}, {"text": "fruit", "label": 1}]
        rows += [{"text": "electric car charging", "label": 0}]
        (tmp_path / "node" / "valid.jsonl").write_text("\n".join(json.dumps(r) for r in rows))
        config = market.context.config.payouts
        market.context.config = market.context.config.model_copy(
            update={
                "payouts": config.model_copy(
                    update={
                        "training_pool": "1000000",
                        "validation": "valid.jsonl",
                        "item_labels": "labels.json",
                        "k": 1,
                    }
                )
            }
        )
        summary = market.payouts.close_summary()
        assert 0 < summary.training_total <= 1_000_000
        assert summary.receipts == 0
        assert market.balance(market.distributor.address) == summary.training_total
    finally:
        market.context.close()


def test_a_training_pool_without_its_files_is_refused(tmp_path):
    market = Market(tmp_path / "node")
    try:
        config = market.context.config
        market.context.config = config.model_copy(
            update={"payouts": config.payouts.model_copy(update={"training_pool": "5"})}
        )
        with pytest.raises(Exception, match="validation and item_labels"):
            market.payouts.close_summary()
    finally:
        market.context.close()
