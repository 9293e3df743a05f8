"""BERT's tokenizer, written out: text to token ids by the rules the model's tokenizer.json names,
with no dependency on the installed `tokenizers` package.

The model file carries its tokenizer.json (so the model root commits to the vocabulary and to
every flag below); this module is the one reading of those rules, checked against the
`tokenizers` package on a hard set and on thousands of real texts (`tests/engine/test_tokenize.py`).
In the order they apply, as in tokenizers' `BertNormalizer`, `BertPreTokenizer`, `WordPiece` and
`TemplateProcessing`:

1. Added tokens ([PAD], [UNK], [CLS], [SEP], [MASK]) written in the text are matched first, on the
   raw text, longest first, and stand for their own ids.
2. `clean_text`: NUL, U+FFFD and every "other" character (categories Cc, Cf, Co, Cs; not Cn)
   except tab, newline and carriage return are dropped; Unicode White_Space becomes a space.
3. `handle_chinese_chars`: each CJK ideograph gets a space on either side.
4. `strip_accents` (defaults to `lowercase`): NFD, then nonspacing marks (Mn) dropped.
5. `lowercase`: each character on its own (no final-sigma rule: "Σ" is always "σ").
6. Pre-tokenize: split on White_Space (dropped) and around punctuation (ASCII punctuation, and
   Unicode categories P*), each punctuation character a word of its own.
7. WordPiece: a word longer than `max_input_chars_per_word` characters is [UNK]; otherwise the
   longest vocabulary prefix, then the longest `##`-prefixed piece from there, and so on; a
   word with any piece missing is one [UNK].
8. `[CLS] ids [SEP]`, the ids cut to `max_tokens - 2`.

Unicode data comes from Python's `unicodedata` (`UNICODE_VERSION`). A character assigned after
that version is unassigned (Cn) here: kept in its word like any letter, so it differs from a
newer Unicode only where the new character is punctuation, space, a nonspacing mark, CJK or
cased.
"""

import json
import unicodedata
from functools import lru_cache

import numpy as np

UNICODE_VERSION = unicodedata.unidata_version
WHITE_SPACE = frozenset(
    "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
    "\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
"""Unicode's White_Space property (PropList.txt), which Rust's `char::is_whitespace` follows;
Python's `str.isspace` differs (it counts U+001C to U+001F)."""
CJK_RANGES = (
    (0x4E00, 0x9FFF),
    (0x3400, 0x4DBF),
    (0x20000, 0x2A6DF),
    (0x2A700, 0x2B73F),
    (0x2B740, 0x2B81F),
    (0x2B820, 0x2CEAF),
    (0xF900, 0xFAFF),
    (0x2F800, 0x2FA1F),
)
ASCII_PUNCTUATION = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")


class TokenizerSpecError(ValueError):
    """The model's tokenizer.json names rules this reading does not implement."""


OTHER = frozenset({"Cc", "Cf", "Co", "Cs"})
"""The categories `clean_text` drops: tokenizers' `is_other` (control, format, private use,
surrogate), which leaves unassigned code points (Cn) in place."""


def is_other(ch: str) -> bool:
    return unicodedata.category(ch) in OTHER


def is_cjk(ch: str) -> bool:
    code = ord(ch)
    return any(low <= code <= high for low, high in CJK_RANGES)


def is_punctuation(ch: str) -> bool:
    return ch in ASCII_PUNCTUATION or unicodedata.category(ch).startswith("P")


def clean_text(text: str) -> str:
    kept = (
        ch for ch in text if ch in "\t\n\r" or not (ch == "\x00" or ch == "\ufffd" or is_other(ch))
    )
    return "".join(" " if ch in WHITE_SPACE else ch for ch in kept)


def pad_chinese(text: str) -> str:
    return "".join(f" {ch} " if is_cjk(ch) else ch for ch in text)


def strip_accents(text: str) -> str:
    return "".join(
        ch for ch in unicodedata.normalize("NFD", text) if unicodedata.category(ch) != "Mn"
    )


def lowercase(text: str) -> str:
    return "".join(ch.lower() for ch in text)


def pre_tokenize(text: str) -> list[str]:
    words: list[str] = []
    current: list[str] = []
    for ch in text:
        if ch in WHITE_SPACE or is_punctuation(ch):
            if current:
                words.append("".join(current))
                current = []
            if ch not in WHITE_SPACE:
                words.append(ch)
        else:
            current.append(ch)
    if current:
        words.append("".join(current))
    return words


class WordPieceTokenizer:
    """Text -> int64 ids by the rules of one tokenizer.json (BERT's: see the module docstring)."""

    def __init__(self, tokenizer_json: bytes, max_tokens: int) -> None:
        spec = json.loads(tokenizer_json.decode("utf-8"))
        normalizer, model = spec.get("normalizer") or {}, spec.get("model") or {}
        if normalizer.get("type") != "BertNormalizer":
            raise TokenizerSpecError(f"normalizer {normalizer.get('type')!r} is not BertNormalizer")
        if (spec.get("pre_tokenizer") or {}).get("type") != "BertPreTokenizer":
            raise TokenizerSpecError("the pre-tokenizer is not BertPreTokenizer")
        if model.get("type") != "WordPiece":
            raise TokenizerSpecError(f"model {model.get('type')!r} is not WordPiece")
        self.clean = bool(normalizer.get("clean_text", True))
        self.chinese = bool(normalizer.get("handle_chinese_chars", True))
        self.lower = bool(normalizer.get("lowercase", True))
        accents = normalizer.get("strip_accents")
        self.accents = self.lower if accents is None else bool(accents)
        self.vocab: dict[str, int] = model["vocab"]
        self.prefix: str = model.get("continuing_subword_prefix", "##")
        self.max_chars: int = int(model.get("max_input_chars_per_word", 100))
        self.unk = self.vocab[model.get("unk_token", "[UNK]")]
        self.cls, self.sep = self.vocab["[CLS]"], self.vocab["[SEP]"]
        added = [t for t in spec.get("added_tokens", []) if not t.get("normalized", False)]
        self.added = {t["content"]: int(t["id"]) for t in added}
        self._added_by_length = sorted(self.added, key=len, reverse=True)
        self.max_tokens = max_tokens
        self._by_id = {i: token for token, i in self.vocab.items()}

    def normalize(self, text: str) -> str:
        if self.clean:
            text = clean_text(text)
        if self.chinese:
            text = pad_chinese(text)
        if self.accents:
            text = strip_accents(text)
        if self.lower:
            text = lowercase(text)
        return text

    def _split_added(self, text: str) -> list[tuple[str, int | None]]:
        """The text cut around added tokens written in it: (piece, its id or None)."""
        pieces: list[tuple[str, int | None]] = []
        start = plain = 0
        while start < len(text):
            match = next((a for a in self._added_by_length if text.startswith(a, start)), None)
            if match is None:
                start += 1
                continue
            if plain < start:
                pieces.append((text[plain:start], None))
            pieces.append((match, self.added[match]))
            start = plain = start + len(match)
        if plain < len(text):
            pieces.append((text[plain:], None))
        return pieces

    def word_ids(self, word: str) -> list[int]:
        return list(_word_pieces(self, word))

    def ids(self, text: str) -> list[int]:
        out: list[int] = []
        for piece, added in self._split_added(text):
            if added is not None:
                out.append(added)
                continue
            for word in pre_tokenize(self.normalize(piece)):
                out.extend(self.word_ids(word))
        return out

    def encode(self, texts: list[str]) -> list[np.ndarray]:
        """One int64 id array per text, [CLS] ... [SEP], at most `max_tokens` long."""
        keep = self.max_tokens - 2
        return [
            np.asarray([self.cls, *self.ids(t)[:keep], self.sep], dtype=np.int64) for t in texts
        ]

    def token(self, token_id: int) -> str | None:
        """The vocabulary entry of `token_id` (e.g. `##car`), None when it has none."""
        return self._by_id.get(token_id)

    def __hash__(self) -> int:
        return id(self)


@lru_cache(maxsize=65536)
def _word_pieces(tokenizer: WordPieceTokenizer, word: str) -> tuple[int, ...]:
    """Greedy longest-match-first WordPiece of one word (cached: words repeat)."""
    if len(word) > tokenizer.max_chars:
        return (tokenizer.unk,)
    vocab, ids, start = tokenizer.vocab, [], 0
    while start < len(word):
        end = len(word)
        found = None
        while start < end:
            piece = word[start:end] if start == 0 else tokenizer.prefix + word[start:end]
            if piece in vocab:
                found = vocab[piece]
                break
            end -= 1
        if found is None:
            return (tokenizer.unk,)
        ids.append(found)
        start = end
    return tuple(ids)
