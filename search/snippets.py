"""Snippets: the window of a section that best matches the query, HTML-escaped, matches wrapped in <mark>."""

from __future__ import annotations

import html
from bisect import bisect_right

from search.analyze import Matcher, Token

SNIPPET_CHARS = 220
"""Long enough for two lines of a results page in either language."""


def snippet(text: str, matcher: Matcher, *, width: int = SNIPPET_CHARS) -> str:
    """An HTML-safe excerpt of ``text`` around the densest cluster of the query's terms.

    Highlighting compares analysed terms, so "passwords" in the text is marked for a query of
    "password", and Japanese is matched morpheme by morpheme. With no match (a purely semantic hit)
    the excerpt is the start of the text.
    """
    flat = " ".join(text.split())
    matches = matcher.find(flat)
    start = _window_start(flat, matches, width)
    end = min(len(flat), start + width)
    start, end = _snap_to_words(flat, start, end)
    inside = [token for token in matches if token.start >= start and token.end <= end]
    body = _mark(flat, inside, start, end)
    prefix = "… " if start > 0 else ""
    suffix = " …" if end < len(flat) else ""
    return f"{prefix}{body}{suffix}"


def _window_start(text: str, matches: list[Token], width: int) -> int:
    """Start of the window holding the most matches, a little before the first of them."""
    if not matches or len(text) <= width:
        return 0
    starts = sorted(token.start for token in matches)
    best_start, best_count = starts[0], 0
    for first, start in enumerate(starts):  # a window opening at each match; one bisection each
        count = bisect_right(starts, start + width) - first
        if count > best_count:
            best_start, best_count = start, count
    lead_in = width // 5
    return max(0, min(best_start - lead_in, len(text) - width))


def _snap_to_words(text: str, start: int, end: int) -> tuple[int, int]:
    """Move window edges to spaces so no word is cut in half (text without spaces, like Japanese, stays)."""
    if start > 0:
        space = text.find(" ", start, start + 20)
        start = space + 1 if space != -1 else start
    if end < len(text):
        space = text.rfind(" ", max(start, end - 20), end)
        end = space if space != -1 else end
    return start, end


def _mark(text: str, tokens: list[Token], start: int, end: int) -> str:
    parts: list[str] = []
    position = start
    for span_start, span_end in _merged(tokens):
        parts.append(html.escape(text[position:span_start]))
        parts.append(f"<mark>{html.escape(text[span_start:span_end])}</mark>")
        position = span_end
    parts.append(html.escape(text[position:end]))
    return "".join(parts)


def _merged(tokens: list[Token]) -> list[tuple[int, int]]:
    """Overlapping or touching matches as one span: Japanese bigrams overlap, and one <mark> reads better."""
    spans: list[tuple[int, int]] = []
    for token in sorted(tokens, key=lambda t: t.start):
        if spans and token.start <= spans[-1][1]:
            spans[-1] = (spans[-1][0], max(spans[-1][1], token.end))
        else:
            spans.append((token.start, token.end))
    return spans
