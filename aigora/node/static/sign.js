// Signing in the visitor's browser. The node sends typed data (EIP-712) and receives signed
// items; it never sees a key, a passphrase or a keystore. Two ways to sign:
//   - a wallet in the browser, found by EIP-6963 discovery, signing with eth_signTypedData_v4;
//   - a key made in this page: generated here (ethers' Wallet.createRandom, the browser's
//     crypto.getRandomValues), encrypted with the visitor's passphrase as a keystore v3
//     (scrypt, n = 2**17, r = 8, p = 1: ethers' default), kept in this origin's IndexedDB,
//     unlocked into memory for the life of the page, exportable as the keystore JSON that
//     `aigora account import` reads.
// Plain ES module, no build step; ethers is vendored as a pinned file (vendor/README.md).
import {
  Signature,
  Wallet,
  decryptKeystoreJson,
  encodeBase64,
  encryptKeystoreJson,
  getAddress,
  getBytes,
  sha256,
  toUtf8Bytes,
  verifyTypedData,
} from "./vendor/ethers-6.17.0.min.js";

// ---- pure helpers ----------------------------------------------------------------------------

const CID_PREFIX = [0x01, 0x55, 0x12, 0x20]; // CIDv1, raw codec, sha2-256, 32 bytes
const BASE32 = "abcdefghijklmnopqrstuvwxyz234567";
const DOMAIN_FIELDS = [
  ["name", "string"],
  ["version", "string"],
  ["chainId", "uint256"],
  ["verifyingContract", "address"],
];

/** RFC 4648 base32, lower case, no padding. */
export function base32(bytes) {
  let out = "";
  let value = 0;
  let bits = 0;
  for (const byte of bytes) {
    value = ((value << 8) | byte) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
  return out;
}

/** The CID the node names `bytes` by (aigora.core.cid.cid_of): CIDv1 raw sha2-256 base32. */
export function cidOf(bytes) {
  return "b" + base32([...CID_PREFIX, ...getBytes(sha256(bytes))]);
}

/** The full EIP-712 structure a wallet's eth_signTypedData_v4 takes. */
export function typedData(domain, types, primaryType, message) {
  const EIP712Domain = DOMAIN_FIELDS.filter(([name]) => name in domain).map(([name, type]) => ({
    name,
    type,
  }));
  return { types: { ...types, EIP712Domain }, primaryType, domain, message };
}

function withoutDomainType(types) {
  const { EIP712Domain: _domain, ...rest } = types;
  return rest;
}

/** The 65-byte r‖s‖v signature (v 27 or 28) the node and the contracts accept, after checking
 * that `address` made it: a wallet that signed with another account is caught here. */
function checkedSignature(typed, raw, address) {
  const signature = Signature.from(raw).serialized;
  const signer = verifyTypedData(
    typed.domain,
    withoutDomainType(typed.types),
    typed.message,
    signature,
  );
  if (getAddress(signer) !== getAddress(address)) {
    throw new Error(`the signature is by ${signer}, not by ${address}`);
  }
  return signature;
}

// ---- signers ---------------------------------------------------------------------------------

/** A key unlocked in this page. */
class PageKey {
  #wallet;
  constructor(wallet) {
    this.#wallet = wallet;
    this.address = wallet.address;
    this.kind = "a key kept in this page";
  }
  async signTypedData(typed) {
    const raw = await this.#wallet.signTypedData(
      typed.domain,
      withoutDomainType(typed.types),
      typed.message,
    );
    return checkedSignature(typed, raw, this.address);
  }
}

/** An EIP-1193 wallet's account. */
class WalletKey {
  constructor(provider, address, name) {
    this.provider = provider;
    this.address = getAddress(address);
    this.kind = name;
  }
  async signTypedData(typed) {
    const raw = await this.provider.request({
      method: "eth_signTypedData_v4",
      params: [this.address, JSON.stringify(typed)],
    });
    return checkedSignature(typed, raw, this.address);
  }
}

// ---- the in-page key: IndexedDB, scrypt keystore ---------------------------------------------

const DB_NAME = "aigora";
const STORE = "keys";
const KEY_ID = "page-key";
// ethers' default cost. A test may lower it (window.aigoraScryptN, set before this module runs);
// nothing else reads it.
const SCRYPT_N = Number.isSafeInteger(globalThis.aigoraScryptN) ? globalThis.aigoraScryptN : 2 ** 17;

function database() {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

async function stored(mode, action) {
  const db = await database();
  try {
    return await new Promise((resolve, reject) => {
      const transaction = db.transaction(STORE, mode);
      const request = action(transaction.objectStore(STORE));
      transaction.oncomplete = () => resolve(request.result);
      transaction.onerror = () => reject(transaction.error);
    });
  } finally {
    db.close();
  }
}

const readKey = () => stored("readonly", (keys) => keys.get(KEY_ID));
const writeKey = (record) => stored("readwrite", (keys) => keys.add(record, KEY_ID));
const deleteKey = () => stored("readwrite", (keys) => keys.delete(KEY_ID));

async function createPageKey(passphrase) {
  const fresh = Wallet.createRandom();
  const keystore = await encryptKeystoreJson(
    { address: fresh.address, privateKey: fresh.privateKey },
    passphrase,
    { scrypt: { N: SCRYPT_N } },
  );
  await writeKey({ address: fresh.address, keystore, created: Date.now() });
  return new PageKey(new Wallet(fresh.privateKey));
}

async function unlockPageKey(record, passphrase) {
  let account;
  try {
    account = await decryptKeystoreJson(record.keystore, passphrase);
  } catch (error) {
    if (String(error?.message).includes("incorrect password")) {
      throw new Error("wrong passphrase: it does not unlock the key kept in this page");
    }
    throw error;
  }
  return new PageKey(new Wallet(account.privateKey));
}

function download(name, text) {
  const url = URL.createObjectURL(new Blob([text], { type: "application/json" }));
  const link = Object.assign(document.createElement("a"), { href: url, download: name });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

// ---- talking to the node ---------------------------------------------------------------------

async function api(method, path, body) {
  const response = await fetch(path, {
    method,
    headers: body === undefined ? {} : { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "same-origin",
  });
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!response.ok) {
    const detail = data?.detail;
    const message = typeof detail === "string" ? detail : detail ? JSON.stringify(detail) : text;
    const error = new Error(`${message || response.statusText} (${response.status})`);
    error.status = response.status;
    throw error;
  }
  return data;
}

const now = () => Math.floor(Date.now() / 1000);

// ---- the page --------------------------------------------------------------------------------

const state = { signer: null, wallets: new Map(), listeners: [] };

function $(selector, root = document) {
  return root.querySelector(selector);
}

function showError(error) {
  const alert = $("[data-sign-error]");
  const message = typeof error?.message === "string" ? error.message : String(error);
  const text = error?.code === 4001 ? "the wallet refused to sign" : message;
  alert.textContent = text;
  alert.hidden = false;
}

function clearError() {
  const alert = $("[data-sign-error]");
  alert.textContent = "";
  alert.hidden = true;
}

function say(element, text) {
  element.textContent = text;
  element.hidden = false;
}

/** Run an action on a button or form: errors go to the role=alert element, the control is
 * disabled meanwhile so a double press never signs twice. */
async function guarded(control, action) {
  clearError();
  control.setAttribute("aria-busy", "true");
  const buttons = control.tagName === "FORM" ? [...control.querySelectorAll("button")] : [control];
  for (const button of buttons) button.disabled = true;
  try {
    await action();
  } catch (error) {
    showError(error);
  } finally {
    for (const button of buttons) button.disabled = false;
    control.removeAttribute("aria-busy");
  }
}

function onForm(form, action) {
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    guarded(form, () => action(new FormData(form)));
  });
}

function useSigner(signer) {
  state.signer = signer;
  say($("[data-signer-status]"), `Signing as ${signer.address} (${signer.kind}).`);
  for (const element of document.querySelectorAll("[data-needs-signer]")) element.hidden = false;
  for (const element of document.querySelectorAll("[data-fill-address]")) {
    element.value = signer.address;
  }
  for (const listener of state.listeners) listener(signer);
}

function requireSigner() {
  if (!state.signer) throw new Error("choose a wallet or unlock your key first");
  return state.signer;
}

async function refreshLocalKey() {
  const record = await readKey();
  $("[data-create]").hidden = Boolean(record);
  $("[data-unlock]").hidden = !record;
  $("[data-local-actions]").hidden = !record;
  const known = $("[data-local-address]");
  if (record) say(known, `This browser keeps a key for ${record.address}.`);
  else known.hidden = true;
  return record;
}

function setUpLocalKey() {
  onForm($("[data-create]"), async (fields) => {
    const passphrase = String(fields.get("passphrase"));
    if (passphrase.length < 8) throw new Error("a passphrase needs at least 8 characters");
    if (passphrase !== String(fields.get("repeat"))) throw new Error("the two passphrases differ");
    useSigner(await createPageKey(passphrase));
    $("[data-create]").reset();
    await refreshLocalKey();
  });
  onForm($("[data-unlock]"), async (fields) => {
    const record = await readKey();
    if (!record) throw new Error("this browser keeps no key");
    useSigner(await unlockPageKey(record, String(fields.get("passphrase"))));
    $("[data-unlock]").reset();
  });
  const exportButton = $("[data-export]");
  exportButton.addEventListener("click", () =>
    guarded(exportButton, async () => {
      const record = await readKey();
      if (!record) throw new Error("this browser keeps no key");
      download(`aigora-key-${record.address}.json`, record.keystore);
    }),
  );
  const forget = $("[data-forget]");
  forget.addEventListener("click", () =>
    guarded(forget, async () => {
      const sure = confirm(
        "Forget the key kept in this browser? Without an exported keystore it is gone for good.",
      );
      if (!sure) return;
      await deleteKey();
      if (state.signer instanceof PageKey) window.location.reload();
      await refreshLocalKey();
    }),
  );
  return refreshLocalKey();
}

function setUpWallets() {
  const list = $("[data-wallet-list]");
  window.addEventListener("eip6963:announceProvider", (event) => {
    const { info, provider } = event.detail ?? {};
    if (!info?.uuid || !provider?.request || state.wallets.has(info.uuid)) return;
    state.wallets.set(info.uuid, { info, provider });
    $("[data-no-wallet]").hidden = true;
    const item = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = `Use ${info.name}`;
    button.addEventListener("click", () =>
      guarded(button, async () => {
        const accounts = await provider.request({ method: "eth_requestAccounts" });
        if (!accounts?.length) throw new Error(`${info.name} shared no account`);
        sessionStorage.setItem("aigora.wallet", info.rdns || info.name);
        useSigner(new WalletKey(provider, accounts[0], info.name));
      }),
    );
    item.append(button);
    list.append(item);
    // A wallet chosen earlier in this tab is used again without a prompt (eth_accounts).
    if (sessionStorage.getItem("aigora.wallet") === (info.rdns || info.name) && !state.signer) {
      provider
        .request({ method: "eth_accounts" })
        .then((accounts) => accounts?.length && useSigner(new WalletKey(provider, accounts[0], info.name)))
        .catch(() => {});
    }
  });
  window.dispatchEvent(new Event("eip6963:requestProvider"));
}

// ---- actions ---------------------------------------------------------------------------------

let signingInfo = null;
async function eip712() {
  signingInfo ??= await api("GET", "/eip712");
  return signingInfo;
}

async function signed(kind, primaryType, message) {
  const signer = requireSigner();
  const info = await eip712();
  const typed = typedData(info.domain, info.types[kind], primaryType, message);
  return signer.signTypedData(typed);
}

function setUpPublish(form) {
  onForm(form, async (fields) => {
    const signer = requireSigner();
    const text = String(fields.get("text"));
    if (!text.trim()) throw new Error("write something to publish");
    const body = toUtf8Bytes(text);
    const manifest = {
      author: signer.address,
      cid: cidOf(body),
      mediaType: "text/plain",
      license: String(fields.get("license")),
      url: "",
      parents: [],
      createdAt: now(),
    };
    const signature = await signed("content", "Content", manifest);
    const done = await api("POST", "/content", {
      manifest,
      signature,
      body_base64: encodeBase64(body),
    });
    window.location.assign(`/ui/content/${done.id}`);
  });
}

function appendRow(table, cells) {
  const row = document.createElement("tr");
  for (const cell of cells) {
    const td = document.createElement("td");
    td.textContent = cell;
    row.append(td);
  }
  table.tBodies[0].append(row);
}

function setUpAttest(form) {
  onForm(form, async (fields) => {
    const signer = requireSigner();
    const attestation = {
      attester: signer.address,
      cid: form.dataset.cid,
      verdict: String(fields.get("verdict")),
      reason: String(fields.get("reason")),
      createdAt: now(),
    };
    const signature = await signed("attestation", "Attestation", attestation);
    const done = await api("POST", "/attestations", { attestation, signature });
    const table = $("[data-attestations]");
    if (table) {
      table.hidden = false;
      const empty = $("[data-attestations-empty]");
      if (empty) empty.hidden = true;
      appendRow(table, [signer.address, attestation.verdict, attestation.reason]);
    }
    say($("[data-status]", form.parentElement), `Attestation recorded (${done.digest.slice(0, 18)}…).`);
  });
}

function setUpVouch(form) {
  onForm(form, async (fields) => {
    const signer = requireSigner();
    const trust = {
      truster: signer.address,
      trustee: getAddress(String(fields.get("trustee")).trim()),
      createdAt: now(),
    };
    const signature = await signed("trust", "Trust", trust);
    const done = await api("POST", "/trust", { trust, signature });
    say($("[data-status]", form.parentElement), `You vouch for ${trust.trustee} (${done.digest.slice(0, 18)}…).`);
  });
}

function setUpLabels(section) {
  const taskBox = $("[data-task]", section);
  const status = $("[data-status]", section);
  let current = null;
  const fetchTask = $("[data-next-task]", section);
  fetchTask.addEventListener("click", () =>
    guarded(fetchTask, async () => {
      const signer = requireSigner();
      const next = await api("GET", `/tasks/next?labeler=${signer.address}`);
      current = next;
      if (!next.task) {
        taskBox.hidden = true;
        say(status, "No task for you right now.");
        return;
      }
      status.hidden = true;
      $("[data-task-instructions]", taskBox).textContent = next.task.instructions;
      $("[data-task-text]", taskBox).textContent = next.task.text;
      const choices = $("[data-task-labels]", taskBox);
      choices.replaceChildren();
      next.task.labels.forEach((name, index) => {
        const label = document.createElement("label");
        label.className = "choice";
        const input = Object.assign(document.createElement("input"), {
          type: "radio",
          name: "label",
          value: String(index),
          required: true,
        });
        label.append(input, ` ${name}`);
        choices.append(label);
      });
      taskBox.hidden = false;
      choices.querySelector("input")?.focus();
    }),
  );
  onForm(taskBox, async (fields) => {
    const signer = requireSigner();
    if (!current?.task) throw new Error("get a task first");
    const label = Number(fields.get("label"));
    const message = { job: current.task.job_id, item: current.task.item, labeler: signer.address, label };
    const typed = typedData(current.domain, current.types, "LabelAnswer", message);
    const signature = await signer.signTypedData(typed);
    await api("POST", "/answers", { job_id: message.job, item: message.item, labeler: signer.address, label, signature });
    taskBox.hidden = true;
    current = null;
    say(status, `Answer sent for item ${message.item}. Get the next task when you are ready.`);
    fetchTask.focus();
  });
}

function setUpClaim(section) {
  const status = $("[data-status]", section);
  const offer = $("[data-fee-offer]", section);
  const ask = $("[data-fee-terms]", section);
  let terms = null;
  ask.addEventListener("click", () =>
    guarded(ask, async () => {
      const signer = requireSigner();
      terms = await api("GET", `/claims/${signer.address}/fee`);
      $("[data-fee-text]", offer).textContent =
        `This node sends your claim of ${BigInt(terms.due).toLocaleString()} and pays its gas; ` +
        `it keeps ${BigInt(terms.fee).toLocaleString()} of it, if you sign. ` +
        `The signature is good until ${new Date(terms.deadline * 1000).toLocaleString()}, ` +
        `for this claim only (relayer ${terms.relayer}).`;
      offer.hidden = false;
      $("button", offer).focus();
    }),
  );
  const sign = $("button", offer);
  sign.addEventListener("click", () =>
    guarded(sign, async () => {
      const signer = requireSigner();
      if (!terms || getAddress(terms.account) !== signer.address) throw new Error("ask for the fee first");
      const signature = await signer.signTypedData(terms.typed_data);
      const paid = await api("POST", `/claims/${signer.address}`, {
        fee: terms.fee,
        deadline: terms.deadline,
        signature,
      });
      offer.hidden = true;
      terms = null;
      const kept = BigInt(paid.paid) - BigInt(paid.fee);
      say(
        status,
        `Claimed ${paid.paid}: ${kept} to ${paid.account}, fee ${paid.fee} to ${paid.relayer}; ` +
          `transaction ${paid.tx_hash}`,
      );
    }),
  );
}

/** Paid asks: when the node charges a fee, the asker signs a voucher for the channel's next
 * cumulative amount and sends it with the question (POST /ask). */
function setUpPaidAsk(form) {
  const status = $("[data-channel]");
  const results = $("[data-paid-results]");
  let terms = null;
  const showChannel = async (signer) => {
    terms ??= await api("GET", "/asks/terms");
    if (BigInt(terms.fee) === 0n) return null;
    const channel = await api("GET", `/asks/channels/${signer.address}`);
    say(
      status,
      `Each answer costs ${terms.fee}. Your channel with ${terms.operator}: ` +
        `${channel.available} available of ${channel.deposit} deposited.`,
    );
    return channel;
  };
  // A node without the paid-asks API yet answers 404: the form then posts as it always did.
  state.listeners.push((signer) =>
    showChannel(signer).catch((error) => error.status === 404 || showError(error)),
  );
  form.addEventListener("submit", (event) => {
    if (!terms || BigInt(terms.fee) === 0n) return; // free: the form posts as usual
    event.preventDefault();
    guarded(form, async () => {
      const signer = requireSigner();
      const channel = await showChannel(signer);
      const voucher = { asker: signer.address, operator: terms.operator, cumulative: channel.next_cumulative };
      const typed = typedData(terms.domain, terms.types, "Voucher", voucher);
      const signature = await signer.signTypedData(typed);
      const fields = new FormData(form);
      const answer = await api("POST", "/ask", {
        query: String(fields.get("query")),
        k: Number(fields.get("k") || 5),
        payment: { asker: signer.address, cumulative: channel.next_cumulative, signature },
      });
      renderAnswer(results, answer);
      await showChannel(signer);
    });
  });
  api("GET", "/asks/terms")
    .then((found) => {
      terms = found;
    })
    .catch(() => {});
}

function renderAnswer(container, answer) {
  container.replaceChildren();
  const heading = document.createElement("h2");
  heading.textContent = `Answers to “${answer.query}”`;
  const list = document.createElement("ol");
  for (const result of answer.results) {
    const item = document.createElement("li");
    item.className = "card";
    const excerpt = document.createElement("p");
    excerpt.textContent = result.excerpt;
    const source = Object.assign(document.createElement("a"), {
      href: result.link || `/ui/content/${result.cid}`,
    });
    source.textContent = `passage ${result.passage} of ${result.cid.slice(0, 16)}…`;
    const meta = document.createElement("p");
    meta.className = "meta";
    meta.append(`score ${result.score} · by ${result.author} · `, source);
    item.append(excerpt, meta);
    list.append(item);
  }
  const receipt = Object.assign(document.createElement("a"), { href: `/ui/receipts/${answer.digest}` });
  receipt.textContent = `Receipt ${answer.digest.slice(0, 18)}…`;
  const line = document.createElement("p");
  line.append(receipt, " (signed by the operator; anyone can re-execute it)");
  container.append(heading, list, line);
  container.hidden = false;
}

/** Votes on the policy page: the visitor signs a `Ballot` (proposal, support, voter, and the
 * proposal's policy hash and standing, as the page shows them) in the governor's domain, after
 * checking the node's typed data is that ballot and nothing else; the node relays it and the
 * contract counts it once, with the voter's standing. */
const SUPPORT = { against: 0, for: 1, abstain: 2 };

function setUpPolicy(section) {
  for (const card of section.querySelectorAll("[data-proposal]")) {
    const id = Number(card.dataset.proposal);
    const status = $("[data-status]", card);
    for (const button of card.querySelectorAll("[data-vote]")) {
      const support = button.dataset.vote;
      button.addEventListener("click", () =>
        guarded(button, async () => {
          const signer = requireSigner();
          const query = new URLSearchParams({ voter: signer.address, support });
          const terms = await api("GET", `/governance/proposals/${id}/ballot?${query}`);
          const { message, primaryType } = terms.typed_data;
          if (
            primaryType !== "Ballot" ||
            Number(message.proposalId) !== id ||
            Number(message.support) !== SUPPORT[support] ||
            getAddress(message.voter) !== signer.address ||
            String(message.policyHash).toLowerCase() !== card.dataset.policyHash ||
            String(message.standingRoot).toLowerCase() !== card.dataset.standingRoot
          ) {
            throw new Error("the node asked to sign another ballot than yours; nothing was signed");
          }
          say(status, `Signing a ballot ${support} proposal ${id} with power ${terms.power}…`);
          const signature = await signer.signTypedData(terms.typed_data);
          const sent = await api("POST", `/governance/proposals/${id}/votes`, {
            voter: signer.address,
            support,
            signature,
          });
          say(status, `Your vote ${support} was counted; transaction ${sent.tx_hash}`);
          await refreshTally(card, id);
        }),
      );
    }
  }
}

async function refreshTally(card, id) {
  const state = await api("GET", "/governance");
  const proposal = state.proposals.find((p) => p.id === id);
  if (!proposal) return;
  const total = BigInt(proposal.standing_total);
  for (const name of ["for", "against", "abstain"]) {
    const power = BigInt(proposal[`${name}_power`]);
    const tenths = total > 0n ? (power * 1000n) / total : 0n;
    const words = `${tenths / 10n}.${tenths % 10n}%`;
    const cell = $(`[data-share="${name}"]`, card);
    if (cell) cell.textContent = words;
    const meter = cell?.parentElement?.querySelector("meter");
    if (meter) {
      meter.value = Number(tenths / 10n);
      meter.setAttribute("aria-label", `${name} ${words}`);
    }
  }
}

// ---- start -----------------------------------------------------------------------------------

async function start() {
  const panel = $("[data-signer]");
  if (!panel) return;
  panel.hidden = false;
  setUpWallets();
  const pages = {
    "[data-sign=publish]": setUpPublish,
    "[data-sign=attest]": setUpAttest,
    "[data-sign=vouch]": setUpVouch,
    "[data-sign=labels]": setUpLabels,
    "[data-sign=claim]": setUpClaim,
    "[data-sign=ask]": setUpPaidAsk,
    "[data-sign=policy]": setUpPolicy,
  };
  for (const [selector, setUp] of Object.entries(pages)) {
    for (const element of document.querySelectorAll(selector)) setUp(element);
  }
  try {
    await setUpLocalKey();
  } catch (error) {
    showError(new Error(`this browser cannot keep a key here (IndexedDB: ${error?.message ?? error})`));
  }
  panel.dataset.ready = "true";
}

start();
