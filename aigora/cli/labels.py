"""`aigora label ...`: post a labeling job, take tasks, answer them, export accepted labels.

A labeler needs nothing up front: `aigora label next --account NAME` creates the encrypted
keystore NAME on first use, and answers are signatures, not transactions. Accepted answers are
paid at the next payout epoch (`aigora epoch close`; then `aigora claim ADDRESS`).
"""

import json
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from aigora.app import AnswerAccepted, JobInfo, LabelExport, NextTask, PostedJob
from aigora.cli._local import UseCase, on_node, run_case
from aigora.cli.options import DataDirOption, account_signer, data_dir_of
from aigora.core.eip712 import Domain, sign_typed
from aigora.core.errors import AigoraError
from aigora.labels import LABEL_ANSWER_TYPES, answer_message, parse_spec

app = typer.Typer(help="The labeling marketplace.", no_args_is_help=True)
console = Console(soft_wrap=True)


def next_case(labeler: str) -> UseCase[NextTask]:
    return UseCase(
        lambda app: app.labels.next(labeler),
        "GET",
        "/tasks/next",
        NextTask,
        params={"labeler": labeler},
    )


def export_case(job_id: str) -> UseCase[LabelExport]:
    return UseCase(
        lambda app: app.labels.export(job_id), "GET", f"/jobs/{job_id}/labels", LabelExport
    )


AccountOption = Annotated[
    str, typer.Option("--account", help="Keystore name (created on first use for labelers).")
]


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
    requester = account_signer(directory, account)

    def remote(_node: object) -> PostedJob:
        raise AigoraError("posting a job escrows tokens from your key: stop the node first")

    posted: PostedJob = on_node(
        directory, lambda node_app: node_app.labels.post_and_fund(spec, requester), remote
    )
    console.print(
        f"job {posted.job_id}: escrow {posted.escrow}, funded: {posted.funded}", highlight=False
    )


@app.command("next")
def next_task(account: AccountOption = "labeler", data_dir: DataDirOption = None) -> None:
    """Take the next task for ACCOUNT (created on first use) and show it."""
    directory = data_dir_of(data_dir)
    labeler = account_signer(directory, account, create=True)
    found = run_case(directory, next_case(labeler.address))
    task = found.task
    if task is None:
        console.print("no task for you right now")
        return
    console.print(json.dumps(asdict(task), indent=1), highlight=False)
    console.print(
        f"answer with: aigora label answer {task.job_id} {task.item} LABEL_INDEX "
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
    labeler = account_signer(directory, account)
    message = answer_message(job_id, item, labeler.address, label)

    def sign_in(domain: Domain) -> bytes:
        return sign_typed(labeler, domain, LABEL_ANSWER_TYPES, "LabelAnswer", message)

    def remote(node) -> AnswerAccepted:
        info = node.call("GET", f"/jobs/{job_id}", JobInfo)
        signature = sign_in(Domain.from_dict(info.domain))
        body = {
            "job_id": job_id,
            "item": item,
            "labeler": labeler.address,
            "label": label,
            "signature": "0x" + signature.hex(),
        }
        return node.call("POST", "/answers", AnswerAccepted, json=body)

    on_node(
        directory,
        lambda node_app: node_app.labels.answer(
            job_id, item, labeler.address, label, sign_in(node_app.context.domain)
        ),
        remote,
    )
    console.print(f"answer recorded: item {item} of {job_id} labeled {label}", highlight=False)


@app.command("export")
def export(
    job_id: Annotated[str, typer.Argument(help="The job id (0x...).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="JSON-lines file to write.")],
    data_dir: DataDirOption = None,
) -> None:
    """Write the job's trusted labels as a validation set ({"text", "label"} per line)."""
    directory = data_dir_of(data_dir)
    exported = run_case(directory, export_case(job_id))
    try:
        out.write_text(
            "".join(json.dumps(row.model_dump()) + "\n" for row in exported.rows), encoding="utf-8"
        )
    except OSError as exc:
        raise AigoraError(f"cannot write {out}: {exc.strerror}") from None
    console.print(f"wrote {len(exported.rows)} labeled items to {out}")
