"""Encrypted keys on disk (Web3 Secret Storage, keystore v3) and the `Signer` they unlock.

Files are the format geth, Foundry (`cast wallet`) and MetaMask import/export, so keys move between
tools. Guarantees:

- a key file is `<directory>/<name>.json`, mode 0600, inside a directory created with mode 0700;
  it is written to a temporary file, synced, then moved into place in one step that never
  replaces an existing file, so a crash leaves either no key or a whole one, never a lost one;
- listing reads only the public `address` field and never decrypts;
- the private key exists in memory only inside a `Signer`, which keeps it in a private slot and
  never prints it: `repr`, `str`, error messages and log lines name the address only, and a
  `Signer` refuses to be pickled;
- keys are encrypted with scrypt at eth-keyfile's default cost (n = 2**18, about a second) unless
  a lower cost is asked for explicitly (tests do).
"""

import contextlib
import getpass
import json
import logging
import os
import re
import sys
import tempfile
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn, Self

from eth_account import Account
from eth_account.datastructures import SignedMessage
from eth_account.messages import SignableMessage
from eth_account.signers.local import LocalAccount
from eth_utils import to_checksum_address

from aigora.core import eip712
from aigora.core.errors import KeystoreError, WrongPassphrase

logger = logging.getLogger(__name__)

_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
_PRIVATE_KEY = re.compile(r"(?:0x)?[0-9a-fA-F]{64}")
_KDF = "scrypt"


class Signer:
    """An unlocked key: signs transactions, EIP-191 messages and EIP-712 typed data.

    Obtain one from `Keystore.unlock`, or `Signer.dev` for the embedded chain's published
    development keys. The key itself is not part of the public interface.
    """

    __slots__ = ("_account",)

    def __init__(self, account: LocalAccount) -> None:
        """Internal: wraps an eth_account `LocalAccount`."""
        if not isinstance(account, LocalAccount):
            raise TypeError("Signer wraps an eth_account LocalAccount")
        self._account = account

    @classmethod
    def dev(cls, private_key: bytes) -> Self:
        """A signer for a well-known development key (32 raw bytes); never use one with value."""
        if not isinstance(private_key, bytes) or len(private_key) != 32:
            raise KeystoreError("a development key must be 32 raw bytes")
        return cls(_account_from_key(private_key))

    @property
    def address(self) -> str:
        """The checksum address of the key."""
        return str(self._account.address)

    def sign_transaction(self, transaction: Mapping[str, Any]) -> bytes:
        """The raw signed transaction, ready for `eth_sendRawTransaction`."""
        return bytes(self._account.sign_transaction(dict(transaction)).raw_transaction)

    def sign_message(self, message: SignableMessage) -> bytes:
        """The 65-byte signature (r ‖ s ‖ v) of an EIP-191 message (`eth_account.messages`)."""
        return bytes(self._account.sign_message(message).signature)

    def sign_typed_data(self, *, full_message: dict[str, Any]) -> SignedMessage:
        """LocalAccount-compatible EIP-712 signing, as `eip712.sign_typed` calls it."""
        return self._account.sign_typed_data(full_message=full_message)

    def sign_typed(
        self,
        domain: eip712.Domain,
        types: eip712.Types,
        primary_type: str,
        message: Mapping[str, Any],
    ) -> bytes:
        """The 65-byte EIP-712 signature of `message`; see `eip712.sign_typed`."""
        return eip712.sign_typed(self, domain, types, primary_type, message)

    def __repr__(self) -> str:
        return f"Signer({self.address})"

    def __str__(self) -> str:
        return self.address

    def __reduce__(self) -> NoReturn:
        raise TypeError("a Signer holds a private key and cannot be pickled or copied")


@dataclass(frozen=True)
class KeyInfo:
    """A stored key as listing shows it: its name and its (public) address."""

    name: str
    address: str


class Keystore:
    """A directory of keystore v3 files, one per named key.

    `kdf_iterations` is the scrypt cost n (a power of two); `None` keeps eth-keyfile's secure
    default. Lower it only in tests. Decryption uses whatever cost the file records.
    """

    def __init__(self, directory: Path, *, kdf_iterations: int | None = None) -> None:
        if kdf_iterations is not None and (
            isinstance(kdf_iterations, bool)
            or not isinstance(kdf_iterations, int)
            or kdf_iterations < 2
            or kdf_iterations & (kdf_iterations - 1)
        ):
            raise KeystoreError(
                f"the scrypt cost must be a power of two >= 2, got {kdf_iterations}"
            )
        self._directory = Path(directory)
        self._kdf_iterations = kdf_iterations

    @property
    def directory(self) -> Path:
        """Where the key files live (created on the first write)."""
        return self._directory

    def create(self, name: str, passphrase: str) -> str:
        """Generate a new key from the OS's randomness, store it as `name`; its checksum address.

        Refuses an existing name and an empty passphrase (`KeystoreError`).
        """
        self._check_new(name, passphrase)
        return self._store(name, Account.create(), passphrase)

    def import_key(self, name: str, private_key_hex: str, passphrase: str) -> str:
        """Store an existing key (64 hex digits, optional 0x) as `name`; its checksum address."""
        self._check_new(name, passphrase)
        if not isinstance(private_key_hex, str) or not _PRIVATE_KEY.fullmatch(private_key_hex):
            raise KeystoreError("a private key must be 64 hex digits, with or without 0x")
        return self._store(
            name, _account_from_key(bytes.fromhex(private_key_hex[-64:])), passphrase
        )

    def import_keystore(self, name: str, keystore: Any, passphrase: str) -> str:
        """Store a keystore v3 that another tool wrote (a node page's export, ethers, geth,
        MetaMask, eth-account: scrypt or pbkdf2) as `name`, re-encrypted here under the same
        passphrase at this keystore's cost; its checksum address.

        Raises `WrongPassphrase` when the passphrase does not decrypt it, and `KeystoreError` when
        it is not a keystore v3, asks for an unreasonable key-derivation cost, or decrypts to
        another address than the one it lists."""
        self._check_new(name, passphrase)
        data = _v3(keystore, "the keystore")
        check_kdf_cost(data["crypto"])
        try:
            account = _decrypt(data, passphrase, "the keystore")
        except WrongPassphrase:
            # ethers derives its key from the passphrase's NFKC form; eth-keyfile from its bytes
            normalized = unicodedata.normalize("NFKC", passphrase)
            if normalized == passphrase:
                raise
            account = _decrypt(data, normalized, "the keystore")
        listed = data.get("address")
        if listed is not None and _address_of(data, Path("the keystore")) != account.address:
            raise KeystoreError(
                f"the keystore decrypts to {account.address}, not to the address it lists"
            )
        return self._store(name, account, passphrase)

    def list(self) -> list[KeyInfo]:
        """Every stored key, sorted by name; reads addresses only, never decrypts.

        Raises `KeystoreError` naming the file when a `<name>.json` is not a readable keystore.
        """
        if not self._directory.is_dir():
            return []
        infos = []
        for path in sorted(self._directory.glob("*.json")):
            if _NAME.fullmatch(path.stem) and not _ADDRESS.fullmatch(path.stem):
                infos.append(KeyInfo(path.stem, _address_of(_read(path), path)))
        return infos

    def exists(self, name: str) -> bool:
        """True when a key named `name` is stored."""
        return self._path(name).is_file()

    def unlock(self, name_or_address: str, passphrase: str) -> Signer:
        """Decrypt a key, found by name or by address, into a `Signer`.

        Raises `WrongPassphrase` when the passphrase does not decrypt it, and `KeystoreError` when
        no key (or more than one key, for an address) matches or the file is damaged.
        """
        name = self._resolve(name_or_address)
        path = self._path(name)
        data = _read(path)
        address = _address_of(data, path)
        signer = Signer(_decrypt(data, passphrase, f"key {name!r} ({address})", path))
        if signer.address != address:
            raise KeystoreError(
                f"{path} decrypts to {signer.address}, not to the address {address} it lists; "
                "the file was altered"
            )
        logger.info("unlocked key %s (%s)", name, address)
        return signer

    def _check_new(self, name: str, passphrase: str) -> None:
        if self.exists(name):
            raise KeystoreError(f"a key named {name!r} already exists in {self._directory}")
        if not isinstance(passphrase, str) or not passphrase:
            raise KeystoreError("a passphrase must not be empty")

    def _path(self, name: str) -> Path:
        if not isinstance(name, str) or not _NAME.fullmatch(name) or _ADDRESS.fullmatch(name):
            raise KeystoreError(
                f"invalid key name {name!r}: use 1 to 64 of a-z, 0-9, '_' and '-', starting with "
                "a letter or digit, and not shaped like an address"
            )
        return self._directory / f"{name}.json"

    def _resolve(self, name_or_address: str) -> str:
        if isinstance(name_or_address, str) and _ADDRESS.fullmatch(name_or_address):
            wanted = to_checksum_address(name_or_address)
            names = [info.name for info in self.list() if info.address == wanted]
            if not names:
                raise KeystoreError(f"no key with address {wanted} in {self._directory}")
            if len(names) > 1:
                raise KeystoreError(f"address {wanted} is stored as {names}; unlock it by name")
            return names[0]
        if not self.exists(name_or_address):
            raise KeystoreError(f"no key named {name_or_address!r} in {self._directory}")
        return name_or_address

    def _store(self, name: str, account: LocalAccount, passphrase: str) -> str:
        data = Account.encrypt(account.key, passphrase, kdf=_KDF, iterations=self._kdf_iterations)
        _write_new_file(self._create_directory(), f"{name}.json", json.dumps(data, indent=2))
        address = str(account.address)
        logger.info("stored key %s (%s) in %s", name, address, self._directory)
        return address

    def _create_directory(self) -> Path:
        if not self._directory.is_dir():
            self._directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            self._directory.chmod(0o700)  # mkdir's mode is filtered by the umask
        return self._directory


def passphrase_from_env_or_prompt(env_var: str = "AIGORA_PASSPHRASE", confirm: bool = False) -> str:
    """The passphrase from `env_var`, else asked on the terminal (twice when `confirm`).

    Raises `KeystoreError` when the variable is unset and there is no terminal to ask on (a
    service, a pipe, CI), when it is set but empty, or when the two answers differ.
    """
    value = os.environ.get(env_var)
    if value is not None:
        if not value:
            raise KeystoreError(f"{env_var} is set but empty")
        return value
    if sys.stdin is None or not sys.stdin.isatty():
        raise KeystoreError(f"set {env_var} or run interactively")
    passphrase = getpass.getpass("Passphrase: ")
    if not passphrase:
        raise KeystoreError("a passphrase must not be empty")
    if confirm and getpass.getpass("Repeat passphrase: ") != passphrase:
        raise KeystoreError("the two passphrases differ")
    return passphrase


MAX_SCRYPT_N = 2**20
MAX_SCRYPT_RP = 64
MAX_SCRYPT_MEMORY = 2**30
"""Bytes scrypt holds at once, 128 * n * r: n = 2**20 at the usual r = 8 (geth's "standard"
is a quarter of it)."""
MAX_SCRYPT_WORK = 2**23
"""Salsa20/8 block mixes, n * r * p: four times eth-keyfile's default (n = 2**18, r = 8)."""
MAX_PBKDF2_ROUNDS = 10_000_000
DKLEN = range(32, 65)
"""The derived key's length in bytes: 32 (AES key and MAC key) in every v3 file; up to 64
tolerated. A longer one multiplies a pbkdf2's rounds and is memory for nothing."""


def check_kdf_cost(crypto: Mapping[str, Any]) -> None:
    """Refuse a key-derivation cost no one would choose (a file that asks scrypt for gigabytes of
    memory, or a pbkdf2 that runs for hours) before spending it. ethers' default scrypt is
    n = 2**17, eth-keyfile's 2**18, geth's "light" 2**12 and "standard" 2**18 (all r = 8,
    p = 1, dklen = 32)."""
    kdf, params = crypto.get("kdf"), crypto.get("kdfparams")
    if not isinstance(params, Mapping):
        raise KeystoreError("the keystore has no kdfparams")
    if kdf == "scrypt":
        n, r, p = (params.get(key) for key in ("n", "r", "p"))
        if not all(_positive_int(v) for v in (n, r, p)):
            raise KeystoreError("the keystore's scrypt n, r and p must be positive integers")
        if (
            n > MAX_SCRYPT_N
            or r * p > MAX_SCRYPT_RP
            or 128 * n * r > MAX_SCRYPT_MEMORY
            or n * r * p > MAX_SCRYPT_WORK
        ):
            raise KeystoreError(
                f"the keystore asks scrypt for n={n}, r={r}, p={p}: more than n={MAX_SCRYPT_N}, "
                f"r*p={MAX_SCRYPT_RP}, {MAX_SCRYPT_MEMORY >> 20} MiB of memory (128*n*r) or "
                f"n*r*p={MAX_SCRYPT_WORK} is refused"
            )
        _check_dklen(params)
    elif kdf == "pbkdf2":
        rounds = params.get("c")
        if not _positive_int(rounds):
            raise KeystoreError("the keystore's pbkdf2 round count c must be a positive integer")
        if rounds > MAX_PBKDF2_ROUNDS or params.get("prf") != "hmac-sha256":
            raise KeystoreError(
                f"the keystore's pbkdf2 must be hmac-sha256 with at most {MAX_PBKDF2_ROUNDS} rounds"
            )
        _check_dklen(params)
    else:
        raise KeystoreError(f"the keystore's kdf {kdf!r} is neither scrypt nor pbkdf2")


def _positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _check_dklen(params: Mapping[str, Any]) -> None:
    dklen = params.get("dklen")
    if not _positive_int(dklen) or dklen not in DKLEN:
        raise KeystoreError(
            f"the keystore's kdf dklen must be {DKLEN.start} to {DKLEN.stop - 1} bytes, "
            f"got {dklen!r}"
        )


def _v3(data: Any, where: str) -> dict[str, Any]:
    """`data` as a keystore v3 with its `crypto` section under that name (ethers writes
    `Crypto`, as the Web3 Secret Storage examples once did)."""
    if isinstance(data, dict) and "crypto" not in data and isinstance(data.get("Crypto"), dict):
        data = {**{k: v for k, v in data.items() if k != "Crypto"}, "crypto": data["Crypto"]}
    if (
        not isinstance(data, dict)
        or data.get("version") != 3
        or not isinstance(data.get("crypto"), dict)
    ):
        raise KeystoreError(f"{where} is not a keystore v3 file")
    return data


def _decrypt(
    data: Mapping[str, Any], passphrase: str, what: str, where: Path | None = None
) -> LocalAccount:
    """The account a keystore v3 holds; `WrongPassphrase` naming `what` when the passphrase does
    not decrypt it (the MAC differs), `KeystoreError` naming `where` when it is damaged."""
    if not isinstance(passphrase, str):
        raise KeystoreError("a passphrase must be a string")
    place = where or "the keystore"
    try:
        return _account_from_key(Account.decrypt(dict(data), passphrase))
    except ValueError as exc:
        if str(exc) == "MAC mismatch":
            raise WrongPassphrase(
                f"wrong passphrase for {what}: it does not decrypt the file"
            ) from None
        raise KeystoreError(f"{place} is not a usable keystore v3 file") from None
    except (KeyError, TypeError):
        raise KeystoreError(f"{place} is not a usable keystore v3 file") from None


def passphrase_from_file_or_prompt(path: Path | None, prompt: str) -> str:
    """A passphrase from the first line of `path` (its line ending dropped), else asked on the
    terminal without echo. `KeystoreError` when the file is unreadable or the line empty, or
    when there is neither a file nor a terminal."""
    if path is not None:
        try:
            lines = Path(path).read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise KeystoreError(f"cannot read the passphrase file {path}: {exc}") from None
        if not lines or not lines[0]:
            raise KeystoreError(f"the passphrase file {path} has an empty first line")
        return lines[0]
    if sys.stdin is None or not sys.stdin.isatty():
        raise KeystoreError("give --passphrase-file or run interactively")
    passphrase = getpass.getpass(prompt)
    if not passphrase:
        raise KeystoreError("a passphrase must not be empty")
    return passphrase


def _account_from_key(private_key: bytes) -> LocalAccount:
    try:
        return Account.from_key(private_key)
    except (ValueError, TypeError):
        raise KeystoreError("not a valid secp256k1 private key") from None


def _read(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise KeystoreError(f"no key file at {path}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise KeystoreError(f"cannot read key file {path}: {exc}") from exc
    return _v3(data, str(path))


def _address_of(data: Mapping[str, Any], path: Path) -> str:
    address = data.get("address")
    if not isinstance(address, str) or not _ADDRESS.fullmatch("0x" + address.removeprefix("0x")):
        raise KeystoreError(f"{path} has no valid 'address' field")
    return to_checksum_address("0x" + address.removeprefix("0x"))


def _write_new_file(directory: Path, filename: str, text: str) -> None:
    """Write `directory/filename` (mode 0600) atomically; never replace an existing file."""
    target = directory / filename
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{filename}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o600)
        try:
            os.link(tmp, target)  # atomic, and fails rather than overwrite
        except FileExistsError:
            raise KeystoreError(f"{target} already exists; not overwriting it") from None
        except OSError:  # a filesystem without hard links: check, then rename
            if target.exists():
                raise KeystoreError(f"{target} already exists; not overwriting it") from None
            os.replace(tmp, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    _fsync_directory(directory)


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
