"""The integer engine (numpy reference) and its passage rule, shared by the passage tests."""

import pytest

from aigora.engine import Encoder, load_default_model
from aigora.index import PassageRule


@pytest.fixture(scope="module")
def encoder():
    return Encoder(load_default_model(), backend="numpy")


@pytest.fixture(scope="module")
def rule(encoder):
    return PassageRule.of(encoder)
