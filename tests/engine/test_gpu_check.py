"""`tools/gpu-check`, run here on the CPU: the bytes it compares are the golden file's, and it
says in one line, exit 2, when it cannot run. (Its GPU run is recorded in docs/benchmarks.md.)"""

import importlib.machinery
import importlib.util
import subprocess
import sys
from pathlib import Path

from aigora.engine import IntModel

TOOL = Path(__file__).resolve().parents[2] / "tools" / "gpu-check"


def _tool():
    loader = importlib.machinery.SourceFileLoader("gpu_check", str(TOOL))
    spec = importlib.util.spec_from_loader("gpu_check", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def test_the_check_finds_the_golden_bytes_on_this_cpu(model: IntModel):
    report = _tool().bit_exactness(model, "cpu", compile_=False, limit=4)
    assert report["identical"], report
    assert report["eager"]["differing_sentences"] == []
    assert report["model_root"] == report["golden_model_root"]


def test_a_model_it_cannot_load_is_exit_2_in_one_line(tmp_path):
    bogus = tmp_path / "model.safetensors"
    bogus.write_bytes(b"not a model")
    done = subprocess.run(
        [
            sys.executable,
            str(TOOL),
            "--device",
            "cpu",
            "--model",
            str(bogus),
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("gpu-check: cannot load the integer model")
    assert len(done.stderr.strip().splitlines()) == 1
