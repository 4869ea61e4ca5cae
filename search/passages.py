"""Passages: the sentences of a section that hold what a query asked, for agents to paste and bots to quote.

A snippet is a window of characters cut for the eye; a passage is whole sentences, so it can be sent
or quoted as it stands. Sentences end at ``.`` ``!`` ``?`` followed by a space, at ``。`` ``！`` ``？``,
and at line breaks (list items, table rows). A sentence scores the inverse document frequency of each
distinct query word it holds (rare words tell more); the passage is the best sentence, widened by its
neighbours, the next one first, while it stays within ``max_chars``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from search.snapshot import Matches

PASSAGE_CHARS = 360
"""About two or three sentences of a help article: what an agent pastes into a reply."""

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[^\s])|(?<=[。！？])|\n+")


@dataclass(frozen=True)
class Passage:
    start: int
    end: int
    text: str
    matched: tuple[str, ...]
    """The query's words as the passage writes them, each once, in the order they first appear."""


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Every sentence's ``[start, end)`` in ``text``, surrounding whitespace excluded; none for blank text."""
    spans, start = [], 0
    for boundary in _SENTENCE_END.finditer(text):
        spans.append((start, boundary.start()))
        start = boundary.end()
    spans.append((start, len(text)))
    trimmed = []
    for start, end in spans:
        piece = text[start:end]
        left = len(piece) - len(piece.lstrip())
        right = len(piece.rstrip())
        if right > left:
            trimmed.append((start + left, start + right))
    return trimmed


def best_passage(text: str, matches: Matches, *, max_chars: int = PASSAGE_CHARS) -> Passage:
    """The sentences of ``text`` that hold the most of the query's weight, widened to ``max_chars``.

    Without a match (a purely semantic hit) the passage is the text's opening, which in a help article
    says what the section is about.
    """
    sentences = sentence_spans(text) or [(0, len(text))]
    scores = sentence_weights(matches, sentences)
    best = int(np.argmax(scores)) if scores.any() else 0
    first = last = best
    while True:
        after = sentences[last + 1][1] - sentences[first][0] if last + 1 < len(sentences) else None
        before = sentences[last][1] - sentences[first - 1][0] if first > 0 else None
        if after is not None and after <= max_chars:
            last += 1
        elif before is not None and before <= max_chars:
            first -= 1
        else:
            break
    start, end = sentences[first][0], sentences[last][1]
    if end - start > max_chars:  # one sentence longer than a passage: cut at a word
        cut = text.rfind(" ", start, start + max_chars)
        end = cut if cut > start else start + max_chars
    inside = [(s, e) for s, e in matches.spans.tolist() if start <= s and e <= end]
    words = tuple(dict.fromkeys(text[s:e] for s, e in sorted(inside)))
    return Passage(start=start, end=end, text=text[start:end], matched=words)


def sentence_weights(matches: Matches, sentences: list[tuple[int, int]]) -> np.ndarray:
    """:func:`weight_within` of every sentence (sorted, not overlapping) at once: a section has tens of them."""
    weights = np.zeros(len(sentences))
    if not len(matches.spans):
        return weights
    starts, ends = np.array(sentences).T
    sentence = np.searchsorted(starts, matches.spans[:, 0], side="right") - 1
    inside = (sentence >= 0) & (matches.spans[:, 1] <= ends[np.maximum(sentence, 0)])
    pairs = sentence[inside].astype(np.int64) * (int(matches.term_ids.max()) + 1) + matches.term_ids[inside]
    _, first = np.unique(pairs, return_index=True)  # each word once per sentence
    np.add.at(weights, sentence[inside][first], matches.idf[inside][first])
    return weights


def weight_within(matches: Matches, start: int, end: int) -> float:
    """The IDF of the distinct query words inside ``[start, end)``: how much of the query a stretch of text holds."""
    inside = (matches.spans[:, 0] >= start) & (matches.spans[:, 1] <= end) if len(matches.spans) else np.zeros(0, dtype=bool)
    _, first = np.unique(matches.term_ids[inside], return_index=True)
    return float(matches.idf[inside][first].sum())
