"""`IntModel`: the converted integer model, its file format and its content root.

The file is a safetensors file of integer tensors and nothing else: the weights and fixed-point
parameters, plus two uint8 tensors holding the canonical-JSON header (hyper-parameters, all
integers or strings) and the tokenizer's JSON. The model root (see `_commit`) is the Merkle root
over all of them in ascending name order, so it names the tokenizer and every constant that
influences an output, and a receipt quoting it pins down exactly which model ran.
"""

import json
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
from safetensors.numpy import load_file, save_file

from aigora.core.canonical import canonical_json
from aigora.engine import _commit
from aigora.engine import _spec as spec
from aigora.engine._errors import EngineError


class IntModel:
    """An integer-only BERT encoder: named int tensors, a header, a tokenizer, and a root.

    Immutable after construction; the root is computed once, on first use.
    """

    def __init__(self, tensors: Mapping[str, np.ndarray], header: Mapping[str, Any]) -> None:
        """`tensors` are the model's parameters (without the header); `header` must hold only
        JSON integers and strings. The tokenizer is the `tokenizer.json` tensor."""
        if spec.TOKENIZER not in tensors:
            raise EngineError(f"an integer model needs a {spec.TOKENIZER} tensor")
        for name, array in tensors.items():
            if array.dtype.name not in _commit.DTYPES:
                raise EngineError(f"tensor {name} has dtype {array.dtype}; integers only")
        header_bytes = canonical_json(dict(header))
        all_tensors = dict(tensors)
        all_tensors[spec.HEADER] = np.frombuffer(header_bytes, dtype=np.uint8).copy()
        for array in all_tensors.values():
            array.setflags(write=False)
        self._tensors = MappingProxyType(dict(sorted(all_tensors.items())))
        self._header = MappingProxyType(json.loads(header_bytes))
        self._tree: tuple[list[_commit.TensorLeaf], Any] | None = None

    @property
    def tensors(self) -> Mapping[str, np.ndarray]:
        """Every committed tensor by name (read-only arrays), header and tokenizer included."""
        return self._tensors

    @property
    def header(self) -> Mapping[str, Any]:
        """Hyper-parameters: format, hidden, heads, layers, intermediate, vocab, max_tokens..."""
        return self._header

    @property
    def tokenizer_json(self) -> bytes:
        return self._tensors[spec.TOKENIZER].tobytes()

    def _commitment(self) -> tuple[list[_commit.TensorLeaf], Any]:
        if self._tree is None:
            leaves = _commit.tensor_leaves(list(self._tensors.items()))
            self._tree = (leaves, _commit.list_tree(leaves))
        return self._tree

    @property
    def root(self) -> bytes:
        """The 32-byte model root: Merkle root over all tensors in canonical encoding."""
        return self._commitment()[1].root

    def tensor_index(self, name: str) -> int:
        """The index of tensor `name` in the model tree (position in ascending name order)."""
        try:
            return list(self._tensors).index(name)
        except ValueError:
            raise EngineError(f"the model has no tensor {name!r}") from None

    def prove(self, name: str, element_index: int) -> _commit.ElementProof:
        """Proof of one element (C order) of tensor `name` against `root`; check it with
        `verify_element(model.root, model.tensor_index(name), element_index, value, proof)`."""
        leaves, tree = self._commitment()
        index = self.tensor_index(name)
        return _commit.prove_element(leaves, tree, self._tensors[name], index, element_index)

    @property
    def root_hex(self) -> str:
        return "0x" + self.root.hex()

    def save(self, path: str | Path) -> Path:
        """Write the model file; a directory `path` gets `<root hex>.safetensors` inside it."""
        path = Path(path)
        if path.is_dir():
            path = path / f"{self.root_hex}.safetensors"
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        save_file({k: np.ascontiguousarray(v) for k, v in self._tensors.items()}, str(tmp))
        tmp.replace(path)
        return path

    @classmethod
    def load(cls, path: str | Path, expected_root: bytes | str | None = None) -> "IntModel":
        """Read a model file and recompute its root.

        Raises `EngineError` when the file is missing or malformed, or when its root differs
        from `expected_root` or from the root its file name claims (`0x<64 hex>.safetensors`).
        """
        path = Path(path)
        try:
            tensors = load_file(str(path))
        except FileNotFoundError:
            raise EngineError(f"model file {path} does not exist") from None
        except Exception as exc:
            raise EngineError(f"model file {path} is not a valid safetensors file: {exc}") from exc
        if spec.HEADER not in tensors:
            raise EngineError(f"model file {path} has no {spec.HEADER} tensor")
        try:
            header = json.loads(tensors.pop(spec.HEADER).tobytes())
        except ValueError as exc:
            raise EngineError(f"model file {path} has a malformed header: {exc}") from exc
        if header.get("format") != spec.FORMAT or header.get("version") != spec.FORMAT_VERSION:
            raise EngineError(
                f"model file {path} is not a {spec.FORMAT} v{spec.FORMAT_VERSION} model"
            )
        model = cls(tensors, header)
        claims = [expected_root]
        if path.stem.startswith("0x") and len(path.stem) == 66:
            claims.append(path.stem)
        for claim in claims:
            if claim is None:
                continue
            want = claim if isinstance(claim, bytes) else bytes.fromhex(claim.removeprefix("0x"))
            if model.root != want:
                raise EngineError(
                    f"model file {path} has root {model.root_hex}, expected 0x{want.hex()}: "
                    "the file was altered or is a different model"
                )
        return model

    def __repr__(self) -> str:
        h = self._header
        return (
            f"IntModel(root={self.root_hex}, layers={h['layers']}, hidden={h['hidden']}, "
            f"source={h.get('source')!r})"
        )
