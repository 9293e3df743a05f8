"""Text to token ids with the model's own tokenizer.json (the `tokenizers` package).

The tokenizer's JSON is part of the model file and of its root, so the ids are fixed by the
model. Stored padding and truncation settings are ignored: the engine pads itself and truncates
to the header's `max_tokens`, keeping [CLS] and [SEP].
"""

import numpy as np
from tokenizers import Tokenizer


class TextTokenizer:
    """Deterministic text -> int64 token ids, truncated to `max_tokens`."""

    def __init__(self, tokenizer_json: bytes, max_tokens: int) -> None:
        self._tokenizer = Tokenizer.from_str(tokenizer_json.decode("utf-8"))
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(max_length=max_tokens)
        self.max_tokens = max_tokens

    def encode(self, texts: list[str]) -> list[np.ndarray]:
        """One int64 id array per text, [CLS] ... [SEP], at most `max_tokens` long."""
        encodings = self._tokenizer.encode_batch(texts, add_special_tokens=True)
        return [np.asarray(e.ids, dtype=np.int64) for e in encodings]

    def token(self, token_id: int) -> str | None:
        """The vocabulary entry of `token_id` (e.g. `##car`), None when it has none."""
        return self._tokenizer.id_to_token(token_id) if 0 <= token_id < 2**32 else None
