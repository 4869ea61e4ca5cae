"""Snippets: the window of a section that best matches the query, HTML-escaped, matches wrapped in <mark>."""

from __future__ import annotations

import html
import re
from bisect import bisect_right

import numpy as np

SNIPPET_CHARS = 220
"""Long enough for two lines of a results page in either language."""

_SPACE = re.compile(r"\s+")
_OPEN, _CLOSE = "\ue000", "\ue001"

Span = tuple[int, int]


def snippet(text: str, matches: np.ndarray, *, width: int = SNIPPET_CHARS) -> str:
    """An HTML-safe excerpt of ``text`` around the densest cluster of ``matches``, whitespace squashed.

    ``matches`` are the character spans (one ``[start, end)`` row each) of the text's terms that the
    query asked for, taken by the caller from the analysis kept at indexing, so highlighting compares
    analysed terms without analysing the text again: "passwords" is marked for a query of
    "password", Japanese morpheme by morpheme. With no match (a purely semantic hit) the excerpt is
    the start of the text.
    """
    found: list[Span] = [(start, end) for start, end in matches.tolist()]
    text = text.rstrip()
    start = _window_start(text, found, width)
    end = min(len(text), start + width)
    start, end = _snap_to_words(text, start, end)
    inside = [(s, e) for s, e in found if s >= start and e <= end]
    body = _mark(text, inside, start, end).strip()
    prefix = "… " if start > 0 else ""
    suffix = " …" if end < len(text) else ""
    return f"{prefix}{body}{suffix}"


def _window_start(text: str, matches: list[Span], width: int) -> int:
    """Start of the window holding the most matches, a little before the first of them."""
    if not matches or len(text) <= width:
        return 0
    starts = sorted(start for start, _ in matches)
    best_start, best_count = starts[0], 0
    for first, start in enumerate(starts):  # a window opening at each match; one bisection each
        count = bisect_right(starts, start + width) - first
        if count > best_count:
            best_start, best_count = start, count
    lead_in = width // 5
    return max(0, min(best_start - lead_in, len(text) - width))


def _snap_to_words(text: str, start: int, end: int) -> tuple[int, int]:
    """Move window edges to whitespace so no word is cut in half (text without spaces, like Japanese, stays)."""
    if start > 0:
        space = _SPACE.search(text, start, start + 20)
        start = space.end() if space else start
    if end < len(text):
        spaces = [m.start() for m in _SPACE.finditer(text, max(start, end - 20), end)]
        end = spaces[-1] if spaces else end
    return start, end


def _mark(text: str, spans: list[Span], start: int, end: int) -> str:
    """``text[start:end]`` with ``spans`` in <mark>, whitespace squashed and escaped in one pass.

    The marks go in as two private-use characters, which escaping leaves alone and no article needs
    (any in the text itself are dropped), then become the tags.
    """
    window = text[start:end]
    if _OPEN in window or _CLOSE in window:
        window = window.replace(_OPEN, " ").replace(_CLOSE, " ")  # one for one: the spans' offsets stay valid
    pieces: list[str] = []
    position = 0
    for span_start, span_end in _merged(spans):
        pieces += [window[position : span_start - start], _OPEN, window[span_start - start : span_end - start], _CLOSE]
        position = span_end - start
    pieces.append(window[position:])
    squashed = " ".join("".join(pieces).split())  # split() and not a regex: 4× faster on a window of prose
    return html.escape(squashed).replace(_OPEN, "<mark>").replace(_CLOSE, "</mark>")


def _merged(spans: list[Span]) -> list[Span]:
    """Overlapping or touching matches as one span: Japanese bigrams overlap, and one <mark> reads better."""
    merged: list[Span] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged
