"""Compiling the shipped contracts: shared modules resolve, every source a contract is built from
names its artifact, every contract fits EIP-170, and every source ships with the package."""

import shutil
import tomllib
from pathlib import Path

import pytest

from aigora.chain import compile as compile_module
from aigora.chain import compile_contract
from aigora.chain.compile import CONTRACTS_DIR, source_hash
from aigora.chain.deploy import source_hash as deployment_source_hash

EIP170 = 24_576
CONTRACTS = sorted(path.stem for path in CONTRACTS_DIR.glob("*.vy"))
PYPROJECT = Path(__file__).parents[2] / "pyproject.toml"


@pytest.mark.parametrize("name", CONTRACTS)
def test_runtime_fits_eip170(name: str) -> None:
    assert len(compile_contract(name).runtime) <= EIP170


def test_editing_a_module_renames_its_dependents_only(tmp_path: Path, monkeypatch) -> None:
    copy = tmp_path / "contracts"
    shutil.copytree(CONTRACTS_DIR, copy)
    monkeypatch.setattr(compile_module, "CONTRACTS_DIR", copy)
    names = ("Registry", "Disputes", "Distributor", "StepVerifier", "Token")
    before = {name: source_hash(name) for name in names}
    module = copy / "lib" / "merkle.vy"
    module.write_text(module.read_text() + "\n# edited\n")
    after = {name: source_hash(name) for name in names}
    assert after["Token"] == before["Token"]
    assert all(after[name] != before[name] for name in names if name != "Token")


def test_the_recorded_source_hash_is_the_artifacts() -> None:
    compiled = compile_contract("Registry")
    assert compiled.source_hash == source_hash("Registry")
    assert deployment_source_hash("Registry") == "0x" + compiled.source_hash


def test_every_contract_source_ships() -> None:
    package_data = tomllib.loads(PYPROJECT.read_text())["tool"]["setuptools"]["package-data"]
    package = CONTRACTS_DIR.parent
    shipped = {path for glob in package_data["aigora.chain"] for path in package.glob(glob)}
    assert set(CONTRACTS_DIR.rglob("*.vy")) <= shipped
