"""Text to token ids with the model's own tokenizer.json, read by our own WordPiece
(`_wordpiece`), not by the installed `tokenizers` package.

The tokenizer's JSON is part of the model file and of its root, so the vocabulary and every flag
of its rules are fixed by the model; `_wordpiece` is the one reading of those rules, and
`tests/engine/test_tokenize.py` pins the ids of a hard set and checks them against `tokenizers`.
Stored padding and truncation settings are ignored: the engine pads itself and truncates to the
header's `max_tokens`, keeping [CLS] and [SEP].
"""

from aigora.engine._wordpiece import WordPieceTokenizer as TextTokenizer

__all__ = ["TextTokenizer"]
