"""The constants a contract declares, read from its Vyper source.

Python code mirrors many contract constants by hand (dispute kinds, game phases, chunk sizes,
fixed-point widths). `contract_constants` gives the contract's side of each, so a test can tie
every mirror to the source it mirrors: editing either side alone fails that test.

Values are folded by the compiler's own constant folder, so `2**128 - 1`, `max_value(uint256) // 255
* 128`, `keccak256("...")` and references to other constants come out as the compiler sees them.
"""

from vyper import ast as vy_ast
from vyper.exceptions import UnfoldableNode
from vyper.semantics.analysis.constant_folding import ConstantFolder

from aigora.chain.compile import compiler_data

ConstantValue = int | str | bytes | bool | tuple["ConstantValue", ...]
"""An int (any integer type), a str (String), bytes (bytesN, Bytes, hex literals), a bool, or a
tuple of these (a constant array)."""


def contract_constants(name: str) -> dict[str, ConstantValue]:
    """Every `constant(...)` declared in `contracts/<name>.vy`, by name, and those of every Vyper
    module it imports, named `alias.NAME` after the name the contract gives the module (e.g.
    `ecdsa.HALF_CURVE_ORDER`; a module a module imports: `alias.inner.NAME`). A constant the
    folder cannot reduce to a literal (a struct, say) is left out."""
    return {
        key: _value(node)
        for key, node in _folded(compiler_data(name).resolved_imports.toplevel_module).items()
    }


def _folded(module: vy_ast.Module) -> dict[str, vy_ast.ExprNode]:
    """The module's folded constants and, prefixed by their aliases, its imports'."""
    imported: dict[str, vy_ast.ExprNode] = {}
    for node in module.get_children((vy_ast.Import, vy_ast.ImportFrom)):
        info = node._metadata["import_info"]
        if info.compiler_input.resolved_path.suffix != ".vy":
            continue  # an interface (.vyi, .json) declares no constants
        for key, value in _folded(info.parsed).items():
            imported[f"{info.alias}.{key}"] = value
    folder = _Folder(module, imported)
    folder.run()
    own = {name: value for name, value in folder._constants.items() if _is_literal(value)}
    return own | imported


class _Folder(ConstantFolder):
    """vyper's folder, resolving `alias.NAME` from the already folded constants of an imported
    module (vyper's own needs the semantic analysis of the whole contract to do that)."""

    def __init__(self, module: vy_ast.Module, imported: dict[str, vy_ast.ExprNode]) -> None:
        super().__init__(module)
        self._imported = imported

    def visit_Attribute(self, node: vy_ast.Attribute) -> vy_ast.ExprNode:  # noqa: N802 (vyper's name)
        if isinstance(node.value, vy_ast.Name):
            found = self._imported.get(f"{node.value.id}.{node.attr}")
            if found is not None:
                return found
        raise UnfoldableNode("not a constant of an imported module", node)


def _is_literal(node: vy_ast.VyperNode) -> bool:
    if isinstance(node, vy_ast.List | vy_ast.Tuple):
        return all(_is_literal(e) for e in node.elements)
    literals = vy_ast.Int | vy_ast.Str | vy_ast.Hex | vy_ast.Bytes | vy_ast.HexBytes
    return isinstance(node, literals | vy_ast.NameConstant)


def _value(node: vy_ast.ExprNode) -> ConstantValue:
    if isinstance(node, vy_ast.List | vy_ast.Tuple):
        return tuple(_value(e) for e in node.elements)
    if isinstance(node, vy_ast.Hex):
        return bytes.fromhex(node.value.removeprefix("0x"))
    if isinstance(node, vy_ast.Bytes | vy_ast.HexBytes):
        return bytes(node.value)
    return node.value
