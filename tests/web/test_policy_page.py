"""The policy page, in Chromium against `aigora up` joined to a governed network on anvil: a seed
votes For with a wallet (the EIP-6963 test double, signing in Python) and the vote is counted
on-chain; a second vote by the same seed is refused with the contract's reason; a key made in
the page, with no standing, is refused; once the proposal passed and its timelock is over, the
Execute button enacts it and the page shows the new policy. The page works with the keyboard
alone on a 360 px screen, and without script it says that signing needs script."""

import json
from collections.abc import Iterator
from types import SimpleNamespace

import httpx
import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data
from playwright.sync_api import expect

from aigora.chain import Anvil, Chain
from aigora.governance import policy_from_data
from tests.governance_kit import (
    SEEDS,
    TIMELOCK_S,
    VOTING_PERIOD_S,
    advance,
    deploy_governed,
    edited,
    joined_dir,
    propose_over_http,
    vote_over_http,
)
from tests.web.conftest import serving, shot
from tests.web.test_signing import FAST_SCRYPT, WALLET, signing_as, tab_to

PASSPHRASE = "a visitor's own passphrase"


@pytest.fixture(scope="module")
def node(tmp_path_factory) -> Iterator[SimpleNamespace]:
    from tests.cli.conftest import Aigora
    from tests.network.devnet_kit import free_ports

    with Anvil() as rpc:
        base = tmp_path_factory.mktemp("policy-page")
        governed = deploy_governed(rpc, base)
        home = joined_dir(base / "home", governed, free_ports(1))
        with (
            serving(Aigora(home)) as (url, _status),
            httpx.Client(base_url=url, timeout=120) as client,
        ):
            yield SimpleNamespace(rpc=rpc, url=url, client=client, governed=governed)


def open_proposal(node, **admission) -> int:
    state = node.client.get("/governance").json()
    proposed = edited(policy_from_data(state["in_force"]["policy"]), **admission)
    made = propose_over_http(node.client, SEEDS[0], proposed.document())
    assert made.status_code == 200, made.text
    return made.json()["proposal_id"]


def proposal(node, proposal_id: int) -> dict:
    (found,) = [
        p for p in node.client.get("/governance").json()["proposals"] if p["id"] == proposal_id
    ]
    return found


def has_voted(node, proposal_id: int, voter: str) -> bool:
    address = node.governed.network.contracts["Governor"].address
    with Chain.connect(node.rpc) as chain:
        governor = chain.contract("Governor", address)
        return chain.call(governor.functions.has_voted(proposal_id, voter))


def wallet_context(browser, account, viewport=None):
    asked: list[str] = []

    def wallet_sign(address: str, typed_json: str) -> str:
        assert address.lower() == account.address.lower()
        typed = json.loads(typed_json)
        asked.append(typed["primaryType"])
        encode_typed_data(full_message=typed)
        return "0x" + account.sign_typed_data(full_message=typed).signature.hex()

    context = browser.new_context(viewport=viewport or {"width": 1100, "height": 900})
    context.expose_function("aigoraTestWalletSign", wallet_sign)
    context.add_init_script(WALLET % account.address)
    return context, asked


def test_a_seed_votes_with_its_wallet_and_executes_after_the_timelock(node, browser):
    proposal_id = open_proposal(node, min_score=0.3)
    voter = Account.from_key(bytes([0x52]) * 32)
    assert voter.address in {s.address for s in SEEDS}
    context, asked = wallet_context(browser, voter)
    try:
        page = context.new_page()
        page.goto(f"{node.url}/ui/policy")
        expect(page.get_by_role("cell", name="any score")).to_be_visible()
        card = page.locator(f"[data-proposal='{proposal_id}']")
        expect(card).to_contain_text("admission.min_score: None -> 0.3")
        page.get_by_role("button", name="Use Test Wallet").click()
        assert signing_as(page) == voter.address
        card.get_by_role("button", name="For").click()
        expect(card.get_by_role("status")).to_contain_text("Your vote for was counted")
        assert has_voted(node, proposal_id, voter.address)
        power = int(proposal(node, proposal_id)["for_power"])
        assert power > 0
        expect(card.locator("[data-share='for']")).to_have_text("33.3%")
        shot(page, "policy-voted")

        card.get_by_role("button", name="Against").click()
        expect(page.get_by_role("alert")).to_contain_text("already voted")
        assert int(proposal(node, proposal_id)["against_power"]) == 0

        assert vote_over_http(node.client, proposal_id, SEEDS[0], "for").status_code == 200
        advance(node.rpc, VOTING_PERIOD_S + TIMELOCK_S)
        page.reload()
        page.get_by_role("button", name=f"Execute proposal {proposal_id}").click()
        expect(
            page.get_by_role("status").filter(has_text="now the policy in force")
        ).to_be_visible()
        expect(page.get_by_role("cell", name="at least 0.3")).to_be_visible()
        shot(page, "policy-executed")
    finally:
        context.close()
    assert asked == ["Ballot"]  # the refused second vote was never signed: the node refused
    state = node.client.get("/governance").json()
    assert state["in_force"]["proposal_id"] == proposal_id


def test_a_key_without_standing_is_refused(node, browser):
    proposal_id = open_proposal(node, admit_unscored=False)
    context = browser.new_context()
    context.add_init_script(FAST_SCRYPT)
    try:
        page = context.new_page()
        page.goto(f"{node.url}/ui/policy")
        page.get_by_label("New passphrase").fill(PASSPHRASE)
        page.get_by_label("Repeat the passphrase").fill(PASSPHRASE)
        page.get_by_role("button", name="Create a key").click()
        stranger = signing_as(page)
        card = page.locator(f"[data-proposal='{proposal_id}']")
        card.get_by_role("button", name="For").click()
        expect(page.get_by_role("alert")).to_contain_text("has no standing")
    finally:
        context.close()
    assert not has_voted(node, proposal_id, stranger)
    assert proposal(node, proposal_id)["for_power"] == "0"


def test_keyboard_only_on_a_narrow_screen(node, browser):
    proposal_id = open_proposal(node, licenses=["CC0-1.0"])
    voter = Account.from_key(bytes([0x53]) * 32)
    context, _ = wallet_context(browser, voter, {"width": 360, "height": 740})
    try:
        page = context.new_page()
        page.goto(f"{node.url}/ui/policy")
        expect(page.locator("[data-signer][data-ready]")).to_be_attached()
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"/ui/policy scrolls sideways by {overflow}px on a 360px screen"
        tab_to(page, "Use Test Wallet")
        page.keyboard.press("Enter")
        assert signing_as(page) == voter.address
        card = page.locator(f"[data-proposal='{proposal_id}']")
        for _ in range(80):  # Tab to this proposal's Abstain button
            page.keyboard.press("Tab")
            if card.get_by_role("button", name="Abstain").evaluate(
                "b => b === document.activeElement"
            ):
                break
        page.keyboard.press("Enter")
        expect(card.get_by_role("status")).to_contain_text("Your vote abstain was counted")
        shot(page, "policy-narrow")
    finally:
        context.close()
    assert has_voted(node, proposal_id, voter.address)


def test_without_script_the_page_reads_and_says_signing_needs_script(node, browser):
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(f"{node.url}/ui/policy")
        expect(page.get_by_role("heading", name="In force")).to_be_visible()
        expect(page.get_by_role("note")).to_contain_text("Signing needs script")
        expect(page.get_by_role("button", name="For", exact=True)).to_have_count(0)
        shot(page, "policy-no-script")
    finally:
        context.close()
