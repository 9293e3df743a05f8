"""`aigora embed FILE`: int8 embeddings of a text file, one sentence per line, as a .npy array.

The command is an interface other tools call: its options and output format stay stable.
Row i of the output is the embedding of line i (lines are split on newlines only; a trailing
newline does not add an empty line). With `--fp32` the float model (sentence-transformers)
writes float32 embeddings the same way, for comparison.
"""

from pathlib import Path
from typing import Annotated

import numpy as np
import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from aigora.engine import BACKENDS, Encoder, EngineError, default_checkpoint, load_default_model

_PROGRESS_FROM = 256
"""Show a progress bar for inputs of at least this many lines."""


def read_lines(file: Path) -> list[str]:
    """The file's lines (UTF-8); EngineError if it is missing, not UTF-8 or empty."""
    try:
        data = file.read_bytes()
    except FileNotFoundError:
        raise EngineError(f"input file {file} does not exist") from None
    except IsADirectoryError:
        raise EngineError(f"input {file} is a directory, not a text file") from None
    except OSError as exc:
        raise EngineError(f"cannot read input file {file}: {exc.strerror}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise EngineError(
            f"input file {file} is not UTF-8 (byte {exc.start} is invalid); convert it first"
        ) from None
    text = text.removeprefix("\ufeff")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    lines = [line.removesuffix("\r") for line in lines]
    if not lines:
        raise EngineError(f"input file {file} is empty; put one sentence per line")
    return lines


def embed(
    file: Annotated[Path, typer.Argument(help="UTF-8 text file, one sentence per line.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output .npy file (n, dim).")],
    backend: Annotated[
        str, typer.Option(help="Integer backend: torch (fast) or numpy (reference).")
    ] = "torch",
    threads: Annotated[
        int | None, typer.Option(help="Torch threads (default: torch's choice).")
    ] = None,
    batch_size: Annotated[int, typer.Option("--batch-size", help="Sentences per batch.")] = 32,
    fp32: Annotated[
        bool, typer.Option("--fp32", help="Use the float model instead (float32 output).")
    ] = False,
) -> None:
    """Embed each line of FILE and write the embeddings, in line order, to OUT as .npy.

    The integer engine writes int8 rows that are identical on every machine, backend, thread
    count and batch size.
    """
    if backend not in BACKENDS:
        raise EngineError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    if batch_size < 1:
        raise EngineError(f"--batch-size must be at least 1, got {batch_size}")
    if threads is not None and threads < 1:
        raise EngineError(f"--threads must be at least 1, got {threads}")
    lines = read_lines(file)
    if fp32:
        from aigora.engine import Fp32Encoder  # sentence-transformers: loaded only for --fp32

        encoder: Encoder | Fp32Encoder = Fp32Encoder(default_checkpoint(), threads)
    else:
        encoder = Encoder(load_default_model(), backend=backend, threads=threads)
    columns = (TextColumn("embedding"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, transient=True, disable=len(lines) < _PROGRESS_FROM) as bar:
        task = bar.add_task("embed", total=len(lines))
        vectors = encoder.embed(
            lines, batch_size=batch_size, progress=lambda k: bar.advance(task, k)
        )
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        with out.open("wb") as f:
            np.save(f, vectors)
    except OSError as exc:
        raise EngineError(f"cannot write {out}: {exc.strerror}") from None
    typer.echo(f"wrote {vectors.shape[0]} x {vectors.shape[1]} {vectors.dtype} embeddings to {out}")
