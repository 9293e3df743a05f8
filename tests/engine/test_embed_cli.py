"""`aigora embed`: the command outside checks call, on a tiny app that registers it."""

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from aigora.cli.embed import embed
from aigora.core.errors import AigoraError
from aigora.engine import Encoder, EngineError

app = typer.Typer()
app.command()(embed)
runner = CliRunner()

LINES = ["The first line.", "", "Ünïcödé second line 🙂", "third"]


@pytest.fixture
def text_file(tmp_path):
    path = tmp_path / "in.txt"
    path.write_text("\n".join(LINES) + "\n", "utf-8")
    return path


@pytest.mark.parametrize("backend", ["torch", "numpy"])
def test_embed_writes_int8_rows_in_line_order(
    backend: str, text_file, tmp_path, numpy_encoder: Encoder
) -> None:
    out = tmp_path / "out.npy"
    args = [str(text_file), "--backend", backend, "--threads", "1", "--batch-size", "3"]
    result = runner.invoke(app, [*args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    vectors = np.load(out)
    assert vectors.dtype == np.int8
    assert vectors.shape == (len(LINES), 384)
    assert np.array_equal(vectors, numpy_encoder.embed(LINES))


def test_fp32_writes_float_rows_close_to_the_integer_ones(
    text_file, tmp_path, torch_encoder: Encoder
) -> None:
    out = tmp_path / "fp32.npy"
    result = runner.invoke(app, [str(text_file), "--fp32", "--out", str(out)])
    assert result.exit_code == 0, result.output
    vectors = np.load(out)
    assert vectors.dtype == np.float32
    assert vectors.shape == (len(LINES), 384)
    integer = torch_encoder.embed(LINES).astype(np.float64)
    cos = (vectors * integer).sum(1) / np.linalg.norm(integer, axis=1)
    assert np.all(cos > 0.9)  # rows correspond (unrelated rows score near 0)


def _error(args: list[str]) -> str:
    result = runner.invoke(app, args)
    assert result.exit_code != 0
    assert isinstance(result.exception, AigoraError), result.exception
    assert isinstance(result.exception, EngineError)
    message = str(result.exception)
    assert message
    assert "\n" not in message
    return message


def test_missing_file(tmp_path) -> None:
    assert "does not exist" in _error(
        [str(tmp_path / "nope.txt"), "--out", str(tmp_path / "o.npy")]
    )


def test_not_utf8(tmp_path) -> None:
    path = tmp_path / "latin1.txt"
    path.write_bytes("caf\xe9\n".encode("latin-1"))
    assert "UTF-8" in _error([str(path), "--out", str(tmp_path / "o.npy")])


def test_empty_file(tmp_path) -> None:
    path = tmp_path / "empty.txt"
    path.write_bytes(b"")
    assert "empty" in _error([str(path), "--out", str(tmp_path / "o.npy")])


def test_bad_backend(text_file, tmp_path) -> None:
    assert "backend" in _error(
        [str(text_file), "--backend", "jax", "--out", str(tmp_path / "o.npy")]
    )


def test_bad_batch_size(text_file, tmp_path) -> None:
    assert "batch" in _error(
        [str(text_file), "--batch-size", "0", "--out", str(tmp_path / "o.npy")]
    )


def test_directory_as_input(tmp_path) -> None:
    assert "directory" in _error([str(tmp_path), "--out", str(tmp_path / "o.npy")])
