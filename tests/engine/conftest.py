"""Shared fixtures: the converted default model and encoders, built once per test session.

The model is converted on first use and cached (see `load_default_model`); later sessions only
load it and recheck its root.
"""

import hashlib
import json
import os
from pathlib import Path

import numpy as np
import pytest

from aigora.engine import Encoder, IntModel, load_default_model

DATA = Path(__file__).parent / "data"
# Intra-op threads for the tests that are not about thread counts: the cores this process has to
# itself, at most 2 (test_bitexact compiles for 1 and 2 threads anyway, so this adds no compile).
# Under `-n auto` every core already runs an xdist worker, so each worker gets one thread: a second
# torch thread per worker only oversubscribes the cores (measured on the 2-core machine: the
# compiled engine and sentence-transformers ran 3 to 6 times slower).
_WORKERS = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
THREADS = min(2, max(1, (os.cpu_count() or 1) // _WORKERS))


@pytest.fixture(scope="session")
def model() -> IntModel:
    return load_default_model()


@pytest.fixture(scope="session")
def torch_encoder(model: IntModel) -> Encoder:
    return Encoder(model, backend="torch", threads=THREADS)


@pytest.fixture(scope="session")
def numpy_encoder(model: IntModel) -> Encoder:
    return Encoder(model, backend="numpy")


@pytest.fixture(scope="session")
def sentences() -> list[str]:
    return json.loads((DATA / "sentences.json").read_text("utf-8"))


@pytest.fixture(scope="session")
def golden() -> dict:
    return json.loads((DATA / "golden.json").read_text("utf-8"))


def sha256(array: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()
