"""People sign with their own keys, in the browser (Playwright driving Debian's Chromium against
`aigora up` on the embedded chain): a visitor with no wallet makes a key in the page, and a
visitor with a wallet announced by EIP-6963 signs with it; each publishes, attests, vouches,
answers a labeling task and claims earnings through the node with a signed relayer fee. Every
request the browser sends is recorded: no key, passphrase or keystore is in any. The exported
keystore imports with `aigora account import` as the same address. The new pages work with the
keyboard alone, on a 360 px screen, and say that signing needs script when script is off.

The in-page key is encrypted at scrypt n = 2**10 here (`window.aigoraScryptN`, set before
`sign.js` runs); the page's own cost is ethers' default, n = 2**17, and one test keeps it.

The visitor also asks and pays in the page: the operator gifts it a deposit (`POST
/asks/deposits/{asker}`, the visitor holds nothing), and each answer is paid with a voucher the
visitor signs (`paid_ask`); the epoch redeems it and pays the visitor's own passage.
"""

import json
import os
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data
from playwright.sync_api import BrowserContext, Page, expect

from aigora.core.cid import cid_of
from aigora.core.keystore import Keystore, Signer
from tests.web.conftest import publish_signed, serving, shot

PASSPHRASE = "a visitor's own passphrase"
RELAY_FEE = 1000
FEE = 90000
FAST_SCRYPT = "window.aigoraScryptN = 1024;"
SEEDED = "Tide pools hold anemones, crabs and sea stars between the rocks at low tide."


def _post_job(aigora, home: Path, operator: str) -> str:
    spec = {
        "requester": operator,
        "title": "sentiment",
        "instructions": "Is the sentence positive or negative?",
        "labels": ["negative", "positive"],
        "overlap": 2,
        "price": "100",
        "ends_at": int(time.time()) + 86_400,
        "items": [{"text": "I love it", "gold": 1}, {"text": "Great stuff"}, {"text": "Awful"}],
    }
    spec_file = home.parent / "job.json"
    spec_file.write_text(json.dumps(spec))
    posted = aigora.run("label", "post", str(spec_file), "--account", "operator")
    assert posted.returncode == 0, posted.stderr
    assert "funded: True" in posted.stdout
    return posted.stdout.split()[1].rstrip(":")


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    """`aigora up` with paid answers (visitors pay with vouchers, so authors earn), a relayer
    fee, a funded labeling job and one passage by an author who holds nothing."""
    from tests.cli.conftest import PASSPHRASE as NODE_PASSPHRASE
    from tests.cli.conftest import Aigora

    home = tmp_path_factory.mktemp("signing") / "home"
    home.mkdir()
    (home / "config.toml").write_text(
        f'[node]\nanchor_interval_s = 1\n\n[answers]\nfee = "{FEE}"\nrefresh_interval_s = 0\n\n'
        f'[payouts]\nrelay_fee = "{RELAY_FEE}"\n'
    )
    operator = Keystore(home / "keys", kdf_iterations=2**10).create("operator", NODE_PASSPHRASE)
    aigora = Aigora(home)
    job_id = _post_job(aigora, home, operator)
    with serving(aigora) as (url, status):
        author = Signer.dev(os.urandom(32))
        publish_signed(url, status, author, SEEDED)
        token = (home / "node.token").read_text().strip()
        yield {
            "url": url,
            "aigora": aigora,
            "operator": operator,
            "author": author.address,
            "job_id": job_id,
            "token": token,
        }


class Recorder:
    """Every request a browser context sends: URL and body."""

    def __init__(self, context: BrowserContext) -> None:
        self.sent: list[tuple[str, bytes]] = []
        context.on("request", self._record)

    def _record(self, request) -> None:
        self.sent.append((request.url, request.post_data_buffer or b""))

    def assert_never_sent(self, *secrets: str) -> None:
        assert self.sent, "no request was recorded"
        for url, body in self.sent:
            seen = (url.encode() + b" " + body).lower()
            for secret in secrets:
                assert secret.lower().encode() not in seen, f"a secret was sent to {url}"

    def bodies_to(self, path: str) -> list[dict]:
        return [json.loads(body) for url, body in self.sent if url.endswith(path) and body]


def signing_as(page: Page) -> str:
    status = page.locator("[data-signer-status]")
    expect(status).to_contain_text("Signing as 0x")
    return status.inner_text().split()[2]


def unlock(page: Page) -> str:
    """Unlock the key this browser keeps (each page load starts locked)."""
    expect(page.locator("[data-signer][data-ready]")).to_be_attached()
    page.get_by_label("Passphrase", exact=True).fill(PASSPHRASE)
    page.get_by_role("button", name="Unlock").click()
    return signing_as(page)


def use_wallet(page: Page) -> str:
    """The wallet chosen on the first page is used again on the next without a prompt."""
    expect(page.locator("[data-signer][data-ready]")).to_be_attached()
    return signing_as(page)


def bearer(node: dict) -> dict[str, str]:
    """The operator's credential (closing epochs and snapshots are operator actions)."""
    return {"Authorization": f"Bearer {node['token']}"}


def gift_deposit(node: dict, asker: str, amount: int) -> None:
    """The operator funds the visitor's channel with its own tokens (the visitor holds none)."""
    response = httpx.post(
        f"{node['url']}/asks/deposits/{asker}",
        json={"amount": str(amount)},
        headers=bearer(node),
        timeout=120,
    )
    assert response.status_code == 200, response.text
    assert response.json()["available"] == str(amount)


def close_epoch(node: dict) -> None:
    deadline = time.monotonic() + 60
    while True:  # the node anchors every second; close once the receipts are anchored
        closed = httpx.post(f"{node['url']}/epochs", headers=bearer(node), timeout=120)
        if closed.status_code == 200 or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert closed.status_code == 200, closed.text


def visitor_flow(node: dict, page: Page, signer: Callable[[Page], str], text: str) -> str:
    """Publish, attest, vouch, answer a labeling task and claim with a signed relayer fee, each
    signed in the page by `signer` (already chosen on the publish page); the account."""
    url = node["url"]
    address = signing_as(page)
    page.get_by_label("Text", exact=True).fill(text)
    page.get_by_role("button", name="Publish", exact=True).click()
    expect(page.get_by_role("heading", name="Content")).to_be_visible()
    expect(page.get_by_text(text)).to_be_visible()
    expect(page.get_by_text(f"by {address}")).to_be_visible()
    cid = page.url.rsplit("/", 1)[1]
    assert cid == cid_of(text.encode())  # the CID the page computed is the node's

    assert signer(page) == address
    page.get_by_label("Verdict").select_option("accurate")
    page.get_by_label("Reason", exact=True).fill("I wrote it and checked it")
    page.get_by_role("button", name="Attest", exact=True).click()
    expect(page.get_by_role("status").filter(has_text="Attestation recorded")).to_be_visible()
    expect(page.get_by_role("cell", name="I wrote it and checked it")).to_be_visible()
    vouch = page.get_by_label("Vouch for", exact=False)
    page.get_by_role("button", name="Vouch", exact=True).click()  # the author is the visitor
    expect(page.get_by_role("alert")).to_contain_text("cannot vouch for itself")
    vouch.fill(node["author"])
    page.get_by_role("button", name="Vouch", exact=True).click()
    expect(page.get_by_role("status").filter(has_text="You vouch for")).to_be_visible()
    expect(page.get_by_role("alert")).to_be_hidden()
    shown = httpx.get(f"{url}/content/{cid}").json()
    assert [a["attester"] for a in shown["attestations"]] == [address]

    page.goto(f"{url}/ui/labels")
    assert signer(page) == address
    page.get_by_role("button", name="Get a task").click()
    sentence = page.locator("[data-task-text]").inner_text()
    positive = sentence in ("I love it", "Great stuff")
    page.get_by_label("positive" if positive else "negative").check()
    page.get_by_role("button", name="Send answer").click()
    expect(page.get_by_role("status").filter(has_text="Answer sent")).to_be_visible()

    assert httpx.post(f"{url}/snapshots", headers=bearer(node), timeout=300).status_code == 200
    gift_deposit(node, address, 2 * FEE)
    paid_ask(page, url, text, signer)
    close_epoch(node)
    page.goto(f"{url}/ui/earnings")
    assert signer(page) == address
    expect(page.get_by_label("Account")).to_have_value(address)
    page.get_by_role("button", name="See the relayer's fee").click()
    expect(page.get_by_text(f"it keeps {RELAY_FEE:,}")).to_be_visible()
    page.get_by_role("button", name="Sign the fee and claim").click()
    paid = page.get_by_role("status").filter(has_text="Claimed")
    expect(paid).to_contain_text(f"to {address}, fee {RELAY_FEE} to {node['operator']}")
    page.get_by_role("button", name="See the relayer's fee").click()
    expect(page.get_by_role("alert")).to_contain_text("already been paid")
    return address


def paid_ask(page: Page, url: str, question: str, signer: Callable[[Page], str]) -> None:
    """A paid ask signed in the page: the voucher for the channel's next cumulative amount, sent
    with the question; the channel then shows one fee spent."""
    page.goto(url)
    address = signer(page)
    channel = page.get_by_role("status").filter(has_text="Each answer costs")
    expect(channel).to_contain_text(f"{2 * FEE} available of {2 * FEE} deposited")
    page.get_by_label("Question").fill(question)
    page.get_by_label("Results").fill("1")
    page.get_by_role("button", name="Ask").click()
    expect(page.locator("[data-paid-results]")).to_contain_text("Answers to")
    expect(channel).to_contain_text(f"{FEE} available of {2 * FEE} deposited")
    state = httpx.get(f"{url}/asks/channels/{address}").json()
    assert (state["accepted"], state["next_cumulative"]) == (str(FEE), str(2 * FEE))


def test_a_visitor_without_a_wallet_signs_with_a_key_made_in_the_page(node, browser, tmp_path):
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    context.add_init_script(FAST_SCRYPT)
    sent = Recorder(context)
    try:
        page = context.new_page()
        page.goto(f"{node['url']}/ui/publish")
        expect(page.get_by_text("No wallet found in this browser.")).to_be_visible()
        page.get_by_label("New passphrase").fill(PASSPHRASE)
        page.get_by_label("Repeat the passphrase").fill(PASSPHRASE + "!")
        page.get_by_role("button", name="Create a key").click()
        expect(page.get_by_role("alert")).to_contain_text("the two passphrases differ")
        page.get_by_label("Repeat the passphrase").fill(PASSPHRASE)
        page.get_by_role("button", name="Create a key").click()
        address = signing_as(page)
        shot(page, "publish-own-key")
        with page.expect_download() as download:
            page.get_by_role("button", name="Export keystore").click()
        keystore_file = tmp_path / download.value.suggested_filename
        download.value.save_as(keystore_file)
        assert keystore_file.name == f"aigora-key-{address}.json"

        page.reload()
        page.get_by_label("Passphrase", exact=True).fill("not my passphrase")
        page.get_by_role("button", name="Unlock").click()
        expect(page.get_by_role("alert")).to_contain_text("wrong passphrase")
        assert unlock(page) == address
        text = "Rock pools at low tide shelter anemones, and this one was written in a browser."
        assert visitor_flow(node, page, unlock, text) == address
        shot(page, "earnings-own-key")
    finally:
        context.close()

    keystore = json.loads(keystore_file.read_text())
    private_key = Account.decrypt(keystore, PASSPHRASE).hex()
    assert Account.from_key(private_key).address == address
    crypto = keystore["Crypto"]
    sent.assert_never_sent(
        private_key.removeprefix("0x"),
        PASSPHRASE,
        crypto["ciphertext"],
        crypto["mac"],
        crypto["kdfparams"]["salt"],
    )
    assert len(sent.bodies_to("/content")) == 1

    secret = tmp_path / "passphrase.txt"
    secret.write_text(PASSPHRASE)
    imported = node["aigora"].run(
        "account",
        "import",
        str(keystore_file),
        "--name",
        "visitor",
        "--passphrase-file",
        str(secret),
    )
    assert imported.returncode == 0, imported.stderr
    assert f"imported account visitor {address}" in imported.stdout
    assert private_key.removeprefix("0x") not in imported.stdout + imported.stderr
    unlocked = Keystore(node["aigora"].data_dir / "keys").unlock("visitor", PASSPHRASE)
    assert unlocked.address == address


WALLET = """
(() => {
  const address = "%s";
  const provider = {
    isTestWallet: true,
    async request({ method, params }) {
      if (method === "eth_requestAccounts" || method === "eth_accounts") return [address];
      if (method === "eth_chainId") return "0x1";
      if (method === "eth_signTypedData_v4") {
        return window.aigoraTestWalletSign(params[0], params[1]);
      }
      throw Object.assign(new Error("unsupported " + method), { code: 4200 });
    },
  };
  const info = { uuid: "0b7f1d1e-5f2a-4c2e-9a7e-1d2c3b4a5f60", name: "Test Wallet",
    icon: "data:image/svg+xml,%%3Csvg xmlns='http://www.w3.org/2000/svg'/%%3E",
    rdns: "org.aigora.test-wallet" };
  const announce = () => window.dispatchEvent(new CustomEvent("eip6963:announceProvider",
    { detail: Object.freeze({ info, provider }) }));
  window.addEventListener("eip6963:requestProvider", announce);
  announce();
})();
"""


def test_a_visitor_signs_with_a_wallet_found_by_eip6963(node, browser):
    """The wallet is a test double (no extension can run here): EIP-1193 `request`, announced
    by EIP-6963, whose `eth_signTypedData_v4` signs in Python with eth-account."""
    account = Account.create()
    asked: list[str] = []

    def wallet_sign(address: str, typed_json: str) -> str:
        assert address.lower() == account.address.lower()
        typed = json.loads(typed_json)
        asked.append(typed["primaryType"])
        encode_typed_data(full_message=typed)  # what a wallet would refuse, this refuses
        return "0x" + account.sign_typed_data(full_message=typed).signature.hex()

    context = browser.new_context(viewport={"width": 1100, "height": 900})
    context.expose_function("aigoraTestWalletSign", wallet_sign)
    context.add_init_script(WALLET % account.address)
    sent = Recorder(context)
    try:
        page = context.new_page()
        page.goto(f"{node['url']}/ui/publish")
        page.get_by_role("button", name="Use Test Wallet").click()
        assert signing_as(page) == account.address
        text = "Sea stars regrow lost arms; this note was signed by a wallet in the browser."
        assert visitor_flow(node, page, use_wallet, text) == account.address
        shot(page, "earnings-wallet")
    finally:
        context.close()
    assert asked == [
        "Content",
        "Attestation",
        "Trust",
        "Trust",
        "LabelAnswer",
        "Voucher",
        "ClaimFee",
    ]
    sent.assert_never_sent(account.key.hex().removeprefix("0x"))


def tab_to(page: Page, text: str, limit: int = 60) -> None:
    """Press Tab until the focused element's label or text contains `text`."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate(
            "() => { const e = document.activeElement;"
            " return (e.labels?.[0]?.textContent || '') + ' ' + (e.textContent || ''); }"
        )
        if text in focused:
            return
    raise AssertionError(f"Tab never reached {text!r}")


def test_keyboard_only_on_a_narrow_screen(node, browser):
    context = browser.new_context(viewport={"width": 360, "height": 740})
    context.add_init_script(FAST_SCRYPT)
    try:
        page = context.new_page()
        url = node["url"]
        page.goto(f"{url}/ui/publish")
        expect(page.locator("[data-signer][data-ready]")).to_be_attached()
        tab_to(page, "New passphrase")
        page.keyboard.type(PASSPHRASE)
        tab_to(page, "Repeat the passphrase")
        page.keyboard.type(PASSPHRASE)
        page.keyboard.press("Enter")
        address = signing_as(page)
        tab_to(page, "Text")
        page.keyboard.type("Typed with the keyboard alone, on a narrow screen.")
        tab_to(page, "Publish")
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", name="Content")).to_be_visible()
        content = page.url.removeprefix(url)
        for path in ("/ui/publish", "/ui/labels", "/ui/earnings", content):
            page.goto(f"{url}{path}")
            expect(page.locator("[data-signer][data-ready]")).to_be_attached()
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, f"{path} scrolls sideways by {overflow}px on a 360px screen"
        shot(page, "content-narrow")
        tab_to(page, "Passphrase")
        page.keyboard.type(PASSPHRASE)
        page.keyboard.press("Enter")
        assert signing_as(page) == address
        tab_to(page, "Reason")
        page.keyboard.type("keyboard")
        page.keyboard.press("Enter")
        expect(page.get_by_role("status").filter(has_text="Attestation recorded")).to_be_visible()
        page.goto(f"{url}/ui/labels")
        tab_to(page, "Passphrase")
        page.keyboard.type(PASSPHRASE)
        page.keyboard.press("Enter")
        signing_as(page)
        tab_to(page, "Get a task")
        page.keyboard.press("Enter")
        expect(page.locator("[data-task]")).to_be_visible()
        page.keyboard.press("Space")  # the first label has focus
        tab_to(page, "Send answer")
        page.keyboard.press("Enter")
        expect(page.get_by_role("status").filter(has_text="Answer sent")).to_be_visible()
        shot(page, "labels-narrow")
    finally:
        context.close()


def test_without_script_pages_read_and_say_signing_needs_script(node, browser):
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        url = node["url"]
        for path in ("/ui/publish", "/ui/labels", "/ui/earnings"):
            page.goto(f"{url}{path}")
            expect(page.get_by_role("note")).to_contain_text("Signing needs script")
            expect(page.get_by_role("button", name="Publish", exact=True)).to_have_count(0)
        cid = cid_of(SEEDED.encode())
        page.goto(f"{url}/ui/content/{cid}")
        expect(page.get_by_text(SEEDED)).to_be_visible()
        expect(page.get_by_role("note")).to_contain_text("Signing needs script")
        shot(page, "content-no-script")
    finally:
        context.close()


def test_the_page_names_bytes_by_the_nodes_cid(node, browser):
    samples = [b"", b"a", "Grüße, 世界".encode(), bytes(range(256)), os.urandom(1000)]
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(f"{node['url']}/ui/publish")
        cids = page.evaluate(
            "async (samples) => { const { cidOf } = await import('/static/sign.js');"
            " return samples.map((s) => cidOf(new Uint8Array(s))); }",
            [list(sample) for sample in samples],
        )
    finally:
        context.close()
    assert cids == [cid_of(sample) for sample in samples]


def test_the_page_key_keeps_ethers_default_cost(node, browser):
    """Without the test's lower cost the page encrypts at scrypt n = 2**17 (r 8, p 1)."""
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(f"{node['url']}/ui/labels")
        page.get_by_label("New passphrase").fill(PASSPHRASE)
        page.get_by_label("Repeat the passphrase").fill(PASSPHRASE)
        page.get_by_role("button", name="Create a key").click()
        signing_as(page)
        with page.expect_download() as download:
            page.get_by_role("button", name="Export keystore").click()
        params = json.loads(Path(download.value.path()).read_text())["Crypto"]["kdfparams"]
    finally:
        context.close()
    assert (params["n"], params["r"], params["p"]) == (2**17, 8, 1)
