"""The one query path: a batch of searches, with different modes, languages and allow-lists, ranks each as it would alone."""

from __future__ import annotations

import pytest

from kb.access import PUBLIC, STAFF
from kb.core import SearchRequest
from search.query import SearchSpec

REQUESTS = [
    SearchRequest(query="I forgot my password", locale="en"),
    SearchRequest(query="download an invoice as PDF", mode="semantic"),
    SearchRequest(query="パスワードを忘れました", locale="ja"),
    SearchRequest(query="export", mode="keyword", category="integrations"),
    SearchRequest(query="refund playbook for agents", locale="en", limit=3, offset=1),
    SearchRequest(query="🙂", mode="hybrid"),
]


def ranked(response) -> list[tuple[str, str, float]]:
    return [(hit.article.id, hit.chunk.anchor, round(hit.score, 5)) for hit in response.results.hits]


@pytest.mark.parametrize("view", [PUBLIC, STAFF], ids=["public", "staff"])
def test_a_batch_of_searches_ranks_each_as_it_would_alone(sample_kb, view) -> None:
    batch = sample_kb.search_many(REQUESTS, view=view, observe_traffic=False)
    alone = [sample_kb.search_many([request], view=view, observe_traffic=False)[0] for request in REQUESTS]
    assert [ranked(response) for response in batch] == [ranked(response) for response in alone]
    assert [response.results.total for response in batch] == [response.results.total for response in alone]
    assert any(ranked(response) for response in batch)


def test_a_batch_encodes_its_new_queries_in_one_model_call(sample_kb, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    encode_queries = sample_kb.encoder.encode_queries

    def counted(texts):
        calls.append(len(texts))
        return encode_queries(texts)

    monkeypatch.setattr(sample_kb.encoder, "encode_queries", counted)
    texts = [f"how do I change plan number {n}" for n in range(4)]
    sample_kb.search_many([SearchRequest(query=text, locale="en") for text in texts], view=PUBLIC, observe_traffic=False)
    assert calls == [4]


def test_the_plan_names_the_language_weights_and_vector_a_query_needs(sample_kb) -> None:
    allowed = sample_kb.snapshot.visible_articles(PUBLIC)
    english = sample_kb.queries.plan(SearchSpec("reset my password", "hybrid", allowed))
    keyword = sample_kb.queries.plan(SearchSpec("reset my password", "keyword", allowed))
    emoji = sample_kb.queries.plan(SearchSpec("🙂", "hybrid", allowed))
    assert english.language == "en" and english.vector_key == ("reset my password", False)
    assert keyword.vector_key is None and emoji.vector_key is None
    assert english.terms.content == ["reset", "password"]
