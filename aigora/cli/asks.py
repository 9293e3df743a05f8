"""`aigora asks deposit|status|withdraw`: pay for answers through a channel with the node's
operator. `aigora ask --pay --account NAME` signs each ask's voucher with that account's key.

A deposit is a transaction from the funder's key, sent where the node is opened here (on the
embedded chain, stop `aigora up` first, unless the funder is the node's operator: the running
node then sends it, `POST /asks/deposits/{asker}`). A withdrawal needs no ether: the asker
signs, the node sends the request (and, after the delay, the withdrawal), running or not.
"""

import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from aigora.app import Answer, App, AskTerms, ChannelState, Withdrawn
from aigora.asks import Payment, sign_voucher
from aigora.cli._local import RemoteNode, UseCase, on_node, run_case
from aigora.cli.options import DataDirOption, account_signer, data_dir_of
from aigora.core.eip712 import Domain
from aigora.core.errors import AigoraError
from aigora.core.keystore import Signer

app = typer.Typer(help="Pay for answers: deposit, see a channel, withdraw.", no_args_is_help=True)
console = Console()

AccountOption = Annotated[str, typer.Option("--account", help="The keystore account to use.")]
WITHDRAWAL_DEADLINE_S = 24 * 3600
"""How long a signed withdrawal request stays good for the node to send."""


def terms_case() -> UseCase[AskTerms]:
    return UseCase(lambda app: app.asks.terms(), "GET", "/asks/terms", AskTerms)


def channel_case(asker: str) -> UseCase[ChannelState]:
    return UseCase(
        lambda app: app.asks.channel(asker), "GET", f"/asks/channels/{asker}", ChannelState
    )


def withdrawal_case(asker: str, deadline: int) -> UseCase[dict[str, Any]]:
    return UseCase(
        lambda app: app.asks.withdrawal_request(asker, deadline),
        "GET",
        f"/asks/withdrawals/{asker}",
        dict[str, Any],
        params={"deadline": deadline},
    )


def request_case(asker: str, deadline: int, signature: bytes) -> UseCase[ChannelState]:
    return UseCase(
        lambda app: app.asks.request_withdrawal(asker, deadline, signature),
        "POST",
        f"/asks/withdrawals/{asker}",
        ChannelState,
        json={"deadline": deadline, "signature": "0x" + signature.hex()},
    )


def complete_case(asker: str) -> UseCase[Withdrawn]:
    return UseCase(
        lambda app: app.asks.complete_withdrawal(asker),
        "POST",
        f"/asks/withdrawals/{asker}/complete",
        Withdrawn,
    )


def voucher_for(terms: AskTerms, state: ChannelState, asker: Signer) -> Payment:
    """The asker's voucher for its next ask: everything owed so far plus the fee."""
    return sign_voucher(
        asker,
        Domain.from_dict(terms.domain),
        asker=asker.address,
        operator=terms.operator,
        cumulative=int(state.next_cumulative),
    )


def print_channel(state: ChannelState) -> None:
    table = Table(show_header=False, box=None)
    for name, value in state.model_dump().items():
        table.add_row(name.replace("_", " "), "none" if value is None else str(value))
    console.print(table)


@app.command("deposit")
def deposit(
    amount: Annotated[int, typer.Option("--amount", min=1, help="In the token's base units.")],
    account: AccountOption,
    for_: Annotated[
        str | None, typer.Option("--for", help="Fund this asker's channel (default: ACCOUNT's).")
    ] = None,
    data_dir: DataDirOption = None,
) -> None:
    """Deposit AMOUNT of ACCOUNT's tokens into a channel with this node's operator: ACCOUNT's
    own, or (--for) anyone's, as a gift that only ever pays answers or goes back to them."""
    directory = data_dir_of(data_dir)
    funder = account_signer(directory, account)
    asker = for_ or funder.address

    def remote(node: RemoteNode) -> ChannelState:
        """The running node holds the chain: it sends the deposit only as the operator's gift."""
        terms = terms_case().remote(node)
        if funder.address != terms.operator:
            raise AigoraError(
                "a deposit is a transaction from your key and the running node holds the chain: "
                "stop it first (or deposit as its operator, --account for its key)"
            )
        return node.call(
            "POST", f"/asks/deposits/{asker}", ChannelState, json={"amount": str(amount)}
        )

    state = on_node(
        directory,
        lambda node_app: node_app.asks.deposit(funder, asker=for_ or funder.address, amount=amount),
        remote,
    )
    print_channel(state)


@app.command("status")
def status(
    account: Annotated[str | None, typer.Option("--account", help="The asker's account.")] = None,
    asker: Annotated[str | None, typer.Option("--asker", help="Or the asker's address.")] = None,
    data_dir: DataDirOption = None,
) -> None:
    """Show a channel with this node's operator: deposit, redeemed, accepted, available, the
    next voucher's cumulative amount and any pending withdrawal."""
    directory = data_dir_of(data_dir)
    if (account is None) == (asker is None):
        raise AigoraError("name the asker: --account NAME or --asker 0x...")
    address = asker or account_signer(directory, account or "").address
    print_channel(run_case(directory, channel_case(address), key=False))


@app.command("withdraw")
def withdraw(account: AccountOption, data_dir: DataDirOption = None) -> None:
    """Take ACCOUNT's unspent deposit back, in two runs: the first requests it (signed, the node
    sends it: no ether needed) and starts the delay, during which the node redeems what was
    signed; the second, after the delay, pays it out."""
    directory = data_dir_of(data_dir)
    asker = account_signer(directory, account)
    state = run_case(directory, channel_case(asker.address), key=False)
    if state.withdrawal_unlocks_at is not None:
        done = run_case(directory, complete_case(asker.address))
        console.print(f"withdrew {done.amount} to {done.asker} ({done.tx_hash})", highlight=False)
        return
    deadline = int(time.time()) + WITHDRAWAL_DEADLINE_S
    typed = run_case(directory, withdrawal_case(asker.address, deadline), key=False)
    signature = bytes(asker.sign_typed_data(full_message=typed).signature)
    state = run_case(directory, request_case(asker.address, deadline, signature))
    console.print(
        f"withdrawal requested: it unlocks at {state.withdrawal_unlocks_at}; run "
        f"`aigora asks withdraw --account {account}` again then",
        highlight=False,
    )


def paid_ask(directory: Path, query: str, k: int, account: str) -> Answer:
    """Ask with a voucher signed by `account`'s key, on the node opened here or the running one
    (the terms and the next cumulative amount come from the node first)."""
    asker = account_signer(directory, account)

    def local(node_app: App) -> Answer:
        payment = voucher_for(node_app.asks.terms(), node_app.asks.channel(asker.address), asker)
        return node_app.answers.answer(query, k, by_operator=True, payment=payment)

    def remote(node: RemoteNode) -> Answer:
        terms = terms_case().remote(node)
        payment = voucher_for(terms, channel_case(asker.address).remote(node), asker)
        body = {"query": query, "k": k, "payment": payment.to_json()}
        return node.call("POST", "/ask", Answer, json=body)

    return on_node(directory, local, remote)
