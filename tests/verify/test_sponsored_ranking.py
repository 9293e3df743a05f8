"""The scenario the system exists for, end to end on the embedded chain: an operator that
quietly favours a sponsor is caught by verification every time; an honest one always passes.

The scenario is `examples/sponsored_ranking.py` itself, so the documented example cannot rot.
"""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory, sponsored):
    return {o.operator: o for o in sponsored.run(tmp_path_factory.mktemp("sponsored") / "node")}


def test_the_honest_operator_verifies(outcomes, sponsored):
    honest = outcomes["honest"]
    assert honest.verdict.valid, honest.verdict.reason
    assert honest.document.results[0].cid != sponsored.cid_of(sponsored.SPONSOR.encode())


@pytest.mark.parametrize(
    "operator",
    [
        "hidden score bonus",
        "sponsor promoted",
        "competitor dropped",
        "order swapped",
        "model edited",
    ],
)
def test_every_tilted_ranking_is_caught_at_its_first_difference(outcomes, operator):
    honest, tilted = outcomes["honest"].document, outcomes[operator]
    assert tilted.document.results != honest.results, "the tilt changed nothing"
    verdict = tilted.verdict
    assert not verdict.valid
    assert verdict.check == "ranking"
    difference = verdict.difference
    rank = difference["rank"]
    for side, result in (
        ("claimed", tilted.document.results[rank]),
        ("expected", honest.results[rank]),
    ):
        assert difference[side] == {
            "cid": result.cid,
            "passage": f"{result.cid}#{result.passage}",
            "span": [result.start, result.end],
            "score": result.score,
        }
    assert all(
        a == b for a, b in zip(tilted.document.results[:rank], honest.results[:rank], strict=False)
    )


def test_the_sponsor_gains_in_the_bonus_and_promotion_cheats(outcomes, sponsored):
    sponsor = sponsored.cid_of(sponsored.SPONSOR.encode())
    for operator in ("hidden score bonus", "sponsor promoted"):
        assert outcomes[operator].document.results[0].cid == sponsor


def test_sponsor_tokens_are_caught_at_the_first_differing_token(outcomes, sponsored):
    """The operator embedded the question plus the sponsor's name and ranked honestly from that
    embedding: scores and order are consistent, so only tokenizing the question catches it."""
    tilted = outcomes["sponsor tokens"]
    honest = outcomes["honest"].document
    assert tilted.document.results[0].cid == sponsored.cid_of(sponsored.SPONSOR.encode())
    assert tilted.document.query == honest.query  # the receipt names the question as asked
    verdict = tilted.verdict
    assert (verdict.valid, verdict.check) == (False, "tokens")
    position = len(honest.tokens.ids) - 1  # where the question's [SEP] stands
    assert verdict.difference == {
        "position": position,
        "claimed": {"id": tilted.document.tokens.ids[position], "token": "sponsor"},
        "expected": {"id": honest.tokens.ids[position], "token": "[SEP]"},
    }
    assert f"token position {position}" in verdict.reason
    assert "'sponsor'" in verdict.reason
    assert "'[SEP]'" in verdict.reason


def test_answering_from_a_stale_snapshot_is_caught(outcomes):
    verdict = outcomes["stale snapshot"].verdict
    assert not verdict.valid
    assert verdict.check == "snapshot"
    assert "stale" in verdict.reason


QUESTIONS = st.lists(
    st.sampled_from(
        [
            "which",
            "car",
            "family",
            "safe",
            "cheap",
            "seats",
            "electric",
            "trunk",
            "reliable",
            "buy",
            "best",
            "fruit",
            "kids",
        ]
    ),
    min_size=1,
    max_size=8,
).map(" ".join)


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(question=QUESTIONS, k=st.integers(min_value=1, max_value=12))
def test_an_honest_operator_always_verifies(world, question, k):
    document = world.answers.ask(question, k)
    assert len(document.results) == min(k, len(world.cids))
    verdict = world.answers.verify(document)
    assert verdict.valid, verdict.reason
