import copy
import io
import json
import logging
import pickle
import stat
import traceback
from pathlib import Path

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct

from aigora.core.errors import KeystoreError, WrongPassphrase
from aigora.core.keystore import KeyInfo, Keystore, Signer, passphrase_from_env_or_prompt

# Anvil's and Hardhat's first development account.
DEV_KEY = "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
DEV_ADDRESS = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
FAST = 2  # scrypt n for tests; the default (2**18) takes about a second per operation


@pytest.fixture
def keystore(tmp_path: Path) -> Keystore:
    return Keystore(tmp_path / "keys", kdf_iterations=FAST)


def test_create_list_unlock_round_trip(keystore: Keystore) -> None:
    address = keystore.create("alice", "correct horse")
    keystore.import_key("bob", "0x" + DEV_KEY, "battery staple")
    assert keystore.list() == [KeyInfo("alice", address), KeyInfo("bob", DEV_ADDRESS)]
    assert keystore.exists("alice")
    assert not keystore.exists("carol")
    assert keystore.unlock("alice", "correct horse").address == address
    assert keystore.unlock("bob", "battery staple").address == DEV_ADDRESS
    assert keystore.unlock(DEV_ADDRESS.lower(), "battery staple").address == DEV_ADDRESS


def test_wrong_passphrase(keystore: Keystore) -> None:
    keystore.import_key("bob", DEV_KEY, "battery staple")
    with pytest.raises(WrongPassphrase, match="wrong passphrase for key 'bob'"):
        keystore.unlock("bob", "battery stapler")


def test_file_is_standard_keystore_v3_without_the_key(keystore: Keystore) -> None:
    keystore.import_key("bob", DEV_KEY, "battery staple")
    path = keystore.directory / "bob.json"
    text = path.read_text()
    data = json.loads(text)
    assert data["version"] == 3
    assert data["crypto"]["kdf"] == "scrypt"
    assert data["crypto"]["kdfparams"]["n"] == FAST
    assert data["address"].lower() == DEV_ADDRESS[2:].lower()
    assert DEV_KEY not in text.lower()
    # Any other keystore v3 reader opens it.
    assert Account.decrypt(data, "battery staple").hex() == DEV_KEY


def test_generated_key_is_not_in_its_file(keystore: Keystore) -> None:
    keystore.create("alice", "pw")
    data = json.loads((keystore.directory / "alice.json").read_text())
    key = Account.decrypt(data, "pw").hex()
    assert key not in json.dumps(data).lower()


def test_default_cost_is_eth_keyfiles_scrypt_default(tmp_path: Path) -> None:
    Keystore(tmp_path).create("slow", "pw")
    kdfparams = json.loads((tmp_path / "slow.json").read_text())["crypto"]["kdfparams"]
    assert kdfparams["n"] == 2**18


@pytest.mark.parametrize("cost", [0, 1, 3, 1000, True])
def test_kdf_cost_must_be_a_power_of_two(tmp_path: Path, cost: int) -> None:
    with pytest.raises(KeystoreError, match="power of two"):
        Keystore(tmp_path, kdf_iterations=cost)


def test_permissions_and_no_leftover_temp_files(keystore: Keystore) -> None:
    keystore.create("alice", "pw")
    assert stat.S_IMODE(keystore.directory.stat().st_mode) == 0o700
    assert stat.S_IMODE((keystore.directory / "alice.json").stat().st_mode) == 0o600
    assert sorted(p.name for p in keystore.directory.iterdir()) == ["alice.json"]


@pytest.mark.parametrize(
    "name",
    ["", "Alice", "-alice", "_a", "a" * 65, "a/b", "../x", "a.b", "a b", "0x" + "ab" * 20],
)
def test_invalid_names_are_refused(keystore: Keystore, name: str) -> None:
    with pytest.raises(KeystoreError, match="invalid key name"):
        keystore.create(name, "pw")


def test_valid_name_edges(keystore: Keystore) -> None:
    for name in ["a", "0", "a" * 64, "node-1_main"]:
        keystore.create(name, "pw")
    assert len(keystore.list()) == 4


def test_duplicate_name_is_refused_and_the_first_key_kept(keystore: Keystore) -> None:
    address = keystore.create("alice", "pw")
    with pytest.raises(KeystoreError, match="already exists"):
        keystore.create("alice", "pw")
    with pytest.raises(KeystoreError, match="already exists"):
        keystore.import_key("alice", DEV_KEY, "pw")
    assert keystore.unlock("alice", "pw").address == address


def test_empty_passphrase_is_refused(keystore: Keystore) -> None:
    with pytest.raises(KeystoreError, match="must not be empty"):
        keystore.create("alice", "")


@pytest.mark.parametrize("bad", ["12", "zz" * 32, "0x" + "00" * 32, "ff" * 32])
def test_bad_private_keys_are_refused_without_echoing_them(keystore: Keystore, bad: str) -> None:
    with pytest.raises(KeystoreError) as info:
        keystore.import_key("x", bad, "pw")
    assert bad not in str(info.value)
    assert not keystore.exists("x")


def test_missing_and_ambiguous_keys(keystore: Keystore) -> None:
    with pytest.raises(KeystoreError, match="no key named 'alice'") as info:
        keystore.unlock("alice", "pw")
    assert not isinstance(info.value, WrongPassphrase)
    with pytest.raises(KeystoreError, match="no key with address"):
        keystore.unlock(DEV_ADDRESS, "pw")
    keystore.import_key("one", DEV_KEY, "pw")
    keystore.import_key("two", DEV_KEY, "pw")
    with pytest.raises(KeystoreError, match="unlock it by name"):
        keystore.unlock(DEV_ADDRESS, "pw")


def test_list_never_decrypts(keystore: Keystore, monkeypatch: pytest.MonkeyPatch) -> None:
    keystore.import_key("bob", DEV_KEY, "pw")

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("list() decrypted a key")

    monkeypatch.setattr(Account, "decrypt", refuse)
    assert keystore.list() == [KeyInfo("bob", DEV_ADDRESS)]


def test_list_of_a_missing_directory_is_empty(tmp_path: Path) -> None:
    assert Keystore(tmp_path / "nowhere").list() == []
    assert not (tmp_path / "nowhere").exists()


def test_altered_file_is_detected(keystore: Keystore) -> None:
    keystore.import_key("bob", DEV_KEY, "pw")
    path = keystore.directory / "bob.json"
    data = json.loads(path.read_text())
    data["address"] = "70997970c51812dc3a010c7d01b50e0d17dc79c8"
    path.write_text(json.dumps(data))
    with pytest.raises(KeystoreError, match="the file was altered"):
        keystore.unlock("bob", "pw")
    path.write_text("{not json")
    with pytest.raises(KeystoreError, match="cannot read key file"):
        keystore.list()


def test_the_key_never_shows(keystore: Keystore, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    keystore.import_key("bob", DEV_KEY, "pw")
    signer = keystore.unlock("bob", "pw")
    signer.sign_message(encode_defunct(text="hello"))
    with pytest.raises(WrongPassphrase) as info:
        keystore.unlock("bob", "wrong")
    shown = [
        repr(signer),
        str(signer),
        str(info.value),
        repr(info.value),
        "".join(traceback.format_exception(info.value)),
        caplog.text,
    ]
    for text in shown:
        assert DEV_KEY not in text.lower()
    assert repr(signer) == f"Signer({DEV_ADDRESS})"
    assert str(signer) == DEV_ADDRESS
    assert "bob" in caplog.text  # the log does say what happened


def test_signer_has_no_dict_and_refuses_pickling_and_copying() -> None:
    signer = Signer.dev(bytes.fromhex(DEV_KEY))
    with pytest.raises(TypeError):
        vars(signer)
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(signer)
    with pytest.raises(TypeError, match="cannot be pickled"):
        copy.deepcopy(signer)


def test_dev_signer_signs_transactions_and_messages() -> None:
    signer = Signer.dev(bytes.fromhex(DEV_KEY))
    assert signer.address == DEV_ADDRESS
    raw = signer.sign_transaction(
        {
            "to": "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
            "value": 1,
            "gas": 21000,
            "maxFeePerGas": 2 * 10**9,
            "maxPriorityFeePerGas": 10**9,
            "nonce": 0,
            "chainId": 31337,
        }
    )
    assert isinstance(raw, bytes)
    assert Account.recover_transaction(raw) == DEV_ADDRESS
    message = encode_defunct(text="hello")
    signature = signer.sign_message(message)
    assert len(signature) == 65
    assert Account.recover_message(message, signature=signature) == DEV_ADDRESS


@pytest.mark.parametrize("bad", [b"\x01" * 31, DEV_KEY, bytes(32)])
def test_dev_signer_needs_a_valid_32_byte_key(bad: bytes) -> None:
    with pytest.raises(KeystoreError):
        Signer.dev(bad)


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_passphrase_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIGORA_PASSPHRASE", "from env")
    assert passphrase_from_env_or_prompt() == "from env"
    monkeypatch.setenv("OTHER_VAR", "")
    with pytest.raises(KeystoreError, match="OTHER_VAR is set but empty"):
        passphrase_from_env_or_prompt("OTHER_VAR")


def test_passphrase_without_env_or_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AIGORA_PASSPHRASE", raising=False)
    monkeypatch.setattr("sys.stdin", io.StringIO("piped"))
    with pytest.raises(KeystoreError, match="set AIGORA_PASSPHRASE or run interactively"):
        passphrase_from_env_or_prompt()


def test_passphrase_prompt_and_confirmation(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AIGORA_PASSPHRASE", raising=False)
    monkeypatch.setattr("sys.stdin", _Terminal())
    answers = iter(["secret", "secret", "secret", "secret", "typo"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    assert passphrase_from_env_or_prompt() == "secret"
    assert passphrase_from_env_or_prompt(confirm=True) == "secret"
    with pytest.raises(KeystoreError, match="differ"):
        passphrase_from_env_or_prompt(confirm=True)


# Written by ethers 6.17.0 (`encryptKeystoreJson`, scrypt n = 1024) for a throwaway key, as a
# node's pages export it: note `Crypto`, capitalised.
ETHERS_PASSPHRASE = "page passphrase"
ETHERS_ADDRESS = "0x4b9f0a2bD77422b18075A26b5ae9daEa96D42028"
ETHERS_KEYSTORE = {
    "address": "4b9f0a2bd77422b18075a26b5ae9daea96d42028",
    "id": "df5402af-83fb-4e42-8018-c4372c06b91d",
    "version": 3,
    "Crypto": {
        "cipher": "aes-128-ctr",
        "cipherparams": {"iv": "871626f0265f530827564165fff2ddba"},
        "ciphertext": "d44e9c7965c78134012ac4ce977cbf911053f589ef324b32ff463721655a2363",
        "kdf": "scrypt",
        "kdfparams": {
            "salt": "7f97142a1cce92c06d60ee435d414089e84a94d5b37183c581ea499698864574",
            "n": 1024,
            "dklen": 32,
            "p": 1,
            "r": 8,
        },
        "mac": "c6875f5c769152961fdd3789ef6ce1205e42654be2bacb37780e9e79a770e8d8",
    },
}


def test_import_an_ethers_keystore_re_encrypted_here(keystore: Keystore) -> None:
    address = keystore.import_keystore("visitor", ETHERS_KEYSTORE, ETHERS_PASSPHRASE)
    assert address == ETHERS_ADDRESS
    assert keystore.unlock("visitor", ETHERS_PASSPHRASE).address == ETHERS_ADDRESS
    stored = json.loads((keystore.directory / "visitor.json").read_text())
    assert stored["crypto"]["kdfparams"]["n"] == FAST  # this keystore's cost, not the file's
    assert stored["crypto"]["ciphertext"] != ETHERS_KEYSTORE["Crypto"]["ciphertext"]


@pytest.mark.parametrize("kdf", ["scrypt", "pbkdf2"])
def test_import_an_eth_account_keystore(keystore: Keystore, kdf: str) -> None:
    account = Account.create()
    data = Account.encrypt(account.key, "their passphrase", kdf=kdf, iterations=2)
    address = keystore.import_keystore("theirs", data, "their passphrase")
    assert address == account.address
    assert keystore.unlock(address, "their passphrase").address == account.address


def test_import_refuses_a_wrong_passphrase_and_keeps_nothing(keystore: Keystore) -> None:
    with pytest.raises(WrongPassphrase, match="does not decrypt"):
        keystore.import_keystore("visitor", ETHERS_KEYSTORE, "not it")
    assert not keystore.exists("visitor")


def test_import_refuses_an_address_the_key_does_not_have(keystore: Keystore) -> None:
    lying = {**ETHERS_KEYSTORE, "address": DEV_ADDRESS[2:].lower()}
    with pytest.raises(KeystoreError, match="not to the address it lists"):
        keystore.import_keystore("visitor", lying, ETHERS_PASSPHRASE)
    assert not keystore.exists("visitor")


@pytest.mark.parametrize(
    ("kdf", "params", "message"),
    [
        ("scrypt", {"n": 2**30, "r": 8, "p": 1}, "is refused"),
        ("scrypt", {"n": 1024, "r": 8, "p": 16}, "is refused"),
        ("scrypt", {"n": "1024", "r": 8, "p": 1}, "positive integers"),
        ("scrypt", {"n": 2**20, "r": 64, "p": 1, "dklen": 32}, "is refused"),  # 8 GiB
        ("scrypt", {"n": 2**20, "r": 1, "p": 64, "dklen": 32}, "is refused"),  # 32x the usual work
        ("scrypt", {"n": 2, "r": 1, "p": 1, "dklen": 2**31}, "dklen"),  # a 2 GiB key
        ("scrypt", {"n": 2, "r": 1, "p": 1, "dklen": 16}, "dklen"),
        ("pbkdf2", {"c": 10**9, "prf": "hmac-sha256"}, "at most"),
        ("pbkdf2", {"c": 10**7, "prf": "hmac-sha256", "dklen": 2**20}, "dklen"),  # 32768 x c
        ("argon2", {}, "neither scrypt nor pbkdf2"),
    ],
)
def test_import_refuses_unreasonable_costs_before_spending_them(
    keystore: Keystore, kdf: str, params: dict, message: str
) -> None:
    crypto = {**ETHERS_KEYSTORE["Crypto"], "kdf": kdf, "kdfparams": params}
    with pytest.raises(KeystoreError, match=message):
        keystore.import_keystore("visitor", {**ETHERS_KEYSTORE, "Crypto": crypto}, "x")


@pytest.mark.parametrize("bad", [[], {"version": 4, "crypto": {}}, {"version": 3}, "text"])
def test_import_refuses_what_is_not_a_keystore_v3(keystore: Keystore, bad: object) -> None:
    with pytest.raises(KeystoreError, match="not a keystore v3"):
        keystore.import_keystore("visitor", bad, "x")


def test_import_accepts_the_nfkc_form_ethers_derives_from(keystore: Keystore) -> None:
    """ethers normalises a passphrase to NFKC before scrypt; the same words typed in another
    Unicode form on the terminal still decrypt what a page exported, and unlock it afterwards."""
    account = Account.create()
    data = Account.encrypt(account.key, "fine café", kdf="scrypt", iterations=2)
    assert keystore.import_keystore("nfkc", data, "ﬁne café") == account.address
    assert keystore.unlock("nfkc", "ﬁne café").address == account.address
