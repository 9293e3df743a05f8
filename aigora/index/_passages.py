"""Documents as passages: the text a published body contributes, and the one rule that cuts it.

A passage is identified by (document CID, passage index, character span): the span is a pair of
offsets (Python string indices, i.e. Unicode code points) into the document's text as
`document_text` reads it, and the passage's text is exactly `text[start:end]`. Its 32-byte key,
what snapshots, receipts and the disputes contract hold, is

    passage_key = keccak256(abi.encode(cidDigest, index, start, end))     (bytes32, 3 x uint256)

so a key names one place in one document, and two documents never share one.

**The text of a body** (`document_text`), by media type:
- `text/html`, `application/xhtml+xml`: the visible text. Markup, comments and the content of
  `head`, `script`, `style`, `template`, `noscript` and `svg` are dropped; character references
  are decoded; inside a block, runs of whitespace become one space; a block element (`p`, `div`,
  `h1`..`h6`, `li`, `tr`, ...) or a `br` ends a paragraph (a blank line between).
- any other `text/*` (plain text, Markdown, CSV, ...) and `application/json`: the body as UTF-8
  (a leading byte-order mark dropped). Markdown is read as written: its syntax is few tokens, and
  the span then points into the very text a reader of the document sees.
- anything else (PDF, images, ...) has no text here and is skipped with the reason.

**The rule** (`split_passages`), with `N` = the model header's `passage_tokens` and `O` its
`passage_overlap` (the model root commits to both, as to the tokenizer):
1. Units: the text is cut after each sentence end (`.`, `!`, `?`, `…`, then any closing quotes
   or brackets, then whitespace), at each blank line, and after each `。！？`. Each unit is
   trimmed of whitespace; empty ones are dropped.
2. A unit of more than `B = N - 2` tokens (room for [CLS] and [SEP]) is cut at whitespace into
   runs of words, each the longest that stays within `B`. A single word over `B` tokens stays a
   unit of its own (the engine reads its first `B` tokens).
3. Windows: starting at unit 0, a passage takes the most consecutive units whose tokens sum to at
   most `B`. The next passage starts at the last units of the previous one whose tokens sum to at
   most `O`, but always at least one unit after the previous start, so the rule ends.
The passage's span runs from its first unit's start to its last unit's end.

**Why a passage is read whole.** Every cut is at a character the tokenizer splits words at
(whitespace, sentence punctuation), so the words of a window are the words of its units, and its
token count is the sum of theirs (at most that sum, where added tokens such as `[MASK]` join
pieces): at most `B`, so the engine truncates nothing but such over-long words. Only the chosen
whitespace characters cut (those BERT also counts as whitespace: space, tab, line breaks and the
`Zs` spaces), never a control character the tokenizer deletes, which would join two words.

Whitespace and case never move a cut: they do not change token counts (the tokenizer splits on
any whitespace and lowercases), and a unit boundary needs only *some* whitespace. So a copy that
differs from its original in layout or case has the same passages, token for token.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from html.parser import HTMLParser
from typing import Any

from aigora.core.cid import digest_of
from aigora.core.errors import AigoraError
from aigora.core.hashing import keccak

TEXT_MEDIA_TYPES = ("text/", "application/json")
HTML_MEDIA_TYPES = ("text/html", "application/xhtml+xml")
MAX_SPAN = 2**32 - 1
"""Spans are offsets below 2**32: a body is far smaller (the content size limit)."""

_SPACE = " \t\n\r\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000"
_UNIT_CUT = re.compile(
    rf"(?<=[.!?\u2026])[\"'\u201d\u2019\u00bb)\]]*(?P<gap>[{_SPACE}]+)"  # sentence end, space
    rf"|\n[{_SPACE}]*\n"  # a blank line
    r"|(?<=[\u3002\uff01\uff1f])"  # after 。！？, whitespace or not
)
_WORD = re.compile(rf"[^{_SPACE}]+")
_TRIM = re.compile(rf"[^{_SPACE}]")


class PassageError(AigoraError):
    """A passage rule or a passage reference that cannot be right."""


@dataclass(frozen=True)
class PassageRef:
    """One passage: its document's `cid`, its `index` among the document's passages and its
    character span `[start, end)` in the document's text."""

    cid: str
    index: int
    start: int
    end: int

    def __post_init__(self) -> None:
        if not 0 <= self.index <= MAX_SPAN or not 0 <= self.start <= self.end <= MAX_SPAN:
            raise PassageError(
                f"passage {self.index} span [{self.start}, {self.end}) is not a valid span"
            )

    @cached_property
    def key(self) -> bytes:
        """keccak256(abi.encode(cidDigest, index, start, end)): the passage's 32-byte name."""
        return passage_key(digest_of(self.cid), self.index, self.start, self.end)

    @property
    def id(self) -> str:
        """`CID#index`: how people and URLs name a passage."""
        return f"{self.cid}#{self.index}"

    @classmethod
    def whole(cls, cid: str) -> "PassageRef":
        """A document taken as one passage whose span is not known (raw vectors, in tests and
        benchmarks that have no text)."""
        return cls(cid, 0, 0, 0)


def passage_key(cid_digest: bytes, index: int, start: int, end: int) -> bytes:
    return keccak(
        cid_digest + index.to_bytes(32, "big") + start.to_bytes(32, "big") + end.to_bytes(32, "big")
    )


@dataclass(frozen=True)
class Span:
    start: int
    end: int


@dataclass(frozen=True)
class PassageRule:
    """`tokens` (N) and `overlap` (O) of the rule above; the model header records both."""

    tokens: int
    overlap: int

    def __post_init__(self) -> None:
        if self.tokens < 3:
            raise PassageError(f"a passage needs room for at least one token, got {self.tokens}")
        if not 0 <= self.overlap < self.tokens - 2:
            raise PassageError(f"overlap {self.overlap} must be below {self.tokens - 2} tokens")

    @property
    def budget(self) -> int:
        return self.tokens - 2

    @classmethod
    def of(cls, model: Any) -> "PassageRule":
        """The rule a model records (an `aigora.engine.Encoder`'s `passage_tokens` and
        `passage_overlap`, from its header)."""
        return cls(int(model.passage_tokens), int(model.passage_overlap))


# -- the text of a body -------------------------------------------------------------------------


_SKIP = frozenset({"head", "script", "style", "template", "noscript", "svg", "title"})
_BLOCKS = frozenset(
    {
        *("address", "article", "aside", "blockquote", "body", "br", "caption", "dd"),
        *("details", "dialog", "div", "dl", "dt", "fieldset", "figcaption", "figure"),
        *("footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "html"),
        *("li", "main", "nav", "ol", "p", "pre", "section", "summary", "table", "tbody"),
        *("td", "tfoot", "th", "thead", "tr", "ul"),
    }
)
_RUN = re.compile(rf"[{_SPACE}]+")


class _VisibleText(HTMLParser):
    """The visible text of an HTML document as paragraphs (see the module docstring)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.paragraphs: list[str] = []
        self.current: list[str] = []
        self.hidden = 0

    def _end_paragraph(self) -> None:
        text = _RUN.sub(" ", "".join(self.current)).strip()
        if text:
            self.paragraphs.append(text)
        self.current = []

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag in _SKIP:
            self.hidden += 1
        elif tag in _BLOCKS:
            self._end_paragraph()

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self.hidden = max(0, self.hidden - 1)
        elif tag in _BLOCKS:
            self._end_paragraph()

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.current.append(data)


def html_text(html: str) -> str:
    parser = _VisibleText()
    parser.feed(html)
    parser.close()
    parser._end_paragraph()
    return "\n\n".join(parser.paragraphs)


def document_text(body: bytes, media_type: str) -> str | None:
    """The text a body contributes (spans index it), or None when it is not text."""
    media = media_type.split(";")[0].strip().lower()
    if not media.startswith(TEXT_MEDIA_TYPES):
        return None
    try:
        text = body.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError:
        return None
    if media.startswith(HTML_MEDIA_TYPES):
        text = html_text(text)
    return text if text.strip() else None


# -- the rule -------------------------------------------------------------------------------------


def _trimmed(text: str, start: int, end: int) -> Span | None:
    first = _TRIM.search(text, start, end)
    if first is None:
        return None
    last = end
    while text[last - 1] in _SPACE_CHARS:
        last -= 1
    return Span(first.start(), last)


_SPACE_CHARS = frozenset(
    " \t\n\r\u00a0\u1680\u202f\u205f\u3000" + "".join(chr(c) for c in range(0x2000, 0x200B))
)


def sentence_units(text: str) -> list[Span]:
    """Step 1: the trimmed, non-empty pieces between sentence ends and blank lines."""
    units, start = [], 0
    for cut in _UNIT_CUT.finditer(text):
        end = cut.start("gap") if cut.group("gap") is not None else cut.start()
        span = _trimmed(text, start, end)
        if span is not None:
            units.append(span)
        start = cut.end()
    span = _trimmed(text, start, len(text))
    if span is not None:
        units.append(span)
    return units


def _fit(text: str, unit: Span, count: Callable[[str], int], budget: int) -> list[tuple[Span, int]]:
    """Step 2: a unit as runs of whole words of at most `budget` tokens each (with counts)."""
    n = count(text[unit.start : unit.end])
    if n <= budget:
        return [(unit, n)]
    pieces: list[tuple[Span, int]] = []
    run_start = run_end = None
    run_tokens = 0
    for word in _WORD.finditer(text, unit.start, unit.end):
        w = count(word.group())
        if run_start is not None and run_tokens + w > budget:
            pieces.append((Span(run_start, run_end), run_tokens))
            run_start = None
        if run_start is None:
            run_start, run_tokens = word.start(), 0
        run_end = word.end()
        run_tokens += w
    if run_start is not None:
        pieces.append((Span(run_start, run_end), run_tokens))
    return pieces


def split_passages(text: str, count: Callable[[str], int], rule: PassageRule) -> list[Span]:
    """The passages of `text` by the rule, in order; `count(s)` is the tokenizer's token count
    of `s` (untruncated, no [CLS]/[SEP])."""
    budget = rule.budget
    units = [piece for unit in sentence_units(text) for piece in _fit(text, unit, count, budget)]
    passages: list[Span] = []
    first = 0
    while first < len(units):
        last, total = first, 0
        while last < len(units) and (last == first or total + units[last][1] <= budget):
            total += units[last][1]
            last += 1
        passages.append(Span(units[first][0].start, units[last - 1][0].end))
        if last == len(units):
            break
        nxt, shared = last, 0
        while nxt - 1 > first and shared + units[nxt - 1][1] <= rule.overlap:
            shared += units[nxt - 1][1]
            nxt -= 1
        first = nxt
    return passages


def passages_of(
    cid: str, text: str, count: Callable[[str], int], rule: PassageRule
) -> list[PassageRef]:
    """The passages of document `cid` whose text is `text`."""
    return [
        PassageRef(cid, i, span.start, span.end)
        for i, span in enumerate(split_passages(text, count, rule))
    ]
