"""Which words of a chunk the lexical index sees, and how much each field weighs."""

from __future__ import annotations

import sys

import numpy as np

from articles.model import Article, Chunk
from search.analyze import Analyzer

TITLE_WEIGHTS = {"en": 2, "ja": 4}
"""How many times a title's terms are counted (a cheap BM25F), per locale: a query naming an article's
subject should find it first even when a long section mentions the same words in passing.
English: twice was best on all three English sets (bm25s, title + text). Japanese, `kb eval
../shared/data/jsquad --mode keyword` (nDCG@10): ×1 0.9350, ×2 0.9383, ×3 0.9403, ×4 0.9413
(plain BM25 over whole documents: 0.9410). Chunks carry less text than whole paragraphs, so the
title, which names the Wikipedia article, matters more."""

FIELDS_VERSION = "title=" + ",".join(f"{locale}:{weight}" for locale, weight in sorted(TITLE_WEIGHTS.items()))
"""Part of the snapshot tag: saved token lists built with other weights must not be reused."""


def chunk_tokens(chunk: Chunk, article: Article, *, analyzer: Analyzer) -> tuple[tuple[str, ...], np.ndarray]:
    """Title (boosted), heading path, keywords and tags, then the section text, as one token list;
    and where each of the section text's terms (the list's last ones) is in ``chunk.text``.

    The spans let a hit's snippet mark the query's terms from this analysis, instead of analysing
    the text again for every search (`search/snippets.py`).
    """
    title = analyzer.analyze(article.title) * TITLE_WEIGHTS.get(article.locale, 1)
    headings = analyzer.analyze(" ".join(chunk.heading_path))
    labels = analyzer.analyze(" ".join((*article.front.keywords, *article.front.tags)))
    text = analyzer.tokens(chunk.text)
    spans = np.array([(token.start, token.end) for token in text], dtype=np.int32).reshape(-1, 2)
    # Interned: the snapshot keeps every chunk's list (incremental builds reuse them), and a corpus
    # repeats a few thousand distinct terms hundreds of thousands of times. Pickle keeps the sharing.
    return tuple(sys.intern(term) for term in title + headings + labels + [token.term for token in text]), spans
