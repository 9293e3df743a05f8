"""The float reference: sentence-transformers fp32 on the same checkpoint, loaded offline.

Used for comparison only (`aigora embed --fp32`, the benchmark, the quality test); the engine
itself never imports it.
"""

import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from aigora.engine._errors import EngineError


class Fp32Encoder:
    """sentence-transformers on the CPU, fp32, L2-normalized embeddings (n, dim)."""

    def __init__(self, checkpoint: Path, threads: int | None = None) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        try:
            import torch
            from sentence_transformers import SentenceTransformer
        except ImportError:
            raise EngineError(
                "--fp32 needs the package sentence-transformers (pip install it)"
            ) from None
        if threads is not None:
            torch.set_num_threads(threads)
        self._model = SentenceTransformer(str(checkpoint), device="cpu")

    def embed(
        self,
        sentences: Sequence[str],
        batch_size: int = 32,
        progress: Callable[[int], None] | None = None,
    ) -> np.ndarray:
        out = []
        for start in range(0, len(sentences), 1024):
            part = list(sentences[start : start + 1024])
            out.append(
                self._model.encode(
                    part, batch_size=batch_size, normalize_embeddings=True, show_progress_bar=False
                )
            )
            if progress is not None:
                progress(len(part))
        if not out:
            return np.zeros((0, self._model.get_sentence_embedding_dimension()), np.float32)
        return np.concatenate(out).astype(np.float32)
