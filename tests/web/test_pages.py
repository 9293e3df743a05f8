"""The node's pages in a real browser (Playwright driving Debian's Chromium) against `aigora up`
on the embedded chain: publish and attest, ask and verify, claim earnings, the network page;
keyboard-only use and a narrow screen. Each page's screenshot is saved under
`test-artifacts/screenshots/` (or $AIGORA_ARTIFACTS)."""

import os
import time
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from aigora.app import Asks, open_node
from aigora.asks import sign_voucher
from aigora.core.eip712 import Domain
from aigora.core.keystore import Keystore, Signer
from tests.web.conftest import publish_signed, serving, shot

PASSAGES = (
    "The Honda Odyssey has sliding doors and room for eight passengers.",
    "Bananas are rich in potassium and easy to carry.",
    "The Kia Telluride is a spacious three-row SUV with a long warranty.",
)


FEE = 90000
ASKER = Signer.dev(bytes([0x44]) * 32)


def fund_asker(home: Path) -> None:
    """Before the node starts (it then holds the embedded chain): the operator gives the asker
    tokens, which the asker deposits into its channel with the operator."""
    from tests.cli.conftest import PASSPHRASE

    Keystore(home / "keys", kdf_iterations=2**10).create("operator", PASSPHRASE)
    context = open_node(home, PASSPHRASE)
    try:
        token = context.deployment.token
        context.chain.transact(context.operator, token.functions.mint(ASKER.address, 10 * FEE))
        Asks(context).deposit(ASKER, asker=ASKER.address, amount=10 * FEE)
    finally:
        context.close()


def paid_ask(url: str, question: str) -> None:
    """Ask as the asker, with the voucher the node's terms and the channel's state ask for."""
    terms = httpx.get(f"{url}/asks/terms").json()
    state = httpx.get(f"{url}/asks/channels/{ASKER.address}").json()
    payment = sign_voucher(
        ASKER,
        Domain.from_dict(terms["domain"]),
        asker=ASKER.address,
        operator=terms["operator"],
        cumulative=int(state["next_cumulative"]),
    )
    body = {"query": question, "k": 3, "payment": payment.to_json()}
    answered = httpx.post(f"{url}/ask", json=body, timeout=120)
    assert answered.status_code == 200, answered.text
    assert answered.json()["receipt"]["receipt"]["fee"] == str(FEE)


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    """`aigora up` with paid answers, an asker with a deposit, and content by an author who
    holds nothing."""
    from tests.cli.conftest import Aigora

    home = tmp_path_factory.mktemp("web") / "home"
    home.mkdir()
    (home / "config.toml").write_text(
        f'[node]\nanchor_interval_s = 1\n\n[answers]\nfee = "{FEE}"\nrefresh_interval_s = 0\n'
    )
    fund_asker(home)
    aigora = Aigora(home)
    with serving(aigora) as (url, status):
        author = Signer.dev(os.urandom(32))
        for text in PASSAGES:
            publish_signed(url, status, author, text)
        bearer = {"Authorization": f"Bearer {(home / 'node.token').read_text()}"}
        assert httpx.post(f"{url}/snapshots", timeout=300).status_code == 401
        assert httpx.post(f"{url}/snapshots", headers=bearer, timeout=300).status_code == 200
        yield url, author, aigora


def sign_in(page: Page, url: str, home: Path) -> None:
    """Sign the browser in as the operator: this node charges a fee, and the operator asks for
    free (a visitor pays with a voucher: `tests/web/test_signing.py`)."""
    page.goto(f"{url}/ui/operator")
    page.get_by_label("Operator token").fill((home / "node.token").read_text())
    page.get_by_label("Operator token").press("Enter")
    expect(page.get_by_role("button", name="Anchor pending batches now")).to_be_visible()


@pytest.fixture
def page(browser, node):
    url, _, aigora = node
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    try:
        page = context.new_page()
        sign_in(page, url, aigora.data_dir)
        yield page
    finally:
        context.close()


def test_publish_and_attest(node, page):
    url, *_ = node
    page.goto(f"{url}/ui/publish")
    text = "Minivans have sliding doors that help in tight parking spots."
    page.get_by_label("Operator's text").fill(text)
    page.get_by_role("button", name="Publish as the operator").click()
    expect(page.get_by_role("heading", name="Content")).to_be_visible()
    expect(page.get_by_text("Minivans have sliding doors")).to_be_visible()
    page.get_by_label("Operator's verdict").select_option("accurate")
    page.get_by_label("Operator's reason").fill("matches the brochure")
    page.get_by_role("button", name="Attest as the operator").click()
    expect(page.get_by_role("cell", name="matches the brochure")).to_be_visible()
    aigora = node[2]
    for _ in range(2):  # two reputation runs: the page plots how the score formed
        ran = aigora.run("reputation", "compute")
        assert ran.returncode == 0, ran.stderr
    page.reload()
    expect(page.get_by_role("img", name="reputation score by run")).to_be_visible()
    assert page.locator("svg.chart circle").count() == 2
    shot(page, "content")
    page.get_by_role("link", name="Publish").click()
    page.get_by_label("Operator's text").fill("   ")
    page.get_by_role("button", name="Publish as the operator").click()
    expect(page.get_by_role("alert")).to_contain_text("write something to publish")
    shot(page, "publish-error")


def test_ask_and_verify(node, page):
    url, author, _ = node
    page.goto(url)
    page.get_by_label("Question").fill("Which car seats eight people?")
    page.get_by_role("button", name="Ask").click()
    expect(page.get_by_text("The Honda Odyssey has sliding doors")).to_be_visible()
    expect(page.get_by_text(author.address).first).to_be_visible()
    badge = page.get_by_role("img", name="reputation: unrated").first
    expect(badge).to_be_visible()
    assert page.evaluate("(img) => img.naturalWidth", badge.element_handle()) > 0
    shot(page, "ask")
    page.get_by_role("link", name="Receipt").click()
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("status")).to_contain_text("VALID")
    shot(page, "receipt")


def test_a_visitor_cannot_ask_a_node_that_charges_a_fee(node, browser):
    url, *_ = node
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(url)
        page.get_by_label("Question").fill("Which car seats eight people?")
        page.get_by_role("button", name="Ask").click()
        # The page pays with a voucher the visitor signs (`test_signing.py`); with no key
        # chosen it says so, and sends nothing (the same form without script answers 402).
        expect(page.get_by_role("alert")).to_contain_text("choose a wallet or unlock your key")
        expect(page.get_by_text("This node charges for answers")).to_be_visible()
        shot(page, "ask-refused")
    finally:
        context.close()


def test_a_visitor_sees_no_operator_actions_and_is_refused_them(node, browser):
    """Without the operator's credential: no console, no operator forms, and 401 from each
    operator action posted directly, from the visitor's own browser."""
    url, *_ = node
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(f"{url}/ui/operator")
        expect(page.get_by_label("Operator token")).to_be_visible()
        for path in ("/ui/operator", "/ui/publish", "/ui/earnings"):
            page.goto(f"{url}{path}")
            for action in ("Anchor pending batches now", "Close the next payout epoch"):
                expect(page.get_by_role("button", name=action)).to_have_count(0)
            expect(page.get_by_role("button", name="Publish as the operator")).to_have_count(0)
        for path in ("/anchor", "/snapshots", "/epochs", "/ui/operator/anchor", "/ui/publish"):
            refused = page.request.post(f"{url}{path}", form={"text": "x"})
            assert refused.status == 401, (path, refused.text())
        guessed = page.request.post(f"{url}/epochs", headers={"Authorization": "Bearer guess"})
        assert guessed.status == 403
    finally:
        context.close()


def test_claim_earnings(node, page):
    """An asker pays for two answers with vouchers; the epoch redeems and splits them, and the
    author claims from the earnings page."""
    url, author, aigora = node
    bearer = {"Authorization": f"Bearer {(aigora.data_dir / 'node.token').read_text()}"}
    for question in ("Which car seats eight people?", "What fruit is easy to carry?"):
        paid_ask(url, question)
    deadline = time.monotonic() + 60
    while True:  # the node anchors every second; close once the receipts are anchored
        closed = httpx.post(f"{url}/epochs", headers=bearer, timeout=120)
        if closed.status_code == 200 or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert closed.status_code == 200, closed.text
    page.goto(f"{url}/ui/earnings")
    page.get_by_label("Account").fill(author.address)
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("img", name="earned per epoch")).to_be_visible()
    shot(page, "earnings")
    page.get_by_role("button", name="Claim").click()
    paid = page.get_by_role("status").filter(has_text="Paid")
    expect(paid).to_contain_text(f"to {author.address}")
    page.get_by_role("button", name="Claim").click()
    expect(page.get_by_role("alert")).to_contain_text("already been paid")
    shot(page, "earnings-claimed")


def test_network_page_lists_operators_and_batches(node, page):
    url, *_ = node
    page.goto(f"{url}/ui/network")
    expect(page.get_by_role("heading", name="Operators")).to_be_visible()
    expect(page.get_by_role("heading", name="Anchored batches")).to_be_visible()
    expect(page.get_by_role("heading", name="Disputes")).to_be_visible()
    shot(page, "network")


def test_keyboard_only_and_a_narrow_screen(node, browser):
    url, *_ = node
    context = browser.new_context(viewport={"width": 360, "height": 740})
    try:
        page = context.new_page()
        sign_in(page, url, node[2].data_dir)
        page.goto(url)
        page.keyboard.type("Which car seats eight people?")  # the question box has focus
        page.keyboard.press("Enter")
        expect(page.get_by_text("The Honda Odyssey has sliding doors")).to_be_visible()
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"the page scrolls sideways by {overflow}px on a 360px screen"
        shot(page, "ask-narrow")
        for _ in range(40):  # tab to the receipt link, follow it, tab to Verify, press it
            page.keyboard.press("Tab")
            if "Receipt" in page.evaluate("document.activeElement.textContent"):
                break
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", name="Receipt", exact=True)).to_be_visible()
        for _ in range(20):
            page.keyboard.press("Tab")
            if "Verify" in page.evaluate("document.activeElement.textContent"):
                break
        page.keyboard.press("Enter")
        expect(page.get_by_role("status")).to_contain_text("VALID")
        page.goto(f"{url}/ui/network")
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.textContent").strip() == "Skip to content"
        page.goto(f"{url}/ui/earnings?account=0x12")
        expect(page.get_by_role("alert")).to_contain_text("not a 0x-hex account address")
    finally:
        context.close()
