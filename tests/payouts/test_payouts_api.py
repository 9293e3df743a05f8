"""Payouts over HTTP: closing an epoch, relaying a claim for an account that holds nothing, the
earnings table's data, and a 4xx with a message for every bad request."""

import pytest

from tests.operator import operator_client

from .test_epochs import Market


@pytest.fixture
def served(tmp_path):
    market = Market(tmp_path / "node")
    market.answer_and_anchor()
    try:
        yield market, operator_client(market.context, market.answers)
    finally:
        market.context.close()


def test_close_claim_and_earnings_over_http(served):
    market, client = served
    closed = client.post("/epochs")
    assert closed.status_code == 200, closed.text
    body = closed.json()
    assert (body["number"], body["status"]) == (1, "posted")
    assert int(body["cumulative_total"]) == market.balance(market.distributor.address)
    again = client.post("/epochs")
    assert again.status_code == 409
    assert "nothing to pay" in again.json()["detail"]
    assert client.get("/epochs/1").json()["root"] == body["root"]
    author = max(
        market.authors, key=lambda s: int(client.get(f"/earnings/{s.address}").json()["total"])
    ).address
    earned = client.get(f"/earnings/{author}").json()
    total = int(earned["total"])
    assert total == sum(int(line["amount"]) for line in earned["lines"]) > 0
    assert {line["status"] for line in earned["lines"]} == {"posted"}
    paid = client.post(f"/claims/{author}")
    assert paid.status_code == 200, paid.text
    assert int(paid.json()["paid"]) == total == market.balance(author)
    twice = client.post(f"/claims/{author}")
    assert twice.status_code == 409
    assert "already been paid" in twice.json()["detail"]


def test_bad_claims_are_4xx_with_a_message(served):
    market, client = served
    assert client.post("/claims/0x1234").status_code == 422
    assert client.get("/epochs/0").status_code == 422
    assert client.get("/epochs/9").status_code == 404
    nobody = "0x" + "42" * 20
    before = client.post(f"/claims/{nobody}")
    assert before.status_code == 404
    assert "no payout epoch" in before.json()["detail"]
    assert client.post("/epochs").status_code == 200
    unknown = client.post(f"/claims/{nobody}")
    assert unknown.status_code == 404
    assert "earned nothing" in unknown.json()["detail"]
    author = market.authors[0].address
    forged = {"fee": "1", "deadline": 2**40, "signature": "0x" + "11" * 65}
    refused = client.post(f"/claims/{author}", json=forged)
    assert refused.status_code in (404, 409)
    assert refused.json()["detail"]
    malformed = client.post(
        f"/claims/{author}", json={"fee": "-1", "deadline": 1, "signature": "0x"}
    )
    assert malformed.status_code == 422


def test_the_fee_terms_an_account_signs_over_http(served):
    """`GET /claims/{account}/fee` gives the whole `ClaimFee` typed data (what a browser signs
    with `eth_signTypedData_v4`, amounts as strings); signed, the node keeps exactly that fee. A
    node that sends a larger fee than the account signed is refused and the account keeps all."""
    market, client = served
    market.context.config.payouts.relay_fee = "700"
    nobody = "0x" + "42" * 20
    assert client.get(f"/claims/{nobody}/fee").status_code == 404
    assert client.post("/epochs").status_code == 200
    assert "earned nothing" in client.get(f"/claims/{nobody}/fee").json()["detail"]
    assert client.get("/claims/0x12/fee").status_code == 422
    author = max(
        market.authors, key=lambda s: int(client.get(f"/earnings/{s.address}").json()["total"])
    )
    terms = client.get(f"/claims/{author.address}/fee").json()
    operator = market.context.operator.address
    assert (terms["poster"], terms["relayer"], terms["fee"]) == (operator, operator, "700")
    typed = terms["typed_data"]
    assert typed["primaryType"] == "ClaimFee"
    assert typed["domain"]["verifyingContract"] == market.distributor.address
    message = typed["message"]
    assert message["cumulativeAmount"] == terms["cumulative"] == terms["due"]
    assert all(isinstance(message[k], str) for k in ("cumulativeAmount", "fee", "deadline"))
    signature = "0x" + bytes(author.sign_typed_data(full_message=typed).signature).hex()
    greedy = {"fee": "701", "deadline": terms["deadline"], "signature": signature}
    refused = client.post(f"/claims/{author.address}", json=greedy)
    assert refused.status_code == 409
    assert market.balance(author.address) == 0
    before = market.balance(operator)
    body = {"fee": terms["fee"], "deadline": terms["deadline"], "signature": signature}
    paid = client.post(f"/claims/{author.address}", json=body)
    assert paid.status_code == 200, paid.text
    assert market.balance(author.address) == int(terms["due"]) - 700
    assert market.balance(operator) - before == 700
    again = client.get(f"/claims/{author.address}/fee")
    assert again.status_code == 409
    assert "already been paid" in again.json()["detail"]
    market.context.config.payouts.relay_fee = str(10**30)  # never more than the claim pays
    other = next(s.address for s in market.authors if s.address != author.address)
    capped = client.get(f"/claims/{other}/fee").json()
    assert capped["fee"] == capped["due"] == capped["typed_data"]["message"]["fee"]
