"""Load a script of `bench/` as a module, so a test can check what the benchmark claims."""

import importlib.util
from pathlib import Path
from types import ModuleType

BENCH_DIR = Path(__file__).parents[1] / "bench"


def load_bench(name: str) -> ModuleType:
    """`bench/<name>.py`, imported under the module name `<name>_bench`."""
    spec = importlib.util.spec_from_file_location(f"{name}_bench", BENCH_DIR / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
