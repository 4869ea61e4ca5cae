"""The retrievers against oracles: faiss against NumPy, bm25s against the Lucene BM25 formula."""

from __future__ import annotations

import logging
import math

import numpy as np
import pytest

from kb.access.rules import PUBLIC
from kb.core.requests import SearchRequest
from search.analyze import ENGLISH_FUNCTION_WEIGHT, Analyzer, has_identifier
from search.fuse import (
    FusionWeights,
    QuerySignals,
    adaptive_weights,
    convex_combination,
    fusion_weights,
    hybrid,
    reciprocal_rank_fusion,
)
from search.lexical import LexicalIndex
from search.query import SearchSpec, candidates
from search.vector import HNSW_MIN_CHUNKS, HNSWParameters, VectorIndex, index_kind

RNG = np.random.default_rng(7)


def normalised(rows: int, dimension: int = 32) -> np.ndarray:
    vectors = RNG.normal(size=(rows, dimension)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def test_vector_search_matches_a_brute_force_dot_product() -> None:
    vectors, query = normalised(500), normalised(1)[0]
    ids, scores = VectorIndex(vectors).search(query, k=10)
    expected = np.argsort(-(vectors @ query))[:10]
    assert ids.tolist() == expected.tolist()
    assert np.allclose(scores, (vectors @ query)[expected], atol=1e-5)


def test_vector_search_fills_k_from_the_allowed_set_only() -> None:
    vectors, query = normalised(500), normalised(1)[0]
    allowed = RNG.random(500) < 0.3
    ids, _ = VectorIndex(vectors).search(query, k=10, allowed=allowed)
    brute = np.where(allowed, vectors @ query, -np.inf)
    assert ids.tolist() == np.argsort(-brute)[:10].tolist()


@pytest.mark.parametrize("kind", ["flat", "hnsw"])
def test_a_batch_of_query_vectors_finds_what_each_finds_alone(kind: str) -> None:
    vectors, queries = clustered(600, rng=RNG), normalised(5)
    allowed = RNG.random(600) < 0.5
    index = VectorIndex(vectors, kind=kind)  # type: ignore[arg-type]
    batch = index.search_many(queries, k=20, allowed=allowed)
    for (ids, scores), query in zip(batch, queries, strict=True):
        alone_ids, alone_scores = index.search(query, k=20, allowed=allowed)
        assert ids.tolist() == alone_ids.tolist() and np.allclose(scores, alone_scores)


def test_vector_search_with_nothing_allowed_returns_nothing() -> None:
    ids, _ = VectorIndex(normalised(20)).search(normalised(1)[0], k=5, allowed=np.zeros(20, dtype=bool))
    assert ids.size == 0


def clustered(rows: int, *, rng: np.random.Generator, dimension: int = 32, centres: int = 50) -> np.ndarray:
    """Normalised vectors around a few centres: the shape embeddings have, which HNSW relies on."""
    middles = rng.normal(size=(centres, dimension))
    vectors = (middles[rng.integers(0, centres, rows)] + 0.5 * rng.normal(size=(rows, dimension))).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def recall(found: list[np.ndarray], expected: list[np.ndarray]) -> float:
    return sum(len(np.intersect1d(ids, truth)) for ids, truth in zip(found, expected, strict=True)) / sum(map(len, expected))


def test_hnsw_top_10_matches_a_brute_force_dot_product_on_clustered_vectors() -> None:
    rng = np.random.default_rng(11)
    vectors, queries = clustered(3000, rng=rng), clustered(50, rng=rng)
    index = VectorIndex(vectors, kind="hnsw")
    found = [index.search(query, k=10)[0] for query in queries]
    assert index.kind == "hnsw"
    assert recall(found, [np.argsort(-(vectors @ query))[:10] for query in queries]) >= 0.95


def test_hnsw_fills_k_from_the_allowed_set_only() -> None:
    rng = np.random.default_rng(12)
    vectors, queries = clustered(3000, rng=rng), clustered(20, rng=rng)
    allowed = rng.random(3000) < 0.3
    index = VectorIndex(vectors, kind="hnsw")
    found = [index.search(query, k=10, allowed=allowed)[0] for query in queries]
    assert all(len(ids) == 10 and allowed[ids].all() for ids in found)
    expected = [np.argsort(-np.where(allowed, vectors @ query, -np.inf))[:10] for query in queries]
    assert recall(found, expected) >= 0.95


@pytest.mark.parametrize("share", [0.1, 0.02], ids=["narrow", "narrower than the exact-scan share"])
def test_hnsw_finds_the_exact_hits_of_a_narrow_allow_list(share: float) -> None:
    rng = np.random.default_rng(15)
    vectors, queries = clustered(5000, rng=rng), clustered(20, rng=rng)
    allowed = rng.random(5000) < share
    index = VectorIndex(vectors, kind="hnsw")
    found = [index.search(query, k=50, allowed=allowed)[0] for query in queries]
    expected = [np.argsort(-np.where(allowed, vectors @ query, -np.inf))[:50] for query in queries]
    assert all(allowed[ids].all() for ids in found)
    assert recall(found, expected) >= 0.95


def test_hnsw_with_nothing_allowed_returns_nothing() -> None:
    vectors = clustered(200, rng=np.random.default_rng(13))
    ids, _ = VectorIndex(vectors, kind="hnsw").search(vectors[0], k=5, allowed=np.zeros(200, dtype=bool))
    assert ids.size == 0


def test_hnsw_returns_k_hits_when_k_exceeds_ef_search() -> None:
    vectors = clustered(500, rng=np.random.default_rng(14))
    index = VectorIndex(vectors, kind="hnsw", hnsw=HNSWParameters(m=16, ef_construction=40, ef_search=16))
    assert index.search(vectors[0], k=100)[0].size == 100


def test_index_kind_is_flat_below_the_threshold_and_hnsw_from_it() -> None:
    assert index_kind(HNSW_MIN_CHUNKS - 1) == "flat"
    assert index_kind(HNSW_MIN_CHUNKS) == "hnsw"
    assert VectorIndex(normalised(50)).kind == "flat"


DOCS = [
    ["password", "reset", "email", "link"],
    ["invoice", "download", "pdf"],
    ["password", "password", "policy", "length", "symbol", "rule"],
    ["e1042", "sync", "token", "calendar"],
    ["reset", "workspace", "setting"],
]


def lucene_bm25(
    query: list[str], docs: list[list[str]], k1: float = 1.5, b: float = 0.75, weights: list[float] | None = None
) -> list[float]:
    """BM25 as Lucene (8.0 on) defines it, written out: the reference the index is checked against.

    Lucene dropped the classic ``(k1 + 1)`` factor from the numerator: it scales every score alike.
    Each query term adds its clause, a repeated one again, times its weight (a boosted clause).
    """
    average = sum(map(len, docs)) / len(docs)
    weights = weights or [1.0] * len(query)
    scores = []
    for doc in docs:
        score = 0.0
        for term, weight in zip(query, weights, strict=True):
            df = sum(term in d for d in docs)
            if not df:
                continue
            idf = math.log(1 + (len(docs) - df + 0.5) / (df + 0.5))
            tf = doc.count(term)
            score += weight * idf * tf / (tf + k1 * (1 - b + b * len(doc) / average))
        scores.append(score)
    return scores


def test_bm25_scores_match_the_lucene_formula() -> None:
    query = ["password", "reset", "unknown-term"]
    assert np.allclose(LexicalIndex(DOCS).scores(query), lucene_bm25(query, DOCS), rtol=1e-5)
    assert np.allclose(LexicalIndex(DOCS, k1=0.9, b=0.4).scores(query), lucene_bm25(query, DOCS, 0.9, 0.4), rtol=1e-5)


def test_a_term_the_query_repeats_counts_again() -> None:
    query = ["password", "password", "reset"]
    assert np.allclose(LexicalIndex(DOCS).scores(query), lucene_bm25(query, DOCS), rtol=1e-5)
    assert not np.allclose(LexicalIndex(DOCS).scores(query), LexicalIndex(DOCS).scores(["password", "reset"]))


def test_each_query_term_counts_with_its_weight() -> None:
    query, weights = ["password", "reset", "workspace"], [1.0, 0.25, 0.25]
    scores = LexicalIndex(DOCS).scores(query, weights=weights)
    assert np.allclose(scores, lucene_bm25(query, DOCS, weights=weights), rtol=1e-5)


def test_english_function_words_weigh_less_in_a_query_and_japanese_ones_fully() -> None:
    english = Analyzer().query("how do I reset my password")
    assert dict(zip(english.terms, english.weights, strict=True)) == {
        "how": ENGLISH_FUNCTION_WEIGHT, "do": ENGLISH_FUNCTION_WEIGHT, "i": ENGLISH_FUNCTION_WEIGHT,
        "reset": 1.0, "my": ENGLISH_FUNCTION_WEIGHT, "password": 1.0,
    }  # fmt: skip
    japanese = Analyzer().query("これを設定する")
    assert japanese.weights == [1.0] * len(japanese.terms)
    assert set(japanese.terms) - set(japanese.content)  # it has function words, and they count fully


def test_bm25_allow_list_zeroes_excluded_chunks_without_changing_the_others() -> None:
    allowed = np.array([False, True, True, True, True])
    scores = LexicalIndex(DOCS).scores(["password"], allowed=allowed)
    assert scores[0] == 0 and np.isclose(scores[2], lucene_bm25(["password"], DOCS)[2], rtol=1e-5)


def test_query_of_unknown_terms_matches_nothing() -> None:
    ids, _ = LexicalIndex(DOCS).search(["nothing", "here"], k=5)
    assert ids.size == 0


def test_reciprocal_rank_fusion_weights_each_side() -> None:
    lexical, semantic = np.array([1, 2, 3]), np.array([3, 2, 1])
    ids, _ = reciprocal_rank_fusion([(lexical, 1.0), (semantic, 0.1)], k=60)
    assert ids.tolist() == [1, 2, 3]
    ids, scores = reciprocal_rank_fusion([(lexical, 1.0), (semantic, 1.0)], k=60)
    assert ids.tolist() == [2, 1, 3] or math.isclose(scores[0], scores[1])


def test_convex_combination_adds_each_sides_normalised_score() -> None:
    lexical = (np.array([1, 2, 3]), np.array([10.0, 5.0, 0.0]), 0.3)
    semantic = (np.array([3, 1]), np.array([0.9, 0.5]), 0.7)
    ids, scores = convex_combination([lexical, semantic])
    assert ids.tolist() == [3, 1, 2]
    assert np.allclose(scores, [0.7, 0.3, 0.15])


def test_semantic_side_can_be_limited_to_reordering_lexical_matches() -> None:
    lexical = (np.array([1, 2]), np.array([2.0, 1.0]))
    semantic = (np.array([9, 2]), np.array([0.9, 0.8]))
    ids, _ = hybrid(lexical, semantic, FusionWeights(semantic_recall=False))
    assert 9 not in ids.tolist()
    assert 9 in hybrid(lexical, semantic, FusionWeights())[0].tolist()


@pytest.mark.parametrize(
    ("text", "expected"), [("E2001", True), ("2FA code", True), ("Ｅ１０４２", True), ("reset password", False), ("covid-19", False)]
)
def test_identifiers_in_a_query_are_recognised(text: str, expected: bool) -> None:
    assert has_identifier(text) is expected


def test_a_query_with_an_identifier_trusts_both_sides_equally() -> None:
    weights = fusion_weights("en", model="any/model", identifier=True)
    assert weights.lexical == weights.semantic


def test_an_english_querys_semantic_weight_adapts_only_without_an_identifier() -> None:
    assert fusion_weights("en", model="any/model").adaptive == (0.6, 0.95)
    assert fusion_weights("en", model="any/model", identifier=True).adaptive is None


def test_a_confident_semantic_side_against_an_empty_lexical_one_gets_the_top_of_the_range() -> None:
    weights = adaptive_weights(FusionWeights(), QuerySignals(semantic_top=0.9, lexical_coverage=0.0))
    assert weights.semantic == pytest.approx(0.95) and weights.lexical == pytest.approx(0.05)


def test_a_full_lexical_match_against_nothing_semantic_gets_the_bottom_of_the_range() -> None:
    weights = adaptive_weights(FusionWeights(), QuerySignals(semantic_top=0.0, lexical_coverage=1.0))
    assert weights.semantic == pytest.approx(0.6)


def test_the_semantic_weight_rises_with_its_best_cosine_and_falls_with_lexical_coverage() -> None:
    def alpha(top: float, coverage: float) -> float:
        return adaptive_weights(FusionWeights(), QuerySignals(semantic_top=top, lexical_coverage=coverage)).semantic

    assert alpha(0.5, 0.5) < alpha(0.8, 0.5)
    assert alpha(0.8, 0.9) < alpha(0.8, 0.3)


def test_hybrid_search_fuses_with_the_weights_its_signals_and_the_traffic_so_far_give(sample_kb) -> None:
    query = "can I pay by invoice instead of card"
    top = sample_kb.search(SearchRequest(query=query, mode="hybrid", locale="en"), view=PUBLIC).results.hits[0]
    snapshot = sample_kb.snapshot
    plan = sample_kb.queries.plan(SearchSpec(query, "hybrid", snapshot.visible_articles(PUBLIC), locale="en"), sample_kb.snapshot)
    vector = sample_kb.encoder.encode_queries([query])[0]
    lexical, semantic = candidates(snapshot, plan, vector, depth=sample_kb.settings.search_depth)
    signals = snapshot.signals(lexical, semantic, content_terms=plan.terms.content)
    adapted = sample_kb.traffic.weights(FusionWeights(), signals, language="en", observe=False)  # the search counted itself in
    assert adapted.semantic not in (FusionWeights().semantic, 0.6, 0.95)
    expected_ids, expected_scores = hybrid(lexical, semantic, adapted)
    assert top.chunk == snapshot.chunks[expected_ids[0]] and top.score == pytest.approx(float(expected_scores[0]), rel=1e-5)


def test_building_an_index_writes_nothing_to_the_log_below_warnings(caplog: pytest.LogCaptureFixture) -> None:
    """bm25s sets its own logger to DEBUG on import; its "Building index" lines must not reach a server's log."""
    caplog.set_level(logging.DEBUG)
    LexicalIndex([["reset", "password"], ["invoic", "pdf"]])
    assert [record for record in caplog.records if record.name.startswith("bm25s")] == []
