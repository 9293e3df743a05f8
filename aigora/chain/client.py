"""`Chain`: one interface over the embedded py-evm chain and any Ethereum JSON-RPC node.

Everything a feature needs from a chain goes through here: deploy, call, transact, read events,
read the time. Transactions are signed locally by our own keys and sent raw, so both backends behave
alike.
Reverts surface as `ContractRevert` with the contract's reason whichever backend raised them: every
transaction is simulated first (which costs no gas and yields the reason), and a transaction that
reverts anyway after being mined is replayed to recover it.
"""

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlparse

import requests
from eth_account import Account
from eth_tester.exceptions import TransactionFailed
from hexbytes import HexBytes
from web3 import EthereumTesterProvider, HTTPProvider, Web3
from web3.contract import Contract
from web3.contract.contract import ContractEvent, ContractFunction
from web3.exceptions import (
    ContractCustomError,
    ContractLogicError,
    ContractPanicError,
    TimeExhausted,
    Web3Exception,
    Web3RPCError,
)
from web3.logs import DISCARD

from aigora.chain.compile import compile_contract
from aigora.chain.embedded import EmbeddedChain
from aigora.core.errors import ChainError, ChainUnreachable, ConfigError, ContractRevert
from aigora.core.keystore import Signer

EMBEDDED = "embedded"
# py-evm estimates gas by bisection, one full execution per step; a fixed limit is far cheaper and
# only unused gas is refunded. JSON-RPC nodes estimate quickly, so they get an estimate.
EMBEDDED_GAS = 6_000_000
ANVIL_MNEMONIC = "test test test test test test test test test test test junk"
RECEIPT_TIMEOUT_S = 120
MAX_LOG_RANGE = 1_000
"""Blocks per `eth_getLogs` request by default: many JSON-RPC providers refuse wider ranges (or
answer them slowly), so every event scan walks the chain in windows of at most this many."""


class TxSigner(Protocol):
    """Anything that signs transactions for one address without exposing its key."""

    @property
    def address(self) -> str: ...

    def sign_transaction(self, transaction: dict[str, Any]) -> bytes: ...


@dataclass(frozen=True)
class TxResult:
    """A mined, successful transaction."""

    tx_hash: str
    block_number: int
    gas_used: int
    receipt: Any
    contract_address: str | None = None


class Chain:
    """A connection to one chain: `Chain.embedded(...)`, `Chain.connect(url)` or `Chain.open`."""

    def __init__(
        self,
        w3: Web3,
        *,
        embedded: EmbeddedChain | None = None,
        url: str = EMBEDDED,
        max_range: int = MAX_LOG_RANGE,
    ):
        if max_range < 1:
            raise ConfigError(
                f"an event scan reads at least one block per request, not {max_range}"
            )
        self.w3 = w3
        self._embedded = embedded
        self._handles: dict[tuple[str, str], Contract] = {}
        self.url = url
        self.max_range = max_range
        self._deployed_at: dict[str, int] = {}
        # eth-tester is not thread-safe, and the node serves requests from a thread pool.
        self._lock = threading.RLock()
        with _translate_errors(url):
            self.chain_id: int = w3.eth.chain_id
            self.client_version: str = w3.client_version

    @contextmanager
    def _guard(self, function: str | None = None) -> Iterator[None]:
        """Serialize access to the backend and translate its errors into ours."""
        with self._lock, _translate_errors(self.url, function):
            yield

    # ---- construction -----------------------------------------------------------------------

    @classmethod
    def embedded(cls, directory: Path | None = None, max_range: int = MAX_LOG_RANGE) -> "Chain":
        """The in-process py-evm chain; persisted under `directory`, or in memory when None."""
        _check_range(max_range)
        chain = EmbeddedChain(directory)
        w3 = Web3(EthereumTesterProvider(chain.tester))
        return cls(w3, embedded=chain, max_range=max_range)

    @classmethod
    def connect(cls, url: str, timeout_s: float = 10.0, max_range: int = MAX_LOG_RANGE) -> "Chain":
        """A JSON-RPC node at `url`; raises ChainUnreachable when nothing answers there."""
        parsed = urlparse(url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ConfigError(f"chain URL must be http(s)://host:port, got {url!r}")
        w3 = Web3(HTTPProvider(url, request_kwargs={"timeout": timeout_s}))
        if not w3.is_connected():
            raise ChainUnreachable(f"no Ethereum JSON-RPC node answers at {url}")
        return cls(w3, url=url, max_range=max_range)

    @classmethod
    def open(cls, setting: str, data_dir: Path | None, max_range: int = MAX_LOG_RANGE) -> "Chain":
        """`setting` is "embedded" (state under `data_dir/chain`) or a JSON-RPC URL; event scans
        read at most `max_range` blocks per request."""
        if setting == EMBEDDED:
            directory = None if data_dir is None else data_dir / "chain"
            return cls.embedded(directory, max_range=max_range)
        return cls.connect(setting, max_range=max_range)

    def close(self) -> None:
        if self._embedded is not None:
            self._embedded.close()
            self._embedded = None

    def __enter__(self) -> "Chain":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def kind(self) -> str:
        return EMBEDDED if self._embedded is not None else "rpc"

    @property
    def is_dev_chain(self) -> bool:
        return self._embedded is not None or self.client_version.lower().startswith("anvil")

    def dev_signers(self) -> list[Signer]:
        """The funded genesis accounts of a dev chain (embedded or anvil), for faucets and tests."""
        if self._embedded is not None:
            return [Signer.dev(key) for key in self._embedded.dev_keys]
        if self.is_dev_chain:
            return [Signer.dev(key) for key in _anvil_dev_keys()]
        raise ChainError(f"{self.url} is not a dev chain: it has no pre-funded accounts")

    # ---- reading ----------------------------------------------------------------------------

    def contract(self, name: str, address: str) -> Contract:
        """A handle on a deployed Aigora contract, typed by its compiled ABI (made once per name
        and address: a handle holds no state, and web3 takes milliseconds to build one)."""
        key = (name, Web3.to_checksum_address(address))
        if key not in self._handles:
            self._handles[key] = self.w3.eth.contract(
                address=key[1], abi=compile_contract(name).abi
            )
        return self._handles[key]

    def call(self, fn: ContractFunction, *, sender: str | None = None) -> Any:
        """Run a view or simulate a function; reverts raise ContractRevert."""
        with self._guard(fn.fn_name):
            return fn.call({"from": sender} if sender else {})

    def balance(self, address: str) -> int:
        with self._guard():
            return self.w3.eth.get_balance(Web3.to_checksum_address(address))

    def block_number(self) -> int:
        with self._guard():
            return self.w3.eth.block_number

    def block_time(self, number: int) -> int:
        """The timestamp of block `number`."""
        with self._guard():
            return int(self.w3.eth.get_block(number)["timestamp"])

    def now(self) -> int:
        """The latest block's timestamp: the clock contracts see."""
        with self._guard():
            return int(self.w3.eth.get_block("latest")["timestamp"])

    def has_code(self, address: str) -> bool:
        return len(self.code(address)) > 0

    def code(self, address: str) -> bytes:
        """The code deployed at `address` (empty for an account without code)."""
        with self._guard():
            return bytes(self.w3.eth.get_code(Web3.to_checksum_address(address)))

    def events(
        self,
        event: type[ContractEvent] | ContractEvent,
        from_block: int = 0,
        to_block: int | None = None,
        *,
        argument_filters: dict[str, Any] | None = None,
    ) -> list[Any]:
        """Decoded logs of one event type from `from_block` to `to_block` (the latest block when
        None), in chain order, each once; read `max_range` blocks per request (`event_pages`)."""
        return [
            log
            for _, logs in self.event_pages(
                event, from_block, to_block, argument_filters=argument_filters
            )
            for log in logs
        ]

    def event_pages(
        self,
        event: type[ContractEvent] | ContractEvent,
        from_block: int,
        to_block: int | None = None,
        *,
        argument_filters: dict[str, Any] | None = None,
    ) -> Iterator[tuple[int, list[Any]]]:
        """The logs of `from_block..to_block` (inclusive; the latest block when None) in
        consecutive windows of at most `max_range` blocks: (the window's last block, its logs).
        A scan that records what it found page by page, with the page's last block as its
        cursor, resumes after a crash where it stopped. `argument_filters` match indexed
        arguments in the request itself (topics), so the node sends only what matches."""
        last = self.block_number() if to_block is None else to_block
        start = max(from_block, 0)
        while start <= last:
            end = min(start + self.max_range - 1, last)
            with self._guard():
                logs = list(
                    event.get_logs(
                        from_block=start, to_block=end, argument_filters=argument_filters
                    )
                )
            yield end, logs
            start = end + 1

    def note_deployment(self, address: str, block_number: int) -> None:
        """Remember the block `address` was deployed in (from a deployment record), so history
        scans of its events start there without searching."""
        self._deployed_at[Web3.to_checksum_address(address)] = block_number

    def deployment_block(self, address: str) -> int:
        """The first block in which `address` has code: where a scan of its events starts. Known
        from `note_deployment`, else found by bisection over `eth_getCode` and remembered; 0 when
        the node keeps no state that old (a pruned full node), so the scan starts at genesis."""
        key = Web3.to_checksum_address(address)
        if key in self._deployed_at:
            return self._deployed_at[key]
        with self._guard():
            high = self.w3.eth.block_number
            if len(self.w3.eth.get_code(key, block_identifier=high)) == 0:
                raise ChainError(f"no contract at {key} on {self.url}")
            low = 0
            try:
                while low < high:
                    middle = (low + high) // 2
                    if len(self.w3.eth.get_code(key, block_identifier=middle)) > 0:
                        high = middle
                    else:
                        low = middle + 1
            except (Web3Exception, ValueError):
                low = 0
        self._deployed_at[key] = low
        return low

    @staticmethod
    def events_in(result: TxResult, event: type[ContractEvent] | ContractEvent) -> list[Any]:
        """The `event` logs that `event`'s contract emitted in one transaction (others ignored)."""
        instance = event() if isinstance(event, type) else event
        decoded = instance.process_receipt(result.receipt, errors=DISCARD)
        return [log for log in decoded if log.address == instance.address]

    # ---- writing ----------------------------------------------------------------------------

    def deploy(self, signer: TxSigner, name: str, *args: Any) -> tuple[Contract, TxResult]:
        """Deploy `contracts/<name>.vy` with constructor `args`: the handle and the transaction."""
        compiled = compile_contract(name)
        factory = self.w3.eth.contract(abi=compiled.abi, bytecode=compiled.bytecode)
        constructor = factory.constructor(*args)
        data = constructor.data_in_transaction
        with self._guard(f"{name} constructor"):
            self.w3.eth.call({"from": signer.address, "data": data})
        tx = {"from": signer.address, "data": data, "value": 0}
        result = self._send(signer, tx, label=f"{name} constructor")
        assert result.contract_address is not None
        return self.contract(name, result.contract_address), result

    def transact(
        self, signer: TxSigner, fn: ContractFunction, *, value: int = 0, gas: int | None = None
    ) -> TxResult:
        """Simulate, then sign and send a contract call; raises ContractRevert with the reason."""
        with self._guard(fn.fn_name):
            fn.call({"from": signer.address, "value": value})
        tx = {"from": signer.address, "to": fn.address, "data": _calldata(fn), "value": value}
        return self._send(signer, tx, label=fn.fn_name, gas=gas)

    def send_ether(self, signer: TxSigner, to: str, value: int) -> TxResult:
        tx = {"from": signer.address, "to": Web3.to_checksum_address(to), "value": value}
        return self._send(signer, tx, label="ether transfer", gas=21_000)

    def advance_time(self, seconds: int) -> int:
        """Move a dev chain's clock forward and mine a block; returns the new timestamp."""
        if seconds < 0:
            raise ValueError("time only moves forward")
        if not self.is_dev_chain:
            raise ChainError(f"{self.url} is not a dev chain: its clock cannot be moved")
        with self._guard():
            target = self.now() + seconds
            if self._embedded is not None:
                self._embedded.time_travel(target)
            else:
                self.w3.provider.make_request("evm_setNextBlockTimestamp", [target])
                self.w3.provider.make_request("evm_mine", [])
            return self.now()

    def _send(
        self, signer: TxSigner, tx: dict[str, Any], *, label: str, gas: int | None = None
    ) -> TxResult:
        with self._guard(label):
            tx = dict(tx)
            tx["chainId"] = self.chain_id
            tx["nonce"] = self.w3.eth.get_transaction_count(signer.address, "pending")
            tx["gas"] = gas or self._gas_limit(tx)
            base_fee = int(self.w3.eth.get_block("latest").get("baseFeePerGas", 0))
            tip = self.w3.to_wei(1, "gwei")
            tx.setdefault("maxPriorityFeePerGas", tip)
            tx.setdefault("maxFeePerGas", 2 * base_fee + tip)
            tx.pop("gasPrice", None)
            tx_hash = self.w3.eth.send_raw_transaction(signer.sign_transaction(tx))
            receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=RECEIPT_TIMEOUT_S)
        if receipt["status"] != 1:
            raise ContractRevert(self._replay_reason(tx, receipt["blockNumber"]), function=label)
        address = receipt.get("contractAddress")
        return TxResult(
            tx_hash=HexBytes(tx_hash).to_0x_hex(),
            block_number=receipt["blockNumber"],
            gas_used=receipt["gasUsed"],
            receipt=receipt,
            contract_address=Web3.to_checksum_address(address) if address else None,
        )

    def _gas_limit(self, tx: dict[str, Any]) -> int:
        if self._embedded is not None:
            return EMBEDDED_GAS
        return int(self.w3.eth.estimate_gas(tx) * 1.25) + 10_000

    def _replay_reason(self, tx: dict[str, Any], block_number: int) -> str:
        call = {k: tx[k] for k in ("from", "to", "data", "value") if k in tx}
        try:
            self.w3.eth.call(call, block_identifier=block_number - 1)
        except Exception as exc:
            reason = _revert_reason(exc)
            if reason:
                return reason
        return "transaction reverted without a reason (out of gas?)"


def _check_range(max_range: int) -> None:
    if max_range < 1:
        raise ConfigError(f"an event scan reads at least one block per request, not {max_range}")


@cache
def _anvil_dev_keys() -> tuple[bytes, ...]:
    """anvil's ten genesis keys, derived once (each HD derivation runs 2048 PBKDF2 rounds)."""
    Account.enable_unaudited_hdwallet_features()
    return tuple(
        bytes(Account.from_mnemonic(ANVIL_MNEMONIC, account_path=f"m/44'/60'/0'/0/{i}").key)
        for i in range(10)
    )


def _calldata(fn: ContractFunction) -> str:
    """ABI-encoded call data; placeholder gas and fees stop web3 from querying the node for them."""
    placeholders = {"gas": 1, "maxFeePerGas": 1, "maxPriorityFeePerGas": 1}
    return fn.build_transaction(placeholders)["data"]


_REVERT_ERRORS = (TransactionFailed, ContractLogicError, ContractCustomError, ContractPanicError)


def _revert_reason(exc: BaseException) -> str | None:
    if not isinstance(exc, _REVERT_ERRORS):
        return None
    message = str(exc.args[0]) if exc.args else str(exc)
    for prefix in ("execution reverted: ", "execution reverted"):
        if message.startswith(prefix):
            message = message[len(prefix) :]
            break
    return message.strip() or "reverted without a reason"


@contextmanager
def _translate_errors(url: str, function: str | None = None) -> Iterator[None]:
    """Turn each backend's exceptions into ours, so callers handle one vocabulary."""
    try:
        yield
    except _REVERT_ERRORS as exc:
        raise ContractRevert(_revert_reason(exc) or "reverted", function=function) from None
    except (requests.ConnectionError, requests.Timeout) as exc:
        raise ChainUnreachable(f"lost the JSON-RPC node at {url}: {type(exc).__name__}") from None
    except TimeExhausted:
        raise ChainError(f"transaction not mined within {RECEIPT_TIMEOUT_S} s at {url}") from None
    except Web3RPCError as exc:
        raise ChainError(f"the node at {url} refused the request: {_rpc_message(exc)}") from None
    except Web3Exception as exc:
        raise ChainError(f"chain error at {url}: {exc}") from None


def _rpc_message(exc: Web3RPCError) -> str:
    rpc = getattr(exc, "rpc_response", None) or {}
    error = rpc.get("error") if isinstance(rpc, dict) else None
    if isinstance(error, dict) and error.get("message"):
        return str(error["message"])
    return str(exc)
