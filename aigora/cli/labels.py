"""`aigora label ...`: post a labeling job, take tasks, answer them, export accepted labels.

A labeler needs nothing up front: `aigora label next --account NAME` creates the encrypted
keystore NAME on first use, and answers are signatures, not transactions. Accepted answers are
paid at the next payout epoch (`aigora epoch close`; then `aigora claim ADDRESS`).
"""

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from aigora.cli._local import ask_running_node, with_node
from aigora.cli.options import DataDirOption, data_dir_of, passphrase
from aigora.core.eip712 import Domain, sign_typed
from aigora.core.errors import AigoraError
from aigora.labels import LABEL_ANSWER_TYPES, answer_message, parse_spec
from aigora.node.answers import Answers
from aigora.node.context import keystore_for
from aigora.node.labels import Labels, bounties_of

app = typer.Typer(help="The labeling marketplace.", no_args_is_help=True)
console = Console(soft_wrap=True)

AccountOption = Annotated[
    str, typer.Option("--account", help="Keystore name (created on first use for labelers).")
]


def _signer(directory: Path, name: str, create: bool):
    keystore = keystore_for(directory)
    if create and name not in {info.name for info in keystore.list()}:
        address = keystore.create(name, passphrase())
        console.print(f"created account {name} ({address}); no token or ether needed")
    return keystore.unlock(name, passphrase())


@app.command("post")
def post(
    spec_file: Annotated[Path, typer.Argument(help="The job spec (JSON).")],
    account: AccountOption = "operator",
    data_dir: DataDirOption = None,
) -> None:
    """Record a job and escrow its bounty from ACCOUNT (the requester) in one go."""
    directory = data_dir_of(data_dir)
    try:
        spec = parse_spec(spec_file.read_bytes())
    except OSError as exc:
        raise AigoraError(f"cannot read {spec_file}: {exc.strerror}") from None
    requester = _signer(directory, account, create=False)
    if requester.address.lower() != spec.requester.lower():
        raise AigoraError(f"the spec's requester is {spec.requester}, not {account}")

    def local(answers: Answers) -> dict[str, Any]:
        context = answers.context
        labels = Labels(context)
        posted = labels.post(spec)
        if not posted["funded"]:
            bounties = bounties_of(context)
            token = context.deployment.token
            context.chain.transact(
                requester, token.functions.approve(bounties.address, spec.escrow)
            )
            context.chain.transact(
                requester,
                bounties.functions.open_job(
                    bytes.fromhex(posted["job_id"][2:]),
                    spec.escrow,
                    context.operator.address,
                    spec.ends_at,
                ),
            )
            posted["funded"] = labels.funded(posted["job_id"])
        return posted

    def remote() -> dict[str, Any]:
        raise AigoraError("posting a job escrows tokens from your key: stop the node first")

    posted = with_node(directory, local, remote)
    console.print(
        f"job {posted['job_id']}: escrow {posted['escrow']}, funded: {posted['funded']}",
        highlight=False,
    )


@app.command("next")
def next_task(account: AccountOption = "labeler", data_dir: DataDirOption = None) -> None:
    """Take the next task for ACCOUNT (created on first use) and show it."""
    directory = data_dir_of(data_dir)
    labeler = _signer(directory, account, create=True)

    def local(answers: Answers) -> dict[str, Any]:
        task = Labels(answers.context).next(labeler.address)
        return {"task": None if task is None else task.__dict__}

    found = with_node(
        directory,
        local,
        lambda: ask_running_node(directory, "GET", f"/tasks/next?labeler={labeler.address}"),
    )
    task = found["task"]
    if task is None:
        console.print("no task for you right now")
        return
    console.print(json.dumps(task, indent=1), highlight=False)
    console.print(
        f"answer with: aigora label answer {task['job_id']} {task['item']} LABEL_INDEX "
        f"--account {account}",
        highlight=False,
    )


@app.command("answer")
def answer(
    job_id: Annotated[str, typer.Argument(help="The job id (0x...).")],
    item: Annotated[int, typer.Argument(min=0, help="The item number.")],
    label: Annotated[int, typer.Argument(min=0, help="The label's index.")],
    account: AccountOption = "labeler",
    data_dir: DataDirOption = None,
) -> None:
    """Sign and submit ACCOUNT's answer to an assigned item."""
    directory = data_dir_of(data_dir)
    labeler = _signer(directory, account, create=False)
    message = answer_message(job_id, item, labeler.address, label)

    def sign_in(domain: Domain) -> bytes:
        return sign_typed(labeler, domain, LABEL_ANSWER_TYPES, "LabelAnswer", message)

    def local(answers: Answers) -> None:
        signature = sign_in(answers.context.domain)
        Labels(answers.context).answer(job_id, item, labeler.address, label, signature)

    def remote() -> None:
        domain = ask_running_node(directory, "GET", f"/jobs/{job_id}")["domain"]
        signature = sign_in(
            Domain(
                domain["name"], domain["version"], domain["chainId"], domain["verifyingContract"]
            )
        )
        body = {**message, "job_id": job_id, "signature": "0x" + signature.hex()}
        body.pop("job")
        ask_running_node(directory, "POST", "/answers", json=body)

    with_node(directory, local, remote)
    console.print(f"answer recorded: item {item} of {job_id} labeled {label}", highlight=False)


@app.command("export")
def export(
    job_id: Annotated[str, typer.Argument(help="The job id (0x...).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="JSON-lines file to write.")],
    data_dir: DataDirOption = None,
) -> None:
    """Write the job's trusted labels as a validation set ({"text", "label"} per line)."""
    directory = data_dir_of(data_dir)
    rows = with_node(
        directory,
        lambda answers: Labels(answers.context).export(job_id),
        lambda: ask_running_node(directory, "GET", f"/jobs/{job_id}/labels")["rows"],
    )
    try:
        out.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    except OSError as exc:
        raise AigoraError(f"cannot write {out}: {exc.strerror}") from None
    console.print(f"wrote {len(rows)} labeled items to {out}")
