"""The model file: integers only, a content root over canonical tensors, tamper evidence."""

import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from aigora.core.errors import AigoraError
from aigora.engine import (
    EngineError,
    IntModel,
    canonical_bytes,
    convert,
    default_checkpoint,
    tensor_root,
    verify_element,
)
from aigora.engine._commit import CHUNK_BYTES, chunks


def test_model_is_integers_only(model: IntModel) -> None:
    for name, array in model.tensors.items():
        assert array.dtype.kind in "iu", name
    assert model.tensors["layers.0.qkv.weight"].dtype == np.int8
    assert model.tensors["embeddings.word"].dtype == np.int16
    assert all(isinstance(v, int | str) for v in model.header.values())


def test_save_and_load_keep_the_root(model: IntModel, tmp_path) -> None:
    path = model.save(tmp_path)
    assert path.name == f"{model.root_hex}.safetensors"
    loaded = IntModel.load(path, expected_root=model.root)
    assert loaded.root == model.root
    assert loaded.header == model.header
    for name, array in model.tensors.items():
        assert np.array_equal(loaded.tensors[name], array)


def test_altered_file_is_refused(model: IntModel, tmp_path) -> None:
    path = model.save(tmp_path)
    data = bytearray(path.read_bytes())
    data[-100] ^= 0x01  # inside the last tensor's data
    path.write_bytes(bytes(data))
    with pytest.raises(EngineError, match="altered"):
        IntModel.load(path)


def test_wrong_expected_root_is_refused(model: IntModel, tmp_path) -> None:
    path = model.save(tmp_path / "model.safetensors")
    with pytest.raises(EngineError, match="expected"):
        IntModel.load(path, expected_root="0x" + "00" * 32)


def test_garbage_and_missing_files_are_engine_errors(tmp_path) -> None:
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"not a model")
    with pytest.raises(EngineError):
        IntModel.load(bad)
    with pytest.raises(EngineError, match="does not exist"):
        IntModel.load(tmp_path / "missing.safetensors")
    assert issubclass(EngineError, AigoraError)


def test_weight_element_is_provable_against_model_root(model: IntModel) -> None:
    name = "layers.3.ffn_out.weight"
    element = 12345
    value = int(model.tensors[name].reshape(-1)[element])
    proof = model.prove(name, element)
    index = model.tensor_index(name)
    assert verify_element(model.root, index, element, value, proof)
    assert not verify_element(model.root, index, element, value - 1, proof)


def test_conversion_is_deterministic_and_depends_on_calibration(model: IntModel) -> None:
    texts = ["A short calibration sentence.", "Another one, with numbers 1 2 3."]
    a = convert(default_checkpoint(), texts=texts)
    b = convert(default_checkpoint(), texts=texts)
    assert a.root == b.root
    assert a.root != model.root  # the default model calibrates on different text


def test_converter_refuses_what_is_not_a_bert_checkpoint(tmp_path) -> None:
    with pytest.raises(EngineError, match="missing"):
        convert(tmp_path)


def test_canonical_bytes_are_little_endian_c_order() -> None:
    a = np.array([[1, -2], [300, -32768]], dtype=np.int16)
    assert canonical_bytes(a) == struct.pack("<4h", 1, -2, 300, -32768)
    assert canonical_bytes(a.astype(">i2")) == canonical_bytes(a)
    assert canonical_bytes(np.asfortranarray(a)) == canonical_bytes(a)
    with pytest.raises(ValueError, match="integer dtypes only"):
        canonical_bytes(a.astype(np.float32))


def test_chunks_hold_whole_elements() -> None:
    data = bytes(range(256)) * 9  # 2304 bytes
    parts = chunks(data)
    assert [len(p) for p in parts] == [CHUNK_BYTES, CHUNK_BYTES, 256]
    assert b"".join(parts) == data
    assert chunks(b"") == [b""]


@settings(max_examples=30, deadline=None)
@given(
    array=hnp.arrays(
        dtype=st.sampled_from([np.int8, np.int16, np.int32, np.int64]),
        shape=hnp.array_shapes(min_dims=1, max_dims=3, max_side=40),
    ),
    data=st.data(),
)
def test_one_changed_element_changes_the_tensor_root(array: np.ndarray, data) -> None:
    i = data.draw(st.integers(0, array.size - 1))
    changed = array.copy().reshape(-1)
    info = np.iinfo(array.dtype)
    changed[i] = info.min if changed[i] != info.min else info.max
    assert tensor_root(0, changed.reshape(array.shape)) != tensor_root(0, array)
    assert tensor_root(1, array) != tensor_root(0, array)  # the tensor index is committed
