"""Shared fixtures: the converted default model and encoders, built once per test session.

The model is converted on first use and cached (see `load_default_model`); later sessions only
load it and recheck its root.
"""

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from aigora.engine import Encoder, IntModel, load_default_model

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="session")
def model() -> IntModel:
    return load_default_model()


@pytest.fixture(scope="session")
def torch_encoder(model: IntModel) -> Encoder:
    return Encoder(model, backend="torch", threads=2)


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
