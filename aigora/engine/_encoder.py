"""`Encoder`: sentences in, int8 embeddings out, on either backend, with optional traces."""

import os
from collections.abc import Callable, Sequence
from typing import Literal

import numpy as np

from aigora.engine import _numpy
from aigora.engine._errors import EngineError
from aigora.engine._model import IntModel
from aigora.engine._tokenize import TextTokenizer
from aigora.engine._trace import TOKENS_OP, Recorder, Trace

Backend = Literal["torch", "numpy"]
BACKENDS: tuple[str, ...] = ("torch", "numpy")


class Encoder:
    """Runs an `IntModel` on the torch (fast) or numpy (reference) backend.

    Outputs are bit-identical across backends, thread counts, devices, batch sizes, padding and
    sentence order: each sentence's embedding depends only on its own tokens and the model.
    `threads` sets torch's intra-op thread count (process-wide, as torch has only one);
    `compile=False` skips torch.compile (same results, slower, no C++ compiler needed).
    """

    def __init__(
        self,
        model: IntModel,
        backend: str = "torch",
        threads: int | None = None,
        device: str = "cpu",
        compile: bool = True,
    ) -> None:
        if backend not in BACKENDS:
            raise EngineError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
        if threads is not None and threads < 1:
            raise EngineError(f"threads must be at least 1, got {threads}")
        self.model = model
        self.backend = backend
        self.dim = int(model.header["hidden"])
        self._tokenizer = TextTokenizer(model.tokenizer_json, int(model.header["max_tokens"]))
        if backend == "torch":
            import torch

            from aigora.engine._torch import TorchBackend

            if threads is not None:
                torch.set_num_threads(threads)
            try:
                self._torch = TorchBackend(model.tensors, model.header, device, compile)
            except RuntimeError as exc:
                raise EngineError(f"cannot use device {device!r}: {exc}") from exc
        elif device != "cpu":
            raise EngineError("the numpy backend runs on the CPU only")

    def tokenize(self, sentences: Sequence[str]) -> list[np.ndarray]:
        """Token ids per sentence, [CLS] ... [SEP], truncated to the model's max_tokens."""
        return self._tokenizer.encode(list(sentences))

    def token(self, token_id: int) -> str | None:
        """The tokenizer's vocabulary entry for `token_id`, None when it has none."""
        return self._tokenizer.token(token_id)

    def token_count(self, text: str) -> int:
        """How many tokens `text` is, untruncated and without [CLS] and [SEP]."""
        return len(self._tokenizer.ids(text))

    @property
    def passage_tokens(self) -> int:
        """The model's passage rule: at most this many tokens a passage ([CLS], [SEP] included)."""
        return int(self.model.header["passage_tokens"])

    @property
    def passage_overlap(self) -> int:
        """The model's passage rule: whole sentences of up to this many tokens overlap."""
        return int(self.model.header["passage_overlap"])

    def _forward(self, ids: np.ndarray, lengths: np.ndarray, record=None) -> np.ndarray:
        if self.backend == "torch":
            return self._torch.forward(ids, lengths, record)
        return _numpy.forward(self.model.tensors, self.model.header, ids, lengths, record)

    def _batches(self, ids: list[np.ndarray], batch_size: int):
        """Batches of similar length (sorted, stable), each padded to its longest sentence."""
        if batch_size < 1:
            raise EngineError(f"batch size must be at least 1, got {batch_size}")
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        for start in range(0, len(order), batch_size):
            index = order[start : start + batch_size]
            lengths = np.array([len(ids[i]) for i in index], dtype=np.int64)
            batch = np.zeros((len(index), int(lengths.max())), dtype=np.int64)
            for row, i in enumerate(index):
                batch[row, : lengths[row]] = ids[i]
            yield index, batch, lengths

    def embed(
        self,
        sentences: Sequence[str],
        batch_size: int = 32,
        progress: Callable[[int], None] | None = None,
    ) -> np.ndarray:
        """int8 embeddings (n, dim) in input order; `progress(k)` is called after k more done."""
        if isinstance(sentences, str):
            raise EngineError("embed takes a list of sentences, not one string")
        ids = self.tokenize(sentences)
        out = np.zeros((len(ids), self.dim), dtype=np.int8)
        for index, batch, lengths in self._batches(ids, batch_size):
            out[index] = self._forward(batch, lengths)
            if progress is not None:
                progress(len(index))
        return out

    def embed_with_traces(
        self, sentences: Sequence[str], batch_size: int = 8
    ) -> tuple[np.ndarray, list[Trace]]:
        """Embeddings plus one `Trace` per sentence (eager execution; slower than `embed`)."""
        ids = self.tokenize(sentences)
        out = np.zeros((len(ids), self.dim), dtype=np.int8)
        traces: list[Trace | None] = [None] * len(ids)
        for index, batch, lengths in self._batches(ids, batch_size):
            recorder = Recorder()
            recorder(TOKENS_OP, np.asarray(batch), (1,))
            out[index] = self._forward(batch, lengths, recorder)
            for i, trace in zip(index, recorder.traces(lengths.tolist()), strict=True):
                traces[i] = trace
        return out, [t for t in traces if t is not None]

    def embed_with_trace(self, sentence: str) -> tuple[np.ndarray, Trace]:
        """One sentence's int8 embedding (dim,) and its execution trace."""
        out, traces = self.embed_with_traces([sentence], batch_size=1)
        return out[0], traces[0]


def default_cache_dir() -> str:
    """$AIGORA_CACHE/models, else ~/.cache/aigora/models."""
    base = os.environ.get("AIGORA_CACHE") or os.path.join(
        os.path.expanduser("~"), ".cache", "aigora"
    )
    return os.path.join(base, "models")
