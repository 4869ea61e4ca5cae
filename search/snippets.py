"""Snippets: the window of a section that best matches the query, HTML-escaped, matches wrapped in <mark>."""

from __future__ import annotations

import html
import re
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

SNIPPET_CHARS = 220
"""Long enough for two lines of a results page in either language."""

WORD_SNAP_CHARS = 20
"""How far a window edge may move to reach whitespace, so that no word is cut in half."""

_SPACE = re.compile(r"\s+")
_ESCAPED = re.compile(r"[&<>\"']")

Span = tuple[int, int]


@dataclass(frozen=True)
class Marks:
    """Which of a chunk's text terms a query marks, by term id: its words wherever they stand, and a
    Japanese character pair only inside one of its words spelled out in full.

    パスワード is marked in パスワード and in パスワードリセット; ワー and ード, its pairs, are not marked in
    ワークスペース or コード. A compound the text's words split otherwise (the query word written inside a
    longer word) is marked through its pairs, all of them in a row.
    """

    words: np.ndarray
    """A mask over the index's term ids: terms marked wherever they stand (the query's content terms but its pairs)."""
    firsts: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    """A mask over term ids: the pairs a spelling begins with."""
    spellings: Mapping[int, tuple[tuple[int, ...], ...]] = field(default_factory=dict)
    """Each Japanese content word as the ids of its pairs, in order, by the id of its first pair."""

    def select(self, ids: np.ndarray, spans: np.ndarray) -> np.ndarray:
        """Which of a chunk's text terms (``ids``, with their ``spans``) to mark, as a boolean mask.

        A run's pairs stand in the token list in the order of the text (`search/analyze.py`), so a word
        spelled out is a row of its pairs' ids, each starting one character after the one before.
        """
        if not len(ids):
            return np.zeros(0, dtype=bool)
        keep = self.words[ids]
        if not self.spellings:
            return keep
        for row in np.flatnonzero(self.firsts[ids]).tolist():
            for spelling in self.spellings[int(ids[row])]:
                end = row + len(spelling)
                if tuple(ids[row:end].tolist()) == spelling and spans[end - 1, 0] - spans[row, 0] == len(spelling) - 1:
                    keep[row:end] = True
        return keep


class SnippetText:
    """A section's text made ready for snippets once, on its first hit, then excerpted per query.

    The text is escaped and its whitespace squashed as a whole, and ``_at`` keeps where each character
    landed in that rendering, so a snippet is slices of it with marks between: escaping and squashing
    every window anew took half of a snippet's 14 µs, ten times per search. Whitespace runs are kept
    too, for moving window edges to word boundaries without a regex per hit.
    """

    __slots__ = ("_at", "_rendered", "_run_ends", "_run_starts", "length")

    def __init__(self, text: str) -> None:
        text = text.rstrip()
        self.length = len(text)
        self._rendered = html.escape(" ".join(text.split()))
        runs = np.array([match.span() for match in _SPACE.finditer(text)], dtype=np.int32).reshape(-1, 2)
        # array and not numpy: indexing one gives a Python int at once, and bisect works on it.
        self._run_starts = array("i", runs[:, 0].tobytes())
        self._run_ends = array("i", runs[:, 1].tobytes())
        # How many characters each one becomes: a whitespace run one space (none at the start), an
        # escaped character its entity, anything else itself.
        opened = np.bincount(runs[:, 0] + (runs[:, 0] > 0), minlength=self.length + 1)
        closed = np.bincount(runs[:, 1], minlength=self.length + 1)
        widths = (np.cumsum(opened - closed)[:-1] == 0).astype(np.int32)
        for match in _ESCAPED.finditer(text):
            widths[match.start()] = len(html.escape(match.group()))
        self._at = array("i", np.concatenate(([0], np.cumsum(widths))).astype(np.int32).tobytes())

    def snippet(self, matches: np.ndarray, *, width: int = SNIPPET_CHARS) -> str:
        """An HTML-safe excerpt around the densest cluster of ``matches``, whitespace squashed.

        ``matches`` are the character spans (one ``[start, end)`` row each) of the text's terms that
        the query asked for, taken by the caller from the analysis kept at indexing, so highlighting
        compares analysed terms without analysing the text again: "passwords" is marked for a query
        of "password", Japanese morpheme by morpheme. With no match (a purely semantic hit) the
        excerpt is the start of the text.
        """
        found: list[list[int]] = matches.tolist()
        start = _window_start(self.length, [span_start for span_start, _ in found], width)
        start, end = self._snap_to_words(start, min(self.length, start + width))
        at, rendered = self._at, self._rendered
        pieces: list[str] = []
        position = at[start]
        for span_start, span_end in _merged([(s, e) for s, e in found if s >= start and e <= end]):
            pieces += [rendered[position : at[span_start]], "<mark>", rendered[at[span_start] : at[span_end]], "</mark>"]
            position = at[span_end]
        pieces.append(rendered[position : at[end]])
        body = "".join(pieces).strip()  # an edge moved into a long whitespace run keeps its space
        prefix = "… " if start > 0 else ""
        suffix = " …" if end < self.length else ""
        return f"{prefix}{body}{suffix}"

    def _snap_to_words(self, start: int, end: int) -> tuple[int, int]:
        """Move window edges past the nearest whitespace within reach (text without spaces, like Japanese, stays).

        The start moves to the end of the first whitespace run reaching into ``[start, start + 20)``;
        the end back to the start of the last run reaching into ``[end - 20, end)``.
        """
        if start > 0:
            run = bisect_right(self._run_ends, start)  # the first run ending after start
            if run < len(self._run_starts) and self._run_starts[run] < start + WORD_SNAP_CHARS:
                start = min(self._run_ends[run], start + WORD_SNAP_CHARS)
        if end < self.length:
            low = max(start, end - WORD_SNAP_CHARS)
            run = bisect_left(self._run_starts, end) - 1  # the last run starting before end
            if run >= 0 and self._run_ends[run] > low:
                end = max(self._run_starts[run], low)
        return start, end


def _window_start(length: int, starts: list[int], width: int) -> int:
    """Start of the window holding the most matches, a little before the first of them."""
    if not starts or length <= width:
        return 0
    starts = sorted(starts)
    best_start, best_count = starts[0], 0
    for first, start in enumerate(starts):  # a window opening at each match; one bisection each
        count = bisect_right(starts, start + width) - first
        if count > best_count:
            best_start, best_count = start, count
    lead_in = width // 5
    return max(0, min(best_start - lead_in, length - width))


def _merged(spans: list[Span]) -> list[Span]:
    """Overlapping or touching matches as one span: Japanese bigrams overlap, and one <mark> reads better."""
    merged: list[Span] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged
