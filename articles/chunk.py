"""Sections to chunks that fit the embedding model's window, split with overlap only when too long."""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Callable
from dataclasses import dataclass

from articles.model import Article, Chunk, Section

TokenCounter = Callable[[str], int]
Span = tuple[int, int]

_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f\uac00-\ud7af"
_TOKEN = re.compile(rf"[{_CJK}]|(?:(?![{_CJK}])\w)+|[^\w\s]")
_BLANK_LINES = re.compile(r"\n[ \t]*\n\s*")
# A sentence runs to its end mark (with closing quotes or brackets) or to the end of its line:
# list items and table cells are lines without full stops.
_SENTENCE = re.compile(r"[^\s].*?(?:[.!?](?=\s)|[。！？]+[」』）)\"']*|(?=\n)|\Z)", re.DOTALL)
_HARD_UNIT = re.compile(rf"[{_CJK}]|[^\s{_CJK}]+")
_CHARACTER = re.compile(r".", re.DOTALL)
_SPLITTERS = (_SENTENCE, _HARD_UNIT, _CHARACTER)


def approximate_tokens(text: str) -> int:
    """Words + CJK characters + punctuation marks: a cheap stand-in when no tokenizer is given.

    Subword tokenizers never give fewer tokens than this on English, so windows sized by it are
    rarely too long by much; the search layer passes the model's real count.
    """
    return len(_TOKEN.findall(text))


@dataclass(frozen=True)
class _Window:
    """What splitting one section needs: how to build its chunk, and whether a text still fits."""

    make: Callable[[str], Chunk]
    count_tokens: TokenCounter
    max_tokens: int
    overlap_tokens: int

    def fits(self, text: str) -> bool:
        return self.count_tokens(self.make(text).embed_text) <= self.max_tokens


def chunk_article(
    article: Article,
    *,
    max_tokens: int = 256,
    overlap_tokens: int = 32,
    count_tokens: TokenCounter = approximate_tokens,
) -> list[Chunk]:
    """One chunk per non-empty section; a section longer than ``max_tokens`` becomes overlapping windows.

    Tokens are counted on the chunk's ``embed_text`` (title and heading path included), because that
    is what the model truncates. An article without any text still gets one chunk, its title, so it
    can be found.
    """
    if not 0 <= overlap_tokens < max_tokens:
        raise ValueError(f"need 0 <= overlap_tokens < max_tokens, got {overlap_tokens} and {max_tokens}")
    chunks = [
        chunk
        for section in article.sections
        if section.text.strip()
        for chunk in _chunk_section(article, section, max_tokens, overlap_tokens, count_tokens)
    ]
    return chunks or [_chunk(article, Section(anchor="", heading_path=(), text=""), "")]


def _chunk(article: Article, section: Section, text: str) -> Chunk:
    return Chunk(
        article_id=article.id,
        locale=article.locale,
        anchor=section.anchor,
        heading_path=section.heading_path,
        text=text,
        title=article.title,
        revision=article.revision,
    )


def _chunk_section(
    article: Article, section: Section, max_tokens: int, overlap_tokens: int, count_tokens: TokenCounter
) -> list[Chunk]:
    window = _Window(lambda text: _chunk(article, section, text), count_tokens, max_tokens, overlap_tokens)
    text = section.text.strip()
    if window.fits(text):
        return [window.make(text)]
    return [window.make(text[start:end].strip()) for start, end in _windows(window, text)]


def _windows(window: _Window, text: str) -> list[Span]:
    """Greedy windows over the pieces, each next one starting up to ``overlap_tokens`` back."""
    pieces = [piece for paragraph in _paragraphs(text) for piece in _split(window, text, paragraph)]
    overlap_starts = sorted({start for start, _ in pieces} | {m.start() for m in _SENTENCE.finditer(text)})
    spans: list[Span] = []
    start, index = pieces[0][0], 0
    while index < len(pieces):
        last = _furthest_fit(window, text, start, pieces, index)
        spans.append((start, pieces[last][1]))
        index = last + 1
        if index < len(pieces):
            start = _overlap_start(window, text, overlap_starts, spans[-1], pieces[index])
    return spans


def _furthest_fit(window: _Window, text: str, start: int, pieces: list[Span], first: int) -> int:
    """Index of the last piece that still fits after ``start``; binary search, as counts only grow.

    At least ``first`` itself, so a piece that cannot fit even alone (under a huge title) moves on.
    """
    low, high = first, len(pieces) - 1
    while low < high:
        middle = (low + high + 1) // 2
        if window.fits(text[start : pieces[middle][1]]):
            low = middle
        else:
            high = middle - 1
    return low


def _overlap_start(window: _Window, text: str, candidates: list[int], previous: Span, following: Span) -> int:
    """The earliest sentence or piece start in the previous window's last ``overlap_tokens``.

    It must lie after the previous window's start (so windows move on) and leave room for the
    following piece; when nothing qualifies (whole paragraphs that fill the window) the next window
    simply starts at that piece: a paragraph break needs no overlap to keep its context.
    """
    best = following[0]
    for candidate in reversed(candidates[: bisect_left(candidates, following[0])]):
        if candidate <= previous[0] or window.count_tokens(text[candidate : previous[1]]) > window.overlap_tokens:
            break
        if not window.fits(text[candidate : following[1]]):
            break
        best = candidate
    return best


def _paragraphs(text: str) -> list[Span]:
    spans, start = [], 0
    for gap in _BLANK_LINES.finditer(text):
        spans.append((start, gap.start()))
        start = gap.end()
    spans.append((start, len(text)))
    return [(start, end) for start, end in spans if text[start:end].strip()]


def _split(window: _Window, text: str, span: Span, level: int = 0) -> list[Span]:
    """A span that fits as it is, else its sentences, else its words, else its characters."""
    if level == len(_SPLITTERS) or window.fits(text[span[0] : span[1]]):
        return [span]
    offset = span[0]
    parts = [(offset + m.start(), offset + m.end()) for m in _SPLITTERS[level].finditer(text[span[0] : span[1]])]
    return [piece for part in parts for piece in _split(window, text, part, level + 1)]
