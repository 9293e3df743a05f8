"""The package boundaries hold: no module reaches into another package's private modules, and
no code outside `aigora.chain` indexes a contract call's tuple (structs are decoded once there,
by the typed readers of `aigora.chain.records`)."""

import ast
from pathlib import Path

import aigora

ROOT = Path(aigora.__file__).parent


def _modules() -> list[tuple[str, ast.Module]]:
    found = []
    for path in sorted(ROOT.rglob("*.py")):
        package = path.relative_to(ROOT).parts[0]
        found.append((package, ast.parse(path.read_text(encoding="utf-8"), str(path))))
    return found


def _imported(tree: ast.Module) -> list[str]:
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
            names.extend(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
    return names


def private_imports(package: str, tree: ast.Module) -> list[str]:
    """Imports of `aigora.<other>._private...` from a module of `package`."""
    bad = []
    for name in _imported(tree):
        parts = name.split(".")
        if parts[0] != "aigora" or len(parts) < 3 or parts[1] == package:
            continue
        if any(part.startswith("_") for part in parts[2:]):
            bad.append(name)
    return bad


def test_no_module_imports_another_packages_private_modules():
    offenders = {
        f"{package}: {name}"
        for package, tree in _modules()
        for name in private_imports(package, tree)
    }
    assert offenders == set()


def test_the_rule_catches_a_private_import():
    tree = ast.parse("from aigora.index._service import snapshot_dir\nimport aigora.verify._game")
    assert private_imports("node", tree) == [
        "aigora.index._service",
        "aigora.index._service.snapshot_dir",
        "aigora.verify._game",
    ]
    assert private_imports("index", ast.parse("from aigora.index._service import x")) == []


def indexed_contract_reads(tree: ast.Module) -> list[int]:
    """Lines where the result of `<chain>.call(...)` is subscripted (`chain.call(f())[3]`)."""
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Subscript)
        and isinstance(node.value, ast.Call)
        and isinstance(node.value.func, ast.Attribute)
        and node.value.func.attr == "call"
    ]


def test_no_contract_struct_is_indexed_outside_chain():
    offenders = [
        (package, line)
        for package, tree in _modules()
        if package != "chain"
        for line in indexed_contract_reads(tree)
    ]
    assert offenders == []


def test_the_rule_catches_an_indexed_read():
    tree = ast.parse("x = chain.call(registry.functions.operators(a))[3]\ny = chain.call(f())")
    assert indexed_contract_reads(tree) == [1]
