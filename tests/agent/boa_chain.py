"""`BoaChain`: the part of `Chain` that `Executor`, `deploy_wallet` and the red team use, on
titanoboa's py-evm instead of eth-tester behind web3.

It deploys the same compiled bytecode (`compile_contract`) and hands out the same web3 contract
handles (bound to an offline `Web3`, used only to encode calls and decode logs), so the executor and
the attacker build exactly the calldata they send on a real chain. What callers observe is kept:
a call or transaction that reverts raises `ContractRevert` with the contract's reason and changes
nothing; every successful transaction is mined in a block of its own, stamped one second after the
previous block (the earliest a dev chain may stamp it), with its own transient storage; logs are
kept per block for `events`. Left out is the client: signing, nonces, fees and JSON-RPC, which the
end-to-end examples on the real `Chain` cover. That is what makes it about ten times faster.
"""

from dataclasses import dataclass
from typing import Any

import boa
from eth_abi import decode, encode
from eth_abi.exceptions import DecodingError
from eth_utils import event_abi_to_log_topic, keccak
from eth_utils.abi import collapse_if_tuple
from hexbytes import HexBytes
from web3 import Web3
from web3.contract import Contract
from web3.contract.contract import ContractEvent, ContractFunction
from web3.datastructures import AttributeDict

from aigora.chain.client import EMBEDDED_GAS, TxResult, TxSigner
from aigora.chain.compile import compile_contract
from aigora.core.errors import ContractRevert
from aigora.core.keystore import Signer

ERROR_STRING = bytes.fromhex("08c379a0")  # Error(string)
GENESIS_TIME = 1_700_000_000


@dataclass(frozen=True)
class _Log:
    block_number: int
    log_index: int
    address: str
    topics: tuple[bytes, ...]
    data: bytes


class BoaChain:
    """One titanoboa EVM of its own (never the global `boa.env`), with a block clock."""

    def __init__(self) -> None:
        self.w3 = Web3()  # offline: encoding, decoding and checksums only
        self._env = boa.Env()
        self._env.evm.patch.timestamp = GENESIS_TIME
        self._env.evm.patch.block_number = 0
        self._timestamps = {0: GENESIS_TIME}
        self._logs: list[_Log] = []
        self._signers = [Signer.dev(keccak(text=f"boa dev key {i}")) for i in range(10)]
        self._handles: dict[tuple[str, str], Contract] = {}

    def dev_signers(self) -> list[Signer]:
        return list(self._signers)

    # ---- reading ----------------------------------------------------------------------------

    def contract(self, name: str, address: str) -> Contract:
        key = (name, Web3.to_checksum_address(address))
        if key not in self._handles:  # a handle holds no state; web3 takes ms to build one
            self._handles[key] = self.w3.eth.contract(
                address=key[1], abi=compile_contract(name).abi
            )
        return self._handles[key]

    def call(self, fn: ContractFunction, *, sender: str | None = None) -> Any:
        """Run `fn` against the latest block and throw its changes away, like `eth_call`."""
        with self._env.anchor():
            computation = self._env.execute_code(
                to_address=fn.address,
                sender=sender or self._signers[0].address,
                gas=EMBEDDED_GAS,
                data=_calldata(fn),
            )
        if computation.is_error:
            raise ContractRevert(_reason(computation), function=fn.fn_name)
        return _decode_outputs(fn, computation.output)

    def balance(self, address: str) -> int:
        """Ether held by `address`, in wei."""
        return self._env.get_balance(address)

    def set_balance(self, address: str, wei: int) -> None:
        """Put ether on `address` without a call, as a self-destructing contract or a block reward
        can: the one way ether reaches a contract with no payable function."""
        self._env.set_balance(address, wei)

    def block_number(self) -> int:
        return self._env.evm.patch.block_number

    def now(self) -> int:
        return self._env.evm.patch.timestamp

    def timestamp_of(self, block_number: int) -> int:
        return self._timestamps[block_number]

    def events(self, event: type[ContractEvent] | ContractEvent, from_block: int = 0) -> list[Any]:
        """Decoded logs of one event type of one contract, from `from_block` on, in order."""
        instance = event() if isinstance(event, type) else event
        topic = event_abi_to_log_topic(instance.abi)
        return [
            AttributeDict.recursive(
                instance.process_log(
                    {
                        "address": log.address,
                        "topics": [HexBytes(t) for t in log.topics],
                        "data": HexBytes(log.data),
                        "blockNumber": log.block_number,
                        "logIndex": log.log_index,
                        "transactionIndex": 0,
                        "transactionHash": HexBytes(keccak(log.block_number.to_bytes(32, "big"))),
                        "blockHash": HexBytes(
                            keccak(b"block" + log.block_number.to_bytes(32, "big"))
                        ),
                    }
                )
            )
            for log in self._logs
            if log.block_number >= from_block
            and log.address == instance.address
            and log.topics[:1] == (topic,)
        ]

    # ---- writing ----------------------------------------------------------------------------

    def deploy(self, signer: TxSigner, name: str, *args: Any) -> tuple[Contract, TxResult]:
        compiled = compile_contract(name)
        constructor = next((e for e in compiled.abi if e["type"] == "constructor"), {"inputs": []})
        types = [i["type"] for i in constructor["inputs"]]
        self._next_block()
        address, computation = self._env.deploy(
            sender=signer.address,
            gas=EMBEDDED_GAS,
            bytecode=compiled.bytecode + encode(types, list(args)),
        )
        self._mined_or_reverted(computation, f"{name} constructor")
        handle = self.contract(name, str(address))
        return handle, self._result(handle.address)

    def transact(
        self, signer: TxSigner, fn: ContractFunction, *, value: int = 0, gas: int | None = None
    ) -> TxResult:
        """Execute `fn` in a new block; a revert raises `ContractRevert` and mines nothing."""
        self._next_block()
        computation = self._env.execute_code(
            to_address=fn.address,
            sender=signer.address,
            gas=gas or EMBEDDED_GAS,
            value=value,
            data=_calldata(fn),
        )
        self._mined_or_reverted(computation, fn.fn_name)
        return self._result()

    def advance_time(self, seconds: int) -> int:
        """Mine one empty block stamped exactly `seconds` after the latest."""
        if seconds < 0:
            raise ValueError("time only moves forward")
        target = self.now() + seconds
        self._env.evm.patch.block_number += 1
        self._env.evm.patch.timestamp = target
        self._timestamps[self.block_number()] = target
        return target

    def _next_block(self) -> None:
        self._env.evm.patch.block_number += 1
        self._env.evm.patch.timestamp += 1

    def _mined_or_reverted(self, computation: Any, label: str) -> None:
        """Keep the new block and its logs, or take the block back and raise the revert."""
        if computation.is_error:
            self._env.evm.patch.block_number -= 1
            self._env.evm.patch.timestamp -= 1
            raise ContractRevert(_reason(computation), function=label)
        block = self.block_number()
        for index, (address, topics, data) in enumerate(computation.get_log_entries()):
            self._logs.append(
                _Log(
                    block,
                    index,
                    Web3.to_checksum_address(address),
                    tuple(t.to_bytes(32, "big") for t in topics),
                    data,
                )
            )
        self._timestamps[block] = self.now()
        self._env.evm.vm.state.clear_transient_storage()  # it lives for one transaction only

    def _result(self, contract_address: str | None = None) -> TxResult:
        block = self.block_number()
        return TxResult(
            tx_hash=HexBytes(keccak(block.to_bytes(32, "big"))).to_0x_hex(),
            block_number=block,
            gas_used=0,
            receipt=None,
            contract_address=contract_address,
        )


def _calldata(fn: ContractFunction) -> bytes:
    return bytes(HexBytes(fn._encode_transaction_data()))


def _decode_outputs(fn: ContractFunction, output: bytes) -> Any:
    """What web3's `fn.call()` returns: one value, or a list for several; addresses checksummed."""
    outputs = fn.abi.get("outputs", [])
    types = [collapse_if_tuple(o) for o in outputs]  # a struct is one tuple type
    values = [_checksummed(t, v) for t, v in zip(types, decode(types, output), strict=True)]
    return values[0] if len(values) == 1 else values


def _checksummed(abi_type: str, value: Any) -> Any:
    if abi_type == "address":
        return Web3.to_checksum_address(value)
    if abi_type.startswith("address[") and isinstance(value, list | tuple):
        return [Web3.to_checksum_address(v) for v in value]
    return value


def _reason(computation: Any) -> str:
    """The revert reason as `Chain` reports it on the embedded chain: the text of an
    `Error(string)`, else py-evm's description of the error (empty revert data reads "b''")."""
    error = computation.error
    data = error.args[0] if error.args and isinstance(error.args[0], bytes) else b""
    if data[:4] == ERROR_STRING:
        try:
            (text,) = decode(["string"], data[4:])
        except DecodingError:
            pass
        else:
            return text.strip() or "reverted without a reason"
    return str(error).strip() or "reverted without a reason"
