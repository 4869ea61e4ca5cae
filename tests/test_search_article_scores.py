"""How an article's score is made: its best section's, mixed with its whole text's, on each side."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from kb.access.rules import PUBLIC
from kb.core.requests import SearchRequest
from search.fields import LEXICAL_DOCUMENT_SHARE, SEMANTIC_DOCUMENT_SHARE, document_text
from tests.conftest import article_text
from tests.gitutil import commit_files

# Each section names one of the query's words; only the article as a whole holds both.
BOTH = article_text("both", "Account help", "## Invoices\n\nDownload invoices here.\n\n## Refunds\n\nAsk for refunds here.")
ONE = article_text("one", "Account notes", "Refunds: ask for refunds.")


def hits(kb, query: str, mode: str) -> list:
    return kb.search(SearchRequest(query=query, mode=mode), view=PUBLIC).results.hits


@pytest.fixture
def kb(content_repo: Path, make_kb):
    commit_files(content_repo, {"en/both.md": BOTH, "en/one.md": ONE})
    return make_kb(content_repo)


def test_a_word_in_another_section_of_the_article_raises_its_keyword_score(kb) -> None:
    snapshot = kb.snapshot
    both = next(hit for hit in hits(kb, "invoices refunds", "keyword") if hit.article.id == "both")
    sections = snapshot.lexical_index.scores(kb.analyzer.query("invoices refunds").terms)
    assert both.score > max(sections[snapshot.chunk_article == snapshot.articles.index(both.article)])


def test_a_keyword_score_mixes_the_best_sections_bm25_with_the_whole_articles(kb) -> None:
    snapshot = kb.snapshot
    terms = kb.analyzer.query("invoices refunds").terms
    sections, wholes = snapshot.lexical_index.scores(terms), snapshot.document_index.scores(terms)
    for hit in hits(kb, "invoices refunds", "keyword"):
        number = snapshot.articles.index(hit.article)
        best = max(sections[snapshot.chunk_article == number])
        expected = (1 - LEXICAL_DOCUMENT_SHARE) * best + LEXICAL_DOCUMENT_SHARE * wholes[number]
        assert hit.score == pytest.approx(expected, rel=1e-5)


def test_a_semantic_score_mixes_the_best_sections_cosine_with_the_whole_articles(kb, model) -> None:
    query = model.encode_queries(["how do I get my money back"])[0]
    for hit in hits(kb, "how do I get my money back", "semantic"):
        entry = next(entry for entry in kb.snapshot.entries if entry.article == hit.article)
        whole = document_text(entry.article, entry.chunks)
        whole_vector = model.encode([whole])[0] if whole is not None else entry.vectors[0]
        best = float(np.max(model.encode([chunk.embed_text for chunk in entry.chunks]) @ query))
        expected = (1 - SEMANTIC_DOCUMENT_SHARE) * best + SEMANTIC_DOCUMENT_SHARE * float(whole_vector @ query)
        assert hit.score == pytest.approx(expected, abs=1e-4)


def test_a_one_section_articles_whole_text_is_its_section(kb) -> None:
    number, one = next((n, entry) for n, entry in enumerate(kb.snapshot.entries) if entry.article.id == "one")
    assert document_text(one.article, one.chunks) is None and one.document_vector is None
    assert np.array_equal(kb.snapshot.document_vectors[number], one.vectors[0])
