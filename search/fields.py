"""Which words of a chunk, and of a whole article, the indexes see, and how much each weighs in an article's score."""

from __future__ import annotations

import sys
from collections.abc import Sequence

import numpy as np

from articles.model import Article, Chunk
from search.analyze import Analyzer

TITLE_WEIGHTS = {"en": 2}
"""How many times a title's terms are counted (a cheap BM25F), per locale; once where not listed. A
query naming an article's subject should find it first even when a long section mentions the same
words in passing. English: twice beats once on all five English sets (`python -m
bench.lexical_scoring SET`, best chunk, nDCG@10: australia 0.5455 / 0.5392, cdc 0.6694 / 0.6602,
stackfaq 0.7591 / 0.7262, doc2dial-dev 0.5043 / 0.5024, doc2dial-abstain 0.5069 / 0.5056).
Japanese: once, the neutral value. Four times was best on jsquad (0.9413 against 0.9350), but one
set cannot justify a weight; counting repeated query terms and the whole article gained more there
(`LEXICAL_DOCUMENT_SHARE`)."""

SEMANTIC_DOCUMENT_SHARE = 0.3
"""An article's semantic score: this share of its whole text's cosine, the rest its best chunk's.

A section alone lacks its article's gist; the whole article, cut at the model's window, blurs long
ones. `python -m bench.chunk_scoring SET` (fp32, the raw semantic side: no cosine floor, no gate),
nDCG@10, one-chunk articles scored by their chunk alone (as kb builds them):

| share of the whole | australia | cdc    | stackfaq | doc2dial-dev | doc2dial-abstain | mean   |
| ------------------ | --------- | ------ | -------- | ------------ | ---------------- | ------ |
| 0 (best chunk)     | 0.5922    | 0.7100 | 0.9522   | 0.5048       | 0.5113           | 0.6541 |
| **0.3**            | 0.5980    | 0.7129 | 0.9527   | 0.5062       | 0.5115           | 0.6563 |
| 0.5                | 0.6012    | 0.7128 | 0.9519   | 0.4990       | 0.5007           | 0.6531 |
| 1 (plain dense)    | 0.5960    | 0.7089 | 0.9494   | 0.4471       | 0.4542           | 0.6311 |

Leave-one-set-out, 0.3 is chosen for every held-out set (the other four prefer it), and on every
set it is at least the best chunk and plain dense. On the three FeedbackQA-style sets alone 0.5
would win by 0.002; the doc2dial sets, long articles of which the model reads the first fifth,
say why not. Scaling the share by how much of the article the model read scored worse (0.4904 on
doc2dial-dev): articles mixed with different shares no longer compare."""

LEXICAL_DOCUMENT_SHARE = 0.3
"""An article's keyword score: this share of its whole text's BM25, the rest its best chunk's: a query's
words spread over two sections of one article is a better match than one section holding one of them.
`python -m bench.lexical_scoring SET`, kb keyword nDCG@10 (English function words at 0.25):

| share of the whole | australia | cdc    | stackfaq | doc2dial-dev | doc2dial-abstain | jsquad (ja) |
| ------------------ | --------- | ------ | -------- | ------------ | ---------------- | ----------- |
| 0 (best chunk)     | 0.5645    | 0.6735 | 0.7793   | 0.5433       | 0.5531           | 0.9409      |
| **0.3**            | 0.5645    | 0.6750 | 0.7789   | 0.5478       | 0.5540           | 0.9418      |
| 0.5                | 0.5666    | 0.6725 | 0.7788   | 0.5429       | 0.5474           | 0.9425      |
| plain BM25         | 0.5497    | 0.6659 | 0.7341   | 0.5034       | 0.5125           | 0.9411      |

Chosen on the English sets, left out in turn (each set's four others choose 0.3), and used as it is
for Japanese, whose one set does not choose it (it would take 0.5)."""

FIELDS_VERSION = "document=1;title=" + ",".join(f"{locale}:{weight}" for locale, weight in sorted(TITLE_WEIGHTS.items()))
"""Part of the snapshot tag: saved token lists built with other weights must not be reused."""


def chunk_tokens(
    chunk: Chunk, article: Article, *, analyzer: Analyzer, title_weight: int | None = None
) -> tuple[tuple[str, ...], np.ndarray]:
    """Title (boosted), heading path, keywords and tags, then the section text, as one token list;
    and where each of the section text's terms (the list's last ones) is in ``chunk.text``.

    The spans let a hit's snippet mark the query's terms from this analysis, instead of analysing
    the text again for every search (`search/snippets.py`). ``title_weight`` overrides the locale's
    (`bench/lexical_scoring.py` compares them).
    """
    title, labels = _title_terms(article, analyzer, title_weight), _label_terms(article, analyzer)
    headings = analyzer.analyze(" ".join(chunk.heading_path))
    text = analyzer.tokens(chunk.text)
    spans = np.array([(token.start, token.end) for token in text], dtype=np.int32).reshape(-1, 2)
    # Interned: the snapshot keeps every chunk's list (incremental builds reuse them), and a corpus
    # repeats a few thousand distinct terms hundreds of thousands of times. Pickle keeps the sharing.
    return tuple(sys.intern(term) for term in title + headings + labels + [token.term for token in text]), spans


def document_text(article: Article, chunks: Sequence[Chunk]) -> str | None:
    """What the model reads of the article as a whole: its title and every section, as plain dense retrieval
    embeds a document (the model keeps what fits its window). None for a one-chunk article, whose
    chunk already is the whole article: its chunk's vector serves, and the build embeds nothing more."""
    if len(chunks) < 2:
        return None
    sections = (" ".join((*section.heading_path, section.text)) for section in article.sections)
    return " ".join((article.title, *sections))


def document_tokens(article: Article, *, analyzer: Analyzer) -> tuple[str, ...]:
    """The whole article as one token list for the article-level BM25: title (boosted as in chunks), labels, every section."""
    title, labels = _title_terms(article, analyzer), _label_terms(article, analyzer)
    sections = [term for section in article.sections for term in analyzer.analyze(" ".join((*section.heading_path, section.text)))]
    return tuple(sys.intern(term) for term in title + labels + sections)


def _title_terms(article: Article, analyzer: Analyzer, weight: int | None = None) -> list[str]:
    """The title's terms, repeated as often as its locale's weight (or ``weight``) says."""
    return analyzer.analyze(article.title) * (TITLE_WEIGHTS.get(article.locale, 1) if weight is None else weight)


def _label_terms(article: Article, analyzer: Analyzer) -> list[str]:
    return analyzer.analyze(" ".join((*article.front.keywords, *article.front.tags)))
