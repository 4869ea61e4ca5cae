"""Which words of a chunk the lexical index sees, and how much each field weighs."""

from __future__ import annotations

from articles.model import Article, Chunk
from search.analyze import Analyzer

TITLE_WEIGHT = 2
"""The title's terms are repeated this many times (a cheap BM25F): a query naming an article's subject
should find it first even when a long section mentions the same words in passing. Twice was better than
once on all three English sets in ../shared/data with bm25s (BM25 over title + text); issue #3 tunes it
on kb's own pipeline."""


def chunk_terms(chunk: Chunk, article: Article, *, analyzer: Analyzer) -> tuple[str, ...]:
    """Title (boosted), heading path, keywords and tags, then the section text, as one token list."""
    title = analyzer.analyze(article.title) * TITLE_WEIGHT
    headings = analyzer.analyze(" ".join(chunk.heading_path))
    labels = analyzer.analyze(" ".join((*article.front.keywords, *article.front.tags)))
    return tuple(title + headings + labels + analyzer.analyze(chunk.text))
